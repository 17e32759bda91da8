"""The explorer's contract: every constant, element id and word the book's page and the Jupyter widget share.

The bundle carries :func:`contract`, so the page (``book/_static/explorer*.js``) reads all of them (the
rules from the one registry, :data:`colorlib.combination_rules.RULES`) from its data and hard-codes none;
:mod:`colorlib.explorer.html` writes the markup from the same names and the widget imports them from
here. A change here reaches all three.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

from .. import COMBINED_MODELS
from ..combination_rules import INITIAL_TEMPERATURE, RULES, TEMPERATURES
from ..data.photos import MAX_PIXELS
from ..ensemble import VIVIDNESS_RANGE
from ..lab import AB_SCALE, L_SCALE

BUNDLE_FORMAT = "colorlib-explorer/4"
AB_ZERO, AB_STEPS = 128, 127  # ab in [-1, 1] <-> uint8 q: ab = (q - 128) / 127
L_LEVELS = 255  # L in [0, 100] <-> uint8 q: L = q * 100 / 255
WEIGHT_MAX = 100  # sliders run over whole numbers 0..WEIGHT_MAX; weights are normalised to sum 1
BLANK = 238  # the blend's placeholder grey (every channel) when every weight is zero
MSE_DIGITS, COLOURFULNESS_DIGITS, DELTA_E_DIGITS = 4, 2, 2  # decimals the readouts show
CAPTIONS = {"original": "original", "gray": "grayscale (the input)", "blend": "blend"}
ZERO_MESSAGE = "All weights are zero: move a slider above zero to blend (weights are normalised to sum to 1)."
NO_VALUE = "–"  # a readout with nothing to show

# The page's elements by id (the widget's parts carry the class colorlib-<id>); a prefix is followed by a
# model's name (its slider, its share), a picture's role or a preset's name written as a slug.
# fmt: off
IDS = {
    "status": "explorer-status", "message": "explorer-message", "photo": "photo-select", "rule": "rule-select",
    "rule_note": "rule-note", "temperature": "temperature", "temperature_box": "temperature-box",
    "temperature_value": "temperature-value", "vividness": "vividness", "vividness_value": "vividness-value",
    "mse": "mse-readout", "mse_all": "mse-all-readout", "delta_e": "delta-e-readout", "delta_e_box": "delta-e-box",
    "colourfulness": "colourfulness-readout", "original": "colourfulness-original", "score_note": "score-note",
    "own": "own-photo", "own_file": "own-file", "own_progress": "own-progress", "own_status": "own-status",
    "own_save": "own-save",
}
# fmt: on
ID_PREFIXES = {"weight": "w-", "share": "share-", "canvas": "canvas-", "preset": "preset-"}
# What the page looks for before it has read this: its root (class and id; explorer.css styles it) and the
# inline data in it, by class. explorer.js names the same two; tests/test_explorer.py checks it.
ROOT, DATA = "colorlib-explorer", "colorlib-explorer-data"

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


# The vividness k, after the rule: the blend's normalised ab times k, clipped to [-1, 1]
# (colorlib.explorer.blending.vivid); k = 1 is the blend itself.
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
VIVID_PRESET = "baseline ×k_vivid"  # the baseline at the vividness fitted on calibration photos, where there are any


def with_vivid_preset(presets: dict[str, Preset], k_vivid: float | None) -> dict[str, Preset]:
    """The presets and VIVID_PRESET: the baseline alone at k_vivid (colorlib.scoring.vividness, fitted on the
    calibration photos), snapped to the slider's step and kept in its range; the presets alone without a k."""
    if k_vivid is None:
        return dict(presets)
    k = min(max(round(k_vivid / VIVIDNESS_STEP) * VIVIDNESS_STEP, VIVIDNESS_MIN), VIVIDNESS_MAX)
    return {**presets, VIVID_PRESET: Preset({"baseline": WEIGHT_MAX}, round(k, 2))}


# A reader's own photo (colorlib.explorer.own in Python, explorer-own.js on the page): the same
# limit and the same words as colorlib's photo reader (colorlib.data.photos), and what the readouts
# say when there are no true colours to score against.
OWN_PREVIEW_PIXELS = 2_100_000  # larger photos are shown smaller while the sliders move (saved at full size)
OWN_NO_TRUTH = "your photo is grey: no true colours to score against"
OWN_SCORED = (
    "your photo is in colour: MSE and ΔE2000 score the blend against its own colours "
    "(at the models' working size, as Table I scores)"
)
# A photo is grey when at most OWN_GREY_SHARE of its pixels (at the working size) have a chroma above
# OWN_GREY_CHROMA Lab units: a grey photo saved in colour (JPEG's rounding) stays far below.
OWN_GREY_CHROMA, OWN_GREY_SHARE = 3.0, 0.01


