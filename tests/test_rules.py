"""Combination rules: each rule's defining property, and the learned rule learns from what it is given only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from colorlib import combination_rules as rules
from colorlib import lab


def members_of_one_hue(chromas=(0.1, 0.3, 0.5), hue_deg=40.0, n=2, size=8) -> torch.Tensor:
    """(K, N, 2, S, S): member k predicts chroma chromas[k] at one hue everywhere."""
    u = torch.tensor([math.cos(math.radians(hue_deg)), math.sin(math.radians(hue_deg))])
    return torch.stack([c * u.view(1, 2, 1, 1).expand(n, 2, size, size) for c in chromas]).float()


def random_members(k=3, n=2, size=8, seed=0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(k, n, 2, size, size, generator=gen) * 2 - 1) * 0.6


# --- rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(rules.fixed_rules()))
def test_every_rule_of_identical_members_is_that_member(name):
    one = random_members(1)[0]
    stack = torch.stack([one, one.clone(), one.clone()])
    torch.testing.assert_close(rules.fixed_rules()[name](stack), one, atol=1e-6, rtol=1e-5)


def test_mean_is_the_mean():
    """Worked by hand: members (0.2, -0.4), (0.6, 0.0) and (-0.2, 0.1) average to (0.2, -0.1)."""
    ab = torch.tensor([[0.2, -0.4], [0.6, 0.0], [-0.2, 0.1]])
    stack = ab[:, None, :, None, None].expand(3, 1, 2, 2, 2)
    torch.testing.assert_close(rules.mean(stack), torch.tensor([0.2, -0.1])[None, :, None, None].expand(1, 2, 2, 2))


def test_chroma_mean_keeps_the_chroma_of_members_of_one_hue():
    stack = members_of_one_hue()
    out = rules.chroma_mean(stack)
    torch.testing.assert_close(rules.chroma(out), torch.full_like(rules.chroma(out), 0.3))
    torch.testing.assert_close(out, rules.mean(stack))  # one hue: the mean already keeps it


def test_chroma_mean_keeps_chroma_where_the_mean_shrinks_it():
    stack = torch.cat([members_of_one_hue((0.4,), 0.0), members_of_one_hue((0.4,), 90.0)])
    out = rules.chroma_mean(stack)
    assert rules.chroma(rules.mean(stack)).max() < 0.3  # two hues 90° apart: the mean loses chroma
    torch.testing.assert_close(rules.chroma(out), torch.full_like(rules.chroma(out), 0.4))
    hue = torch.rad2deg(torch.atan2(out[:, 1], out[:, 0]))
    torch.testing.assert_close(hue, torch.full_like(hue, 45.0))  # the mean's hue
    red = members_of_one_hue((0.4,), 0.0)
    opposite = torch.cat([red, -red])
    assert rules.chroma_mean(opposite).abs().max() < 1e-6  # no hue to keep: grey


def test_median_and_most_saturated():
    stack = members_of_one_hue((0.1, 0.5, 0.2))
    torch.testing.assert_close(rules.median(stack), stack[2])
    torch.testing.assert_close(rules.most_saturated(stack), stack[1])
    mixed = random_members(seed=3)
    best = rules.most_saturated(mixed)
    assert torch.all(rules.chroma(best) >= rules.chroma(mixed).amax(0) - 1e-6)


def test_temperature_reaches_the_mean_and_the_most_saturated_member():
    stack = random_members(seed=1)
    torch.testing.assert_close(rules.softmax(stack, math.inf), rules.mean(stack))
    torch.testing.assert_close(rules.softmax(stack, 1e9), rules.mean(stack), atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(rules.softmax(stack, 0.0), rules.most_saturated(stack))
    torch.testing.assert_close(rules.softmax(stack, 1e-4), rules.most_saturated(stack), atol=1e-5, rtol=1e-5)
    chroma = [rules.chroma(rules.softmax(stack, t)).mean().item() for t in (0.0, 1.0, 10.0, 100.0, math.inf)]
    assert chroma == sorted(chroma, reverse=True)  # colder is more saturated
    with pytest.raises(ValueError):
        rules.softmax(stack, -1.0)


def test_hue_bands_fit_known_weights_and_stay_convex():
    stack = random_members(k=3, n=4, size=16, seed=2)
    target = 0.7 * stack[0] + 0.3 * stack[2]
    infos = [lab.pad_info(16, 16, 16)] * 4
    fit = rules.fit_hue_bands(stack, target, infos)
    used = fit.pixels > 0
    np.testing.assert_allclose(fit.weights[used], np.tile([0.7, 0.0, 0.3], (used.sum(), 1)), atol=1e-3)
    np.testing.assert_allclose(fit.weights.sum(axis=1), 1.0)
    torch.testing.assert_close(fit(stack), target, atol=1e-3, rtol=1e-3)
    grey = rules.hue_band(torch.zeros(2, 1, 2, 4, 4))
    assert torch.all(grey == 0)


def test_hue_bands_learn_only_from_what_they_are_given():
    """The fit reads its arguments and nothing else: the same calibration gives the same weights,
    whatever the photos it is later applied to."""
    stack = random_members(k=3, n=3, size=8, seed=4)
    target = rules.mean(stack)
    infos = [lab.pad_info(8, 8, 8)] * 3
    a = rules.fit_hue_bands(stack, target, infos)
    fitted = a.weights.copy()
    other = random_members(k=3, n=5, size=8, seed=9)
    a(other)  # applying the fit to other photos leaves it as it was
    np.testing.assert_array_equal(a.weights, fitted)
    # and it did learn from what it was given: the first member as target gives other weights
    first = rules.fit_hue_bands(stack, stack[0], infos)
    used = first.pixels > 0
    assert not np.allclose(first.weights[used], fitted[used], atol=1e-3)
    np.testing.assert_allclose(first.weights[used][:, 0], 1.0, atol=1e-3)
