"""Checkpoint files: written atomically by training, read safely by everything that uses a model.

Training writes them (:mod:`colorlib.train`); colorizing, evaluation and the study read them
through this module, so using a model never imports the training code.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import torch

from .errors import UserError
from .files import atomic_write
from .model import ColorNet, ModelConfig

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
    if not path.is_file():
        raise UserError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001
        raise UserError(
            f"{path}: not a readable checkpoint ({exc.__class__.__name__}); delete it and train again"
        ) from None
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
    cfg = dict(state["model_config"])
    cfg["encoder_weights"] = "none"  # the trained weights replace any starting point
    model = ColorNet(ModelConfig(**cfg))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError:
        raise UserError(f"{path}: weights do not match the colorlib network") from None
    model.to(device).eval()
    return model, state
