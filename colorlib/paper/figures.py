"""Figures 1 and 5-9, the data figures and the score plots of Klefbom & Mjöberg, drawn from our own
model, photos and scores. The network diagrams (Figs 2-4) are in :mod:`colorlib.paper.diagrams`.

Every figure function returns a :class:`matplotlib.figure.Figure` built without pyplot, so it works
under any backend (Agg in tests) and a notebook shows it once, as the cell's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.text import Annotation
from PIL import Image

from ..data import COLOURS, load_set
from ..lab import grayscale, join_lab, rgb_to_lab, rgb_to_uint8
from ..scoring.intervals import Interval
from . import PAPER_TABLE_I

THUMB_PX = 256  # contact-sheet thumbnails (display copies): longer side in pixels
# Lab a runs green -> red, b runs blue -> yellow; the maps are drawn in those colours around grey.
A_CMAP = LinearSegmentedColormap.from_list("lab_a", ["#1a9850", "#bdbdbd", "#d6307a"])
B_CMAP = LinearSegmentedColormap.from_list("lab_b", ["#2166ac", "#bdbdbd", "#e6b800"])
# One colour per model, for every plot of the book (the paper's models, then the study's).
MODEL_COLOURS = {
    "blue": "#3182bd",
    "yellow": "#e6b800",
    "green": "#31a354",
    "by": "#8c6bb1",
    "bgy": "#dd3497",
    "baseline": "#525252",
    "by-combined": "#41b6c4",
    "bgy-combined": "#fd8d3c",
    "all-combined": "#a6761d",
    "bgy-nnls": "#e31a1c",
    "all-nnls": "#b15928",
    "a+": "#d6307a",
    "a-": "#1a9850",
    "b+": "#e6b800",
    "b-": "#2166ac",
    "ab": "#7570b3",
    "ab-combined": "#66a61e",
}


# --- photos ------------------------------------------------------------------------------------


def show_image(ax, image: np.ndarray, title: str | None = None, **kwargs) -> None:
    ax.imshow(image, **kwargs)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)


def contact_sheet(
    photos: Sequence[np.ndarray], names: Sequence[str] | None = None, cols: int = 8, title: str | None = None
) -> Figure:
    """A grid of photos (one axes per photo), optionally captioned with their names."""
    if len(photos) == 0:
        raise ValueError("contact_sheet needs at least one photo")
    if names is not None and len(names) != len(photos):
        raise ValueError(f"{len(names)} names for {len(photos)} photos")
    cols = max(1, min(cols, len(photos)))
    rows = math.ceil(len(photos) / cols)
    fig = Figure(figsize=(1.6 * cols, 1.6 * rows + (0.4 if title else 0)), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(photos) :]:
        fig.delaxes(ax)
    for i, photo in enumerate(photos):
        thumbnail = Image.fromarray(np.asarray(photo, dtype=np.uint8))
        thumbnail.thumbnail((THUMB_PX, THUMB_PX), Image.LANCZOS)
        show_image(axes[i], np.asarray(thumbnail))
        if names is not None:
            axes[i].set_title(str(names[i]), fontsize=6)
    if title:
        fig.suptitle(title)
    return fig


def set_contact_sheet(manifest: Mapping, set_name: str, data_dir: Path, cols: int = 8) -> Figure:
    """The photos of one set of the manifest, captioned with their name and colour score(s)."""
    named = load_set(manifest, set_name, data_dir)
    if not named:
        raise ValueError(f"set {set_name!r} is empty")
    colours = [set_name] if set_name in COLOURS else list(COLOURS)

    def caption(name: str) -> str:
        scores = manifest["photos"][name]["scores"]
        return f"{name}\n" + " ".join(f"{c[0]} {scores[c]:.2f}" for c in colours)

    title = f"{set_name}: {len(named)} photos (scores: share of the photo in " + ", ".join(colours) + ")"
    return contact_sheet([rgb for _, rgb in named], [caption(n) for n, _ in named], cols, title)


def fig1_lab_channels(rgb: np.ndarray) -> Figure:
    """Fig. 1: the photo, its lightness alone (a = b = 0), and L + a (b = 0), L + b (a = 0)."""
    lab = rgb_to_lab(rgb)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    zero = np.zeros_like(a)
    panels = [
        (np.asarray(rgb), "Original (RGB)"),
        (grayscale(rgb), "Lightness L (a = b = 0)"),
        (rgb_to_uint8(join_lab(lightness, np.stack([a, zero], -1))), "L + a channel (b = 0)"),
        (rgb_to_uint8(join_lab(lightness, np.stack([zero, b], -1))), "L + b channel (a = 0)"),
    ]
    return _grid(panels)


# --- predictions (Figs 5-9) ---------------------------------------------------------------------


def prediction_row(images: Sequence[np.ndarray], titles: Sequence[str]) -> Figure:
    """Photos side by side with a title each (the layout of Figs 5-8)."""
    if len(images) != len(titles) or not images:
        raise ValueError(f"need one title per image, got {len(images)} images and {len(titles)} titles")
    fig = Figure(figsize=(3.4 * len(images), 3.6), layout="constrained")
    for ax, image, title in zip(np.atleast_1d(fig.subplots(1, len(images))), images, titles, strict=True):
        show_image(ax, image, title)
    return fig


def fig9_grid(original: np.ndarray, baseline: np.ndarray, by_c: np.ndarray, bgy_c: np.ndarray) -> Figure:
    """Fig. 9: original, baseline, by-combined and bgy-combined in a 2 x 2 grid."""
    return _grid([(original, "Original"), (baseline, "Baseline"), (by_c, "by-combined"), (bgy_c, "bgy-combined")])


def _grid(panels: Sequence[tuple[np.ndarray, str]]) -> Figure:
    """Four photos with a title each in a 2 x 2 grid (Figs 1 and 9)."""
    fig = Figure(figsize=(7, 7), layout="constrained")
    for ax, (image, title) in zip(fig.subplots(2, 2).ravel(), panels, strict=True):
        show_image(ax, image, title)
    return fig


# --- scores -------------------------------------------------------------------------------------


def loss_curve(losses: Sequence[float] | Mapping[str, Sequence[float]], smooth: int = 50) -> Figure:
    """Training loss per batch (faint) and its moving average (solid), one colour per model.

    The average runs over `smooth` batches, or a quarter of the run when the run is shorter.
    """
    curves = dict(losses) if isinstance(losses, Mapping) else {"loss": losses}
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    for name, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        if values.size == 0:
            continue
        colour = MODEL_COLOURS.get(name)
        ax.plot(np.arange(1, values.size + 1), values, color=colour, alpha=0.25, lw=0.8)
        window = max(1, min(smooth, values.size // 4))
        avg = np.convolve(values, np.ones(window) / window, mode="valid")  # the moving average
        ax.plot(np.arange(values.size - avg.size + 1, values.size + 1), avg, color=colour, lw=1.8, label=name)
    ax.set_xlabel("batch")
    ax.set_ylabel("MSE of normalised ab")
    ax.set_yscale("log")
    ax.set_title(f"Training loss (solid: moving average over up to {smooth} batches)")
    if len(curves) > 1:
        ax.legend(fontsize=8, ncols=2)
    return fig


def table_loss_bar(rows: Sequence[Mapping]) -> Figure:
    """Our validation loss next to the paper's for every model of Table I (log scale)."""
    rows = [r for r in rows if r["model"] in PAPER_TABLE_I]
    names = [r["model"] for r in rows]
    x = np.arange(len(rows))
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    ax.bar(x - 0.2, [r["mse"] for r in rows], 0.4, label="ours", color="#3182bd")
    ax.bar(x + 0.2, [r["paper_loss"] for r in rows], 0.4, label="paper (Table I)", color="#bdbdbd")
    ax.set_xticks(x, names, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel("validation MSE (log scale)")
    ax.set_title("Table I: validation loss per model, ours and the paper's")
    ax.legend()
    return fig


def trade_off(
    points: Mapping[str, tuple[Interval, Interval]],
    curve: Sequence[tuple[float, float, float]],
    originals: float,
    marks: Mapping[str, tuple[float, float]],
    where: str = "test",
) -> Figure:
    """Error (y) against colourfulness (x): each model and reference a point with its 95 % intervals
    ({name: (colourfulness, MSE)}), the boosted baseline a curve of (k, colourfulness, MSE) with its
    fitted scales marked ({label: (colourfulness, MSE)}), and a line at the originals' colourfulness."""
    fig = Figure(figsize=(8, 5.5), layout="constrained")
    ax = fig.subplots()
    steps = []  # the curve's whole-number scales, labelled (k = 1 is the baseline's own point)
    if curve:
        _, xs, ys = np.array(curve).T
        ax.plot(xs, ys, color="#525252", lw=1.2, ls="--", zorder=2, label="the baseline ×k (★: the fitted scales)")
        for k, x, y in curve:
            if float(k).is_integer() and k != 1:
                steps.append(
                    ax.annotate(f"×{k:g}", (x, y), xytext=(4, -11), textcoords="offset points", fontsize=7, color="0.4")
                )
        for x, y in marks.values():
            ax.scatter(x, y, marker="*", s=140, color="#525252", edgecolor="white", zorder=4)
    for name, (colour, error) in points.items():
        ax.errorbar(
            colour.estimate, error.estimate,
            xerr=[[colour.estimate - colour.low], [colour.high - colour.estimate]],
            yerr=[[error.estimate - error.low], [error.high - error.estimate]],
            fmt="o", color=MODEL_COLOURS.get(name, "0.7"), mec="0.2", ecolor="0.5", capsize=2, zorder=3,
        )  # fmt: skip
    ax.set_xlabel(f"colourfulness (Hasler–Süsstrunk), mean over the {where} photos")
    ax.set_ylabel(f"{where} MSE of normalised ab")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Error against colourfulness on the {where} photos (95 % intervals)")
    if curve:
        fig.legend(loc="outside lower center", fontsize=8)
    labels = [(n, c.estimate, e.estimate) for n, (c, e) in points.items()]
    label_points(fig, ax, labels + [(label, x, y) for label, (x, y) in marks.items()], originals, avoid=steps)
    return fig


def label_points(
    fig: Figure, ax, points: Sequence[tuple[str, float, float]], originals: float, avoid: Sequence[Artist] = ()
) -> list[Annotation]:
    """The last step of a plot of error against colourfulness, once its axes are set: a dashed vertical line at
    the original photos' colourfulness, labelled at the top, and each point named, its label moved around the
    point until it overlaps no label placed before (nor any artist in `avoid`); the last spot is kept if all do."""
    ax.axvline(originals, color="0.4", ls="--", lw=1)
    line = ax.annotate(
        f"originals {originals:.1f}",
        (originals, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -12),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="0.3",
    )
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()  # fixes the layout and the axis limits the labels are placed against
    spots = [(5, 4, "left"), (5, -11, "left"), (-5, 4, "right"), (-5, -11, "right"), (5, 15, "left"), (5, -22, "left")]
    placed = [artist.get_window_extent(renderer) for artist in [line, *avoid]]
    labels = []
    for name, x, y in sorted(points, key=lambda p: -p[2]):
        for dx, dy, ha in spots:
            label = ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=8, ha=ha)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed) or (dx, dy, ha) == spots[-1]:
                break
            label.remove()
        placed.append(box)
        labels.append(label)
    return labels


def colour_score_bars(report: Mapping) -> Figure:
    """Mean blue / yellow / green scores of each set of the manifest next to the whole folder's."""
    groups = {"folder": report["folder_mean_scores"], **report["set_mean_scores"]}
    x = np.arange(len(groups))
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    for k, colour in enumerate(COLOURS):
        ax.bar(
            x + (k - 1) * 0.27, [g[colour] for g in groups.values()], 0.27, label=colour, color=MODEL_COLOURS[colour]
        )
    ax.set_xticks(x, list(groups))
    ax.set_ylabel("mean share of the photo")
    ax.set_title("Colour scores: each set against the whole folder")
    ax.legend()
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG (creating the folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
