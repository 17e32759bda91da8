"""Believability measures and the trivial references (grey, constant) behave as defined."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlib import lab
from colorlib.scoring import believability as bel
from colorlib.scoring import no_skill


def random_members(k=3, n=2, size=8, seed=0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(k, n, 2, size, size, generator=gen) * 2 - 1) * 0.6


# --- believability ----------------------------------------------------------------------------------


def test_originals_are_at_distance_zero_from_themselves_and_grey_is_far():
    true = random_members(k=1, n=3, size=16)[0]
    infos = [lab.pad_info(16, 12, 16)] * 3
    same = bel.believability(true, true, infos)
    assert same["hist_distance"] == 0.0 and same["patchiness"] == pytest.approx(1.0)
    grey = bel.believability(torch.zeros_like(true), true, infos)
    assert grey["hist_distance"] > 0.5 and grey["patchiness"] == 0.0 and grey["hue_jumps"] == 0.0


def test_a_constant_image_has_no_gradient_energy_and_noise_is_patchier():
    assert bel.gradient_energy(np.full((8, 8, 2), 30.0)) == 0.0
    rng = np.random.default_rng(0)
    smooth = np.stack(np.meshgrid(np.linspace(-20, 20, 16), np.linspace(-20, 20, 16)), -1)
    noisy = smooth + rng.normal(0, 10, smooth.shape)
    assert bel.gradient_energy(noisy) > bel.gradient_energy(smooth) > 0


def _hist_distance(pred_lab: np.ndarray, true_lab: np.ndarray) -> float:
    """believability's histogram distance of one (4, 4, 2) prediction in Lab units against one original."""
    as_batch = [torch.as_tensor(m.transpose(2, 0, 1)[None] / lab.AB_SCALE) for m in (pred_lab, true_lab)]
    return bel.believability(*as_batch, [lab.pad_info(4, 4, 4)])["hist_distance"]


def test_histogram_distance_is_a_distance_between_palettes():
    red = np.full((4, 4, 2), 50.0)
    assert _hist_distance(red, red) == 0.0
    assert _hist_distance(red, np.full((4, 4, 2), -50.0)) == pytest.approx(1.0)  # no colour in common
    assert _hist_distance(red, np.full((4, 4, 2), 500.0)) == pytest.approx(1.0)  # beyond the bins: the outer one
    half = red.copy()
    half[:2] = -50.0
    assert _hist_distance(half, red) == pytest.approx(0.5)
    # where a colour goes does not matter, only the palette
    shuffled = np.random.default_rng(0).permutation(np.arange(32.0).reshape(16, 2)).reshape(4, 4, 2)
    assert _hist_distance(shuffled, shuffled[::-1, ::-1]) == 0.0
    assert _hist_distance(shuffled, shuffled + 40.0) > 0.5


def test_hue_jumps_count_seams_between_coloured_patches():
    half = np.zeros((4, 8, 2))
    half[:, :4] = [40.0, 0.0]  # red
    half[:, 4:] = [0.0, -40.0]  # blue: a 90° seam down the middle
    assert bel.hue_jump_share(half) == pytest.approx(4 / (4 * 7 + 3 * 8))
    assert bel.hue_jump_share(np.full((4, 8, 2), 40.0)) == 0.0


# --- references -------------------------------------------------------------------------------------


def test_grey_has_no_skill_and_a_perfect_model_has_all():
    assert no_skill.skill(0.016, 0.016) == 0.0
    assert no_skill.skill(0.0, 0.016) == 1.0
    assert no_skill.skill(0.032, 0.016) == -1.0
    light = torch.rand(2, 1, 8, 8)
    assert torch.all(no_skill.grey_prediction(light) == 0) and no_skill.grey_prediction(light).shape == (2, 2, 8, 8)


def test_constant_is_the_training_mean_and_never_a_scored_set(tmp_path):
    from colorlib.data import SplitParams, make_manifest, scan_folder
    from tests.conftest import GOLD, SKY_BLUE, save_photo, textured

    for i in range(6):
        save_photo(tmp_path / f"p{i}.png", textured(i, SKY_BLUE if i % 2 else GOLD, GOLD, size=24))
    manifest = make_manifest(scan_folder(tmp_path), SplitParams(per_colour=0, baseline=4, validation=2), "x")
    mean = no_skill.mean_ab(manifest, tmp_path, 16)
    expected = []
    for name in manifest["sets"]["baseline"]:
        from colorlib.data import load_image

        _, ab, info = lab.preprocess(load_image(tmp_path / name), 16)
        expected.append(lab.unpad(ab.transpose(1, 2, 0), info).reshape(-1, 2))
    np.testing.assert_allclose(mean, np.concatenate(expected).mean(0), atol=1e-9)
    pred = no_skill.constant_prediction(torch.zeros(3, 1, 16, 16), mean)
    np.testing.assert_allclose(pred[:, :, 5, 7].numpy(), np.tile(mean, (3, 1)), rtol=1e-6)
    for scored in ("validation", "test", "calibration"):
        with pytest.raises(ValueError):
            no_skill.mean_ab(manifest, tmp_path, 16, scored)


# --- intervals --------------------------------------------------------------------------------------


def test_bootstrap_intervals_hold_the_estimate_and_pairing_cancels_shared_spread():
    from colorlib.scoring.intervals import mean_interval, paired_ratio

    rng = np.random.default_rng(0)
    hardness = rng.lognormal(0, 1, 300)  # photos differ a lot, for every model alike
    a, b = 0.8 * hardness * rng.uniform(0.9, 1.1, 300), hardness * rng.uniform(0.9, 1.1, 300)
    ci = mean_interval(a)
    assert ci.low < ci.estimate < ci.high and ci.estimate == pytest.approx(a.mean())
    same = paired_ratio(a, a)
    assert (same.estimate, same.low, same.high) == (1.0, 1.0, 1.0)
    paired = paired_ratio(a, b)
    assert 0.7 < paired.low < paired.estimate < paired.high < 0.9  # settled: a is lower, near 0.8
    ia, ib = mean_interval(a), mean_interval(b)
    assert ia.high > ib.low  # yet the two unpaired intervals overlap
    with pytest.raises(ValueError):
        paired_ratio(a, b[:10])
