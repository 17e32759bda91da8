"""The boosted baseline: the baseline's predicted ab scaled by k and clipped to the ab range, the
obvious competitor of the paper's hope (colours more vivid than the baseline's, yet believable).
Its scales are fitted on calibration photos, never on the photos scored: `fit_k_mse` (the least error),
`fit_k_vivid` (the photos' own colourfulness) and `fit_k_same` (another model's error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..ensemble import vivid
from ..lab import AB_SCALE, L_SCALE, PadInfo, join_lab, unpad
from .metrics import colourfulness, mse_ab, photo_areas

# The largest scale searched: the curve runs to 3, and far beyond it clipping and the sRGB gamut make
# colourfulness level off (even fall), so a larger bracket would no longer hold a rising function.
K_MAX = 4.0
K_TOLERANCE = 1e-3  # bisection stops when the bracket is this narrow (Table I shows k to 2 digits)


def photo_mse(pred: torch.Tensor, true: torch.Tensor, infos: Sequence[PadInfo]) -> np.ndarray:
    """Table I's loss of each photo: the MSE of normalised ab over the photo's area, (N,)."""
    return np.array([mse_ab(p, t) for p, t in zip(photo_areas(pred, infos), photo_areas(true, infos), strict=True)])


def photo_colourfulness(lightness: torch.Tensor, ab: torch.Tensor, infos: Sequence[PadInfo]) -> np.ndarray:
    """Colourfulness of each photo (its own L joined to ab, on the photo's area), as Table I scores it, (N,)."""
    out = []
    for i, (info, area) in enumerate(zip(infos, photo_areas(ab, infos), strict=True)):
        light = unpad(lightness[i, 0].numpy(), info) * L_SCALE
        out.append(colourfulness(join_lab(light, area * AB_SCALE)))
    return np.array(out)


def fit_k_mse(pred: torch.Tensor, true: torch.Tensor, infos: Sequence[PadInfo]) -> float:
    """Σ p·t / Σ p² over every pixel of the photos' areas and both channels: the least-squares k ≥ 0
    (the error is a parabola in k, so a negative optimum makes 0 the best scale; 0 for an all-grey p)."""
    p = np.concatenate([a.ravel() for a in photo_areas(pred, infos)])
    t = np.concatenate([a.ravel() for a in photo_areas(true, infos)])
    denominator = float(p @ p)
    return max(float(p @ t) / denominator, 0.0) if denominator > 0 else 0.0


def bisect_rising(f: Callable[[float], float], target: float, low: float, high: float) -> float | None:
    """The k in [low, high] with f(k) = target for an f that rises with k; None when the target lies
    outside [f(low), f(high)]."""
    if low > high or not f(low) <= target <= f(high):
        return None
    while high - low > K_TOLERANCE:
        mid = (low + high) / 2
        low, high = (mid, high) if f(mid) < target else (low, mid)
    return (low + high) / 2


def fit_k_vivid(pred: torch.Tensor, lightness: torch.Tensor, infos: Sequence[PadInfo], target: float) -> float | None:
    """The k at which the mean colourfulness of clip(k·pred) equals target (the photos' own mean);
    None when even K_MAX is not colourful enough."""
    return bisect_rising(lambda k: photo_colourfulness(lightness, vivid(pred, k), infos).mean(), target, 0.0, K_MAX)


def fit_k_same(pred: torch.Tensor, true: torch.Tensor, infos: Sequence[PadInfo], target: float) -> float | None:
    """The k ≥ k_mse at which the mean per-photo MSE of clip(k·pred) equals target (another model's
    error), on the error's rising side: the most colourful baseline no less accurate than that model.
    None when no k up to K_MAX reaches it (the target is below the best boosted error, or above the
    error at K_MAX)."""
    start = fit_k_mse(pred, true, infos)
    return bisect_rising(lambda k: photo_mse(vivid(pred, k), true, infos).mean(), target, start, K_MAX)
