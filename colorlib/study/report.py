"""What the study reports in words and tables: Markdown tables of its numbers, and one line per
finding for the book's closing note."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import ALL_MODELS
from ..pages.markdown import markdown_list, markdown_table
from ..scoring.no_skill import CLOSE_TO_BASELINE, REFERENCES
from .heldout import intervals_verdict
from .runs import AXES, AXIS_COMBINED, AXIS_POOLED, BOOSTED, METRIC_LABELS, RULE_METRICS, STUDY_METRICS
from .scoring import StudyResults
from .statistics import mean_std, rule_models, rule_verdicts, seed_stats


def _digits(metric: str) -> int:
    return 4 if metric in ("mse", "l1") else 2


def mean_std_table(results: StudyResults, models: Sequence[str], metrics: Sequence[str] = STUDY_METRICS) -> str:
    """Table I over seeds (MSE-trained): mean ± std of every metric per model, with the originals' vividness."""
    stats = {m: seed_stats(results.rows, m, "mse") for m in metrics}
    rows = []
    for model in models:
        if model not in stats[metrics[0]]:
            continue
        rows.append([model, str(stats[metrics[0]][model].n)] + [stats[m][model].fmt(_digits(m)) for m in metrics])
    originals = [results.originals.get(m) for m in metrics]
    rows.append(["originals", "–"] + ["–" if v is None else f"{v:.2f}" for v in originals])
    return markdown_table(["model", "seeds"] + [METRIC_LABELS[m] for m in metrics], rows)


def rules_table(results: StudyResults, loss: str = "mse") -> str:
    """Every combination rule beside the references, mean ± std over seeds, and seed by seed whether it is
    more colourful than the baseline and within 25 % of its error."""
    verdicts = {v["model"]: v for v in rule_verdicts(results, loss)}
    models = [*rule_models(results, loss), "baseline", *REFERENCES]
    stats = {k: seed_stats(results.rows, k, loss) for k in RULE_METRICS}
    rows = []
    for m in models:
        if m not in stats["mse"]:
            continue
        v = verdicts.get(m)
        n = len(v["seeds"]) if v else 0
        verdict = f"{v['more_colourful']}/{n} · {v['close']}/{n} · **{'yes' if v['both'] else 'no'}**" if v else "–"
        rows.append([m, str(stats["mse"][m].n)] + [stats[k][m].fmt(_digits(k)) for k in RULE_METRICS] + [verdict])
    own = [f"{results.originals[k]:.2f}" if k in results.originals else "–" for k in RULE_METRICS[2:]]
    rows.append(["originals", "–", "0", "1", *own, "–"])  # the photos themselves: no error, all of grey's removed
    head = ["rule", "seeds", *(METRIC_LABELS[k] for k in RULE_METRICS), "more colourful · close · both"]
    return markdown_table(head, rows)


def rules_verdict(results: StudyResults, loss: str = "mse") -> str:
    """The plain answer to the paper's hope: is any rule both more colourful than the baseline and
    within 25 % of its error, in every seed?"""
    everything = rule_verdicts(results, loss)
    verdicts = [v for v in everything if v["model"] not in BOOSTED]
    if not verdicts:
        return "No combination rule was scored."
    winners = [v for v in verdicts if v["both"]]
    limit = f"within {CLOSE_TO_BASELINE:.0%} of its error"
    boosted = "; ".join(
        f"{v['model']} more colourful in {v['more_colourful']}/{len(v['seeds'])} seeds, {limit} in "
        f"{v['close']}/{len(v['seeds'])} (error ratio {v['ratio'].fmt(2)})"
        for v in everything
        if v["model"] in BOOSTED
    )
    rivals = f" The baseline boosted by a scale fitted on the calibration photos, as a contender: {boosted}."
    rivals = rivals if boosted else ""
    if winners:
        names = ", ".join(f"{v['model']} (error ratio {v['ratio'].fmt(2)})" for v in winners)
        verb = "is" if len(winners) == 1 else "are"
        return (
            f"**Yes**: {names} {verb} more colourful than the baseline and {limit} in every seed "
            f"on the {results.n_validation} validation photos." + rivals
        )
    vivid = [v for v in verdicts if v["more_colourful"] == len(v["seeds"])]
    close = [v for v in verdicts if v["close"] == len(v["seeds"])]
    return (
        f"**No**: no rule is both more colourful than the baseline and {limit} in every seed "
        f"on the {results.n_validation} validation photos. "
        f"More colourful in every seed: {', '.join(v['model'] for v in vivid) or 'none'}; "
        f"{limit} in every seed: {', '.join(v['model'] for v in close) or 'none'}. "
        "The colour the rules keep costs error: "
        + ", ".join(f"{v['model']} {v['ratio'].fmt(2)}×" for v in verdicts)
        + " the baseline's error."
        + rivals
    )


