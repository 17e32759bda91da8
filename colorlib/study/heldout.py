"""The combination rules on the test photos, with intervals over photos.

The validation set has 32 photos; the test set (a few hundred at paper scale, sharing no photo nor
duplicate group with any training, calibration or validation set) can tell the rules apart. Every
measure here is pooled over seeds (each seed's value on the photos, averaged over seeds) and comes
with a 95 % percentile bootstrap interval that resamples the test photos: one resample is applied to
every seed and every model at once, so comparisons with the baseline are paired (a hard photo is
hard for both). The intervals are over photos only; the seed-to-seed spread is in the validation
table.

The paper's hope is judged on these intervals: a verdict is "yes" or "no" only when the whole interval
lies on one side of its threshold, and "open" (not settled by these photos) when it straddles it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from ..pages.markdown import markdown_table
from ..scoring.believability import pooled_believability
from ..scoring.intervals import BOOTSTRAP, BOOTSTRAP_SEED, LEVEL, Interval, mean_interval, percentiles, resamples
from ..scoring.no_skill import CLOSE_TO_BASELINE, REFERENCES
from .runs import BOOSTED
from .scoring import StudyResults
from .statistics import rule_models

MEASURES = ("mse", "colourfulness", "hist_distance", "patchiness")


def resample_counts(n: int, n_boot: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(n_boot, n): how often each of n photos is drawn in each bootstrap resample (rows sum to n), from the
    draws of :func:`colorlib.scoring.intervals.resamples`, so a mean's interval here equals its `mean_interval`."""
    idx = resamples(n, n_boot, seed)
    flat = (idx + n * np.arange(n_boot)[:, None]).ravel()
    return np.bincount(flat, minlength=n * n_boot).reshape(n_boot, n).astype(np.float64)


def interval(estimate: float, samples: np.ndarray, level: float = LEVEL) -> Interval:
    """The estimate with the percentile interval of its bootstrap samples."""
    return Interval(float(estimate), *percentiles(samples, level))


def heldout_seeds(results: StudyResults, model: str, loss: str = "mse") -> list[int]:
    return sorted(s for (lo, m, s) in results.test_photos if lo == loss and m == model)


def measures(
    results: StudyResults, model: str, seeds: Sequence[int], weights: np.ndarray, loss: str = "mse"
) -> dict[str, np.ndarray]:
    """MSE, colourfulness, colour distance and patchiness of a model on the test photos counted with
    weights ((n,), or (B, n) for B resamples), each the mean over seeds of that seed's value."""
    true = results.test_original_photos.terms
    total = weights.sum(axis=-1)
    per_seed = []
    for s in seeds:
        v = results.test_photos[(loss, model, s)]
        means = {"mse": weights @ v.mse / total, "colourfulness": weights @ v.colourfulness / total}
        per_seed.append(means | pooled_believability(v.terms, true, weights))
    return {k: np.mean(np.asarray([p[k] for p in per_seed], dtype=np.float64), axis=0) for k in MEASURES}


def _side(iv: Interval, good_below: float | None = None, good_above: float | None = None) -> str:
    """Whether an interval settles a threshold: "yes" when it lies wholly on the good side, "no" when
    wholly on the other, "open" when it straddles the threshold."""
    if good_below is not None:
        return "yes" if iv.high <= good_below else "no" if iv.low > good_below else "open"
    return "yes" if iv.low > good_above else "no" if iv.high <= good_above else "open"


