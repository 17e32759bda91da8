"""The study's names and runs: its sets and models, every training run (model, seed, loss) and
where its checkpoint lives."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import TRAINED_MODELS
from ..combination_rules import RULE_TEMPERATURES
from ..errors import UserError
from ..train import LOSSES

CALIBRATION = "calibration"
# Half-axes of the ab plane and the hue quadrant around each, h = atan2(b, a) in degrees, [start, end).
AXES = ("a+", "a-", "b+", "b-")
AXIS_QUADRANTS = {"a+": (-45.0, 45.0), "b+": (45.0, 135.0), "a-": (135.0, 225.0), "b-": (225.0, 315.0)}
AXIS_NAMES = {"a+": "magenta/red (+a)", "a-": "green/cyan (−a)", "b+": "yellow (+b)", "b-": "blue (−b)"}
AXIS_POOLED = "ab"  # the union of the four axis sets, trained as one model
AXIS_COMBINED = "ab-combined"  # equal-weight average of the four axis models
AXIS_MODELS = AXES + (AXIS_POOLED,)
# Ensembles evaluated besides the paper's by-combined and bgy-combined. "members" are the three
# single-colour models, "all" the six trained models; "nnls" weights are fitted on calibration
# and used as fitted (their sum is free), "nnls-sum1" are the same weights scaled to sum to 1.
MEMBERS = ("blue", "yellow", "green")
ALL_SIX = TRAINED_MODELS
FITTED = {"bgy-nnls": MEMBERS, "all-nnls": ALL_SIX}
ALL_COMBINED = "all-combined"  # equal-weight average of the six trained models
SECOND_LOSSES = tuple(k for k in LOSSES if k != "mse")  # the losses a second set of runs may be trained with
# Combination rules over the three single-colour models (colorlib.combination_rules), by the study's model name:
# the mean is the paper's bgy-combined; T<t> is the softmax rule at temperature t (Lab chroma units).
RULE_PREFIX = "bgy-"
LEARNED_RULE = "bgy-hue-bands"  # fitted on the calibration photos only
# Contenders beside the rules: the baseline's ab scaled by k and clipped (colorlib.scoring.vividness), k fitted
# on the calibration photos so that it is as colourful as they are, or has bgy-combined's error there.
BOOSTED_VIVID, BOOSTED_SAME = "baseline ×k_vivid", "baseline ×k_same"
BOOSTED = (BOOSTED_VIVID, BOOSTED_SAME)


def rule_model(rule: str) -> str:
    """The study's model name of a combination rule of colorlib.combination_rules over blue, yellow and green."""
    return "bgy-combined" if rule == "mean" else RULE_PREFIX + rule


def temperature_curve() -> list[tuple[float, str]]:
    """(temperature, model) from the mean (T = ∞) to the most saturated member (T = 0)."""
    return (
        [(math.inf, "bgy-combined")]
        + [(t, rule_model(f"T{t:g}")) for t in sorted(RULE_TEMPERATURES, reverse=True)]
        + [(0.0, rule_model("most-saturated"))]
    )


STUDY_FORMAT = "colorlib-study/1"
METRIC_LABELS = {
    "mse": "MSE",
    "l1": "L1",
    "psnr": "PSNR dB",
    "delta_e": "ΔE2000",
    "colourfulness": "colourfulness",
    "chroma": "mean chroma",
}
STUDY_METRICS = tuple(METRIC_LABELS)
METRIC_LABELS |= {
    "skill": "skill vs grey",
    "hist_distance": "colour distance",
    "patchiness": "patchiness",
    "hue_jumps": "hue jumps",
}
RULE_METRICS = ("mse", "skill", "colourfulness", "hist_distance", "patchiness", "hue_jumps")


def baseline_set(seed: int) -> str:
    """The baseline draw a seed's baseline model trains on: the paper's for seed 0, else baseline-<seed>."""
    return "baseline" if seed == 0 else f"baseline-{seed}"


@dataclass(frozen=True)
class Run:
    """One training run of the study: a model name, a seed and a training loss."""

    model: str
    seed: int
    loss: str = "mse"

    @property
    def name(self) -> str:
        return f"{self.model}-s{self.seed}-{self.loss}"

    @property
    def set_name(self) -> str:
        """The manifest set it trains on: the baseline of seed s trains on its own random draw."""
        return baseline_set(self.seed) if self.model == "baseline" else self.model


def study_runs(
    seeds: Sequence[int] = (0, 1, 2),
    axis_seeds: Sequence[int] = (0,),
    second_loss: str | None = "l1",
    second_loss_seeds: Sequence[int] = (0,),
) -> list[Run]:
    """Every run of the study (the workflow trains exactly these)."""
    runs = [Run(m, s) for s in seeds for m in TRAINED_MODELS]
    runs += [Run(m, s) for s in axis_seeds for m in AXIS_MODELS]
    if second_loss:
        runs += [Run(m, s, second_loss) for s in second_loss_seeds for m in TRAINED_MODELS]
    return runs


def checkpoint_file(study_dir: Path, run: Run) -> Path:
    return Path(study_dir) / "checkpoints" / f"{run.name}.pt"


def parse_seeds(value: object, what: str = "seeds") -> tuple[int, ...]:
    """Seeds from a list, one int, or a string such as "0 1 2" or "0,1,2" (papermill parameters)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    seeds = []
    for item in items:
        whole = isinstance(item, int | np.integer) and not isinstance(item, bool)
        if not (whole or isinstance(item, str) and item.lstrip("-").isdigit()):
            raise UserError(f'{what} must be whole numbers such as "0 1 2", got {value!r}')
        seeds.append(int(item))
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"{what} must be distinct non-negative numbers, got {value!r}")
    return tuple(seeds)
