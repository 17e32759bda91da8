"""Colorizers: one trained network, or a weighted average of several (the paper's combined models).

Every colorizer maps L (N, 1, S, S) in [0, 1] to ab (N, 2, S, S) in [-1, 1] through the same
`predict_ab` method, so a combined model is used exactly like a trained one. Blending is linear in
the members' predictions, which is what lets the explorer re-blend without re-running a network.
An ensemble may instead combine its members by a rule (:mod:`colorlib.combination_rules`), and scale the
result's colours by a vividness k.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from . import ALL_MODELS, COMBINED_MODELS, TRAINED_MODELS
from .checkpoint import checkpoint_path, load_model
from .device import autocast, resolve_precision
from .errors import UserError
from .lab import postprocess, preprocess_lightness_batch

VIVIDNESS_RANGE = (0.0, 3.0)  # k: the blend's ab times k, clipped (1: the blend itself)


def normalize_weights(
    weights: Sequence[float], n_members: int | None = None, all_zero: str = "weights must not all be zero"
) -> np.ndarray:
    """Check ensemble weights (count, finite, non-negative, positive sum) and scale them to sum to 1: every
    blend in the package does so here; `all_zero` is the message when they are all zero."""
    w = np.asarray(list(weights), dtype=np.float64)
    if n_members is not None and w.shape != (n_members,):
        raise UserError(f"expected {n_members} weights (one per model), got {w.size}")
    if not np.all(np.isfinite(w)):
        raise UserError("weights must be finite numbers")
    if np.any(w < 0):
        raise UserError("weights must be non-negative")
    if w.sum() <= 0:
        raise UserError(all_zero)
    return w / w.sum()


def blend(predictions: np.ndarray | torch.Tensor, weights: Sequence[float]):
    """Weighted average over the first axis (one entry per member) with normalised weights."""
    w = normalize_weights(weights, len(predictions))
    if isinstance(predictions, torch.Tensor):
        wt = torch.as_tensor(w, dtype=predictions.dtype, device=predictions.device)
        return torch.tensordot(wt, predictions, dims=1)
    return np.tensordot(w, np.asarray(predictions), axes=1)


def check_vividness(k: float) -> float:
    """A vividness k in VIVIDNESS_RANGE, else a UserError (NaN and infinity included)."""
    low, high = VIVIDNESS_RANGE
    if not (math.isfinite(k) and low <= k <= high):
        raise UserError(f"the vividness must be a number from {low:g} to {high:g} (1: the blend itself), got {k:g}")
    return float(k)


def vivid(ab, k: float):
    """The vividness step after the blend or rule, for torch and numpy alike: ab times k, clipped to [-1, 1].

    k = 1 returns ``ab`` itself, untouched: the blend exactly as it was before this control existed. The
    explorer's reference arithmetic (float64) and its page (explorer-core.js) do the same."""
    return ab if k == 1 else (ab * float(k)).clip(-1.0, 1.0)


