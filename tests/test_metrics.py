"""Metrics: Table I's loss, PSNR, CIEDE2000 and colourfulness behave as defined."""

import numpy as np
import pytest

from colorlib import lab
from colorlib.scoring import metrics


def test_mse_ab_is_mean_squared_difference():
    assert metrics.mse_ab(np.zeros((2, 4, 4)), np.full((2, 4, 4), 0.5)) == pytest.approx(0.25)


def test_psnr_known_value_and_identity():
    a = np.zeros((4, 4, 3))
    assert metrics.psnr(a, a) == float("inf")
    assert metrics.psnr(a + 0.1, a) == pytest.approx(20.0)


def test_colourfulness_zero_for_grey_and_orders_vividness():
    grey = np.full((8, 8, 3), 128, np.uint8)
    assert metrics.colourfulness(grey) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    vivid = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    dull = (0.3 * vivid + 0.7 * vivid.mean(axis=2, keepdims=True)).astype(np.uint8)
    assert metrics.colourfulness(vivid) > metrics.colourfulness(dull) > 0


def test_delta_e_zero_for_same_and_positive_for_different():
    x = lab.rgb_to_lab(np.full((4, 4, 3), 100, np.uint8))
    y = lab.rgb_to_lab(np.full((4, 4, 3), [120, 100, 100], np.uint8))
    assert metrics.delta_e(x, x) == pytest.approx(0.0)
    assert metrics.delta_e(x, y) > 2


def test_score_photo_perfect_prediction():
    rgb = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    lightness, ab, info = lab.preprocess(rgb, 32)
    s = metrics.score_photo(lightness, ab, ab, info)
    assert s.mse == 0 and s.delta_e == pytest.approx(0) and s.psnr == float("inf")
    grey = metrics.score_photo(lightness, np.zeros_like(ab), ab, info)
    assert grey.mse > 0 and grey.chroma == pytest.approx(0) and grey.colourfulness < s.colourfulness