def heldout_findings(results: StudyResults, stats: Sequence[Mapping]) -> list[str]:
    """The rules on the test photos, with intervals, and the verdict there (nothing without them)."""
    rules = [s for s in stats if s.get("rule") and "ratio" in s]
    if not rules:
        return []
    seeds = max(len(s["seeds"]) for s in rules)
    base = next((s for s in stats if s["model"] == "baseline"), None)
    against = f"; baseline MSE {base['mse'].fmt()}, colourfulness {base['colourfulness'].fmt(1)}" if base else ""
    numbers = "; ".join(
        f"{s['model']} {s['ratio'].fmt(2)} | {s['colour_gain'].fmt(1)} | {s['hist_distance'].fmt(2)} | "
        f"{s['patchiness'].fmt(2)}"
        for s in rules
    )
    return [
        f"Combination rules on the {results.n_test} test photos, pooled over {seeds} seeds with 95 % intervals "
        f"over photos{against} (error over the baseline's | colourfulness − the baseline's | colour distance | "
        f"patchiness): {numbers}.",
        intervals_verdict(stats, results.n_test).replace("**", ""),
    ]


def per_seed_table(results: StudyResults, models: Sequence[str], metric: str = "mse", loss: str = "mse") -> str:
    """One column per seed: the raw numbers behind the mean ± std."""
    seeds = sorted({r["seed"] for r in results.rows if r["loss"] == loss and r["model"] in models})
    rows = []
    for model in models:
        have = results.seeds(model, loss)
        if not have:
            continue
        rows.append([model] + [f"{results.value(model, s, metric, loss):.4f}" if s in have else "–" for s in seeds])
    return markdown_table(["model"] + [f"seed {s}" for s in seeds], rows)


def claims_table(checked: Sequence[Mapping], show_metric: bool = False) -> str:
    """Per claim: the per-seed verdicts, the ratio left/right as mean ± std, and "every seed"."""
    rows = []
    for c in checked:
        verdicts = " ".join(f"s{s}: {'yes' if h else 'no'}" for s, h in zip(c["seeds"], c["holds"], strict=True))
        photos = "–" if math.isnan(c["photos"]) else f"{c['photos']:.0%}"
        every = f"**{'yes' if c['every_seed'] else 'no'}** ({c['held']}/{len(c['seeds'])})"
        metric = [METRIC_LABELS[c["metric"]]] if show_metric else []
        rows.append([c["claim"], *metric, verdicts, c["ratio"].fmt(3), photos, every])
    head = ["claim", *(["metric"] if show_metric else []), "per seed", "ratio left/right", "photos where it holds"]
    align = ["---", *(["---"] if show_metric else []), "---", "---:", "---:", ":---:"]
    return markdown_table([*head, "holds in every seed"], rows, align)


def weights_table(results: StudyResults, loss: str = "mse") -> str:
    """NNLS weights per fit and seed, raw (as fitted) and normalised to sum 1."""
    rows = []
    for w in results.weights:
        if w["loss"] != loss:
            continue
        raw = ", ".join(f"{m} {v:.2f}" for m, v in zip(w["models"], w["raw"], strict=True))
        norm = ", ".join(f"{v:.2f}" for v in w["normalised"])
        rows.append([w["fit"], str(w["seed"]), raw, f"{sum(w['raw']):.2f}", norm])
    head = ["fit", "seed", "raw weights (as fitted)", "sum", "normalised (sum 1)"]
    return markdown_table(head, rows, ["---", "---:", "---", "---:", "---"])


