"""CIE Lab colour space, the paper's normalisation, and resize-and-pad.

The network sees L / 100 in [0, 1] and predicts a / 128, b / 128 in [-1, 1] at a square working size
(256 in the paper). Photos are resized so the longer side fits and padded with black, so no part is
lost; on the way back the predicted ab map is cropped, upsampled to the photo's own size and joined to
its full-resolution L, so a colorized photo keeps its resolution and its exact lightness.

Two Lab -> sRGB conversions, on purpose: :func:`lab_to_rgb` / :func:`join_lab` (scikit-image's float64
``lab2rgb``) is the reference that every reported number goes through, so no number depends on the fast
path; :func:`lab_planes_to_rgb_fast` (the CIE formulas in float32, some 8x faster) is what colorizing
(:func:`postprocess`) and the explorer use, where only pictures come out. It is within
``FAST_RGB_MAX_ERROR`` of the reference over the whole Lab range, out-of-gamut values included; as uint8
the two agree except for a rare pixel one level off (tests/test_lab_fast.py). :func:`postprocess_reference`
is the colorizing path in float64 throughout, which benchmarks/bench_colorize.py checks the fast one against.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from skimage import color
from skimage.transform import resize as sk_resize
from tqdm.auto import tqdm

L_SCALE = 100.0  # L in [0, 100]  -> [0, 1]
AB_SCALE = 128.0  # a, b in about [-128, 127] -> [-1, 1]


def to_float_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8 or float RGB (H, W, 3) -> float64 RGB in [0, 1]."""
    rgb = np.asarray(rgb)
    if rgb.dtype == np.uint8:
        return rgb.astype(np.float64) / 255.0
    return np.clip(rgb.astype(np.float64), 0.0, 1.0)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (uint8 or float in [0, 1]) -> CIE Lab (D65), float (H, W, 3)."""
    return color.rgb2lab(to_float_rgb(rgb))


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve undone (as scikit-image's rgb2xyz does it), values in [0, 1]."""
    return np.where(values > 0.04045, np.power((values + 0.055) / 1.055, 2.4), values / 12.92)


_LINEAR_OF_BYTE = _srgb_to_linear(np.arange(256, dtype=np.float64) / 255.0)  # 8-bit photos: a table
# Linear sRGB -> CIE XYZ (sRGB primaries, D65 white; the matrix scikit-image uses too).
_XYZ_FROM_LINEAR_RGB = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)


def lab_lightness(rgb: np.ndarray) -> np.ndarray:
    """rgb_to_lab(rgb)[..., 0] without a and b: L depends on the luminance Y alone, so a full-resolution
    photo's L costs a table lookup (8-bit photos) and one weighted sum per pixel."""
    rgb = np.asarray(rgb)
    linear = _LINEAR_OF_BYTE[rgb] if rgb.dtype == np.uint8 else _srgb_to_linear(to_float_rgb(rgb))
    y = linear @ _XYZ_FROM_LINEAR_RGB[1]  # relative to the white point's Y = 1
    return 116.0 * np.where(y > 0.008856, np.cbrt(y), 7.787 * y + 16.0 / 116.0) - 16.0


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab -> sRGB float64 in [0, 1], the reference (out-of-gamut colours clipped, on purpose and silently)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        return np.clip(color.lab2rgb(lab), 0.0, 1.0)


# The fast float32 Lab -> sRGB conversion. CIE Lab -> XYZ: fy = (L + 16) / 116, fx = fy + a / 500, fz = fy - b / 200,
# and each of X/Xn, Y/Yn, Z/Zn is finv(f) with finv(t) = t^3 above t = 6/29 and the tangent line 3 (6/29)^2 (t - 4/29)
# below. Written branch-free: finv(t) = 3 c^2 (t - 4/29) + d^2 (d + 3 c) with c = 6/29 and d = max(t - c, 0), since
# t^3 minus that tangent is (t - c)^2 (t + 2 c). fz is taken as at least 0 (a negative Z, far outside the gamut, is
# what the reference clips too). XYZ -> linear sRGB is the inverse of the matrix above with the white point (D65's
# XYZ) folded into its columns; then the sRGB curve 12.92 v (v <= 0.0031308) or 1.055 v^(1/2.4) - 0.055, also
# branch-free (its two pieces meet to 3e-8), on v clipped to [0, 1] first (the curve maps [0, 1] onto itself, rising).
_C = 6.0 / 29.0
_F = np.float32
_RGB_FROM_XYZN = (np.linalg.inv(_XYZ_FROM_LINEAR_RGB) * np.array([0.95047, 1.0, 1.08883])).astype(np.float32)
_GAMMA_KNEE = 0.0031308
FAST_RGB_MAX_ERROR = 3e-5  # |fast - reference| on [0, 1] RGB (measured: 1.7e-5 worst, near the gamma knee)
FAST_UINT8_MAX_SHARE = 1e-4  # as uint8: 1 level apart on at most this share of pixel channels (measured: 2e-5)


