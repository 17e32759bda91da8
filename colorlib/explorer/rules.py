"""The combination rules in the explorer: which ones it offers, how each combines the stored maps,
and the controls that pick them.

The weighted mean (the paper's rule, the default) keeps using the weight sliders. Every other rule
of :mod:`colorlib.rules` combines the models whose slider is above zero, with their weights ignored
(so the ``bgy-combined`` preset gives each rule over blue, green and yellow, as the study scores it).
The rules' math is :mod:`colorlib.rules`'; here it is only applied to the explorer's stored maps
(in float64, as ``book/_static/explorer.js`` computes it). The temperature family has its own
slider, from 0 (the most saturated member) to ∞ (the members' plain mean).

The learned hue-band rule is not offered: its weights are fitted on calibration photos, which only
the study beyond the paper has, for its own models, not for the six models the explorer blends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch

from .. import rules
from ..ensemble import normalize_weights
from ..errors import UserError


class Rule(NamedTuple):
    label: str
    uses_weights: bool  # False: the models whose weight is above zero, combined as equals
    uses_temperature: bool


MEAN, SOFTMAX = "mean", "softmax"
RULES: dict[str, Rule] = {
    MEAN: Rule("weighted mean (the paper's)", True, False),
    "chroma-mean": Rule("chroma-keeping mean", False, False),
    "median": Rule("median", False, False),
    "most-saturated": Rule("most saturated", False, False),
    SOFTMAX: Rule("softmax over chroma (temperature T)", False, True),
}
# The temperature slider's stops, Lab chroma units: 0 is the most saturated member, ∞ the mean.
TEMPERATURES = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, math.inf)
INITIAL_TEMPERATURE = 10.0
LEARNED_NOTE = (
    "The learned hue-band rule is left out: its weights are fitted on calibration photos, which only "
    "the study beyond the paper has (for its own models)."
)
MAPS_NOTE = (
    "The weighted mean's MSE is exact (Table I's); other rules' is measured on the stored colour maps "
    "(rounded, smaller), so it can differ from the study's by a little."
)


def rule_note(rule: str) -> str:
    """What the sliders mean under `rule` (shown beside the rule choice)."""
    if RULES[rule].uses_weights:
        return "the sliders weight the models"
    return "combines the models whose slider is above zero, as equals (their weights are ignored)"


def format_temperature(t: float) -> str:
    """How the temperature slider shows T (the page uses the same words)."""
    if t == 0:
        return "0 (most saturated)"
    return "∞ (mean)" if math.isinf(t) else f"{t:g}"


def _rule(name: str, temperature: float) -> Callable[[torch.Tensor], torch.Tensor]:
    if name not in RULES or name == MEAN:
        raise UserError(f"unknown rule {name!r}; the explorer offers {', '.join(RULES)}")
    if name == SOFTMAX:
        return lambda stack: rules.softmax(stack, temperature)
    return rules.fixed_rules()[name]  # the study's names: the explorer scores what the study scores


def combine_ab(ab_members: np.ndarray, weights: Sequence[float], rule: str, temperature: float) -> np.ndarray:
    """A rule other than the weighted mean over the members (M, 2, h, w) whose weight is above zero
    -> (2, h, w) float64; no member at all is a UserError (the caller says what to do)."""
    w = normalize_weights(weights, len(ab_members), all_zero="no model has a weight above zero")
    chosen = np.flatnonzero(w > 0)
    stack = torch.from_numpy(np.asarray(ab_members, np.float64)[chosen])
    return _rule(rule, temperature)(stack).to(torch.float64).numpy()
