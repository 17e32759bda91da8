"""The study's figures: Table I over seeds as dots, and error against vividness with whiskers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from ..figures import MODEL_COLOURS, label_points, mark_originals
from .runs import METRIC_LABELS
from .scoring import StudyResults
from .statistics import seed_stats


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


def axis_caption(manifest: Mapping, name: str, axis: str) -> str:
    return f"{name}\n{axis} {manifest['axis_scores'][name][axis]:.2f}"
