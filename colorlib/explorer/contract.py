"""The explorer's contract: every constant the book's page and the Jupyter widget share.

The bundle (:mod:`colorlib.explorer.bundle`) carries :func:`contract` as its ``contract`` entry, so the
page (``book/_static/explorer*.js``) reads the scales, the quantisation, the rules with their labels
and notes, the temperature stops, the captions, the blank value and the messages from the data it
is given and hard-codes none of them; the widget (:mod:`colorlib.explorer.widget`) imports the same
names from here. A change here reaches both.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import COMBINED_MODELS
from ..data.photos import MAX_PIXELS
from ..ensemble import VIVIDNESS_RANGE
from ..lab import AB_SCALE, L_SCALE
from .rules import INITIAL_TEMPERATURE, LEARNED_NOTE, MAPS_NOTE, RULES, TEMPERATURES, format_temperature, rule_note

BUNDLE_FORMAT = "colorlib-explorer/3"
AB_ZERO, AB_STEPS = 128, 127  # ab in [-1, 1] <-> uint8 q: ab = (q - 128) / 127
L_LEVELS = 255  # L in [0, 100] <-> uint8 q: L = q * 100 / 255
WEIGHT_MAX = 100  # sliders run over whole numbers 0..WEIGHT_MAX; weights are normalised to sum 1
BLANK = 238  # the blend's placeholder grey (every channel) when every weight is zero
MSE_DIGITS, COLOURFULNESS_DIGITS, DELTA_E_DIGITS = 4, 2, 2  # decimals the readouts show
CAPTIONS = {"original": "original", "gray": "grayscale (the input)", "blend": "blend"}
ZERO_MESSAGE = "All weights are zero: move a slider above zero to blend (weights are normalised to sum to 1)."

# The vividness k, after the rule: the blend's normalised ab times k, clipped to [-1, 1]
# (colorlib.explorer.reference.vivid); k = 1 is the blend itself.
VIVIDNESS_MIN, VIVIDNESS_MAX = VIVIDNESS_RANGE  # colorize checks the same range
VIVIDNESS_STEP, VIVIDNESS_INITIAL = 0.05, 1.0
VIVIDNESS_LABEL = "vividness k"
VIVIDNESS_NOTE = "the blend's colours times k, clipped to the colour range (1: the blend itself)"
# The weighted mean's MSE comes from moments (MseStats), which cannot see the clipping; the truth
# lies in [-1, 1], so clipping only brings a value nearer to it: the number shown is an upper bound.
APPROXIMATE_MESSAGE = (
    "MSE approximate: at this vividness some colours may be clipped to the colour range, which the exact "
    "formula leaves out (the clipped blend's MSE is at most the one shown)."
)


class Preset(NamedTuple):
    """A preset: slider values (models left out are 0) and the vividness it sets."""

    weights: dict[str, int]
    vividness: float = VIVIDNESS_INITIAL


# Presets; only those whose models are all present are offered. A preset with its own vividness (a
# scale fitted elsewhere) is one more entry, passed to colorlib.explorer.bundle.explorer_data.
PRESETS: dict[str, Preset] = {
    **{name: Preset(dict.fromkeys(members, WEIGHT_MAX)) for name, members in COMBINED_MODELS.items()},
    "baseline only": Preset({"baseline": WEIGHT_MAX}),
}
INITIAL_PRESET = "bgy-combined"

# A reader's own photo (colorlib.explorer.own in Python, explorer-own.js on the page): the same
# limit and the same words as colorlib's photo reader (colorlib.data.photos), and what the readouts
# say when there are no true colours to score against.
OWN_MAX_PIXELS = MAX_PIXELS
OWN_PREVIEW_PIXELS = 2_100_000  # larger photos are shown smaller while the sliders move (saved at full size)
OWN_NO_TRUTH = "your photo is grey: no true colours to score against"
OWN_SCORED = (
    "your photo is in colour: MSE and ΔE2000 score the blend against its own colours "
    "(at the models' working size, as Table I scores)"
)
# A photo is grey when at most OWN_GREY_SHARE of its pixels (at the working size) have a chroma above
# OWN_GREY_CHROMA Lab units: a grey photo saved in colour (JPEG's rounding) stays far below.
OWN_GREY_CHROMA, OWN_GREY_SHARE = 3.0, 0.01


def format_mse(value: float) -> str:
    """How the readouts show an MSE (the page formats with the contract's digits)."""
    return "–" if not math.isfinite(value) else f"{value:.{MSE_DIGITS}f}"


def format_colourfulness(value: float) -> str:
    """How the readouts show a colourfulness (the page formats with the contract's digits)."""
    return "–" if not math.isfinite(value) else f"{value:.{COLOURFULNESS_DIGITS}f}"


def format_delta_e(value: float) -> str:
    """How the ΔE2000 readout shows a mean colour difference."""
    return "–" if not math.isfinite(value) else f"{value:.{DELTA_E_DIGITS}f}"


def contract() -> dict:
    """The JSON-able contract the page reads (the bundle's ``contract`` entry)."""
    return {
        "scales": {"L": L_SCALE, "ab": AB_SCALE},
        "quantisation": {"L_levels": L_LEVELS, "ab_zero": AB_ZERO, "ab_steps": AB_STEPS},
        "weight_max": WEIGHT_MAX,
        "blank": BLANK,
        "digits": {"mse": MSE_DIGITS, "colourfulness": COLOURFULNESS_DIGITS, "delta_e": DELTA_E_DIGITS},
        "captions": CAPTIONS,
        "messages": {
            "zero": ZERO_MESSAGE,
            "no_truth": OWN_NO_TRUTH,
            "own_scored": OWN_SCORED,
            "approximate": APPROXIMATE_MESSAGE,
            "notes": f"{MAPS_NOTE} {LEARNED_NOTE}",
        },
        "vividness": {
            "min": VIVIDNESS_MIN,
            "max": VIVIDNESS_MAX,
            "step": VIVIDNESS_STEP,
            "initial": VIVIDNESS_INITIAL,
            "label": VIVIDNESS_LABEL,
            "note": VIVIDNESS_NOTE,
        },
        "rules": [
            {
                "name": name,
                "label": r.label,
                "uses_weights": r.uses_weights,
                "uses_temperature": r.uses_temperature,
                "note": rule_note(name),
            }
            for name, r in RULES.items()
        ],
        # JSON has no infinity: null stands for T = ∞ (the plain mean)
        "temperatures": [{"value": None if math.isinf(t) else t, "label": format_temperature(t)} for t in TEMPERATURES],
        "initial_temperature": TEMPERATURES.index(INITIAL_TEMPERATURE),
        "own": {
            "max_pixels": OWN_MAX_PIXELS,
            "preview_max_pixels": OWN_PREVIEW_PIXELS,
            "grey_chroma": OWN_GREY_CHROMA,
            "grey_share": OWN_GREY_SHARE,
        },
    }
