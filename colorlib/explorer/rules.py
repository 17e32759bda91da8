"""The combination rules in the explorer (the one registry of them is :data:`colorlib.rules.RULES`): how
each combines the stored maps, and the temperature stops.

The weighted mean (the paper's rule, the default) uses the weight sliders; every other rule combines the
models whose slider is above zero as equals (so the ``bgy-combined`` preset gives each rule over blue,
green and yellow, as the study scores it), in float64, as ``book/_static/explorer-core.js`` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..ensemble import normalize_weights
from ..errors import UserError
from ..rules import MEAN, RULES, SOFTMAX  # noqa: F401 (MEAN, SOFTMAX: for those who pick a rule here)

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


def combine_ab(ab_members: np.ndarray, weights: Sequence[float], rule: str, temperature: float) -> np.ndarray:
    """A rule other than the weighted mean over the members (M, 2, h, w) whose weight is above zero
    -> (2, h, w) float64; no member at all is a UserError (the caller says what to do)."""
    if rule not in RULES or RULES[rule].uses_weights:
        raise UserError(f"unknown rule {rule!r}; the explorer offers {', '.join(RULES)}")
    w = normalize_weights(weights, len(ab_members), all_zero="no model has a weight above zero")
    stack = torch.from_numpy(np.asarray(ab_members, np.float64)[np.flatnonzero(w > 0)])
    spec = RULES[rule]
    ab = spec.combine(stack, temperature) if spec.uses_temperature else spec.combine(stack)
    return ab.to(torch.float64).numpy()
