"""The statistics of the training benchmark's loss check (benchmarks/paired.py): it must report no
difference where there is none, find one that is there, and say how small a difference it can see."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import paired  # noqa: E402


def curves(n_pairs=3, steps=300, seed=0):
    """Loss curves that jump from batch to batch (the photos' difficulty) around a slow fall."""
    rng = np.random.default_rng(seed)
    trend = 0.05 * np.exp(-np.arange(steps) / 80) + 0.02
    return [trend * rng.lognormal(0, 0.5, steps) for _ in range(n_pairs)]


def test_identical_curves_differ_by_nothing():
    ref = curves()
    d = paired.paired_difference([c.copy() for c in ref], ref, start=100)
    assert d.estimate == 0 and d.low == 0 and d.high == 0
    assert d.within(0.05) and d.pairs == 3 and d.steps == 200


def test_a_real_difference_is_found_and_its_size_recovered():
    ref = curves()
    rng = np.random.default_rng(1)
    fast = [c * 1.10 * rng.lognormal(0, 0.05, len(c)) for c in ref]  # 10 % worse, plus drift between the models
    d = paired.paired_difference(fast, ref, start=100)
    assert d.low <= 0.10 <= d.high + 0.01
    assert d.low > 0.05 and not d.within(0.05)
    assert 0 < d.detectable < 0.05  # pairing removes the batches' own spread: small differences are visible


def test_unpaired_noise_makes_the_check_weaker():
    """Curves from different batch orders (no pairing) leave the batches' spread in: a far larger
    detectable difference, which is why the benchmark pairs the two paths."""
    ref, other = curves(seed=0), curves(seed=7)
    paired_d = paired.paired_difference([c * 1.01 for c in ref], ref, start=100)
    unpaired_d = paired.paired_difference(other, ref, start=100)
    assert unpaired_d.detectable > 5 * paired_d.detectable


def test_mismatched_curves_are_refused():
    with pytest.raises(ValueError):
        paired.paired_difference([np.ones(300)], [np.ones(200)], start=100)
    with pytest.raises(ValueError):
        paired.paired_difference([], [], start=0)


def test_interleaved_ratio_is_the_median_with_its_range():
    assert paired.interleaved_ratio([10, 12, 30], [2, 4, 5]) == (5.0, 3.0, 6.0)
