"""CIE Lab colour space, the paper's normalisation, and resize-and-pad.

The network sees the lightness L of CIE Lab scaled to [0, 1] (L / 100) and predicts the two colour
channels a, b scaled to [-1, 1] (a / 128, b / 128), at a square working size (256 in the paper).
Photos are resized so the longer side fits and padded with black, so no part of the photo is lost.
On the way back the predicted ab map is cropped, upsampled to the photo's own size and joined to
the photo's full-resolution L, so a colorized photo keeps its resolution and its exact lightness.
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
_Y_FROM_LINEAR_RGB = np.array([0.212671, 0.715160, 0.072169])  # scikit-image's sRGB -> XYZ, row Y


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
    """CIE Lab -> sRGB float in [0, 1] (out-of-gamut colours are clipped, on purpose and silently)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*negative Z values.*")
        return np.clip(color.lab2rgb(lab), 0.0, 1.0)


def rgb_to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] -> uint8 with rounding."""
    return np.clip(np.rint(np.asarray(rgb) * 255.0), 0, 255).astype(np.uint8)


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
    """Stack L (H, W) and ab (H, W, 2) in Lab units into RGB float in [0, 1]."""
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
    """Working-size ab map (size, size, 2) -> the photo's own (height, width, 2), bilinear."""
    crop = unpad(ab, info)
    if crop.shape[:2] == (info.height, info.width):
        return np.asarray(crop, dtype=np.float64)
    return sk_resize(crop, (info.height, info.width, 2), order=1, mode="edge", anti_aliasing=False)


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


def postprocess(rgb: np.ndarray, ab_pred: np.ndarray, info: PadInfo) -> np.ndarray:
    """Join a predicted ab map (2, S, S) in [-1, 1] to the full-resolution L of the photo.

    Returns uint8 RGB at the photo's own resolution.
    """
    ab = upsample_ab(denormalize_ab(np.asarray(ab_pred).transpose(1, 2, 0)), info)
    return rgb_to_uint8(join_lab(lab_lightness(rgb), ab))


def grayscale(rgb: np.ndarray) -> np.ndarray:
    """The photo with its colour removed (a = b = 0), as uint8 RGB: what the model sees."""
    light = lab_lightness(rgb)
    return rgb_to_uint8(join_lab(light, np.zeros(light.shape + (2,))))
