"""The combination rules in the explorer, without a browser: the reference computation (colorlib.combination_rules
on the stored maps), the page's controls and the Jupyter widget's rule choice and temperature slider."""

from __future__ import annotations

import html
import json
import math

import numpy as np
import pytest
import torch

from colorlib import combination_rules as rules
from colorlib.combination_rules import INITIAL_TEMPERATURE, MEAN, RULES, SOFTMAX, TEMPERATURES
from colorlib.errors import UserError
from colorlib.explorer.blending import Blend, blend_ab, combine_ab
from colorlib.explorer.bundle import explorer_data, to_bundle
from colorlib.explorer.contract import (
    LEARNED_NOTE,
    contract,
    format_colourfulness,
    format_mse,
    format_temperature,
    rule_note,
)
from colorlib.explorer.html import explorer_html
from colorlib.scoring.metrics import mse_ab

from .helpers import fake_evaluation

BGY = [100, 100, 100, 0, 0, 0]  # the initial sliders: blue, yellow, green on (TRAINED_MODELS order)


@pytest.fixture(scope="module")
def data():
    return explorer_data(fake_evaluation(), ab_size=32)


def _members(photo, weights):
    return torch.from_numpy(photo.members_ab[[i for i, w in enumerate(weights) if w > 0]])


# --- the reference computation --------------------------------------------------------------------


def test_every_rule_is_colorlib_rules_on_the_models_with_weight(data):
    p = data.photos[0]
    weights = [30, 0, 70, 0, 0, 5]  # blue, green, baseline; the sizes are ignored
    stack = _members(p, weights)
    expected = {
        "chroma-mean": rules.chroma_mean(stack),
        "median": rules.median(stack),
        "most-saturated": rules.most_saturated(stack),
    }
    for name, want in expected.items():
        got = combine_ab(p.members_ab, weights, name, INITIAL_TEMPERATURE)
        assert got.dtype == np.float64 and got.shape == p.members_ab.shape[1:]
        np.testing.assert_allclose(got, want.numpy(), atol=1e-7)
        assert np.array_equal(got, combine_ab(p.members_ab, [1, 0, 1, 0, 0, 1], name, 3.0))  # weights ignored
    for t in TEMPERATURES:
        np.testing.assert_allclose(combine_ab(p.members_ab, weights, SOFTMAX, t), rules.softmax(stack, t).numpy())


