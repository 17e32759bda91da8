"""What one photo's pixels say: colour-bias scores, the chroma summary of the black-and-white test,
and the perceptual hash that finds near duplicates. All are computed on small thumbnails."""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.fft import dctn

from ..lab import rgb_to_lab

COLOURS = ("blue", "yellow", "green")  # the biased sets, in the paper's order
THUMB_SIZE = 64  # colour statistics are computed on a THUMB_SIZE x THUMB_SIZE thumbnail
# A pixel is "clearly chromatic" above this CIE Lab chroma. Overcast sky is ~6, pale blue sky ~18.
CHROMA_MIN = 15.0
# Hue ranges in degrees, h = atan2(b, a), [start, end). Reference sRGB colours: sunset orange
# (250, 110, 60) 46, orange 64, gold 85, yellow 93, olive 103 | grass (86, 140, 40) 128,
# forest green 138 | cyan/teal water 196, sky blue (135, 206, 235) 235, deep sky (0, 120, 220) 280.
# Reds (< 40) and purples/magentas (> 300) count for no colour.
HUE_RANGES = {"yellow": (40.0, 105.0), "green": (105.0, 170.0), "blue": (190.0, 300.0)}
# Black-and-white test on the chroma summary (99th percentile of the thumbnail's pixel chroma).
BW_CHROMA = 8.0
BW_PERCENTILE = 99.0
# A photo whose 32x32 lightness thumbnail varies less than this (std, in L units) has no structure
# to hash: it gets a hash taken from its bytes instead, so it matches no other photo by accident.
FEATURELESS_STD = 1.0
PHASH_SIZE = 32  # pHash: DCT of a 32x32 grayscale thumbnail, 8x8 lowest frequencies kept


def feature_settings(**more: int) -> dict:
    """The thresholds above, as JSON gives them back: what the scan cache and the manifest's params record.
    `more` (a scan's or a split's own setting) comes before featureless_std, the last one added."""
    return {
        "thumb_size": THUMB_SIZE,
        "chroma_min": CHROMA_MIN,
        "hue_ranges": {colour: list(hues) for colour, hues in HUE_RANGES.items()},
        "bw_chroma": BW_CHROMA,
        "bw_percentile": BW_PERCENTILE,
        **more,
        "featureless_std": FEATURELESS_STD,
    }


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A THUMB_SIZE square thumbnail (area shares are kept even though the aspect is not)."""
    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    return np.asarray(img.resize((THUMB_SIZE, THUMB_SIZE), Image.BOX))


def lch(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma C = hypot(a, b) and hue h = atan2(b, a) in degrees [0, 360) of a Lab image."""
    a, b = lab[..., 1], lab[..., 2]
    return np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0


def thumbnail_lch(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma and hue of a photo's thumbnail: what every colour score is computed from."""
    return lch(rgb_to_lab(thumbnail(rgb)))


def vivid_share(chroma: np.ndarray, in_hue: np.ndarray) -> float:
    """Share of all pixels that are clearly chromatic (C > CHROMA_MIN) and in a hue range (mask)."""
    return round(float(np.mean((chroma > CHROMA_MIN) & in_hue)), 4)


def scores_from_lch(chroma: np.ndarray, hue: np.ndarray) -> dict[str, float]:
    """Share of all pixels that are clearly chromatic and whose hue is in each colour's range."""
    return {c: vivid_share(chroma, (hue >= HUE_RANGES[c][0]) & (hue < HUE_RANGES[c][1])) for c in COLOURS}


def colour_scores(rgb: np.ndarray) -> dict[str, float]:
    """Colour-bias scores {"blue", "yellow", "green"} in [0, 1] of a uint8 RGB photo.

    Each score is the share of the photo (on a small thumbnail, in LCh) that is clearly chromatic
    (C > CHROMA_MIN) with a hue in HUE_RANGES[colour]: a blue sky over a third of the photo scores
    about 0.33 blue, whatever the rest of the photo holds.
    """
    return scores_from_lch(*thumbnail_lch(rgb))


def dominant(scores: dict[str, float], kinds: tuple[str, ...] = COLOURS) -> str | None:
    """The kind with the highest score (ties go to the earlier of kinds); None if all are 0."""
    best = max(kinds, key=lambda k: scores[k])
    return best if scores[best] > 0 else None


def dct_hash(small: np.ndarray) -> int:
    """64-bit DCT hash of a 32x32 map: one bit per 8x8 lowest frequency, set if above the median."""
    low = dctn(small, type=2, norm="ortho")[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) is left out of the median
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def perceptual_hash(lightness: np.ndarray, sha256: str) -> int:
    """pHash of a lightness map; a featureless photo gets 64 bits of its sha256 instead."""
    img = Image.fromarray(np.asarray(lightness, dtype=np.float32), mode="F")
    small = np.asarray(img.resize((PHASH_SIZE, PHASH_SIZE), Image.BOX), dtype=np.float64)
    if small.std() < FEATURELESS_STD:
        return int(sha256[:16], 16)
    return dct_hash(small)


def pixel_features(rgb: np.ndarray, sha256: str) -> dict:
    """What a photo record learns from the pixels of a uint8 RGB photo: its phash, its chroma summary (a
    high percentile, so a small coloured area counts), its B&W flag and its colour scores."""
    lab = rgb_to_lab(thumbnail(rgb))
    chroma, hue = lch(lab)
    summary = round(float(np.percentile(chroma, BW_PERCENTILE)), 2)
    return {
        "phash": perceptual_hash(lab[..., 0], sha256),
        "chroma": summary,
        "bw": summary < BW_CHROMA,
        "scores": scores_from_lch(chroma, hue),
    }