def rule_intervals(results: StudyResults, loss: str = "mse", n_boot: int = BOOTSTRAP) -> list[dict]:
    """Per model (the rules, the baseline, grey and constant): every measure on the test photos with
    its interval, and against the baseline (same seeds, same resamples) the error ratio and the
    colourfulness difference with their intervals and the verdicts "more_colourful", "close" and
    "both" ("yes", "no" or "open"). Empty without test photos."""
    if not results.n_test or results.test_original_photos is None:
        return []
    ones = np.ones(results.n_test)
    resamples = resample_counts(results.n_test, n_boot)
    rules = rule_models(results, loss)
    base_seeds = heldout_seeds(results, "baseline", loss)

    @cache
    def both_ways(model: str, seeds: tuple[int, ...]) -> tuple[dict, dict]:
        return measures(results, model, seeds, ones, loss), measures(results, model, seeds, resamples, loss)

    out = []
    for m in [*rules, "baseline", *REFERENCES]:
        seeds = heldout_seeds(results, m, loss)
        if not seeds:
            continue
        point, boot = both_ways(m, tuple(seeds))
        row: dict = {"model": m, "seeds": seeds, "rule": m in rules}
        row |= {k: interval(point[k], boot[k]) for k in MEASURES}
        common = tuple(s for s in seeds if s in base_seeds)
        if common and m != "baseline":
            (mp, mb), (bp, bb) = both_ways(m, common), both_ways("baseline", common)
            row["ratio"] = interval(mp["mse"] / bp["mse"], mb["mse"] / bb["mse"])
            row["colour_gain"] = interval(
                mp["colourfulness"] - bp["colourfulness"], mb["colourfulness"] - bb["colourfulness"]
            )
            row["close"] = _side(row["ratio"], good_below=1 + CLOSE_TO_BASELINE)
            row["more_colourful"] = _side(row["colour_gain"], good_above=0.0)
            pair = (row["more_colourful"], row["close"])
            row["both"] = "yes" if pair == ("yes", "yes") else "no" if "no" in pair else "open"
        out.append(row)
    return out


def intervals_verdict(stats: Sequence[Mapping], n_photos: int) -> str:
    """The plain answer to the paper's hope on the test photos: is any rule, by its whole 95 %
    interval, both more colourful than the baseline and within 25 % of its error?"""
    rules = [s for s in stats if s.get("rule") and "both" in s and s["model"] not in BOOSTED]
    rivals = [s for s in stats if s["model"] in BOOSTED and "both" in s]
    if not rules:
        return "No combination rule was scored on test photos."
    limit = f"within {CLOSE_TO_BASELINE:.0%} of its error"
    where = f"on the {n_photos} test photos (95 % intervals over photos)"

    def names(key: str, value: str) -> str:
        return ", ".join(s["model"] for s in rules if s[key] == value) or "none"

    winners = [s for s in rules if s["both"] == "yes"]
    if winners:
        verb = "is" if len(winners) == 1 else "are"
        head = f"**Yes** {where}: {names('both', 'yes')} {verb} more colourful than the baseline and {limit}."
    elif all(s["both"] == "no" for s in rules):
        head = f"**No** {where}: no rule is both more colourful than the baseline and {limit}."
    else:
        head = (
            f"**Not settled** {where}: no rule is shown to be both more colourful than the baseline and "
            f"{limit}, and for {names('both', 'open')} these photos cannot rule it out."
        )
    boosted = "; ".join(
        f"{s['model']} more colourful {s['more_colourful']} · {limit} {s['close']} · both {s['both']}" for s in rivals
    )
    contender = f" The baseline boosted by a scale fitted on the calibration photos, as a contender: {boosted}."
    return (
        f"{head} More colourful than the baseline: {names('more_colourful', 'yes')}; "
        f"{limit}: {names('close', 'yes')}; more than {CLOSE_TO_BASELINE:.0%} above it: {names('close', 'no')}."
        + (contender if rivals else "")
    )


def rule_intervals_table(results: StudyResults, stats: Sequence[Mapping]) -> str:
    """The rules on the test photos: each measure with its 95 % interval, the paired comparison with
    the baseline, and the verdicts ("yes", "no", or "open" where the interval straddles the line)."""
    rows = []
    for s in stats:
        verdict = f"{s['more_colourful']} · {s['close']} · **{s['both']}**" if s.get("rule") and "both" in s else "–"
        ratio = s["ratio"].fmt(2) if "ratio" in s else "1"
        gain = s["colour_gain"].fmt(1) if "colour_gain" in s else "0"
        error_and_colour = [s["mse"].fmt(4), ratio, s["colourfulness"].fmt(1), gain]
        believability = [s["hist_distance"].fmt(2), s["patchiness"].fmt(2)]
        rows.append([s["model"], str(len(s["seeds"])), *error_and_colour, *believability, verdict])
    own = mean_interval(results.test_original_photos.colourfulness)  # the test photos' own colourfulness
    rows.append(["originals", "–", "0", "–", own.fmt(1), "–", "0", "1", "–"])
    head = ["rule", "seeds", "MSE", "error / baseline's", "colourfulness", "colourfulness − baseline's"]
    head += ["colour distance", "patchiness", f"more colourful · within {CLOSE_TO_BASELINE:.0%} · both"]
    return markdown_table(head, rows, ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", ":---:"])
