"""Combination rules: ways to turn several members' ab predictions into one that keep more of their colour
than the paper's plain mean, which pulls disagreeing colours towards grey.

Every rule maps a stack of member predictions (K, ..., 2, H, W), the channel axis third from the end, to
one prediction (..., 2, H, W). The fixed ones are :data:`RULES`; :class:`HueBandWeights` is learned: convex
weights over the members per hue band of their mean prediction, fitted on calibration photos only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.optimize import nnls

from .lab import AB_SCALE, PadInfo, unpad

CHANNEL = -3  # the ab axis of (..., 2, H, W)
GREY_BAND_CHROMA = 5.0  # Lab units: a mean prediction below this chroma falls in the grey band
HUE_BANDS = 6  # 60° bands of the mean prediction's hue, after the grey band
RULE_TEMPERATURES = (1.0, 3.0, 10.0, 30.0)  # Lab chroma units; the study also reports T = 0 and T = ∞


def chroma(ab: torch.Tensor) -> torch.Tensor:
    """Chroma of normalised ab (..., 2, H, W) -> (..., 1, H, W), in the same normalised units."""
    return torch.linalg.vector_norm(ab, dim=CHANNEL, keepdim=True)


def mean(stack: torch.Tensor) -> torch.Tensor:
    """The paper's rule: the mean of the members."""
    return stack.mean(dim=0)


def chroma_mean(stack: torch.Tensor) -> torch.Tensor:
    """Hue from the members' mean ab vector, chroma from the members' mean chroma, so disagreeing members no
    longer cancel out to grey. Where the mean vector is exactly zero there is no hue: grey is kept."""
    avg = stack.mean(dim=0)
    length = chroma(avg)
    target = chroma(stack).mean(dim=0)
    scale = torch.where(length > 0, target / length.clamp_min(1e-12), torch.zeros_like(length))
    return (avg * scale).clamp(-1.0, 1.0)


def median(stack: torch.Tensor) -> torch.Tensor:
    """Per-pixel, per-channel median of the members (the mean of the middle two for an even count)."""
    return torch.from_numpy(np.median(stack.numpy(), axis=0).astype(np.float32))


def most_saturated(stack: torch.Tensor) -> torch.Tensor:
    """Per pixel, the member with the largest chroma (the first of equals)."""
    index = chroma(stack).argmax(dim=0, keepdim=True)  # (1, ..., 1, H, W)
    shape = list(index.shape)
    shape[CHANNEL] = 2
    return torch.gather(stack, 0, index.expand(shape)).squeeze(0)