# The words the page shows: labels, readouts and what it says as it works; a {field} is filled in (core.fill
# on the page, str.format here).
# fmt: off
TEXT = {
    # labels and readouts
    "photo": "photo", "presets": "presets:", "rule": "rule", "temperature": "temperature T",
    "notes": f"{MAPS_NOTE} {LEARNED_NOTE}",
    "mse": "MSE (this photo):", "delta_e": "ΔE2000 (this photo):", "mse_all": "mean MSE ({n} validation photos):",
    "colourfulness": "colourfulness:", "original": "original:", "none": NO_VALUE, "pending": "…",
    "share_in": "in",  # a model that a rule other than the weighted mean takes, as an equal
    # what the page says
    "status": "These controls come alive in the built book (its explorer.js); in Jupyter, use the widget "
              "(colorlib.explorer.widget.explorer).",
    "zero": ZERO_MESSAGE, "approximate": APPROXIMATE_MESSAGE,
    "failed": "The explorer could not start: {error}", "no_rule_code": "this page has no code for the rule {rule}",
    "load_failed": "could not load {url} ({status})",
    # a reader's own photo
    "no_truth": OWN_NO_TRUTH, "own_scored": OWN_SCORED, "own_label": "your photo: {name} ({width}×{height})",
    "own_unnamed": "photo", "own_head": "Use your own photo:", "own_drop": "drop it here or",
    "own_pick": "choose a photo…",
    "own_runs": "The six models run in this browser{weight}; the photo never leaves it.",
    "own_weight": " ({mb} MB, fetched once)", "own_save": "save the blend as PNG", "own_saved_as": "{name}.blend.png",
    "own_off": "Not in this build: {reason}.", "own_reading": "reading {name}…",
    "own_from_file": "This page was opened from a file, and a browser does not let such a page load its models. "
                     "Serve the book instead: run `make serve` in the repository and open the address it prints.",
    "own_fetching": "fetching the models: {done} MB of {total} MB",
    "own_no_runtime": "could not load the runtime {url}", "own_colorizing": "colorizing…",
    "own_model_done": "colorizing: {done} of {total} models",
    "own_done": "Your photo, colorized by the six models in this browser in {seconds} s; the sliders, presets and "
                "rules blend it.",
    # a photo the page cannot take, in colorlib.data.photos's words
    "own_empty": "{name}: empty file", "own_unknown": "{name}: not an image (format not recognised)",
    "own_no_size": "{name}: not an image (no size)", "own_undecodable": "{name}: cannot decode ({error})",
    "own_too_large": "{name}: too large ({width}x{height} pixels, the limit is {limit})",
}
# fmt: on


def format_readout(value: float, digits: int) -> str:
    """How a readout shows a number: to `digits` decimals, or NO_VALUE (the page: the same, in explorer.js)."""
    return NO_VALUE if not math.isfinite(value) else f"{value:.{digits}f}"


format_mse = partial(format_readout, digits=MSE_DIGITS)
format_colourfulness = partial(format_readout, digits=COLOURFULNESS_DIGITS)
format_delta_e = partial(format_readout, digits=DELTA_E_DIGITS)  # a mean ΔE2000


def contract() -> dict:
    """The JSON-able contract the page reads (the bundle's ``contract`` entry)."""
    return {
        "scales": {"L": L_SCALE, "ab": AB_SCALE},
        "quantisation": {"L_levels": L_LEVELS, "ab_zero": AB_ZERO, "ab_steps": AB_STEPS},
        "weight_max": WEIGHT_MAX,
        "blank": BLANK,
        "digits": {"mse": MSE_DIGITS, "colourfulness": COLOURFULNESS_DIGITS, "delta_e": DELTA_E_DIGITS},
        "captions": CAPTIONS,
        "ids": IDS,
        "id_prefixes": ID_PREFIXES,
        "text": TEXT,
        "vividness": {
            "min": VIVIDNESS_MIN,
            "max": VIVIDNESS_MAX,
            "step": VIVIDNESS_STEP,
            "initial": VIVIDNESS_INITIAL,
            "label": VIVIDNESS_LABEL,
            "note": VIVIDNESS_NOTE,
        },
        "rules": [
            {"name": n, "label": r.label, "note": rule_note(n)}
            | {"uses_weights": r.uses_weights, "uses_temperature": r.uses_temperature}
            for n, r in RULES.items()
        ],
        # JSON has no infinity: null stands for T = ∞ (the plain mean)
        "temperatures": [{"value": None if math.isinf(t) else t, "label": format_temperature(t)} for t in TEMPERATURES],
        "initial_temperature": TEMPERATURES.index(INITIAL_TEMPERATURE),
        "own": {
            "max_pixels": MAX_PIXELS,
            "preview_max_pixels": OWN_PREVIEW_PIXELS,
            "grey_chroma": OWN_GREY_CHROMA,
            "grey_share": OWN_GREY_SHARE,
        },
    }