def blend_table(comparison: Sequence[Mapping]) -> str:
    rows = [
        [c["equal"], c["equal_mse"].fmt(), c["fitted"], c["fitted_mse"].fmt(), f"{c['fitted_wins']}/{len(c['seeds'])}"]
        for c in comparison
    ]
    head = ["equal weights", "validation MSE", "fitted weights", "validation MSE", "seeds where fitted is lower"]
    return markdown_table(head, rows)


def loss_comparison_table(results: StudyResults, second_loss: str, seed: int = 0) -> str:
    """Models trained with MSE and with the second loss (same seed), scored in both metrics."""
    trained = ("mse", second_loss)
    rows = [
        [m]
        + [f"{results.value(m, seed, metric, loss):.4f}" for loss in trained for metric in ("mse", "l1")]
        + [f"{results.value(m, seed, 'colourfulness', loss):.1f}" for loss in trained]
        for m in ALL_MODELS
        if seed in results.seeds(m, second_loss) and seed in results.seeds(m, "mse")
    ]
    names = ("MSE", second_loss)
    head = ["model", *(f"{name}-trained: {metric}" for name in names for metric in ("MSE", "L1"))]
    head += [f"{name}-trained: colourfulness" for name in names]
    return markdown_table(head, rows)


def axis_table(results: StudyResults, seed: int = 0) -> str:
    """The axis models, their ensemble and pooled model beside bgy, bgy-combined and the baseline."""
    metrics = ("mse", "l1", "delta_e", "colourfulness", "chroma")
    rows = [
        [m] + [f"{results.value(m, seed, k):.{_digits(k)}f}" for k in metrics]
        for m in (*AXES, AXIS_POOLED, AXIS_COMBINED, "bgy", "bgy-combined", "baseline")
        if seed in results.seeds(m)
    ]
    return markdown_table(["model", "MSE", "L1", "ΔE2000", "colourfulness", "mean chroma"], rows)


