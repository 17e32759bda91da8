"""The reference computation the explorer page reproduces, and the widget uses: the bundle's quantisation,
the upsampling of ab maps, the blend (:class:`Blend`) and its vividness step, the picture, and the exact
MSE of any blend from each photo's second moments (:class:`MseStats`).

The page (``book/_static/explorer-core.js``) computes in float64 from the same quantised data, with the
same taps, loops and summation order, so blends, MSE readouts and the rules' maps agree with these to
rounding (the browser test checks 1e-6 on the maps and the exact text of the mean's readouts). Only the
pictures differ, on purpose: :func:`render` converts Lab -> sRGB with colorlib's fast float32 conversion
(:func:`colorlib.lab.lab_planes_to_rgb_fast`), the page in float64 with scikit-image's formulas, so a rare
pixel lies one level apart.

Quantisation (chosen so the page can undo it exactly): L is stored as ``round(L * 255 / 100)`` and
a, b (normalised to [-1, 1]) as ``round(ab * 127) + 128``; one step is 0.4 L units and one a/b unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..combination_rules import INITIAL_TEMPERATURE, MEAN, RULES
from ..ensemble import normalize_weights, vivid
from ..errors import UserError
from ..lab import AB_SCALE, L_SCALE, bilinear_taps, lab_planes_to_rgb_fast, planes_to_uint8
from ..scoring.metrics import colourfulness
from .contract import AB_STEPS, AB_ZERO, L_LEVELS, OWN_GREY_CHROMA, OWN_GREY_SHARE, VIVIDNESS_INITIAL, ZERO_MESSAGE


class Preview(NamedTuple):
    """One blended photo: uint8 RGB (h, w, 3), MSE of normalised ab, colourfulness of the RGB."""

    rgb: np.ndarray
    mse: float
    colourfulness: float


def quantize_lightness(lightness: np.ndarray) -> np.ndarray:
    """L in [0, 100] -> uint8."""
    return np.clip(np.rint(np.asarray(lightness, np.float64) * L_LEVELS / L_SCALE), 0, L_LEVELS).astype(np.uint8)


def dequantize_lightness(q: np.ndarray) -> np.ndarray:
    """uint8 -> L in [0, 100] (float64), as the page computes it: q * 100 / 255."""
    return np.asarray(q).astype(np.float64) * L_SCALE / L_LEVELS


def quantize_ab(ab: np.ndarray) -> np.ndarray:
    """Normalised ab in [-1, 1] -> uint8 (0 maps to 128 exactly)."""
    return np.clip(np.rint(np.asarray(ab, np.float64) * AB_STEPS) + AB_ZERO, 0, 255).astype(np.uint8)


def dequantize_ab(q: np.ndarray) -> np.ndarray:
    """uint8 -> normalised ab (float64), as the page computes it: (q - 128) / 127."""
    return (np.asarray(q).astype(np.float64) - AB_ZERO) / AB_STEPS


def upsample_bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(C, h, w) -> (C, height, width), bilinear with pixel centres aligned and edges clamped.

    Defined here (not taken from a library) because the page (explorer-core.js) computes the same
    products and sums: source row ``sy = (y + 0.5) * h / height - 0.5`` clamped to [0, h - 1], and the
    same for columns. Same size in and out is the identity.
    """
    maps = np.asarray(maps, np.float64)
    _, h, w = maps.shape
    y0, y1, fy = bilinear_taps(height, h, np.float64)
    x0, x1, fx = bilinear_taps(width, w, np.float64)
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


def normalized_weights(weights: Sequence[float], n_models: int | None = None) -> np.ndarray:
    """Weights divided by their sum (as every blend does); all zero is a UserError with the page's message,
    and so (after that) is a count other than `n_models`."""
    w = normalize_weights(weights, all_zero=ZERO_MESSAGE)
    if n_models is not None and len(w) != n_models:
        raise UserError(f"expected {n_models} weights (one per model), got {len(w)}")
    return w


