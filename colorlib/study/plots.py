"""The study's figures: Table I over seeds as dots, error against vividness with whiskers, and the
combination rules' front of colourfulness against error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from ..claims import CLOSE_TO_BASELINE
from ..figures import MODEL_COLOURS, label_points, mark_originals
from .runs import METRIC_LABELS, REFERENCE_MODELS, temperature_curve
from .scoring import StudyResults
from .statistics import rule_models, seed_stats


def seed_strip(results: StudyResults, models: Sequence[str], loss: str = "mse", metric: str = "mse") -> Figure:
    """Validation metric per model: one dot per seed, a bar at the mean and ± 1 std (log scale)."""
    stats = seed_stats(results.rows, metric, loss)
    models = [m for m in models if m in stats]
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for x, m in enumerate(models):
        seeds = results.seeds(m, loss)
        values = [results.value(m, s, metric, loss) for s in seeds]
        ax.scatter([x] * len(values), values, color=MODEL_COLOURS.get(m, "0.5"), edgecolor="0.2", zorder=3, s=28)
        st = stats[m]
        ax.hlines(st.mean, x - 0.3, x + 0.3, color="0.2", lw=1.5)
        if st.n > 1:
            ax.errorbar(x + 0.2, st.mean, yerr=st.std, color="0.2", capsize=3, lw=1)
    ax.set_xticks(range(len(models)), models, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel(f"validation {METRIC_LABELS[metric]} (log scale)")
    ax.set_title("Table I over seeds: one dot per seed, bar at the mean, whisker ± 1 std")
    return fig


def vividness_errorbars(results: StudyResults, models: Sequence[str], loss: str = "mse") -> Figure:
    """Colourfulness (x) against validation MSE (y), mean ± std over seeds per model; a line at the originals."""
    colour = seed_stats(results.rows, "colourfulness", loss)
    error = seed_stats(results.rows, "mse", loss)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    points = []
    for m in models:
        if m not in colour:
            continue
        cx, ey = colour[m], error[m]
        ax.errorbar(
            cx.mean, ey.mean, xerr=0 if cx.n < 2 else cx.std, yerr=0 if ey.n < 2 else ey.std,
            fmt="o", color=MODEL_COLOURS.get(m, "0.5"), mec="0.2", capsize=3, zorder=3,
        )  # fmt: skip
        points.append((m, cx.mean, ey.mean))
    line = mark_originals(ax, results.originals["colourfulness"], f"originals {results.originals['colourfulness']:.1f}")
    ax.set_xlabel("colourfulness (Hasler–Süsstrunk), mean over validation photos")
    ax.set_ylabel("validation MSE")
    ax.set_title("Error against vividness, mean ± std over seeds")
    label_points(fig, ax, points, avoid=[line])
    return fig


def rules_front(results: StudyResults, loss: str = "mse") -> Figure:
    """Colourfulness (x) against validation MSE (y) of every combination rule, mean ± std over seeds;
    the temperature family as a curve from the mean (T = ∞) to the most saturated member (T = 0),
    grey, constant, the baseline and the originals marked, and the region the paper hopes for shaded:
    more colourful than the baseline and at most 25 % above its error."""
    colour = seed_stats(results.rows, "colourfulness", loss)
    error = seed_stats(results.rows, "mse", loss)
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.subplots()
    curve = [(t, m) for t, m in temperature_curve() if m in colour]
    ax.plot([colour[m].mean for _, m in curve], [error[m].mean for _, m in curve], color="#e6550d", lw=1.2, zorder=2)
    points, on_curve = [], {m for _, m in curve}
    style = {"baseline": ("s", "#525252"), "grey": ("D", "0.75"), "constant": ("D", "#bcbddc")}
    for m in [*rule_models(results, loss), "baseline", *REFERENCE_MODELS]:
        if m not in colour:
            continue
        cx, ey = colour[m], error[m]
        marker, face = style.get(m, ("o", "#fd8d3c" if m in on_curve else "#6baed6"))
        ax.errorbar(
            cx.mean, ey.mean, xerr=0 if cx.n < 2 else cx.std, yerr=0 if ey.n < 2 else ey.std,
            fmt=marker, color=face, mec="0.2", ecolor="0.4", capsize=3, zorder=3,
        )  # fmt: skip
        points.append((m, cx.mean, ey.mean))
    if "baseline" in colour:
        base_c, base_e = colour["baseline"].mean, error["baseline"].mean
        right = max(results.originals["colourfulness"], *(c for _, c, _ in points)) * 1.05
        ax.fill_between(
            [base_c, right], 0, base_e * (1 + CLOSE_TO_BASELINE), color="#a1d99b", alpha=0.3, zorder=1, lw=0,
            label=f"the hope: more colourful than the baseline, error ≤ {1 + CLOSE_TO_BASELINE:g} × its error",
        )  # fmt: skip
        ax.legend(loc="upper left", fontsize=8)
    line = mark_originals(ax, results.originals["colourfulness"], f"originals {results.originals['colourfulness']:.1f}")
    ax.set_xlabel("colourfulness (Hasler–Süsstrunk), mean over validation photos")
    ax.set_ylabel("validation MSE")
    ax.set_ylim(bottom=0)
    ax.set_title("Combination rules of blue, yellow and green: colour against error (mean ± std over seeds)")
    label_points(fig, ax, points, avoid=[line])
    return fig


def axis_caption(manifest: Mapping, name: str, axis: str) -> str:
    return f"{name}\n{axis} {manifest['axis_scores'][name][axis]:.2f}"
