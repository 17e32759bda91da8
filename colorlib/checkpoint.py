"""Checkpoint files: written atomically by training (:mod:`colorlib.train`), read safely here by everything
that uses a model (colorizing, evaluation, the study), so that using a model never imports the training code."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import torch

from .errors import UserError
from .files import atomic_write
from .model import ColorNet, ModelConfig, read_torch_file

CHECKPOINT_FORMAT = "colorlib-checkpoint/1"


def checkpoint_path(checkpoint_dir: Path, name: str) -> Path:
    """Where a model's checkpoint lives in a checkpoint folder."""
    return Path(checkpoint_dir) / f"{name}.pt"


def save_checkpoint(state: dict, path: Path) -> None:
    """Write atomically: a crash mid-write never leaves a half checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda out: torch.save(state, out))


def load_checkpoint(path: Path) -> dict:
    """Read a checkpoint safely (weights_only); a bad file is a user error, not a traceback."""
    path = Path(path)
    state = read_torch_file(path, "checkpoint", "checkpoint", "; delete it and train again")
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path}: not a colorlib checkpoint")
    missing = [name for name in ("model", "model_config") if not isinstance(state.get(name), dict)]
    unknown = [] if missing else sorted(set(state["model_config"]) - {f.name for f in fields(ModelConfig)})
    if missing or unknown:
        problem = f"no {missing[0]} entry" if missing else f"unknown model_config key {unknown[0]!r}"
        raise UserError(f"{path}: a damaged checkpoint ({problem}); delete it and train again")
    return state


def load_model(path: Path, device: torch.device | str = "cpu") -> tuple[ColorNet, dict]:
    """A trained network in eval mode, with its checkpoint's metadata."""
    state = load_checkpoint(path)
    # the trained weights replace any starting point
    model = ColorNet(ModelConfig(**{**state["model_config"], "encoder_weights": "none"}))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError:
        raise UserError(f"{path}: weights do not match the colorlib network") from None
    model.to(device).eval()
    return model, state
