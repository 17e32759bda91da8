"""Scores for colorizations: the paper's loss (`mse_ab`, of normalised ab in [-1, 1]) and the numbers it
judged by eye. `colourfulness` (Hasler & Süsstrunk 2003) puts a number on what the paper called "vivid"
or "desaturated" by looking.

All per-photo scores are computed on the photo's area of the working image (padding excluded),
with predicted and true ab joined to the same L, so only colour is compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from skimage.color import deltaE_ciede2000

from ..lab import AB_SCALE, PadInfo, join_lab, unpad

METRICS = ("mse", "psnr", "delta_e", "colourfulness", "chroma")


def photo_areas(ab: np.ndarray | torch.Tensor, infos: Sequence[PadInfo]) -> list[np.ndarray]:
    """Each photo's area of a normalised (N, 2, S, S) ab batch, (h, w, 2) in float64 (padding cut off)."""
    return [unpad(np.asarray(ab[i], dtype=np.float64).transpose(1, 2, 0), info) for i, info in enumerate(infos)]


def mse_ab(pred: np.ndarray | torch.Tensor, target: np.ndarray | torch.Tensor) -> float:
    """Mean squared error of normalised ab maps."""
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    return float(np.mean(diff**2))


def psnr(rgb: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of float RGB in [0, 1]; infinite for identical images."""
    err = np.mean((np.asarray(rgb, np.float64) - np.asarray(reference, np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10(1.0 / err))


def delta_e(lab: np.ndarray, reference_lab: np.ndarray) -> float:
    """Mean CIEDE2000 difference between two Lab images (about 2.3 is a just-noticeable difference)."""
    return float(np.mean(deltaE_ciede2000(reference_lab, lab)))


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler-Süsstrunk M = sigma_rgyb + 0.3 mu_rgyb on 0-255 RGB, of RGB (float in [0, 1] or uint8);
    0 for a grey image."""
    rgb = np.asarray(rgb, dtype=np.float64)
    if rgb.max() <= 1.0:
        rgb = rgb * 255.0
    r, g, b = rgb[..., 0].ravel(), rgb[..., 1].ravel(), rgb[..., 2].ravel()
    rg = r - g
    yb = 0.5 * (r + g) - b
    sigma = np.hypot(rg.std(), yb.std())
    mu = np.hypot(rg.mean(), yb.mean())
    return float(sigma + 0.3 * mu)


def mean_chroma(ab: np.ndarray) -> float:
    """Mean chroma of an ab map in Lab units, (..., 2) last axis a, b."""
    ab = np.asarray(ab, dtype=np.float64)
    return float(np.mean(np.hypot(ab[..., 0], ab[..., 1])))


@dataclass(frozen=True)
class PhotoScores:
    mse: float
    psnr: float
    delta_e: float
    colourfulness: float
    chroma: float


def score_photo(lightness01: np.ndarray, ab_pred: np.ndarray, ab_true: np.ndarray, info: PadInfo) -> PhotoScores:
    """Scores of one prediction: inputs at working size, L (1, S, S) in [0, 1], ab (2, S, S) in [-1, 1]."""
    lightness = unpad(np.asarray(lightness01)[0], info) * 100.0
    pred = unpad(np.asarray(ab_pred).transpose(1, 2, 0), info) * AB_SCALE
    true = unpad(np.asarray(ab_true).transpose(1, 2, 0), info) * AB_SCALE
    lab_pred = np.concatenate([lightness[..., None], pred], axis=-1)
    lab_true = np.concatenate([lightness[..., None], true], axis=-1)
    rgb_pred = join_lab(lightness, pred)
    rgb_true = join_lab(lightness, true)
    return PhotoScores(
        mse=mse_ab(pred / AB_SCALE, true / AB_SCALE),
        psnr=psnr(rgb_pred, rgb_true),
        delta_e=delta_e(lab_pred, lab_true),
        colourfulness=colourfulness(rgb_pred),
        chroma=mean_chroma(pred),
    )


def score_set(
    lightness: torch.Tensor, ab_pred: torch.Tensor, ab_true: torch.Tensor, infos: list[PadInfo]
) -> list[PhotoScores]:
    """Scores of every photo of a batch."""
    return [
        score_photo(lightness[i].numpy(), ab_pred[i].numpy(), ab_true[i].numpy(), infos[i]) for i in range(len(infos))
    ]


def summarize(scores: list[PhotoScores]) -> dict[str, float]:
    """Mean of each score over photos."""
    return {name: float(np.mean([getattr(s, name) for s in scores])) for name in METRICS}


def original_scores(lightness: torch.Tensor, ab_true: torch.Tensor, infos: list[PadInfo]) -> dict[str, float]:
    """Colourfulness and chroma of the originals themselves (the reference for vividness)."""
    means = summarize(score_set(lightness, ab_true, ab_true, infos))
    return {"colourfulness": means["colourfulness"], "chroma": means["chroma"]}