def blend_ab(ab_members: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted mean over members (M, 2, h, w) -> (2, h, w); summed member by member, like the page."""
    w = normalized_weights(weights, len(ab_members))
    ab_members = np.asarray(ab_members, np.float64)
    out = np.zeros(ab_members.shape[1:])
    for wi, member in zip(w, ab_members, strict=True):
        out = out + wi * member
    return out


def combine_ab(ab_members: np.ndarray, weights: Sequence[float], rule: str, temperature: float) -> np.ndarray:
    """A rule of :data:`colorlib.combination_rules.RULES` other than the weighted mean over the members
    (M, 2, h, w) whose weight is above zero, as equals (so the ``bgy-combined`` preset gives each rule over
    blue, green and yellow, as the study scores it) -> (2, h, w) float64, as explorer-core.js computes it;
    no member at all is a UserError (the caller says what to do)."""
    if rule not in RULES or RULES[rule].uses_weights:
        raise UserError(f"unknown rule {rule!r}; the explorer offers {', '.join(RULES)}")
    w = normalize_weights(weights, len(ab_members), all_zero="no model has a weight above zero")
    stack = torch.from_numpy(np.asarray(ab_members, np.float64)[np.flatnonzero(w > 0)])
    spec = RULES[rule]
    ab = spec.combine(stack, temperature) if spec.uses_temperature else spec.combine(stack)
    return ab.to(torch.float64).numpy()


@dataclass(frozen=True)
class Blend:
    """The explorer's settings: the sliders' weights (one per model), the rule
    (:data:`colorlib.combination_rules.RULES`), its temperature (where the rule has one) and the vividness k."""

    weights: Sequence[float]
    rule: str = MEAN
    temperature: float = INITIAL_TEMPERATURE
    k: float = VIVIDNESS_INITIAL

    def ab(self, ab_members: np.ndarray) -> np.ndarray:
        """The members' maps (M, 2, h, w) combined by the rule, at vividness k -> (2, h, w) float64."""
        if self.rule == MEAN:
            return vivid(blend_ab(ab_members, self.weights), self.k)
        return vivid(combine_ab(ab_members, self.weights, self.rule, self.temperature), self.k)


def in_colour(ab: np.ndarray) -> bool:
    """Whether a photo's normalised ab (2, h, w) is in colour: more than OWN_GREY_SHARE of its pixels
    have a chroma above OWN_GREY_CHROMA Lab units (explorer-core.js's inColour counts the same)."""
    chroma = np.hypot(*np.asarray(ab, np.float64)) * AB_SCALE
    return int(np.count_nonzero(chroma > OWN_GREY_CHROMA)) > OWN_GREY_SHARE * chroma.size


def render(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L (h, w) in Lab units and normalised ab (2, ah, aw) -> uint8 RGB (h, w, 3), the picture only (the
    colourfulness is measured on it; the MSE never passes through it)."""
    h, w = lightness.shape
    ab_full = upsample_bilinear(ab, h, w)
    return planes_to_uint8(lab_planes_to_rgb_fast(lightness, ab_full[0], ab_full[1], ab_unit=AB_SCALE))


@dataclass(frozen=True)
class MseStats:
    """Second moments of one photo's members' ab maps P_i and true map t (normalised, photo area).

    MSE(w, k) = mean((k sum_i w_i P_i - t)^2) = k^2 sum_ij w_i w_j gram_ij - 2 k sum_i w_i cross_i + energy,
    with gram_ij = mean(P_i P_j), cross_i = mean(P_i t), energy = mean(t^2): exact for the blend times k
    before clipping. peak_i = max |P_i| bounds the blend, |sum_i w_i P_i| <= sum_i w_i peak_i, so
    clipping can change nothing while k times that bound is at most 1 (:meth:`may_clip`).
    """

    gram: tuple[tuple[float, ...], ...]
    cross: tuple[float, ...]
    energy: float
    peak: tuple[float, ...]

    @classmethod
    def from_maps(cls, members: np.ndarray, truth: np.ndarray) -> MseStats:
        """members (M, ...) and truth (...) at full precision and size."""
        p = np.asarray(members, np.float64).reshape(len(members), -1)
        t = np.asarray(truth, np.float64).reshape(-1)
        n = t.size
        return cls(
            tuple(tuple(float(x) for x in row) for row in p @ p.T / n),
            tuple(float(x) for x in p @ t / n),
            float(t @ t / n),
            tuple(float(x) for x in np.abs(p).max(axis=1)),
        )

    def may_clip(self, weights: Sequence[float], k: float = VIVIDNESS_INITIAL) -> bool:
        """Whether clipping can touch the blend times k (then :meth:`mse` is an upper bound, not exact)."""
        if k == 1:
            return False
        bound = 0.0
        for wi, pi in zip(normalized_weights(weights, len(self.peak)).tolist(), self.peak, strict=True):
            bound += wi * pi
        return k * bound > 1.0

    def mse(self, weights: Sequence[float], k: float = VIVIDNESS_INITIAL) -> float:
        """The MSE of the blend times k, unclipped; plain loops, in the order explorer-core.js uses, so both
        give the same float (at k = 1 the same float as without k)."""
        w = normalized_weights(weights, len(self.cross)).tolist()
        quad = 0.0
        for i, wi in enumerate(w):
            for j, wj in enumerate(w):
                quad += wi * wj * self.gram[i][j]
        lin = 0.0
        for wi, ci in zip(w, self.cross, strict=True):
            lin += wi * ci
        return max(0.0, k * k * quad - 2.0 * k * lin + self.energy)


def blend_preview(
    lightness: np.ndarray,
    ab_members: np.ndarray,
    weights: Sequence[float],
    stats: MseStats | None = None,
    k: float = VIVIDNESS_INITIAL,
) -> Preview:
    """The weighted mean the explorer shows at vividness k, and its readouts: lightness (h, w) in Lab units,
    ab_members (M, 2, ah, aw) normalised; the MSE from `stats` (nan without; an upper bound where
    :meth:`MseStats.may_clip`)."""
    ab = vivid(blend_ab(ab_members, weights), k)
    rgb = render(lightness, ab)
    mse = stats.mse(weights, k) if stats is not None else math.nan
    return Preview(rgb, mse, colourfulness(rgb))
