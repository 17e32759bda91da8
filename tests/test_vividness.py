"""The boosted baseline's scales (colorlib.scoring.vividness), worked by hand on a few pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlib.ensemble import vivid as boost  # the step the boosted rows take, as colorize and the explorer do
from colorlib.lab import PadInfo
from colorlib.scoring.vividness import (
    K_MAX,
    fit_k_mse,
    fit_k_same,
    fit_k_vivid,
    photo_colourfulness,
    photo_mse,
)

# A 1 × 2 photo in the top row of a 2 × 2 working image: the bottom row is padding.
ROW = PadInfo(height=1, width=2, size=2, top=0, left=0, inner_height=1, inner_width=2)


def batch(pixels: list[tuple[float, float]], padding: float = 0.9) -> torch.Tensor:
    """(1, 2, 2, 2) normalised ab: the photo's pixels (a, b) in the top row, `padding` below."""
    ab = torch.full((1, 2, 2, 2), padding)
    for x, (a, b) in enumerate(pixels):
        ab[0, :, 0, x] = torch.tensor([a, b])
    return ab


def test_k_mse_is_least_squares_over_the_photo_pixels_and_both_channels():
    pred, true = batch([(0.1, 0.2), (0.2, -0.1)]), batch([(0.3, 0.2), (0.1, 0.0)], padding=-0.7)
    # Σ p·t = 0.1·0.3 + 0.2·0.2 + 0.2·0.1 + (−0.1)·0 = 0.09; Σ p² = 0.01 + 0.04 + 0.04 + 0.01 = 0.10
    assert fit_k_mse(pred, true, [ROW]) == pytest.approx(0.9)
    assert fit_k_mse(torch.zeros(1, 2, 2, 2), true, [ROW]) == 0.0  # grey has no scale to fit
    assert fit_k_mse(-pred, true, [ROW]) == 0.0  # −0.9 would swap every colour for its opposite: k ≥ 0


def test_k_same_is_on_the_rising_side_of_the_error():
    one = PadInfo(height=1, width=1, size=2, top=0, left=0, inner_height=1, inner_width=1)
    pred = true = batch([(0.2, 0.0)])
    # MSE(k) = ((k − 1)·0.2)² / 2 = 0.02 (k − 1)²: 0.02 at k = 0 and k = 2; boosting means k = 2
    assert photo_mse(boost(pred, 2.0), true, [one]) == pytest.approx([0.02])
    assert fit_k_same(pred, true, [one], 0.02) == pytest.approx(2.0, abs=1e-3)
    assert fit_k_same(pred, true, [one], 0.0) == pytest.approx(1.0, abs=1e-3)  # k_mse itself
    assert fit_k_same(pred, true, [one], 1.0) is None  # more than any k up to K_MAX costs


def test_k_vivid_gives_the_photos_own_colourfulness():
    light = torch.full((1, 1, 2, 2), 0.55)
    true = batch([(0.25, 0.1), (-0.15, 0.3)])
    half = true / 2  # the photo's own colours at half strength: twice them is the photo itself
    target = photo_colourfulness(light, true, [ROW]).mean()
    assert target > 0 and photo_colourfulness(light, half, [ROW]).mean() < target
    assert fit_k_vivid(half, light, [ROW], target) == pytest.approx(2.0, abs=1e-3)
    assert fit_k_vivid(torch.zeros_like(half), light, [ROW], target) is None  # grey stays grey at any k


def test_boost_scales_and_clips_to_the_ab_range():
    ab = torch.tensor([0.1, -0.3, 0.6, -0.9])
    assert boost(ab, 2.0).tolist() == pytest.approx([0.2, -0.6, 1.0, -1.0])
    assert boost(ab, K_MAX).abs().max() == 1.0 and np.allclose(boost(ab, 1.0), ab)