def test_the_temperature_family_runs_from_the_most_saturated_member_to_the_mean(data):
    p = data.photos[1]
    weights = BGY
    ends = combine_ab(p.members_ab, weights, SOFTMAX, 0.0), combine_ab(p.members_ab, weights, SOFTMAX, math.inf)
    assert np.array_equal(ends[0], combine_ab(p.members_ab, weights, "most-saturated", 0.0))
    np.testing.assert_allclose(ends[1], blend_ab(p.members_ab, weights), atol=1e-12)  # equal weights: the mean
    chroma = [np.hypot(*combine_ab(p.members_ab, weights, SOFTMAX, t)).mean() for t in TEMPERATURES]
    assert chroma[0] > chroma[len(chroma) // 2] > chroma[-1]


def test_mean_keeps_the_weights_and_the_exact_mse(data):
    p = data.photos[0]
    for weights in (BGY, [3, 0, 7, 1, 0, 20]):
        old = p.preview(Blend(weights))
        new = p.preview(Blend(weights, MEAN, 0.0))  # the temperature means nothing to the mean
        assert np.array_equal(old.rgb, new.rgb) and old.mse == new.mse == p.stats.mse(weights)
        assert data.mean_mse(Blend(weights, MEAN, 1.0)) == data.mean_mse(Blend(weights))


def test_other_rules_score_the_stored_maps(data):
    for name in ("chroma-mean", "median", "most-saturated", SOFTMAX):
        preview = data.photos[2].preview(Blend(BGY, name, 3.0))
        ab = combine_ab(data.photos[2].members_ab, BGY, name, 3.0)
        assert preview.mse == mse_ab(ab, data.photos[2].true_ab)
        assert preview.rgb.shape == data.photos[2].lightness_q.shape + (3,)
        total = sum(mse_ab(combine_ab(q.members_ab, BGY, name, 3.0), q.true_ab) for q in data.photos)
        assert data.mean_mse(Blend(BGY, name, 3.0)) == pytest.approx(total / len(data.photos), rel=1e-12)


def test_combine_refuses_what_it_cannot_do(data):
    ab = data.photos[0].members_ab
    with pytest.raises(UserError, match="no model"):
        combine_ab(ab, [0] * 6, "median", 1.0)
    with pytest.raises(UserError, match="non-negative"):
        combine_ab(ab, [1, -1, 0, 0, 0, 0], "median", 1.0)
    with pytest.raises(UserError, match="6 weights"):
        combine_ab(ab, [1, 1], "median", 1.0)
    with pytest.raises(UserError, match="unknown rule"):
        combine_ab(ab, BGY, "hue-bands", 1.0)


# --- the page's controls ---------------------------------------------------------------------------


def test_page_offers_every_rule_and_a_temperature_slider(data):
    bundle = to_bundle(data)
    page = explorer_html(bundle)
    assert 'id="rule-select"' in page and 'id="temperature"' in page
    # the page's rules, notes and stops are the contract's, which the bundle carries for explorer.js
    offered = bundle["contract"]["rules"]
    assert [r["name"] for r in offered] == list(RULES)
    for r in offered:
        rule = RULES[r["name"]]  # colorlib.combination_rules' registry
        assert (r["label"], r["uses_weights"], r["uses_temperature"]) == (rule.label, *rule[-2:])
        assert r["note"] == rule_note(r["name"])
        assert f'<option value="{r["name"]}">{html.escape(r["label"])}</option>' in page
    assert "hue-band" not in "".join(RULES) and LEARNED_NOTE.split(":")[0] in page
    stops = bundle["contract"]["temperatures"]
    assert [s["value"] for s in stops] == [None if math.isinf(t) else t for t in TEMPERATURES]
    assert [s["label"] for s in stops] == [format_temperature(t) for t in TEMPERATURES]
    assert f'value="{TEMPERATURES.index(INITIAL_TEMPERATURE)}"' in page
    assert format_temperature(0.0) == "0 (most saturated)" and format_temperature(math.inf) == "∞ (mean)"
    assert bundle["contract"] == contract() and json.loads(json.dumps(contract())) == contract()


# --- the Jupyter widget ------------------------------------------------------------------------------


def _readouts(w):
    return w.images["blend"].value, w.mse_readout.value, w.mse_all_readout.value, w.colourfulness_readout.value


def _expected(data, w):
    weights, rule, t = w.weights(), w.rule.value, w.temperature.value
    preview = data.photos[w.photo.value].preview(Blend(weights, rule, t))
    mean_mse = data.mean_mse(Blend(weights, rule, t))
    return format_mse(preview.mse), format_mse(mean_mse), format_colourfulness(preview.colourfulness)


def test_widget_starts_on_the_mean_as_before(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    assert w.rule.value == MEAN and w.temperature.disabled and w.temperature.layout.display == "none"
    preview = data.photos[0].preview(Blend(BGY))
    assert w.weights() == BGY
    assert w.mse_readout.value == format_mse(preview.mse)
    assert w.mse_all_readout.value == format_mse(data.mean_mse(Blend(BGY)))
    assert w.colourfulness_readout.value == format_colourfulness(preview.colourfulness)
    assert [s.value for s in w.shares.values()] == ["33%", "33%", "33%", "0%", "0%", "0%"]
    assert w.rule_note.value == rule_note(MEAN)


def test_widget_rule_choice_re_combines(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    seen = {_readouts(w)}
    for name in RULES:
        w.rule.value = name
        assert _readouts(w)[1:] == _expected(data, w), name
        assert w.temperature.disabled == (name != SOFTMAX)
        assert (w.temperature.layout.display == "none") == (name != SOFTMAX)
        assert w.rule_note.value == rule_note(name)
        seen.add(_readouts(w))
    assert len({s[0] for s in seen}) == len(RULES)  # every rule draws its own picture
    w.rule.value = "median"
    assert [s.value for s in w.shares.values()] == ["in", "in", "in", "–", "–", "–"]  # weights ignored
    w.sliders["baseline"].value = 7
    assert w.shares["baseline"].value == "in" and _readouts(w)[1:] == _expected(data, w)
    w.photo.value = 2
    assert _readouts(w)[1:] == _expected(data, w)
    w.set_weights({})
    assert w.mse_readout.value == w.mse_all_readout.value == w.colourfulness_readout.value == "–"
    w.set_rule(MEAN)
    w.apply_preset("bgy-combined")
    assert w.mse_all_readout.value == format_mse(data.mean_mse(Blend(BGY))) and w.temperature.disabled


def test_widget_temperature_slider_re_combines(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    w.set_rule(SOFTMAX, 0.0)
    assert not w.temperature.disabled
    most = _readouts(w)
    w.rule.value = "most-saturated"
    assert _readouts(w) == most  # T = 0 is the most saturated member
    w.rule.value = SOFTMAX
    pictures = set()
    for t in TEMPERATURES:
        w.temperature.value = t
        assert _readouts(w)[1:] == _expected(data, w), t
        pictures.add(_readouts(w)[0])
    assert len(pictures) > len(TEMPERATURES) // 2
    w.temperature.value = 1.0
    w.rule.value = "median"
    before = _readouts(w)
    w.temperature.value = 100.0  # a temperature the median has no use for
    assert _readouts(w) == before and w.temperature.disabled
