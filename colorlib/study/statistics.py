"""Statistics over seeds: mean ± std, the paper's claims checked seed by seed (paired), and equal
against fitted blend weights."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .. import COMBINED_MODELS
from ..combination_rules import fixed_rules
from ..paper.claims import SAME_DATA_MODEL
from ..scoring.no_skill import CLOSE_TO_BASELINE
from .runs import ALL_COMBINED, BOOSTED, LEARNED_RULE, rule_model
from .scoring import StudyResults


@dataclass(frozen=True)
class MeanStd:
    mean: float
    std: float  # sample standard deviation over seeds (ddof = 1); nan for a single seed
    n: int

    def fmt(self, digits: int = 4) -> str:
        if self.n < 2 or math.isnan(self.std):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


def mean_std(values: Sequence[float]) -> MeanStd:
    """Mean and sample standard deviation (ddof = 1) of some per-seed values."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return MeanStd(math.nan, math.nan, 0)
    return MeanStd(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan, int(v.size))


def seed_stats(rows: Sequence[Mapping], metric: str, loss: str = "mse") -> dict[str, MeanStd]:
    """{model: mean ± std over seeds} of one metric, for the runs trained with one loss."""
    by_model: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["loss"] == loss:
            by_model[r["model"]].append(r[metric])
    return {m: mean_std(v) for m, v in by_model.items()}


@dataclass(frozen=True)
class Claim:
    """A comparison "left < factor x right" of two models' validation metric, checked seed by seed."""

    text: str
    left: str
    right: str
    factor: float = 1.0


def paper_claims() -> list[Claim]:
    """The paper's loss claims, as paired comparisons (the baseline of seed s has its own draw)."""
    limit = 1 + CLOSE_TO_BASELINE
    return (
        [Claim(f"{c} < {t} (combined beats pooled)", c, t) for c, t in SAME_DATA_MODEL.items()]
        + [Claim(f"{c} ≤ {limit:g} × baseline (close to the baseline)", c, "baseline", limit) for c in COMBINED_MODELS]
        + [Claim(f"{c} < baseline (as in the paper's Table I)", c, "baseline") for c in COMBINED_MODELS]
    )


def check_claims(results: StudyResults, claims: Sequence[Claim], metric: str = "mse", loss: str = "mse") -> list[dict]:
    """Each claim per seed (paired: same seed on both sides), with the ratio left / right.

    "photos" is the share of validation photos, pooled over seeds, on which the claim holds photo by
    photo (MSE only): a claim that holds on the mean but on few photos rests on a few photos.
    """
    out = []
    for c in claims:
        seeds = [s for s in results.seeds(c.left, loss) if s in results.seeds(c.right, loss)]
        if not seeds:
            continue
        left = [results.value(c.left, s, metric, loss) for s in seeds]
        right = [results.value(c.right, s, metric, loss) for s in seeds]
        holds = [lv <= c.factor * rv if c.factor != 1 else lv < rv for lv, rv in zip(left, right, strict=True)]
        photo_share = math.nan
        if metric == "mse":
            wins = [
                results.per_photo[(loss, c.left, s)] <= c.factor * results.per_photo[(loss, c.right, s)] for s in seeds
            ]
            photo_share = float(np.mean(np.concatenate(wins)))
        out.append(
            {
                "claim": c.text,
                "metric": metric,
                "loss": loss,
                "seeds": seeds,
                "left": left,
                "right": right,
                "ratio": mean_std([lv / rv for lv, rv in zip(left, right, strict=True)]),
                "holds": holds,
                "held": sum(holds),
                "every_seed": all(holds),
                "photos": photo_share,
            }
        )
    return out


def blend_comparison(results: StudyResults, loss: str = "mse") -> list[dict]:
    """Equal against fitted weights on validation: per blend, MSE mean ± std and seeds where fitted wins."""
    equal_of = {"bgy-nnls": "bgy-combined", "all-nnls": ALL_COMBINED}  # each fit, as fitted and scaled to sum 1
    pairs = [(equal, fit + suffix) for fit, equal in equal_of.items() for suffix in ("", "-sum1")]
    out = []
    for equal, fitted in pairs:
        seeds = [s for s in results.seeds(fitted, loss) if s in results.seeds(equal, loss)]
        if not seeds:
            continue
        e = [results.value(equal, s, "mse", loss) for s in seeds]
        f = [results.value(fitted, s, "mse", loss) for s in seeds]
        out.append(
            {
                "equal": equal,
                "fitted": fitted,
                "equal_mse": mean_std(e),
                "fitted_mse": mean_std(f),
                "fitted_wins": sum(fv < ev for fv, ev in zip(f, e, strict=True)),
                "seeds": seeds,
            }
        )
    return out


def rule_models(results: StudyResults, loss: str = "mse") -> list[str]:
    """The combination rules the study scored, the paper's mean first, the learned rule last, then the
    contenders that combine nothing: the boosted baseline (runs.BOOSTED)."""
    names = [rule_model(r) for r in fixed_rules()] + [LEARNED_RULE, *BOOSTED]
    return [m for m in names if results.seeds(m, loss)]


def rule_verdicts(results: StudyResults, loss: str = "mse") -> list[dict]:
    """Per rule, seed by seed against that seed's baseline: is it more colourful than the baseline,
    and is its error within CLOSE_TO_BASELINE (25 %) of the baseline's? Both in every seed: "both"."""
    out = []
    for m in rule_models(results, loss):
        seeds = [s for s in results.seeds(m, loss) if s in results.seeds("baseline", loss)]
        if not seeds:
            continue
        vivid = [
            results.value(m, s, "colourfulness", loss) > results.value("baseline", s, "colourfulness", loss)
            for s in seeds
        ]
        ratio = [results.value(m, s, "mse", loss) / results.value("baseline", s, "mse", loss) for s in seeds]
        close = [r <= 1 + CLOSE_TO_BASELINE for r in ratio]
        out.append(
            {
                "model": m,
                "seeds": seeds,
                "more_colourful": sum(vivid),
                "close": sum(close),
                "ratio": mean_std(ratio),
                "both": all(v and c for v, c in zip(vivid, close, strict=True)),
            }
        )
    return out