class Colorizer:
    """Base interface: `predict_ab` on a batch of L tensors."""

    name: str = "colorizer"
    image_size: int = 256

    def predict_ab(self, lightness: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        raise NotImplementedError

    def colorize(self, rgb: np.ndarray) -> np.ndarray:
        """A photo (uint8 RGB, any size) -> its colorized version at the same resolution."""
        return self.colorize_many([rgb])[0]

    def colorize_many(self, photos: Sequence[np.ndarray], batch_size: int = 16) -> list[np.ndarray]:
        """Several photos at once: one batched network pass, each result at its photo's resolution.

        Colorlib's fast path: only L is computed on the way in, and the way back is
        :func:`colorlib.lab.postprocess` (float32 upsampling and Lab -> sRGB, within one level of the
        float64 reference on a rare pixel). Pictures only: no score is computed from these.
        """
        lightness, infos = preprocess_lightness_batch(photos, self.image_size)
        ab = self.predict_ab(torch.from_numpy(lightness), batch_size).numpy()
        return [postprocess(rgb, ab[i], info) for i, (rgb, info) in enumerate(zip(photos, infos, strict=True))]


class TrainedColorizer(Colorizer):
    """One trained network from a checkpoint."""

    def __init__(self, checkpoint: Path, name: str | None = None, device: str = "cpu", precision: str = "fp32"):
        self.checkpoint = Path(checkpoint)
        self.device = torch.device(device)
        self.model, self.state = load_model(checkpoint, self.device)
        self.name = name or self.state["train_config"]["dataset"]
        self.image_size = self.state["model_config"]["image_size"]
        self.precision = resolve_precision(precision, self.device)
        # channels-last is what makes oneDNN/cuDNN fast under bf16 (benchmarks/bench_colorize.py)
        fast = self.precision == "bf16" or self.device.type == "cuda"
        self.memory_format = torch.channels_last if fast else torch.contiguous_format
        self.model = self.model.to(memory_format=self.memory_format)

    @torch.no_grad()
    def predict_ab(self, lightness: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        outs = []
        for chunk in torch.split(lightness, batch_size):
            x = chunk.to(self.device).contiguous(memory_format=self.memory_format)
            with autocast(self.device, self.precision):
                outs.append(self.model(x).float().cpu())
        return torch.cat(outs)


class Ensemble(Colorizer):
    """A weighted average of members' ab predictions (equal weights: the paper's combined models), or with a
    `rule` (a stack of member predictions -> one) the members whose weight is above zero combined by it as
    equals, the explorer's way; either scaled by the vividness (:func:`vivid`)."""

    def __init__(
        self,
        members: Sequence[Colorizer],
        weights: Sequence[float] | None = None,
        name: str = "ensemble",
        rule: Callable[[torch.Tensor], torch.Tensor] | None = None,
        vividness: float = 1.0,
    ):
        if not members:
            raise UserError("an ensemble needs at least one model")
        sizes = {m.image_size for m in members}
        if len(sizes) != 1:
            raise UserError(f"ensemble members use different image sizes: {sorted(sizes)}")
        self.members = list(members)
        self.weights = normalize_weights([1.0] * len(members) if weights is None else weights, len(members))
        self.name = name
        self.image_size = sizes.pop()
        self.rule = rule
        self.vividness = check_vividness(vividness)

    def predict_ab(self, lightness: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        preds = torch.stack([m.predict_ab(lightness, batch_size) for m in self.members])
        if self.rule is None:
            return vivid(blend(preds, self.weights), self.vividness)
        return vivid(self.rule(preds[torch.from_numpy(self.weights > 0)]), self.vividness)


def expand_model_names(names: Sequence[str]) -> list[str]:
    """Check model names (the one place it is done: a UserError lists the valid ones); combined names stand
    for their members (the paper's equal-weight averages)."""
    out = []
    for name in names:
        if name in COMBINED_MODELS:
            out.extend(COMBINED_MODELS[name])
        elif name in TRAINED_MODELS:
            out.append(name)
        else:
            raise UserError(f"unknown model {name!r}; choose from: {', '.join(ALL_MODELS)}")
    return out


def load_colorizer(
    names: Sequence[str],
    checkpoint_dir: Path,
    weights: Sequence[float] | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    rule: Callable[[torch.Tensor], torch.Tensor] | None = None,
    vividness: float = 1.0,
) -> Ensemble:
    """One model, a combined model, or a weighted blend of several, from a checkpoint folder (see
    :class:`Ensemble` for the rule and the vividness)."""
    weights = [1.0] * len(names) if weights is None else weights
    normalize_weights(weights, len(names))  # the user's own weights must be valid as given
    groups = [expand_model_names([name]) for name in names]  # fail on a bad name or setting before loading anything
    check_vividness(vividness)
    members: list[Colorizer] = []
    member_weights: list[float] = []
    for group, w in zip(groups, weights, strict=True):
        for part in group:
            members.append(TrainedColorizer(checkpoint_path(checkpoint_dir, part), part, device, precision))
            member_weights.append(float(w) / len(group))
    label = "+".join(names) if len(names) > 1 else names[0]
    return Ensemble(members, member_weights, label, rule, vividness)
