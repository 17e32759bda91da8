"""CIE Lab colour space, the paper's normalisation, and resize-and-pad.

The network sees the lightness L of CIE Lab scaled to [0, 1] (L / 100) and predicts the two colour
channels a, b scaled to [-1, 1] (a / 128, b / 128), at a square working size (256 in the paper).
Photos are resized so the longer side fits and padded with black, so no part of the photo is lost.
On the way back the predicted ab map is cropped, upsampled to the photo's own size and joined to
the photo's full-resolution L, so a colorized photo keeps its resolution and its exact lightness.

Two Lab -> sRGB conversions, on purpose:

- :func:`lab_to_rgb` / :func:`join_lab`: scikit-image's ``lab2rgb`` in float64, the reference. Every
  number of Table I and of the evaluation goes through it (:mod:`colorlib.scoring.metrics` scores PSNR and
  colourfulness on it, :func:`colorlib.paper.picks.original_colourfulness` too), so those numbers do not
  depend on the fast path below.
- :func:`lab_planes_to_rgb_fast`: our own float32
  conversion (the CIE formulas written out, no Python loop, in place where it helps), some 8x
  faster (a 300 x 300 photo: 13 ms -> 1.6 ms on one core). It is what colorizing
  (:func:`postprocess`, hence ``Colorizer.colorize``/``colorize_many``, the CLI and the figures'
  colorized photos) and the explorer (:func:`colorlib.explorer.bundle.render`, hence the widget) use, where
  only pictures come out. Against the reference it is within ``FAST_RGB_MAX_ERROR`` on [0, 1] RGB
  for every L in [0, 100] and a, b in [-128, 127], out-of-gamut values included; as uint8 the two
  agree exactly except for a rare pixel one level off (tests/test_lab_fast.py measures both).
- :func:`postprocess_reference` is the colorizing path as it was, in float64 throughout: the
  reference that benchmarks/bench_colorize.py times and checks the fast path against.
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
# Linear sRGB -> CIE XYZ (sRGB primaries, D65 white; the matrix scikit-image uses too), and D65's XYZ.
_XYZ_FROM_LINEAR_RGB = np.array(
    [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169], [0.019334, 0.119193, 0.950227]]
)
_Y_FROM_LINEAR_RGB = _XYZ_FROM_LINEAR_RGB[1]
D65_WHITE = np.array([0.95047, 1.0, 1.08883])


def lab_lightness(rgb: np.ndarray) -> np.ndarray:
    """L of CIE Lab (D65), equal to rgb_to_lab(rgb)[..., 0] without computing a and b.

    L depends on the luminance Y alone, so a full-resolution photo's L costs one table lookup
    (8-bit photos) and one weighted sum per pixel: colorize needs only L from the original photo.
    """
    rgb = np.asarray(rgb)
    linear = _LINEAR_OF_BYTE[rgb] if rgb.dtype == np.uint8 else _srgb_to_linear(to_float_rgb(rgb))
    y = linear @ _Y_FROM_LINEAR_RGB  # relative to the white point's Y = 1
    return 116.0 * np.where(y > 0.008856, np.cbrt(y), 7.787 * y + 16.0 / 116.0) - 16.0


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIE Lab -> sRGB float64 in [0, 1] (out-of-gamut colours are clipped, on purpose and silently).

    scikit-image's float64 ``lab2rgb``: the reference, used wherever reported numbers are computed.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        return np.clip(color.lab2rgb(lab), 0.0, 1.0)


# --- the fast float32 Lab -> sRGB conversion ----------------------------------------------------
# CIE Lab -> XYZ: fy = (L + 16) / 116, fx = fy + a / 500, fz = fy - b / 200, and each of X/Xn, Y/Yn,
# Z/Zn is finv(f) with finv(t) = t^3 above t = 6/29 and the tangent line 3 (6/29)^2 (t - 4/29)
# below. Written branch-free: finv(t) = 3 c^2 (t - 4/29) + d^2 (d + 3 c) with c = 6/29 and
# d = max(t - c, 0), since t^3 minus that tangent is (t - c)^2 (t + 2 c). fz is taken as at least 0
# (a negative Z, far outside the gamut, is what the reference clips too). XYZ -> linear sRGB is the
# inverse of the matrix above with the white point folded into its columns; then the sRGB curve
# 12.92 v (v <= 0.0031308) or 1.055 v^(1/2.4) - 0.055, also branch-free (its two pieces meet to
# 3e-8), on v clipped to [0, 1] first (the curve maps [0, 1] onto [0, 1] and is increasing).
_C = 6.0 / 29.0
_F = np.float32
_RGB_FROM_XYZN = (np.linalg.inv(_XYZ_FROM_LINEAR_RGB) * D65_WHITE).astype(np.float32)  # times (X/Xn, Y, Z/Zn)
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
    """L, a, b planes (same shape; a, b in units of 1 / ab_unit) -> float32 sRGB planes (3, ...) in [0, 1].

    ``ab_unit`` folds a scale of a, b into the formulas (AB_SCALE for the network's normalised ab).
    """
    fy = np.asarray(lightness, dtype=np.float32) * _F(1.0 / 116.0)
    fy += _F(16.0 / 116.0)
    fx = np.asarray(a, dtype=np.float32) * _F(ab_unit / 500.0)
    fx += fy
    fz = np.asarray(b, dtype=np.float32) * _F(-ab_unit / 200.0)
    fz += fy
    np.maximum(fz, _F(0.0), out=fz)
    x, y, z = _finv(fx), _finv(fy), _finv(fz)
    m = _RGB_FROM_XYZN
    out = np.empty((3, *x.shape), dtype=np.float32)
    for c in range(3):
        plane = out[c]
        np.multiply(x, m[c, 0], out=plane)
        plane += y * m[c, 1]
        plane += z * m[c, 2]
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
    """Stack L (H, W) and ab (H, W, 2) in Lab units into RGB float64 in [0, 1] (the reference conversion).

    The one that scores go through (:mod:`colorlib.scoring.metrics`): Table I's numbers use this.
    """
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
        return (
            slice(self.top, self.top + self.inner_height),
            slice(self.left, self.left + self.inner_width),
        )


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
    """(C, h, w) -> float32 (C, height, width), bilinear, separable (columns, then rows).

    The same resampling as :func:`upsample_ab` (scikit-image's order-1 resize with edge mode:
    source ``(y + 0.5) * h / height - 0.5`` clamped), in float32 on the network's channel-first maps.
    """
    maps = np.asarray(maps, dtype=np.float32)
    _, h, w = maps.shape
    if (h, w) == (height, width):
        return maps.copy()
    x0, x1, fx = bilinear_taps(width, w)
    cols = maps[:, :, x0]
    step = maps[:, :, x1]
    step -= cols
    step *= fx
    cols += step
    y0, y1, fy = bilinear_taps(height, h)
    out = cols[:, y0]
    step = cols[:, y1]
    step -= out
    step *= fy[:, None]
    out += step
    return out


def preprocess(rgb: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray, PadInfo]:
    """Photo -> (L input (1, S, S) in [0, 1], ab target (2, S, S) in [-1, 1], PadInfo)."""
    square, info = resize_and_pad(rgb, size)
    lab = rgb_to_lab(square)
    l_in = normalize_l(lab[..., 0])[None]
    ab = normalize_ab(lab[..., 1:]).transpose(2, 0, 1)
    return np.ascontiguousarray(l_in), np.ascontiguousarray(ab), info


def preprocess_batch(
    photos: Sequence[np.ndarray], size: int = 256, progress: bool = False
) -> tuple[np.ndarray, np.ndarray, list[PadInfo]]:
    """Several photos -> (L (N, 1, S, S), ab (N, 2, S, S), PadInfo per photo), stacked for a network."""
    prepared = [
        preprocess(rgb, size) for rgb in tqdm(photos, desc="decoding", unit="photo", disable=not progress, leave=False)
    ]
    return np.stack([p[0] for p in prepared]), np.stack([p[1] for p in prepared]), [p[2] for p in prepared]


def preprocess_lightness_batch(photos: Sequence[np.ndarray], size: int = 256) -> tuple[np.ndarray, list[PadInfo]]:
    """Several photos -> (L (N, 1, S, S) in [0, 1], PadInfo per photo): the network input alone.

    What colorizing needs from :func:`preprocess_batch`, without the ab target: L comes from
    :func:`lab_lightness` (a table lookup), equal to rgb_to_lab's L to 1e-9.
    """
    lightness, infos = [], []
    for rgb in photos:
        square, info = resize_and_pad(rgb, size)
        lightness.append(normalize_l(lab_lightness(square))[None])
        infos.append(info)
    return np.stack(lightness), infos


def postprocess(rgb: np.ndarray, ab_pred: np.ndarray, info: PadInfo) -> np.ndarray:
    """Join a predicted ab map (2, S, S) in [-1, 1] to the full-resolution L of the photo.

    Returns uint8 RGB at the photo's own resolution. The colorizing path: float32 upsampling and
    the fast float32 Lab -> sRGB conversion, for pictures only (no reported number comes from it);
    within one level of :func:`postprocess_reference` on a rare pixel (tests/test_lab_fast.py).
    """
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