def findings(
    results: StudyResults,
    checked: Sequence[Mapping],
    blends: Sequence[Mapping],
    second_loss: str | None,
    second_claims: Sequence[Mapping],
    test_rules: Sequence[Mapping],
) -> list[str]:
    """One line per finding, each with its numbers (written to findings-beyond.md for the closing note)."""
    lines = []
    mse = seed_stats(results.rows, "mse")
    n_seeds = max((s.n for s in mse.values()), default=0)
    main = [m for m in ("by", "by-combined", "bgy", "bgy-combined", "baseline") if m in mse]
    devices = "/".join(sorted({state["device"] for state in results.states.values()}))
    table = ", ".join(f"{m} {mse[m].fmt()}" for m in main)
    lines.append(
        f"Table I over {n_seeds} seeds ({results.image_size} px, {devices}), validation MSE mean ± std: {table}."
    )
    if checked:
        verdicts = "; ".join(
            f"{c['claim'].split(' (')[0]}: {c['held']}/{len(c['seeds'])} seeds (ratio {c['ratio'].fmt(2)})"
            for c in checked
        )
        every = sum(c["every_seed"] for c in checked)
        lines.append(f"Paired claims, {every} of {len(checked)} hold in every seed: {verdicts}.")
    colour = seed_stats(results.rows, "colourfulness")
    chroma = seed_stats(results.rows, "chroma")
    vivid = [m for m in ("blue", "yellow", "green", "bgy", "bgy-combined", "baseline") if m in colour]
    vividness = ", ".join(f"{m} {colour[m].fmt(1)} | {chroma[m].fmt(1)}" for m in vivid)
    lines.append(
        f"Vividness (colourfulness | mean chroma; originals {results.originals['colourfulness']:.1f} | "
        f"{results.originals['chroma']:.1f}): {vividness}."
    )
    if "grey" in mse:
        beat = [m for m in main if mse[m].mean < mse["grey"].mean]
        lines.append(
            f"Predicting no colour at all (grey) scores {mse['grey'].fmt()}, one constant colour (the mean of "
            f"the baseline's training photos) {mse['constant'].fmt()}; of {', '.join(main)}, "
            f"{', '.join(beat) or 'none'} beat grey on average (skill vs grey: "
            + ", ".join(f"{m} {seed_stats(results.rows, 'skill')[m].fmt(2)}" for m in main)
            + ")."
        )
    rules = rule_models(results)
    if rules:
        distance, patchiness = seed_stats(results.rows, "hist_distance"), seed_stats(results.rows, "patchiness")
        lines.append(
            "Combination rules over blue, yellow and green (MSE | colourfulness | colour distance | patchiness, "
            "mean ± std over seeds): "
            + "; ".join(
                f"{m} {mse[m].fmt()} | {colour[m].fmt(1)} | {distance[m].fmt(2)} | {patchiness[m].fmt(2)}"
                for m in [*rules, "baseline"]
            )
            + "."
        )
        lines.append(rules_verdict(results).replace("**", ""))
    scales = {m: [b[m] for b in results.boosts if b["loss"] == "mse" and m in b] for m in BOOSTED}
    if any(scales.values()):
        lines.append(
            f"The boosted baseline's scales, fitted on the {results.n_calibration} calibration photos (mean ± std over "
            "seeds): " + ", ".join(f"{m} = {mean_std(v).fmt(2)}" for m, v in scales.items() if v) + "."
        )
    lines += heldout_findings(results, test_rules)
    for b in blends:
        if b["fitted"].endswith("-sum1"):
            continue
        fits = [w for w in results.weights if w["fit"] == b["fitted"] and w["loss"] == "mse"]
        mean_w = np.mean([w["raw"] for w in fits], axis=0)
        weights = ", ".join(f"{m} {v:.2f}" for m, v in zip(fits[0]["models"], mean_w, strict=True))
        sum1 = next((x for x in blends if x["fitted"] == f"{b['fitted']}-sum1"), None)
        tail = f"; normalised to sum 1: {sum1['fitted_mse'].fmt()}" if sum1 else ""
        tail += f"; colourfulness {colour[b['fitted']].fmt(1)} against {colour[b['equal']].fmt(1)}"
        lines.append(
            f"NNLS weights on {results.n_calibration} calibration photos ({b['fitted']}, mean over seeds: {weights}; "
            f"sum {mean_w.sum():.2f}): validation MSE {b['fitted_mse'].fmt()} against {b['equal_mse'].fmt()} "
            f"for equal weights ({b['equal']}), lower in {b['fitted_wins']}/{len(b['seeds'])} seeds{tail}."
        )
    if 0 in results.seeds(AXIS_COMBINED):
        shown = [m for m in (AXIS_COMBINED, AXIS_POOLED, "bgy-combined", "baseline") if 0 in results.seeds(m)]
        vals = {m: results.value(m, 0, "mse") for m in shown}
        col = {m: results.value(m, 0, "colourfulness") for m in vals}
        verdict = "beats" if vals[AXIS_COMBINED] < vals.get(AXIS_POOLED, math.inf) else "does not beat"
        numbers = ", ".join(f"{m} {vals[m]:.4f} | {col[m]:.1f}" for m in vals)
        lines.append(
            f"Axis sets (seed 0), validation MSE | colourfulness: {numbers}; {AXIS_COMBINED} {verdict} the model "
            "trained on the pooled axis photos."
        )
    if second_loss and second_claims:
        parts = []
        for c in second_claims:
            if "baseline" in c["claim"]:
                continue
            verdict = "holds" if c["every_seed"] else "fails"
            left, right = np.mean(c["left"]), np.mean(c["right"])
            parts.append(f"{c['claim'].split(' (')[0]} in {c['metric'].upper()}: {left:.4f} vs {right:.4f} ({verdict})")
        lines.append(f"Trained with {second_loss.upper()} (seed 0): " + "; ".join(parts) + ".")
    return lines


def write_findings(generated_dir: Path, lines: Sequence[str]) -> Path:
    """findings-beyond.md: one finding a line (a Markdown list), for the book's closing note."""
    path = Path(generated_dir) / "findings-beyond.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown_list(lines), encoding="utf-8")
    return path