def softmax(stack: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-pixel weights softmax(chroma / T) over members (T in Lab units): ∞ the mean, 0 the most saturated
    (the ensemble analogue of the annealed mean of Zhang et al.'s colorization paper)."""
    if temperature < 0 or math.isnan(temperature):
        raise ValueError(f"the temperature must be 0 or more, got {temperature}")
    if math.isinf(temperature):
        return mean(stack)
    if temperature == 0:
        return most_saturated(stack)
    weights = torch.softmax(chroma(stack) * AB_SCALE / temperature, dim=0)
    return (weights * stack).sum(dim=0)


class Rule(NamedTuple):
    """A rule as the explorer, colorize and the study name it: its label, its arithmetic, its controls."""

    label: str
    combine: Callable[..., torch.Tensor]  # a stack (K, ..., 2, H, W), then the temperature if it uses one
    uses_weights: bool = False  # True: the members weighted (the explorer's sliders); False: as equals
    uses_temperature: bool = False


# The one registry of the rules that need no fitting, for the study, colorize and the explorer: their names,
# labels and flags reach the page through its contract, and explorer-core.js checks it has code for each.
MEAN, SOFTMAX = "mean", "softmax"
RULES: dict[str, Rule] = {
    MEAN: Rule("weighted mean (the paper's)", mean, uses_weights=True),  # as equals: the plain mean
    "chroma-mean": Rule("chroma-keeping mean", chroma_mean),
    "median": Rule("median", median),
    "most-saturated": Rule("most saturated", most_saturated),
    SOFTMAX: Rule("softmax over chroma (temperature T)", softmax, uses_temperature=True),
}
# The explorer's temperature stops (Lab chroma units: 0 the most saturated member, ∞ the mean), and the T
# that it and colorize start at.
TEMPERATURES = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, math.inf)
INITIAL_TEMPERATURE = 10.0


def fixed_rules() -> dict[str, Callable[[torch.Tensor], torch.Tensor]]:
    """Every rule that needs no fitting, by the name the study gives it (temperatures as T<value>)."""
    rules = {name: r.combine for name, r in RULES.items() if not r.uses_temperature}
    for t in RULE_TEMPERATURES:
        rules[f"T{t:g}"] = lambda s, t=t: softmax(s, t)
    return rules


# --- the learned rule -------------------------------------------------------------------------------


def hue_band(stack: torch.Tensor) -> torch.Tensor:
    """Band of each pixel (..., H, W): 0 where the members' mean is nearly grey, else 1 + hue // 60°."""
    avg = stack.mean(dim=0)
    a, b = avg.select(CHANNEL, 0), avg.select(CHANNEL, 1)
    hue = torch.rad2deg(torch.atan2(b, a)) % 360.0
    band = 1 + torch.clamp((hue / (360.0 / HUE_BANDS)).long(), max=HUE_BANDS - 1)
    grey = torch.hypot(a, b) * AB_SCALE < GREY_BAND_CHROMA
    return torch.where(grey, torch.zeros_like(band), band)


def convex_least_squares(gram: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Weights w ≥ 0 with sum 1 minimising w'Gw − 2 rhs·w (the sum enforced by a stiff penalty)."""
    k = len(rhs)
    penalty = 1e4 * max(float(np.trace(gram)), 1e-12)
    g = gram + penalty * np.ones((k, k)) + np.eye(k) * 1e-10 * max(float(np.trace(gram)), 1e-12)
    r = rhs + penalty
    upper = np.linalg.cholesky(g).T
    w, _ = nnls(upper, np.linalg.solve(upper.T, r))
    return w / w.sum() if w.sum() > 0 else np.full(k, 1.0 / k)


@dataclass(frozen=True)
class HueBandWeights:
    """Convex weights over the members per hue band of their mean prediction (band 0: grey)."""

    weights: np.ndarray  # (1 + HUE_BANDS, K)
    pixels: np.ndarray  # calibration pixels per band (a band without any keeps equal weights)

    def __call__(self, stack: torch.Tensor) -> torch.Tensor:
        band = hue_band(stack)
        w = torch.as_tensor(self.weights, dtype=stack.dtype)[band]  # (..., H, W, K)
        w = w.movedim(-1, 0).unsqueeze(CHANNEL)  # (K, ..., 1, H, W)
        return (w * stack).sum(dim=0)


def fit_hue_bands(stack: torch.Tensor, target: torch.Tensor, infos: Sequence[PadInfo]) -> HueBandWeights:
    """Fit HueBandWeights on one set of photos: members' predictions (K, N, 2, S, S) and the true
    ab (N, 2, S, S) of the same photos, padding excluded, each photo weighted equally.

    Call it with calibration photos only: whatever it is given is what it learns from.
    """
    k = stack.shape[0]
    n_bands = 1 + HUE_BANDS
    grams, rhs, pixels = np.zeros((n_bands, k, k)), np.zeros((n_bands, k)), np.zeros(n_bands, dtype=np.int64)
    bands = hue_band(stack)
    for n, info in enumerate(infos):
        band = unpad(bands[n].numpy(), info).ravel()
        cols = np.stack([unpad(stack[m, n].numpy().transpose(1, 2, 0), info).reshape(-1, 2) for m in range(k)], -1)
        y = unpad(target[n].numpy().transpose(1, 2, 0), info).reshape(-1, 2).astype(np.float64)
        size = len(band)
        for j in np.unique(band):
            sel = band == j
            x = cols[sel].reshape(-1, k).astype(np.float64)  # both channels as rows
            grams[j] += x.T @ x / size
            rhs[j] += x.T @ y[sel].reshape(-1) / size
            pixels[j] += int(sel.sum())
    weights = np.full((n_bands, k), 1.0 / k)
    for j in range(n_bands):
        if pixels[j] > 0:
            weights[j] = convex_least_squares(grams[j], rhs[j])
    return HueBandWeights(weights, pixels)
