"""Reading photos: any file Pillow opens, decoded upright to uint8 sRGB, or a one-line reason why not."""

from __future__ import annotations

import logging
import os
import stat
import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ImageLoadError, one_line

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)
_HIGH_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def load_image(path: Path) -> np.ndarray:
    """Read a photo file as uint8 sRGB (H, W, 3); any failure: ImageLoadError "name: reason"."""
    path = Path(path)
    return decode_image(read_regular_file(path, path.name), path.name)


def read_regular_file(path: Path, name: str) -> bytes:
    """A regular file's bytes, else ImageLoadError "name: reason": opened non-blocking and checked
    before any read, so a FIFO (or a device) named like a photo is refused instead of hanging."""
    try:
        with open(path, "rb", opener=lambda file, flags: os.open(file, flags | os.O_NONBLOCK)) as file:
            mode = os.fstat(file.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ImageLoadError(f"{name}: not a regular file ({'a FIFO' if stat.S_ISFIFO(mode) else 'a device'})")
            return file.read()
    except FileNotFoundError as exc:
        raise ImageLoadError(f"{name}: file not found") from exc
    except OSError as exc:
        raise ImageLoadError(f"{name}: cannot read file ({exc.strerror or exc})") from exc


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode image file bytes to uint8 sRGB (H, W, 3); ImageLoadError "name: reason" on failure.

    Reasons start with a short category ("empty file", "not an image", "too large", "cannot
    decode") and put details in parentheses, so reports can group skipped files by category.
    """
    if not data:
        raise ImageLoadError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as img:
                width, height = img.size  # from the header: too large is refused before any pixel is decoded
                if width * height > MAX_PIXELS:
                    raise ImageLoadError(f"{name}: too large ({width}x{height} pixels, the limit is {MAX_PIXELS:,})")
                img.load()  # decode now, so a truncated file fails here
                return _to_rgb(_upright(img))
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{name}: not an image (format not recognised)") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"{name}: too large ({exc})") from exc
    except Exception as exc:  # Pillow raises many types for corrupt files; all mean "unreadable"
        raise ImageLoadError(f"{name}: cannot decode ({one_line(exc)})") from exc


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the photo as stored."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception as exc:  # a photo with unreadable EXIF is still a photo
        log.debug("ignoring unreadable EXIF orientation: %s", exc)
        return img


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> writable uint8 sRGB: transparency over white, high-bit gray to 8 bit."""
    if img.mode in _HIGH_BIT_GRAY:
        return np.repeat(_gray_to_uint8(img)[..., None], 3, axis=2)
    # alpha: an alpha band, a tRNS colour, or an RGBA palette
    alpha_palette = img.mode == "P" and img.palette is not None and img.palette.mode == "RGBA"
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info or alpha_palette:
        img = Image.alpha_composite(Image.new("RGBA", img.size, (255, 255, 255, 255)), img.convert("RGBA"))
    return np.array(img.convert("RGB"))


def _gray_to_uint8(img: Image.Image) -> np.ndarray:
    """16-bit, 32-bit or float grayscale -> uint8, scaled by the mode's range (not the photo's).

    16-bit modes and "I" (how Pillow opens 16-bit PNG/TIFF) use 0..65535, i.e. divide by 257.
    Float images use 0..1 when all values fit in it, else 0..255 (Pillow's own F <-> L convention).
    """
    values = np.asarray(img).astype(np.float64)
    if img.mode == "F":
        full_scale = 1.0 if np.nanmax(values, initial=0.0) <= 1.0 else 255.0
    else:
        full_scale = 65535.0
    scaled = np.nan_to_num(values / full_scale * 255.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
