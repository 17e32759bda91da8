"""Ensembles: validated weights, linear blending, the same interface as a trained model."""

import numpy as np
import pytest
import torch

from colorlib.ensemble import Colorizer, Ensemble, blend, expand_model_names, load_colorizer, normalize_weights
from colorlib.errors import UserError


class Constant(Colorizer):
    def __init__(self, value, size=32):
        self.value, self.image_size, self.name = value, size, f"c{value}"

    def predict_ab(self, lightness, batch_size=16):
        return torch.full((len(lightness), 2, *lightness.shape[2:]), float(self.value))


def test_weights_are_normalised():
    np.testing.assert_allclose(normalize_weights([2, 2, 4], 3), [0.25, 0.25, 0.5])


@pytest.mark.parametrize(
    "weights, match",
    [
        ([1, 2], "expected 3"),
        ([1, -1, 1], "non-negative"),
        ([0, 0, 0], "all be zero"),
        ([1, float("nan"), 1], "finite"),
    ],
)
def test_bad_weights_are_user_errors(weights, match):
    with pytest.raises(UserError, match=match):
        normalize_weights(weights, 3)


def test_equal_weights_are_the_mean_of_members():
    ens = Ensemble([Constant(0.2), Constant(-0.4), Constant(0.8)])
    out = ens.predict_ab(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 2, 32, 32)
    assert torch.allclose(out, torch.full_like(out, (0.2 - 0.4 + 0.8) / 3))


def test_blend_is_linear_for_numpy_and_torch():
    rng = np.random.default_rng(0)
    preds = rng.uniform(-1, 1, (3, 2, 2, 4, 4))
    w = [1.0, 0.0, 3.0]
    expected = 0.25 * preds[0] + 0.75 * preds[2]
    np.testing.assert_allclose(blend(preds, w), expected)
    np.testing.assert_allclose(blend(torch.from_numpy(preds), w).numpy(), expected)


def test_ensemble_colorizes_like_a_model_at_full_resolution():
    rgb = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    out = Ensemble([Constant(0.3), Constant(0.1)], [1, 1]).colorize(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8


def test_members_of_different_sizes_are_refused():
    with pytest.raises(UserError, match="image sizes"):
        Ensemble([Constant(0, 32), Constant(0, 64)])


def test_model_names_expand_and_unknown_names_fail():
    assert expand_model_names(["bgy-combined", "baseline"]) == ["blue", "green", "yellow", "baseline"]
    with pytest.raises(UserError, match="unknown model"):
        expand_model_names(["purple"])


def test_vividness_scales_after_the_blend_and_clips():
    lightness = torch.zeros(1, 1, 32, 32)
    scaled = Ensemble([Constant(0.2), Constant(0.4)], vividness=2.5).predict_ab(lightness)
    assert torch.allclose(scaled, torch.tensor(0.75))
    assert torch.all(Ensemble([Constant(0.5), Constant(0.9)], vividness=3).predict_ab(lightness) == 1.0)
    assert torch.all(Ensemble([Constant(-0.6)], vividness=2).predict_ab(lightness) == -1.0)
    for k in (-0.5, 3.5, float("nan"), float("inf")):
        with pytest.raises(UserError, match="vividness must be a number from 0 to 3"):
            Ensemble([Constant(0.2)], vividness=k)


def test_a_rule_combines_the_members_of_weight_above_zero_then_vividness():
    seen = []

    def largest(stack):
        seen.append(len(stack))
        return stack.max(dim=0).values

    ens = Ensemble([Constant(0.2), Constant(0.9), Constant(0.3)], [1, 0, 2], rule=largest, vividness=2)
    out = ens.predict_ab(torch.zeros(2, 1, 32, 32))
    assert seen == [2] and torch.allclose(out, torch.full_like(out, 0.6))


def test_bad_vividness_fails_before_loading_a_checkpoint(tmp_path):
    with pytest.raises(UserError, match="vividness"):
        load_colorizer(["blue"], tmp_path / "no such folder", vividness=4)
