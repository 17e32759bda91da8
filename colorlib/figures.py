"""Figures 1-9 and Table I of Klefbom & Mjöberg, drawn from our own model, photos and scores.

Every figure function returns a :class:`matplotlib.figure.Figure` built without pyplot, so it works
under any backend (Agg in tests) and a notebook shows it once, as the cell's value. The network
diagrams (Figs 2 and 4) are traced from the model object itself, so they follow the code. The
photos shown in Figs 5-9 are chosen by stated rules (:func:`pick_showcase`, :func:`pick_desaturated`)
instead of by eye, and :func:`claims` checks the paper's statements against our numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from markdown_it import MarkdownIt
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, FancyBboxPatch
from PIL import Image
from torch import nn

from . import COMBINED_MODELS, TRAINED_MODELS
from .data import load_set, read_manifest
from .ensemble import checkpoint_path
from .errors import UserError
from .evaluate import PAPER_TABLE_I, Evaluation
from .lab import AB_SCALE, L_SCALE, grayscale, join_lab, postprocess, preprocess, rgb_to_lab, rgb_to_uint8, unpad
from .metrics import colourfulness
from .model import count_parameters

THUMB_PX = 256  # contact-sheet thumbnails: longer side in pixels
CLOSE_TO_BASELINE = 0.25  # claim 3: "close to" the baseline = at most 25 % above its loss
# The model each combined model is compared with: the one trained on the union of its members' photos.
SAME_DATA_MODEL = {"by-combined": "by", "bgy-combined": "bgy"}
BIASED_MODELS = ("blue", "yellow", "green")
# Lab a runs green -> red, b runs blue -> yellow; the maps are drawn in those colours around grey.
A_CMAP = LinearSegmentedColormap.from_list("lab_a", ["#1a9850", "#bdbdbd", "#d6307a"])
B_CMAP = LinearSegmentedColormap.from_list("lab_b", ["#2166ac", "#bdbdbd", "#e6b800"])
MODEL_COLOURS = {
    "blue": "#3182bd",
    "yellow": "#e6b800",
    "green": "#31a354",
    "by": "#8c6bb1",
    "bgy": "#dd3497",
    "baseline": "#525252",
    "by-combined": "#41b6c4",
    "bgy-combined": "#fd8d3c",
}
LAYER_COLOURS = {
    "Conv2d": "#9ecae1",
    "BatchNorm2d": "#fdd49e",
    "ReLU": "#d9d9d9",
    "Tanh": "#fcbba1",
    "MaxPool2d": "#c7e9c0",
    "Upsample": "#c7e9c0",
    "Sequential": "#bcbddc",
}


# --- photos ------------------------------------------------------------------------------------


def _thumbnail(rgb: np.ndarray, longest: int = THUMB_PX) -> np.ndarray:
    """A display copy of a photo whose longer side is at most `longest` pixels."""
    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    img.thumbnail((longest, longest), Image.LANCZOS)
    return np.asarray(img)


def _show(ax, image: np.ndarray, title: str | None = None, **kwargs) -> None:
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
    for i, ax in enumerate(axes):
        if i >= len(photos):
            fig.delaxes(ax)
            continue
        _show(ax, _thumbnail(photos[i]))
        if names is not None:
            ax.set_title(str(names[i]), fontsize=6)
    if title:
        fig.suptitle(title)
    return fig


def set_contact_sheet(manifest: Mapping, set_name: str, data_dir: Path, cols: int = 8) -> Figure:
    """The photos of one set of the manifest, captioned with their name and colour score(s)."""
    named = load_set(manifest, set_name, data_dir)
    if not named:
        raise ValueError(f"set {set_name!r} is empty")
    colours = [set_name] if set_name in BIASED_MODELS else list(BIASED_MODELS)

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
    fig = Figure(figsize=(7, 7), layout="constrained")
    for ax, (image, title) in zip(fig.subplots(2, 2).ravel(), panels, strict=True):
        _show(ax, image, title)
    return fig


# --- network diagrams (Figs 2-4) ----------------------------------------------------------------


@dataclass(frozen=True)
class LayerInfo:
    """One child module of the encoder or decoder, as traced on a dummy input."""

    name: str
    kind: str  # the module's class name
    label: str  # kind with its settings, e.g. "Conv2d 7×7 /2, 1→64"
    shape: tuple[int, ...]  # output shape without the batch axis
    params: int


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def describe_layer(module: nn.Module) -> str:
    """A short label of a layer with the settings that change tensor shapes."""
    kind = type(module).__name__
    if isinstance(module, nn.Conv2d):
        (kh, kw), (stride, _) = module.kernel_size, module.stride
        return f"{kind} {kh}×{kw} /{stride}, {module.in_channels}→{module.out_channels}"
    if isinstance(module, nn.BatchNorm2d):
        return f"{kind} ({module.num_features})"
    if isinstance(module, nn.MaxPool2d):
        (kh, kw), (stride, _) = _pair(module.kernel_size), _pair(module.stride)
        return f"{kind} {kh}×{kw} /{stride}"
    if isinstance(module, nn.Upsample):
        return f"{kind} ×{module.scale_factor:g} ({module.mode})"
    if isinstance(module, nn.Sequential):
        blocks = list(module.children())
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            return f"{kind} of {len(blocks)}"
        kernels = sorted({f"{m.kernel_size[0]}×{m.kernel_size[1]}" for m in convs}, reverse=True)
        stride = max(m.stride[0] for m in convs)
        block_kind = type(blocks[0]).__name__
        return f"{len(blocks)}× {block_kind}: {len(convs)} convs {'/'.join(kernels)}, stride {stride}"
    return kind


def trace_layers(model: nn.Module, part: str) -> list[LayerInfo]:
    """Children of `model.<part>` with the output shape each gives on a dummy L image.

    A zero tensor of the model's own image size runs through the whole model in eval mode with a
    forward hook on every child of the part; the model's mode is restored afterwards.
    """
    container = getattr(model, part)
    size = model.config.image_size
    shapes: dict[str, tuple[int, ...]] = {}
    children = list(container.named_children())
    hooks = [
        child.register_forward_hook(lambda _m, _i, out, key=name: shapes.__setitem__(key, tuple(out.shape[1:])))
        for name, child in children
    ]
    was_training = model.training
    device = next(model.parameters()).device
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, 1, size, size, device=device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return [
        LayerInfo(name, type(child).__name__, describe_layer(child), shapes[name], count_parameters(child))
        for name, child in children
    ]


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)


def _layer_diagram(layers: list[LayerInfo], input_shape: tuple[int, ...], size: int, title: str) -> Figure:
    """One rounded box per layer, top to bottom; box width follows the layer's spatial size."""
    n = len(layers)
    fig = Figure(figsize=(10, 0.55 * (n + 1) + 0.8), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(n + 0.6, -0.6)
    ax.set_axis_off()
    centre = 3.2
    ax.text(centre, 0, f"input  {_shape_text(input_shape)}", ha="center", va="center", fontsize=9, style="italic")
    for row, layer in enumerate(layers, start=1):
        width = 2.6 + 3.6 * min(1.0, layer.shape[-1] / size) if len(layer.shape) == 3 else 2.6
        box = FancyBboxPatch(
            (centre - width / 2, row - 0.3),
            width,
            0.6,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            fc=LAYER_COLOURS.get(layer.kind, "#eeeeee"),
            ec="0.35",
            gid=f"layer-{layer.name}",
        )
        ax.add_patch(box)
        ax.text(centre, row, layer.label, ha="center", va="center", fontsize=8.5)
        ax.text(6.8, row, f"{_shape_text(layer.shape)}   {layer.params:,} params", ha="left", va="center", fontsize=8.5)
        ax.annotate("", (centre, row - 0.32), (centre, row - 0.68), arrowprops={"arrowstyle": "->", "color": "0.4"})
    ax.text(6.8, -0.45, "output (C×H×W)   parameters", ha="left", va="center", fontsize=8.5, weight="bold")
    ax.text(0, n + 0.5, "box width grows with the output's height × width", fontsize=7.5, color="0.4")
    ax.set_title(title, fontsize=11)
    return fig


def fig2_encoder(model: nn.Module) -> Figure:
    """Fig. 2: the encoder (children of `model.encoder`), traced from the model."""
    layers = trace_layers(model, "encoder")
    size = model.config.image_size
    total = sum(layer.params for layer in layers)
    title = f"Encoder: {len(layers)} layers cut from ResNet-18, {total:,} parameters"
    return _layer_diagram(layers, (1, size, size), size, title)


def fig4_decoder(model: nn.Module) -> Figure:
    """Fig. 4: the upsampling decoder (children of `model.decoder`), traced from the model."""
    layers = trace_layers(model, "decoder")
    size = model.config.image_size
    input_shape = trace_layers(model, "encoder")[-1].shape
    total = sum(layer.params for layer in layers)
    title = f"Decoder: {len(layers)} layers, {total:,} parameters, output a and b"
    return _layer_diagram(layers, input_shape, size, title)


def _arrow(fig: Figure, left, right) -> None:
    """An arrow from the right edge of one axes to the left edge of the next."""
    fig.add_artist(
        ConnectionPatch(
            (1.02, 0.5),
            (-0.02, 0.5),
            "axes fraction",
            "axes fraction",
            axesA=left,
            axesB=right,
            arrowstyle="-|>",
            color="0.3",
            mutation_scale=14,
        )
    )


def fig3_data_flow(model: nn.Module, rgb: np.ndarray, size: int | None = None) -> Figure:
    """Fig. 3: one photo through the network, with the real tensors at each stage.

    Panels: original -> L input -> mean activation of the last two encoder layers and the most
    varied channel of the last -> predicted a and b -> predicted ab joined to the photo's own L.
    """
    size = size or model.config.image_size
    lightness, _, info = preprocess(rgb, size)
    encoder = list(model.encoder.children())
    features: dict[int, torch.Tensor] = {}
    hooks = [
        encoder[i].register_forward_hook(lambda _m, _i, out, key=i: features.__setitem__(key, out.detach().cpu()))
        for i in (len(encoder) - 2, len(encoder) - 1)
    ]
    was_training = model.training
    device = next(model.parameters()).device
    try:
        model.eval()
        with torch.no_grad():
            ab = model(torch.from_numpy(lightness)[None].to(device)).float().cpu()[0]
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    mid, last = (features[i][0].float() for i in sorted(features))
    strongest = int(last.flatten(1).var(dim=1).argmax())
    limit = max(float(ab.abs().max()), 1e-3)
    colour_kw = {"vmin": -limit, "vmax": limit}
    h, w = np.asarray(rgb).shape[:2]
    panels = [
        (np.asarray(rgb), f"1. photo {h}×{w}×3", {}),
        (lightness[0], f"2. L input {_shape_text(lightness.shape)}", {"cmap": "gray", "vmin": 0, "vmax": 1}),
        (
            mid.mean(0),
            f"3. encoder[{len(encoder) - 2}] out {_shape_text(mid.shape)}\n(mean of channels)",
            {"cmap": "magma"},
        ),
        (last.mean(0), f"4. encoder out {_shape_text(last.shape)}\n(mean of channels)", {"cmap": "magma"}),
        (last[strongest], f"5. encoder channel {strongest}\n{_shape_text(last.shape[1:])}", {"cmap": "magma"}),
        (
            ab[0],
            f"6. predicted a {_shape_text(ab.shape[1:])}\n(±{limit:.2f}, normalised)",
            {"cmap": A_CMAP, **colour_kw},
        ),
        (
            ab[1],
            f"7. predicted b {_shape_text(ab.shape[1:])}\n(±{limit:.2f}, normalised)",
            {"cmap": B_CMAP, **colour_kw},
        ),
        (postprocess(rgb, ab.numpy(), info), f"8. L of the photo + ab\n{h}×{w}×3", {}),
    ]
    fig = Figure(figsize=(12, 6.6), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    for ax, (image, title, kw) in zip(axes, panels, strict=True):
        _show(ax, np.asarray(image), title, **kw)
    for left, right in zip(axes[:-1], axes[1:], strict=True):
        if left.get_subplotspec().rowspan == right.get_subplotspec().rowspan:
            _arrow(fig, left, right)
    fig.suptitle(f"Data flow through the network at working size {size} (arrows: left to right, row by row)")
    return fig


# --- predictions (Figs 5-9) ---------------------------------------------------------------------


def colorized(ev: Evaluation, model: str, index: int) -> np.ndarray:
    """The validation photo `index` colorized by `model`, at the photo's own resolution (uint8 RGB)."""
    val = ev.validation
    return postprocess(val.photos[index], ev.predictions[model][index].numpy(), val.infos[index])


def prediction_row(images: Sequence[np.ndarray], titles: Sequence[str]) -> Figure:
    """Photos side by side with a title each (the layout of Figs 5-8)."""
    if len(images) != len(titles) or not images:
        raise ValueError(f"need one title per image, got {len(images)} images and {len(titles)} titles")
    fig = Figure(figsize=(3.4 * len(images), 3.6), layout="constrained")
    for ax, image, title in zip(np.atleast_1d(fig.subplots(1, len(images))), images, titles, strict=True):
        _show(ax, image, title)
    return fig


def fig9_grid(original: np.ndarray, baseline: np.ndarray, by_c: np.ndarray, bgy_c: np.ndarray) -> Figure:
    """Fig. 9: original, baseline, by-combined and bgy-combined in a 2 x 2 grid."""
    panels = [(original, "Original"), (baseline, "Baseline"), (by_c, "by-combined"), (bgy_c, "bgy-combined")]
    fig = Figure(figsize=(7, 7), layout="constrained")
    for ax, (image, title) in zip(fig.subplots(2, 2).ravel(), panels, strict=True):
        _show(ax, image, title)
    return fig


# --- scores -------------------------------------------------------------------------------------


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    return np.convolve(values, np.ones(window) / window, mode="valid")


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
        avg = _moving_average(values, max(1, min(smooth, values.size // 4)))
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


def vividness_scatter(summary: Mapping[str, Mapping[str, float]], originals: Mapping[str, float]) -> Figure:
    """Colourfulness (x) against validation MSE (y), one point per model; a line at the originals'."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, scores in summary.items():
        ax.scatter(
            scores["colourfulness"],
            scores["mse"],
            s=40,
            color=MODEL_COLOURS.get(name, "0.6"),
            edgecolor="0.2",
            zorder=3,
        )
        ax.annotate(
            name, (scores["colourfulness"], scores["mse"]), xytext=(5, 4), textcoords="offset points", fontsize=8
        )
    mark_originals(ax, originals["colourfulness"], "originals")
    ax.set_xlabel("colourfulness (Hasler–Süsstrunk, mean over validation photos)")
    ax.set_ylabel("validation MSE")
    ax.set_title("Colourfulness against loss, one point per model")
    return fig


def mark_originals(ax, colourfulness: float, label: str) -> None:
    """A dashed vertical line at the original photos' colourfulness, labelled at the top."""
    ax.axvline(colourfulness, color="0.4", ls="--", lw=1)
    ax.annotate(
        label,
        (colourfulness, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4, -12),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color="0.3",
    )


def colour_score_bars(report: Mapping) -> Figure:
    """Mean blue / yellow / green scores of each set of the manifest next to the whole folder's."""
    groups = {"folder": report["folder_mean_scores"], **report["set_mean_scores"]}
    x = np.arange(len(groups))
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    ax = fig.subplots()
    for k, colour in enumerate(BIASED_MODELS):
        ax.bar(
            x + (k - 1) * 0.27, [g[colour] for g in groups.values()], 0.27, label=colour, color=MODEL_COLOURS[colour]
        )
    ax.set_xticks(x, list(groups))
    ax.set_ylabel("mean share of the photo")
    ax.set_title("Colour scores: each set against the whole folder")
    ax.legend()
    return fig


# --- how the sets were chosen ------------------------------------------------------------------


def selection_rule(manifest: Mapping) -> str:
    """How the manifest's sets were chosen, in words, with the thresholds it records (Markdown)."""
    p = manifest["params"]
    n = {name: len(names) for name, names in manifest["sets"].items()}
    thumb = f"{p['thumb_size']}×{p['thumb_size']}"
    hues = ", ".join(f"{c} {lo:g}–{hi:g}°" for c, (lo, hi) in p["hue_ranges"].items())
    steps = [
        f"**Black-and-white photos out.** A photo is dropped when the {p['bw_percentile']:g}th percentile "
        f"of its pixels' chroma (on a {thumb} thumbnail) is below {p['bw_chroma']:g}.",
        "**One photo per duplicate group.** Identical files, and photos whose perceptual hashes differ in "
        f"at most {p['phash_max_distance']} of 64 bits, form a group; a group gives one photo, to one set.",
        "**Colour scores.** For each photo, the share of its pixels that are clearly coloured (chroma "
        f"above {p['chroma_min']:g}) with a hue in a colour's range: {hues}.",
        "**Colour sets.** A photo competes only for the colour it scores highest on; the blue, yellow "
        f"and green sets take the {p['per_colour']} best scorers of their colour.",
        f"**Random sets.** Validation ({n['validation']} photos) and baseline ({n['baseline']} photos) "
        f"are drawn at random with seed {p['seed']} from the groups the colour sets did not use.",
        f"**Unions.** by is blue + yellow ({n['by']} photos), bgy is blue + green + yellow ({n['bgy']}).",
    ]
    return "".join(f"{i}. {step}\n" for i, step in enumerate(steps, start=1))


# --- which validation photos the figures show ---------------------------------------------------


def _mse(ev: Evaluation, model: str) -> np.ndarray:
    return np.array([s.mse for s in ev.per_photo[model]])


def pick_showcase(ev: Evaluation) -> tuple[int, str]:
    """The photo for Figs 5-8: where a combined model beats the model trained on the same photos most.

    For each validation photo the gain is max(MSE(by) - MSE(by-combined), MSE(bgy) - MSE(bgy-combined));
    the photo with the largest gain is picked (the first one on a tie).
    """
    pairs = [(c, t) for c, t in SAME_DATA_MODEL.items() if c in ev.per_photo and t in ev.per_photo]
    if not pairs:
        raise ValueError("pick_showcase needs by/by-combined or bgy/bgy-combined scores")
    gains = np.stack([_mse(ev, t) - _mse(ev, c) for c, t in pairs])
    index = int(np.argmax(gains.max(axis=0)))
    detail = ", ".join(f"{t} {_mse(ev, t)[index]:.4f} → {c} {_mse(ev, c)[index]:.4f}" for c, t in pairs)
    text = (
        f"Figures 5–8 show {ev.validation.names[index]}: the validation photo on which a combined model "
        f"lowers the loss most against the model trained on the same photos ({detail})."
    )
    return index, text


def original_colourfulness(ev: Evaluation) -> np.ndarray:
    """Colourfulness of each validation photo as the models see it (working size, padding cut off)."""
    val = ev.validation
    out = []
    for i, info in enumerate(val.infos):
        lightness = unpad(val.lightness[i, 0].numpy(), info) * L_SCALE
        ab = unpad(val.ab[i].numpy().transpose(1, 2, 0), info) * AB_SCALE
        out.append(colourfulness(join_lab(lightness, ab)))
    return np.array(out)


def pick_desaturated(ev: Evaluation, exclude: int | None = None) -> tuple[int, str]:
    """The photo for Fig. 9: the validation photo whose original is least colourful.

    `exclude` (e.g. the showcase photo) is never picked, so the two figures show different photos.
    """
    scores = original_colourfulness(ev)
    ranked = [i for i in np.argsort(scores, kind="stable") if i != exclude]
    if not ranked:
        raise ValueError("no validation photo left to pick")
    index = int(ranked[0])
    text = (
        f"Figure 9 shows {ev.validation.names[index]}: the least colourful validation photo "
        f"(colourfulness {scores[index]:.1f}; median of the set {np.median(scores):.1f})."
    )
    return index, text


# --- the paper's claims -------------------------------------------------------------------------


def claims(ev: Evaluation) -> list[dict]:
    """The paper's claims checked on our numbers: {claim, paper, ours, holds} per claim.

    "Close to the baseline" is read as: a combined model's loss is at most 25 % above the
    baseline's (CLOSE_TO_BASELINE). Colourfulness claims compare mean colourfulness over the
    validation photos; the paper judged those by eye.
    """
    needed = set(TRAINED_MODELS) | set(COMBINED_MODELS)
    missing = sorted(needed - set(ev.summary))
    if missing:
        raise ValueError(f"claims need scores of every model; missing: {', '.join(missing)}")
    loss = {m: ev.summary[m]["mse"] for m in ev.summary}
    vivid = {m: ev.summary[m]["colourfulness"] for m in ev.summary}
    paper = PAPER_TABLE_I
    combined = list(COMBINED_MODELS)
    limit = 1 + CLOSE_TO_BASELINE

    def losses(table: Mapping[str, float], models: Sequence[str]) -> str:
        return ", ".join(f"{m} {table[m]:.4f}" for m in models)

    def colours(models: Sequence[str]) -> str:
        return ", ".join(f"{m} {vivid[m]:.1f}" for m in models)

    out = []
    for c, t in SAME_DATA_MODEL.items():
        out.append(
            {
                "claim": f"{c} has a lower loss than {t}, trained on the same photos",
                "paper": f"{paper[c]:.4f} < {paper[t]:.4f}",
                "ours": f"{loss[c]:.4f} vs {loss[t]:.4f}",
                "holds": bool(loss[c] < loss[t]),
            }
        )
    out.append(
        {
            "claim": f"the combined models come close to the baseline's loss (≤ {CLOSE_TO_BASELINE:.0%} above it)",
            "paper": f"{losses(paper, combined)} vs baseline {paper['baseline']:.4f}",
            "ours": f"{losses(loss, combined)} vs baseline {loss['baseline']:.4f}",
            "holds": bool(all(loss[c] <= limit * loss["baseline"] for c in combined)),
        }
    )
    out.append(
        {
            "claim": "the single-colour models are more colourful than the baseline (each, mean colourfulness)",
            "paper": "by eye (Fig. 6)",
            "ours": f"{colours(BIASED_MODELS)} vs baseline {vivid['baseline']:.1f}",
            "holds": bool(all(vivid[m] > vivid["baseline"] for m in BIASED_MODELS)),
        }
    )
    out.append(
        {
            "claim": "the combined models are more colourful than the baseline (each, mean colourfulness)",
            "paper": "by eye (Figs 5 and 8)",
            "ours": f"{colours(combined)} vs baseline {vivid['baseline']:.1f}",
            "holds": bool(all(vivid[c] > vivid["baseline"] for c in combined)),
        }
    )
    out.append(
        {
            "claim": "the baseline's loss is larger than both combined models'",
            "paper": f"baseline {paper['baseline']:.4f} vs {losses(paper, combined)}",
            "ours": f"baseline {loss['baseline']:.4f} vs {losses(loss, combined)}",
            "holds": bool(all(loss["baseline"] > loss[c] for c in combined)),
        }
    )
    return out


def claims_markdown(rows: Sequence[Mapping]) -> str:
    """The claims as a Markdown table."""
    lines = ["| claim | paper | ours | holds on ours |", "| --- | --- | --- | :---: |"]
    lines += [f"| {r['claim']} | {r['paper']} | {r['ours']} | {'yes' if r['holds'] else 'no'} |" for r in rows]
    return "\n".join(lines) + "\n"


def findings(ev: Evaluation, checked: Sequence[Mapping]) -> str:
    """A short paragraph of what our numbers show, written from the numbers themselves."""
    loss = {m: s["mse"] for m, s in ev.summary.items()}
    vivid = {m: s["colourfulness"] for m, s in ev.summary.items()}
    best, worst = min(loss, key=loss.get), max(loss, key=loss.get)
    paper_best, paper_worst = min(PAPER_TABLE_I, key=PAPER_TABLE_I.get), max(PAPER_TABLE_I, key=PAPER_TABLE_I.get)
    n_photos = len(ev.validation.names)
    helped = [c for c, t in SAME_DATA_MODEL.items() if loss[c] < loss[t]]
    if len(helped) == len(SAME_DATA_MODEL):
        ensemble = "Averaging the single-colour models beat training one model on their pooled photos for both pairs"
    elif helped:
        ensemble = f"Averaging the single-colour models beat pooled training only for {helped[0]}"
    else:
        ensemble = "Averaging the single-colour models did not beat training one model on their pooled photos"
    pairs = "; ".join(f"{c} {loss[c]:.4f} vs {t} {loss[t]:.4f}" for c, t in SAME_DATA_MODEL.items())
    base_below = all(loss["baseline"] < loss[c] for c in COMBINED_MODELS)
    baseline = f"The baseline scored {loss['baseline']:.4f}, " + (
        "below both combined models, unlike the paper, whose baseline (0.137) was far above them."
        if base_below
        else "not below both combined models, as in the paper (baseline 0.137)."
    )
    most_vivid = max(vivid, key=vivid.get)
    n_vivid = sum(vivid[m] > vivid["baseline"] for m in BIASED_MODELS)
    colour = (
        f"The most colourful predictions came from {most_vivid} ({vivid[most_vivid]:.1f}, against "
        f"{ev.originals['colourfulness']:.1f} for the original photos and {vivid['baseline']:.1f} for the baseline); "
        f"{n_vivid} of the 3 single-colour models {'was' if n_vivid == 1 else 'were'} more colourful than the baseline."
    )
    held = sum(bool(r["holds"]) for r in checked)
    return " ".join(
        [
            f"On our {n_photos} validation photos the lowest loss was {best} ({loss[best]:.4f}) and the highest "
            f"{worst} ({loss[worst]:.4f}); in the paper they were {paper_best} and {paper_worst}.",
            f"{ensemble} ({pairs}).",
            baseline,
            colour,
            f"{held} of the {len(checked)} claims we checked hold on our numbers.",
        ]
    )


# --- notebook inputs -------------------------------------------------------------------------------


def resolve_inputs(
    manifest: str | Path, data_dir: str | Path = "", checkpoints: str | Path | None = None
) -> tuple[dict, Path]:
    """Check a notebook's parameters and read the manifest: (manifest, photo folder).

    An empty `data_dir` means the folder recorded in the manifest. Every mistake is a one-line UserError.
    """
    path = Path(manifest)
    if not path.is_file():
        raise UserError(f"manifest file not found: {path} (run `colorlib prepare` or `make` first)")
    if checkpoints is not None:
        folder = Path(checkpoints)
        missing = [m for m in TRAINED_MODELS if not checkpoint_path(folder, m).is_file()]
        if missing:
            raise UserError(f"no checkpoint for {', '.join(missing)} in {folder} (train them first)")
    loaded = read_manifest(path)
    photos = Path(data_dir or loaded["data_dir"])
    if not photos.is_dir():
        raise UserError(f"photo folder not found: {photos} (set data_dir to the folder of photos)")
    return loaded, photos


# --- how the results were obtained --------------------------------------------------------------


def provenance(checkpoints: Mapping[str, Mapping], profile: str, manifest_digest: str) -> str:
    """A Markdown table of how each model was trained, from its checkpoint's metadata."""
    lines = [
        f"Profile `{profile}`, manifest hash `{manifest_digest[:16]}`.",
        "",
        "| model | photos | batches | batch size | image size | seed | device | precision | minutes | colorlib |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for name, state in checkpoints.items():
        cfg = state["train_config"]
        lines.append(
            f"| {name} | {state.get('n_photos', '–')} | {state['step']} | {cfg['batch_size']} | {cfg['image_size']} "
            f"| {cfg['seed']} | {state['device']} | {state['precision']} | {state['elapsed_s'] / 60:.1f} "
            f"| {state.get('colorlib_version', '?')} |"
        )
    stale = sorted(n for n, s in checkpoints.items() if s.get("manifest_hash") != manifest_digest)
    if stale:
        lines += ["", f"**Warning:** trained on another manifest: {', '.join(stale)}."]
    return "\n".join(lines) + "\n"


class MarkdownOutput:
    """Markdown for a notebook output, offered as Markdown and as HTML.

    Jupyter Book renders Markdown outputs as CommonMark, which has no tables; the HTML copy keeps
    tables readable there, while Jupyter shows the Markdown.
    """

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return MarkdownIt("commonmark").enable("table").render(self.text)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write a figure as PNG (creating the folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
