"""Trivial references that every table and claim is measured against.

- `grey`: ab = 0 everywhere, i.e. the grayscale photo itself. Under MSE it is a strong answer,
  because most landscape pixels are close to grey, so a model's *skill* is reported as
  1 − MSE / MSE(grey): the share of grey's error the model removed (0 for grey itself, 1 for a
  perfect colorization, negative for a model worse than no colour at all).
- `constant`: one colour everywhere, the mean ab of the baseline's training photos (the
  MSE-optimal constant for those photos). It is fitted on training photos only, never on the
  photos it is scored on.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from ..data import load_set
from ..lab import preprocess, unpad

REFERENCES = ("grey", "constant")
CLOSE_TO_BASELINE = 0.25  # "close to" the baseline = at most 25 % above its loss (the paper's claims and the study)
CONSTANT_SET = "baseline"  # the training set whose mean colour is the constant reference


def grey_prediction(lightness: torch.Tensor) -> torch.Tensor:
    """ab = 0 for a batch of L (N, 1, S, S): the grayscale photo itself."""
    return torch.zeros(lightness.shape[0], 2, *lightness.shape[2:], dtype=torch.float32)


def constant_prediction(lightness: torch.Tensor, mean_ab: np.ndarray) -> torch.Tensor:
    """The same normalised ab (2,) at every pixel of a batch of L (N, 1, S, S)."""
    ab = torch.as_tensor(np.asarray(mean_ab, dtype=np.float32)).view(1, 2, 1, 1)
    return ab.expand(lightness.shape[0], 2, *lightness.shape[2:]).clone()


def mean_ab(manifest: Mapping, data_dir: Path, size: int, set_name: str = CONSTANT_SET) -> np.ndarray:
    """Normalised mean ab (2,) over every pixel of a training set's photos at the working size.

    Only the named set is read (one photo at a time, padding excluded), so the constant reference
    never sees a validation or test colour unless it is asked for one: a name of a scored set is
    refused.
    """
    if set_name in ("validation", "test", "calibration"):
        raise ValueError(f"the constant reference is fitted on training photos, not on {set_name!r}")
    total, count = np.zeros(2), 0
    for _, rgb in load_set(dict(manifest), set_name, Path(data_dir)):
        _, ab, info = preprocess(rgb, size)
        pixels = unpad(ab.transpose(1, 2, 0), info).reshape(-1, 2).astype(np.float64)
        total += pixels.sum(axis=0)
        count += len(pixels)
    return total / max(count, 1)


def skill(mse: float, grey_mse: float) -> float:
    """1 − MSE / MSE(grey): the share of grey's error a model removed (0 for grey, 1 if perfect)."""
    return 1.0 - mse / grey_mse if grey_mse > 0 else float("nan")
