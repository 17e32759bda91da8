"""Believability without a downloaded network: two numbers for what the paper judged by eye.

- `hist_distance`: total variation distance between the predictions' and the originals' ab histograms,
  pooled over the photos (bins of HIST_BIN Lab units, one centred on grey). 0: the originals' palette;
  1: no colour in common. It ignores *where* a colour goes (that is the error's job); grey puts every
  pixel in the centre bin.
- `patchiness`: the predictions' ab gradient energy over the originals'. 1: as much colour change between
  neighbouring pixels as the photos; above 1: patches and seams they lack (the paper's "patchy"); 0: flat.
- `hue_jump_share`: the share of neighbouring pairs of clearly coloured pixels whose hues differ by more
  than STRONG_HUE_JUMP degrees: hard seams, a second view of patchiness.

Every measure is computed on each photo's area of the working image (padding excluded), in Lab units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..lab import AB_SCALE, PadInfo
from .metrics import photo_areas

HIST_BIN = 10.0  # Lab units per histogram bin
HIST_HALF_BINS = 11  # bins on each side of the grey bin: [-115, 115] in all, clipped at the ends
HUE_CHROMA_MIN = 15.0  # a pixel counts as clearly coloured above this chroma (as the colour scores)
STRONG_HUE_JUMP = 60.0  # degrees: a hue change this large between neighbours is a seam


def ab_counts(ab: np.ndarray) -> np.ndarray:
    """Pixel counts of one (h, w, 2) map in Lab units over the ab bins, flattened; values beyond the
    outer bins are counted in them."""
    edge = (HIST_HALF_BINS + 0.5) * HIST_BIN
    edges = np.linspace(-edge, edge, 2 * HIST_HALF_BINS + 2)
    flat = np.clip(np.asarray(ab).reshape(-1, 2), edges[0] + 1e-9, edges[-1] - 1e-9)
    return np.histogram2d(flat[:, 0], flat[:, 1], bins=(edges, edges))[0].ravel()


def gradient_energy(ab: np.ndarray) -> float:
    """Mean squared difference of ab between horizontal and vertical neighbours ((h, w, 2), Lab units)."""
    ab = np.asarray(ab, dtype=np.float64)
    dx = np.diff(ab, axis=1)
    dy = np.diff(ab, axis=0)
    n = dx[..., 0].size + dy[..., 0].size
    return float(((dx**2).sum() + (dy**2).sum()) / max(n, 1))


def hue_jump_share(ab: np.ndarray) -> float:
    """Share of all neighbouring pixel pairs that both have chroma > HUE_CHROMA_MIN and hues more than
    STRONG_HUE_JUMP degrees apart."""
    ab = np.asarray(ab, dtype=np.float64)
    chroma = np.hypot(ab[..., 0], ab[..., 1])
    hue = np.degrees(np.arctan2(ab[..., 1], ab[..., 0]))
    coloured = chroma > HUE_CHROMA_MIN
    jumps, pairs = 0, 0
    for axis in (0, 1):
        both = np.logical_and(np.delete(coloured, 0, axis), np.delete(coloured, -1, axis))
        diff = np.abs(np.diff(hue, axis=axis))
        diff = np.minimum(diff, 360.0 - diff)
        jumps += int(np.sum(both & (diff > STRONG_HUE_JUMP)))
        pairs += both.size
    return jumps / max(pairs, 1)


def believability(pred: torch.Tensor, true: torch.Tensor, infos: Sequence[PadInfo]) -> dict[str, float]:
    """The set's believability measures of normalised ab batches (N, 2, S, S), every photo counted once."""
    return pooled_believability(photo_terms(pred, infos), photo_terms(true, infos))


@dataclass(frozen=True)
class PhotoTerms:
    """Per-photo pieces of the set measures, to pool them over any resample of the photos."""

    counts: np.ndarray  # ab histogram counts (N, bins)
    energy: np.ndarray  # gradient energy (N,)
    hue_jumps: np.ndarray  # hue-jump share (N,)


def photo_terms(ab: torch.Tensor, infos: Sequence[PadInfo]) -> PhotoTerms:
    """PhotoTerms of a normalised ab batch (N, 2, S, S), predictions or originals."""
    maps = [area * AB_SCALE for area in photo_areas(ab, infos)]  # Lab units
    return PhotoTerms(
        counts=np.stack([ab_counts(m) for m in maps]).astype(np.float32),  # whole numbers: exact in float32
        energy=np.array([gradient_energy(m) for m in maps]),
        hue_jumps=np.array([hue_jump_share(m) for m in maps]),
    )


def pooled_believability(pred: PhotoTerms, true: PhotoTerms, weights: np.ndarray | None = None) -> dict:
    """The set measures of :func:`believability` from per-photo terms, each photo counted with a weight.

    weights: (N,) or (B, N), e.g. how often each photo was drawn in B bootstrap resamples; None counts
    every photo once (then the values equal believability's). Returns floats, or (B,) arrays.
    """
    w = np.ones(len(pred.energy)) if weights is None else np.asarray(weights, dtype=np.float64)
    p = w @ pred.counts.astype(np.float64)
    t = w @ true.counts.astype(np.float64)
    p = p / np.maximum(p.sum(axis=-1, keepdims=True), 1.0)
    t = t / np.maximum(t.sum(axis=-1, keepdims=True), 1.0)
    true_energy = w @ true.energy
    with np.errstate(divide="ignore", invalid="ignore"):
        patchiness = np.where(true_energy > 0, (w @ pred.energy) / true_energy, np.nan)
    out = {
        "hist_distance": 0.5 * np.abs(p - t).sum(axis=-1),
        "patchiness": patchiness,
        "hue_jumps": (w @ pred.hue_jumps) / w.sum(axis=-1),
    }
    return {k: float(v) for k, v in out.items()} if w.ndim == 1 else out