def _finv(t: np.ndarray) -> np.ndarray:
    """finv of the CIE Lab formulas, in place on a float32 array (returned)."""
    d = np.subtract(t, _F(_C))
    np.maximum(d, _F(0.0), out=d)
    cubic = np.add(d, _F(3.0 * _C))
    cubic *= d
    cubic *= d
    t -= _F(4.0 / 29.0)
    t *= _F(3.0 * _C * _C)
    t += cubic
    return t


def _srgb_gamma(v: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve on linear values, in place on a float32 array (returned), clipped to [0, 1]."""
    np.clip(v, _F(0.0), _F(1.0), out=v)
    low = np.minimum(v, _F(_GAMMA_KNEE))
    low *= _F(12.92)
    low -= _F(0.055 + 12.92 * _GAMMA_KNEE)
    np.maximum(v, _F(_GAMMA_KNEE), out=v)
    np.power(v, _F(1.0 / 2.4), out=v)
    v *= _F(1.055)
    v += low
    return np.clip(v, _F(0.0), _F(1.0), out=v)


def lab_planes_to_rgb_fast(lightness: np.ndarray, a: np.ndarray, b: np.ndarray, ab_unit: float = 1.0) -> np.ndarray:
    """L, a, b planes (same shape) -> float32 sRGB planes (3, ...) in [0, 1]; a, b in units of 1 / ab_unit
    (AB_SCALE for the network's normalised ab: the scale is folded into the formulas)."""
    fy = np.asarray(lightness, dtype=np.float32) * _F(1.0 / 116.0) + _F(16.0 / 116.0)
    fx = np.asarray(a, dtype=np.float32) * _F(ab_unit / 500.0) + fy
    fz = np.maximum(np.asarray(b, dtype=np.float32) * _F(-ab_unit / 200.0) + fy, _F(0.0))
    x, y, z = _finv(fx), _finv(fy), _finv(fz)
    out = np.empty((3, *x.shape), dtype=np.float32)
    for plane, (from_x, from_y, from_z) in zip(out, _RGB_FROM_XYZN, strict=True):
        np.multiply(x, from_x, out=plane)
        plane += y * from_y
        plane += z * from_z
        _srgb_gamma(plane)
    return out


def rgb_to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8 with rounding."""
    return np.clip(np.rint(np.asarray(rgb) * 255.0), 0, 255).astype(np.uint8)


def planes_to_uint8(planes: np.ndarray) -> np.ndarray:
    """float32 planes (3, H, W) in [0, 1] -> uint8 (H, W, 3), rounded like rgb_to_uint8 (planes are scaled in place)."""
    planes *= _F(255.0)
    np.rint(planes, out=planes)
    out = np.empty((*planes.shape[1:], 3), dtype=np.uint8)
    np.copyto(out, np.moveaxis(planes, 0, -1), casting="unsafe")
    return out


def normalize_l(lightness: np.ndarray) -> np.ndarray:
    """L in [0, 100] -> model input in [0, 1]."""
    return (np.asarray(lightness) / L_SCALE).astype(np.float32)


def normalize_ab(ab: np.ndarray) -> np.ndarray:
    """a, b in Lab units -> training target in [-1, 1] (clipped)."""
    return np.clip(np.asarray(ab) / AB_SCALE, -1.0, 1.0).astype(np.float32)


def denormalize_ab(ab_norm: np.ndarray) -> np.ndarray:
    """Model output in [-1, 1] -> a, b in Lab units."""
    return np.asarray(ab_norm, dtype=np.float64) * AB_SCALE


def join_lab(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L (H, W) and ab (H, W, 2) in Lab units -> RGB float64 in [0, 1] by the reference conversion (scores use it)."""
    lab = np.concatenate([np.asarray(lightness, np.float64)[..., None], ab], axis=-1)
    return lab_to_rgb(lab)


@dataclass(frozen=True)
class PadInfo:
    """Where the photo sits inside the square working image, to undo resize-and-pad."""

    height: int  # the photo's own size
    width: int
    size: int  # the working size (square)
    top: int  # offset of the resized photo inside the square
    left: int
    inner_height: int  # size of the resized photo inside the square
    inner_width: int

    @property
    def box(self) -> tuple[slice, slice]:
        """Row and column slices of the photo inside the working image."""
        return slice(self.top, self.top + self.inner_height), slice(self.left, self.left + self.inner_width)


def pad_info(height: int, width: int, size: int) -> PadInfo:
    """The placement of an (height, width) photo, scaled to fit, centred in a size x size square."""
    if height <= 0 or width <= 0 or size <= 0:
        raise ValueError(f"sizes must be positive, got {height}x{width} into {size}")
    scale = size / max(height, width)
    inner_h = max(1, min(size, round(height * scale)))
    inner_w = max(1, min(size, round(width * scale)))
    return PadInfo(height, width, size, (size - inner_h) // 2, (size - inner_w) // 2, inner_h, inner_w)


def resize_and_pad(rgb: np.ndarray, size: int = 256) -> tuple[np.ndarray, PadInfo]:
    """Fit a uint8 RGB photo into a black size x size square keeping its aspect ratio."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8:
        rgb = rgb_to_uint8(to_float_rgb(rgb))
    info = pad_info(rgb.shape[0], rgb.shape[1], size)
    inner = Image.fromarray(rgb).resize((info.inner_width, info.inner_height), Image.BICUBIC)
    out = np.zeros((size, size, 3), dtype=np.uint8)
    out[info.box] = np.asarray(inner)
    return out, info


def unpad(arr: np.ndarray, info: PadInfo) -> np.ndarray:
    """Crop the photo's area out of a working-size array (H, W, ...)."""
    return np.asarray(arr)[info.box]


def upsample_ab(ab: np.ndarray, info: PadInfo) -> np.ndarray:
    """Working-size ab map (size, size, 2) -> the photo's own (height, width, 2), bilinear (float64, scikit-image)."""
    crop = unpad(ab, info)
    if crop.shape[:2] == (info.height, info.width):
        return np.asarray(crop, dtype=np.float64)
    return sk_resize(crop, (info.height, info.width, 2), order=1, mode="edge", anti_aliasing=False)


def bilinear_taps(n_out: int, n_in: int, dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights along one axis: pixel centres aligned, edges clamped."""
    src = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)  # as explorer.js computes it
    i0 = np.floor(src).astype(np.intp)
    return i0, np.minimum(i0 + 1, n_in - 1), (src - i0).astype(dtype)


def upsample_planes(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(C, h, w) -> float32 (C, height, width), bilinear, separable (columns, then rows): :func:`upsample_ab`'s
    resampling (scikit-image's order-1 resize, edge mode) in float32 on the network's channel-first maps."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[1:] == (height, width):
        return maps.copy()
    return _interpolate(_interpolate(maps, width, axis=2), height, axis=1)


def _interpolate(maps: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """Linear interpolation of (C, h, w) float32 maps to n_out values along `axis` (1 or 2)."""
    i0, i1, weight = bilinear_taps(n_out, maps.shape[axis])
    out = np.take(maps, i0, axis=axis)
    out += (np.take(maps, i1, axis=axis) - out) * (weight if axis == 2 else weight[:, None])
    return out


def preprocess(rgb: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray, PadInfo]:
    """Photo -> (L input (1, S, S) in [0, 1], ab target (2, S, S) in [-1, 1], PadInfo)."""
    square, info = resize_and_pad(rgb, size)
    lab = rgb_to_lab(square)
    ab = normalize_ab(lab[..., 1:]).transpose(2, 0, 1)
    return normalize_l(lab[..., 0])[None], np.ascontiguousarray(ab), info


def preprocess_batch(
    photos: Sequence[np.ndarray], size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, list[PadInfo]]:
    """Several photos -> (L (N, 1, S, S), ab (N, 2, S, S), PadInfo per photo), stacked for a network."""
    bar = tqdm(photos, desc="decoding", unit="photo", disable=not progress, leave=False)
    lightness, ab, infos = zip(*(preprocess(rgb, size) for rgb in bar), strict=True)
    return np.stack(lightness), np.stack(ab), list(infos)


def preprocess_lightness_batch(photos: Sequence[np.ndarray], size: int = 256) -> tuple[np.ndarray, list[PadInfo]]:
    """:func:`preprocess_batch` without the ab target, what colorizing needs: L by :func:`lab_lightness`
    (a table lookup, rgb_to_lab's L to 1e-9)."""
    squares, infos = zip(*(resize_and_pad(rgb, size) for rgb in photos), strict=True)
    return np.stack([normalize_l(lab_lightness(square))[None] for square in squares]), list(infos)


def postprocess(rgb: np.ndarray, ab_pred: np.ndarray, info: PadInfo) -> np.ndarray:
    """A predicted ab map (2, S, S) in [-1, 1] joined to the photo's full-resolution L: uint8 RGB at its own
    resolution, by float32 upsampling and the fast conversion (pictures only, no reported number)."""
    ab = upsample_planes(np.asarray(ab_pred)[(slice(None), *info.box)], info.height, info.width)
    return planes_to_uint8(lab_planes_to_rgb_fast(lab_lightness(rgb), ab[0], ab[1], ab_unit=AB_SCALE))


def postprocess_reference(rgb: np.ndarray, ab_pred: np.ndarray, info: PadInfo) -> np.ndarray:
    """:func:`postprocess` as it was, in float64 with scikit-image's resize and lab2rgb: the reference."""
    ab = upsample_ab(denormalize_ab(np.asarray(ab_pred).transpose(1, 2, 0)), info)
    return rgb_to_uint8(join_lab(lab_lightness(rgb), ab))


def grayscale(rgb: np.ndarray) -> np.ndarray:
    """The photo with its colour removed (a = b = 0), as uint8 RGB: what the model sees."""
    light = lab_lightness(rgb)
    return rgb_to_uint8(join_lab(light, np.zeros(light.shape + (2,))))
