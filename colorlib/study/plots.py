"""The study's figures: Table I over seeds as dots, error against vividness with whiskers, and the
combination rules' front of colourfulness against error."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure

from ..paper.figures import MODEL_COLOURS, label_points
from ..scoring.no_skill import CLOSE_TO_BASELINE, REFERENCES
from .runs import BOOSTED, METRIC_LABELS, temperature_curve
from .scoring import StudyResults
from .statistics import rule_models, seed_stats


def seed_strip(results: StudyResults, models: Sequence[str], loss: str = "mse", metric: str = "mse") -> Figure:
    """Validation metric per model: one dot per seed, a bar at the mean and ± 1 std (log scale)."""
    stats = seed_stats(results.rows, metric, loss)
    models = [m for m in models if m in stats]
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for x, m in enumerate(models):
        values = [results.value(m, s, metric, loss) for s in results.seeds(m, loss)]
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
    ax.set_xlabel("colourfulness (Hasler–Süsstrunk), mean over validation photos")
    ax.set_ylabel("validation MSE")
    ax.set_title("Error against vividness, mean ± std over seeds")
    label_points(fig, ax, points, results.originals["colourfulness"])
    return fig


def _front(points: Mapping[str, tuple], rules: Sequence[str], originals: float, where: str, spread: str) -> Figure:
    """The rules' front: points {model: (x, (x below, x above), y, (y below, y above))} of colourfulness
    (x) and MSE (y) with whiskers, the temperature family as a curve, the references and the originals
    marked, and the region the paper hopes for shaded."""
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.subplots()
    curve = [m for _, m in temperature_curve() if m in points]
    ax.plot([points[m][0] for m in curve], [points[m][2] for m in curve], color="#e6550d", lw=1.2, zorder=2)
    labels, on_curve = [], set(curve)
    style = {"baseline": ("s", "#525252"), "grey": ("D", "0.75"), "constant": ("D", "#bcbddc")}
    style |= dict.fromkeys(BOOSTED, ("*", "#969696"))  # the boosted baseline, a contender
    for m in [*rules, "baseline", *REFERENCES]:
        if m not in points:
            continue
        x, xerr, y, yerr = points[m]
        marker, face = style.get(m, ("o", "#fd8d3c" if m in on_curve else "#6baed6"))
        ax.errorbar(
            x, y, xerr=[[xerr[0]], [xerr[1]]], yerr=[[yerr[0]], [yerr[1]]],
            fmt=marker, color=face, mec="0.2", ecolor="0.4", capsize=3, zorder=3,
        )  # fmt: skip
        labels.append((m, x, y))
    if "baseline" in points:
        base_c, base_e = points["baseline"][0], points["baseline"][2]
        right = max(originals, *(c for _, c, _ in labels)) * 1.05
        ax.fill_between(
            [base_c, right], 0, base_e * (1 + CLOSE_TO_BASELINE), color="#a1d99b", alpha=0.3, zorder=1, lw=0,
            label=f"the hope: more colourful than the baseline, error ≤ {1 + CLOSE_TO_BASELINE:g} × its error",
        )  # fmt: skip
        fig.legend(loc="outside lower center", fontsize=8)  # clear of the originals' label
    ax.set_xlabel(f"colourfulness (Hasler–Süsstrunk), mean over {where} photos")
    ax.set_ylabel(f"{where} MSE")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Combination rules of blue, yellow and green: colour against error ({spread})")
    label_points(fig, ax, labels, originals)
    return fig


def rules_front(results: StudyResults, loss: str = "mse") -> Figure:
    """The rules' front on the validation photos, mean ± std over seeds."""
    colour = seed_stats(results.rows, "colourfulness", loss)
    error = seed_stats(results.rows, "mse", loss)

    def spread(st) -> tuple[float, float]:
        return (0.0, 0.0) if st.n < 2 else (st.std, st.std)

    points = {m: (colour[m].mean, spread(colour[m]), error[m].mean, spread(error[m])) for m in colour}
    return _front(
        points, rule_models(results, loss), results.originals["colourfulness"], "validation", "mean ± std over seeds"
    )


def rules_front_intervals(results: StudyResults, stats: Sequence[Mapping]) -> Figure:
    """The rules' front on the test photos (stats of heldout.rule_intervals): pooled over seeds, with
    95 % bootstrap intervals over photos as whiskers."""

    def whisker(iv) -> tuple[float, float]:
        return (iv.estimate - iv.low, iv.high - iv.estimate)

    points = {
        s["model"]: (s["colourfulness"].estimate, whisker(s["colourfulness"]), s["mse"].estimate, whisker(s["mse"]))
        for s in stats
    }
    rules = [s["model"] for s in stats if s.get("rule")]
    return _front(points, rules, results.test_originals["colourfulness"], "test", "95 % intervals over test photos")
