"""Figures 2-4 of Klefbom & Mjöberg: the encoder, the decoder and one photo's way through the
network, traced from the model object itself so that they follow the code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import ConnectionPatch, FancyBboxPatch
from torch import nn

from ..lab import postprocess, preprocess
from ..model import count_parameters
from .figures import A_CMAP, B_CMAP, show_image

LAYER_COLOURS = {
    "Conv2d": "#9ecae1",
    "BatchNorm2d": "#fdd49e",
    "ReLU": "#d9d9d9",
    "Tanh": "#fcbba1",
    "MaxPool2d": "#c7e9c0",
    "Upsample": "#c7e9c0",
    "Sequential": "#bcbddc",
}


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
    if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
        (kh, kw), (stride, _) = _pair(module.kernel_size), _pair(module.stride)
        channels = f", {module.in_channels}→{module.out_channels}" if isinstance(module, nn.Conv2d) else ""
        return f"{kind} {kh}×{kw} /{stride}{channels}"
    if isinstance(module, nn.BatchNorm2d):
        return f"{kind} ({module.num_features})"
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


def _forward(model: nn.Module, lightness: torch.Tensor, modules: dict) -> tuple[torch.Tensor, dict]:
    """The model's output on `lightness` in eval mode and the output of each of `modules` ({key: module}),
    caught by forward hooks; the hooks are removed and the model's mode is restored afterwards."""
    outputs: dict = {}
    hooks = [
        module.register_forward_hook(lambda _m, _i, out, key=key: outputs.__setitem__(key, out.detach().cpu()))
        for key, module in modules.items()
    ]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            result = model(lightness.to(next(model.parameters()).device))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    return result, outputs


def trace_layers(model: nn.Module, part: str) -> list[LayerInfo]:
    """Children of `model.<part>` with the output shape each gives on a zero L image of the model's own size."""
    size = model.config.image_size
    children = dict(getattr(model, part).named_children())
    _, outputs = _forward(model, torch.zeros(1, 1, size, size), children)
    return [
        LayerInfo(
            name, type(child).__name__, describe_layer(child), tuple(outputs[name].shape[1:]), count_parameters(child)
        )
        for name, child in children.items()
    ]


def _shape_text(shape: Sequence[int]) -> str:
    return "×".join(str(s) for s in shape)


def _layer_diagram(model: nn.Module, part: str, input_shape: tuple[int, ...], title: str) -> Figure:
    """One rounded box per child of `model.<part>`, traced from the model, top to bottom; box width follows the
    layer's spatial size; `title` is completed with the count of layers and of their parameters."""
    layers, size = trace_layers(model, part), model.config.image_size
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
    ax.set_title(title.format(n, sum(layer.params for layer in layers)), fontsize=11)
    return fig


def fig2_encoder(model: nn.Module) -> Figure:
    """Fig. 2: the encoder (children of `model.encoder`), traced from the model."""
    size = model.config.image_size
    return _layer_diagram(model, "encoder", (1, size, size), "Encoder: {} layers cut from ResNet-18, {:,} parameters")


def fig4_decoder(model: nn.Module) -> Figure:
    """Fig. 4: the upsampling decoder (children of `model.decoder`), traced from the model."""
    input_shape = trace_layers(model, "encoder")[-1].shape
    return _layer_diagram(model, "decoder", input_shape, "Decoder: {} layers, {:,} parameters, output a and b")


def fig3_data_flow(model: nn.Module, rgb: np.ndarray) -> Figure:
    """Fig. 3: one photo through the network, with the real tensors at each stage.

    Panels: original -> L input -> mean activation of the last two encoder layers and the most
    varied channel of the last -> predicted a and b -> predicted ab joined to the photo's own L.
    """
    size = model.config.image_size
    lightness, _, info = preprocess(rgb, size)
    encoder = list(model.encoder.children())
    last_two = {i: encoder[i] for i in (len(encoder) - 2, len(encoder) - 1)}
    ab, features = _forward(model, torch.from_numpy(lightness)[None], last_two)
    ab = ab.float().cpu()[0]
    mid, last = (features[i][0].float() for i in sorted(features))
    strongest = int(last.flatten(1).var(dim=1).argmax())
    limit = max(float(ab.abs().max()), 1e-3)
    magma = {"cmap": "magma"}
    a_map, b_map = ({"cmap": cmap, "vmin": -limit, "vmax": limit} for cmap in (A_CMAP, B_CMAP))
    h, w = np.asarray(rgb).shape[:2]
    panels = [
        (np.asarray(rgb), f"1. photo {h}×{w}×3", {}),
        (lightness[0], f"2. L input {_shape_text(lightness.shape)}", {"cmap": "gray", "vmin": 0, "vmax": 1}),
        (mid.mean(0), f"3. encoder[{len(encoder) - 2}] out {_shape_text(mid.shape)}\n(mean of channels)", magma),
        (last.mean(0), f"4. encoder out {_shape_text(last.shape)}\n(mean of channels)", magma),
        (last[strongest], f"5. encoder channel {strongest}\n{_shape_text(last.shape[1:])}", magma),
        (ab[0], f"6. predicted a {_shape_text(ab.shape[1:])}\n(±{limit:.2f}, normalised)", a_map),
        (ab[1], f"7. predicted b {_shape_text(ab.shape[1:])}\n(±{limit:.2f}, normalised)", b_map),
        (postprocess(rgb, ab.numpy(), info), f"8. L of the photo + ab\n{h}×{w}×3", {}),
    ]
    fig = Figure(figsize=(12, 6.6), layout="constrained")
    axes = fig.subplots(2, 4).ravel()
    for ax, (image, title, kw) in zip(axes, panels, strict=True):
        show_image(ax, np.asarray(image), title, **kw)
    arrow = {"arrowstyle": "-|>", "color": "0.3", "mutation_scale": 14}  # a panel's right edge to the next's left
    for left, right in zip(axes[:-1], axes[1:], strict=True):
        if left.get_subplotspec().rowspan == right.get_subplotspec().rowspan:
            fig.add_artist(
                ConnectionPatch((1.02, 0.5), (-0.02, 0.5), "axes fraction", axesA=left, axesB=right, **arrow)
            )
    fig.suptitle(f"Data flow through the network at working size {size} (arrows: left to right, row by row)")
    return fig
