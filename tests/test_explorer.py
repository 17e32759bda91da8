"""The ensemble-weight explorer without a browser: data, reference blend, bundle, HTML, widget."""

from __future__ import annotations

import html
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import deltaE_ciede2000

from colorlib import COMBINED_MODELS, TRAINED_MODELS
from colorlib.combination_rules import MEAN, SOFTMAX
from colorlib.errors import UserError
from colorlib.explorer.blending import (
    Blend,
    MseStats,
    blend_ab,
    blend_preview,
    combine_ab,
    dequantize_ab,
    dequantize_lightness,
    in_colour,
    normalized_weights,
    quantize_ab,
    quantize_lightness,
    render,
    upsample_bilinear,
    vivid,
)
from colorlib.explorer.bundle import explorer_data, export_explorer_data, from_bundle, load_explorer_data, to_bundle
from colorlib.explorer.contract import (
    APPROXIMATE_MESSAGE,
    DATA,
    ID_PREFIXES,
    IDS,
    OWN_NO_TRUTH,
    OWN_SCORED,
    PRESETS,
    ROOT,
    TEXT,
    VIVIDNESS_INITIAL,
    VIVIDNESS_MAX,
    VIVIDNESS_MIN,
    VIVIDNESS_STEP,
    ZERO_MESSAGE,
    Preset,
    format_colourfulness,
    format_delta_e,
    format_mse,
)
from colorlib.explorer.html import explorer_html
from colorlib.explorer.own import OwnPhoto
from colorlib.lab import pad_info, preprocess
from colorlib.paper.evaluate import score_predictions
from colorlib.scoring.metrics import mse_ab

from .helpers import REPO, fake_evaluation

JS = ("explorer-core.js", "explorer.js", "explorer-own.js")


@pytest.fixture(scope="module")
def ev():
    return fake_evaluation()


@pytest.fixture(scope="module")
def data(ev):
    return explorer_data(ev, ab_size=32)


# --- the reference computation --------------------------------------------------------------------


def test_quantisation_round_trip_is_within_half_a_step():
    L = np.linspace(0, 100, 1001)
    assert np.abs(dequantize_lightness(quantize_lightness(L)) - L).max() <= 100 / 255 / 2 + 1e-12
    ab = np.linspace(-1, 1, 1001)
    assert np.abs(dequantize_ab(quantize_ab(ab)) - ab).max() <= 1 / 127 / 2 + 1e-12
    assert dequantize_ab(quantize_ab(np.zeros(3))).tolist() == [0.0, 0.0, 0.0]  # grey stays grey


def test_upsample_bilinear_matches_torch_and_is_identity_at_same_size():
    rng = np.random.default_rng(1)
    maps = rng.standard_normal((2, 7, 5))
    assert np.array_equal(upsample_bilinear(maps, 7, 5), maps)
    ours = upsample_bilinear(maps, 20, 13)
    theirs = torch.nn.functional.interpolate(
        torch.from_numpy(maps)[None], size=(20, 13), mode="bilinear", align_corners=False
    )
    np.testing.assert_allclose(ours, theirs[0].numpy(), atol=1e-12)


def test_mse_stats_equal_the_direct_mse_of_the_full_size_blend(ev):
    i, box = 0, ev.validation.infos[0].box
    members = np.stack([ev.predictions[m][i].numpy()[(slice(None), *box)] for m in TRAINED_MODELS]).astype(np.float64)
    truth = ev.validation.ab[i].numpy()[(slice(None), *box)]
    stats = MseStats.from_maps(members, truth)
    for weights in ([1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], [3, 0, 7, 1, 0, 20]):
        w = np.asarray(weights, float) / sum(weights)
        direct = mse_ab(np.tensordot(w, members, axes=1), truth)
        assert stats.mse(weights) == pytest.approx(direct, rel=1e-9, abs=1e-15)


def test_preset_mean_mse_equals_the_evaluation_of_the_combined_model(ev, data):
    """The readout for a preset is Table I's number: the evaluation's MSE of the combined model."""
    for name in COMBINED_MODELS:
        assert data.mean_mse(Blend(list(data.presets[name].values()))) == pytest.approx(
            ev.summary[name]["mse"], rel=1e-6
        )


def test_blend_preview_normalises_weights_and_changes_with_them(data):
    p = data.photos[0]
    a = blend_preview(p.lightness, p.members_ab, [1, 1, 0, 0, 0, 0], p.stats)
    b = blend_preview(p.lightness, p.members_ab, [50, 50, 0, 0, 0, 0], p.stats)
    c = blend_preview(p.lightness, p.members_ab, [0, 0, 0, 0, 0, 1], p.stats)
    assert a.rgb.dtype == np.uint8 and a.rgb.shape == p.lightness_q.shape + (3,)
    assert np.array_equal(a.rgb, b.rgb) and a.mse == b.mse and a.colourfulness == b.colourfulness
    assert not np.array_equal(a.rgb, c.rgb) and a.mse != c.mse
    assert math.isnan(blend_preview(p.lightness, p.members_ab, [1] * 6).mse)  # no stats, no MSE


def test_all_zero_weights_say_what_to_do(data):
    p = data.photos[0]
    with pytest.raises(UserError, match="All weights are zero"):
        blend_preview(p.lightness, p.members_ab, [0] * 6, p.stats)
    with pytest.raises(UserError, match="non-negative"):
        blend_preview(p.lightness, p.members_ab, [1, -1, 0, 0, 0, 0], p.stats)


def test_photo_is_cropped_to_its_area_and_grayscale_is_grey(ev, data):
    for p, info in zip(data.photos, ev.validation.infos, strict=True):
        assert p.lightness_q.shape == (info.inner_height, info.inner_width)
        assert p.ab_q.shape[:2] == (len(TRAINED_MODELS) + 1, 2)
        gray = p.grayscale().astype(int)
        assert np.abs(gray[..., 0] - gray[..., 1]).max() <= 1 and np.abs(gray[..., 1] - gray[..., 2]).max() <= 1


# --- bundle and page markup ------------------------------------------------------------------------


def test_bundle_round_trip_gives_the_same_arrays(data, tmp_path):
    again = from_bundle(json.loads(json.dumps(to_bundle(data))))
    assert again.models == data.models and len(again.photos) == len(data.photos)
    for a, b in zip(again.photos, data.photos, strict=True):
        assert np.array_equal(a.lightness_q, b.lightness_q) and np.array_equal(a.ab_q, b.ab_q)
        assert a.stats == b.stats
    path = export_explorer_data(fake_evaluation(n=2), tmp_path / "static", ab_size=32)
    assert path.name == "explorer.json" and load_explorer_data(path).photos[1].name == "photo_01.jpg"
    with pytest.raises(UserError, match="no explorer bundle"):
        load_explorer_data(tmp_path / "missing.json")


def test_bundle_for_32_photos_at_256_px_is_small(tmp_path):
    ev = fake_evaluation(n=32, size=256, shapes=[(300, 300)])
    path = export_explorer_data(ev, tmp_path, max_photos=32, ab_size=128)
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 5.0, f"explorer bundle is {size_mb:.2f} MB"
    assert len(json.loads(path.read_text())["photos"]) == 32


def test_presets_need_all_their_models(ev):
    partial = score_predictions(ev.validation, {m: ev.predictions[m] for m in ("blue", "yellow", "baseline")})
    data = explorer_data(partial, ab_size=32)
    assert data.models == ["blue", "yellow", "baseline"]
    assert set(data.presets) == {"by-combined", "baseline only"}
    assert data.initial_weights() == {"blue": 100, "yellow": 100, "baseline": 100}  # no bgy: all on
    with pytest.raises(UserError, match="no trained model"):
        explorer_data(score_predictions(ev.validation, {}))


def test_explorer_html_has_the_controls_and_inline_data(data):
    """Every id and word of the contract, the presets and the data, which cannot break out of its tag."""
    bundle = to_bundle(data)
    bundle["photos"][0]["name"] = "a</script><b>.jpg"  # must not break out of the data tag
    page = explorer_html(bundle, web={"unavailable": "no Node"})
    assert page.startswith(f'<div id="{ROOT}"') and 'type="range"' in page
    for ident in [*IDS.values(), *(ID_PREFIXES["weight"] + m for m in TRAINED_MODELS)]:
        assert f'id="{ident}"' in page
    for key in ("photo", "presets", "rule", "temperature", "mse", "colourfulness", "own_head", "own_save", "notes"):
        assert TEXT[key] in html.unescape(page), key
    assert f"{TEXT['mse_all'].format(n=len(data.photos))} <span" in page
    for name in PRESETS:
        assert f'data-preset="{name}"' in page
    assert page.count("</script>") == 1 and "a&lt;/script&gt;&lt;b&gt;.jpg" in page
    start = page.index(f'class="{DATA}">') + len(f'class="{DATA}">')
    assert json.loads(page[start : page.index("</script>")]) == json.loads(json.dumps(bundle))


def test_the_scripts_hard_code_no_id_or_word_of_the_contract():
    """They read the bundle's contract; only the two classes explorer.js finds the root and data by are written
    in it, and they are the contract's."""
    scripts = {name: (REPO / "book" / "_static" / name).read_text(encoding="utf-8") for name in JS}
    for name, text in scripts.items():
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S)  # comments may name them
        strings = " | ".join(re.findall(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', code))
        for ident in [*IDS.values(), *ID_PREFIXES.values()]:
            assert not re.search(f"[\"'#]{re.escape(ident)}[\"']", strings), (name, ident)
        for word in TEXT.values():
            fixed = max(re.split(r"\{\w+\}", word), key=len)  # its longest part without a field
            assert len(fixed) < 6 or fixed not in strings, (name, word)
    assert f'var ROOT = "{ROOT}", DATA = "{DATA}";' in scripts["explorer.js"]


# --- the Jupyter widget ------------------------------------------------------------------------------


def test_widget_re_blends_when_sliders_move(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    assert [s.value for s in w.sliders.values()] == [100, 100, 100, 0, 0, 0]  # starts at bgy-combined
    assert w.mse_all_readout.value == format_mse(data.mean_mse(Blend([1, 1, 1, 0, 0, 0])))
    before = w.images["blend"].value
    w.sliders["baseline"].value = 60
    w.sliders["blue"].value = 0
    weights = w.weights()
    expected = data.photos[0].preview(Blend(weights))
    assert w.images["blend"].value != before
    assert w.mse_readout.value == format_mse(expected.mse)
    assert w.colourfulness_readout.value == format_colourfulness(expected.colourfulness)
    assert w.mse_all_readout.value == format_mse(data.mean_mse(Blend(weights)))
    assert w.shares["baseline"].value == f"{100 * 60 / 260:.0f}%"
    assert w.message.value == ""

    w.photo.value = 2
    expected = data.photos[2].preview(Blend(weights))
    assert w.mse_readout.value == format_mse(expected.mse)
    assert w.colourfulness_readout.value == format_colourfulness(expected.colourfulness)


def test_widget_presets_and_all_zero(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    w.presets["baseline only"].click()
    assert w.weights() == [0, 0, 0, 0, 0, 100]
    assert w.mse_readout.value == format_mse(data.photos[0].preview(Blend([0, 0, 0, 0, 0, 1])).mse)
    w.presets["by-combined"].click()
    assert w.weights() == [100, 100, 0, 0, 0, 0]
    w.set_weights({})
    assert w.message.value == ZERO_MESSAGE
    assert w.mse_readout.value == w.colourfulness_readout.value == w.mse_all_readout.value == "–"
    w.sliders["green"].value = 1
    assert w.message.value == "" and w.mse_readout.value == format_mse(
        data.photos[0].preview(Blend([0, 0, 1, 0, 0, 0])).mse
    )


def test_notebook_template_has_its_parameters_and_no_outputs():
    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "explorer.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("manifest", "checkpoints", "data_dir", "static_dir", "max_photos", "ab_size", "show_widget"):
        assert f"\n{name} = " in "\n" + code[0].source
    assert all(not c.outputs for c in code), "the template is kept with outputs cleared"


# --- the vividness k ---------------------------------------------------------------------------------


def test_vividness_one_is_todays_blend_exactly(data):
    p = data.photos[0]
    for weights in ([1, 1, 1, 0, 0, 0], [3, 0, 7, 1, 0, 20]):
        ab = blend_ab(p.members_ab, weights)
        assert vivid(ab, 1.0) is ab  # untouched, not even clipped
        shown = p.preview(Blend(weights, k=1.0))
        assert np.array_equal(shown.rgb, render(p.lightness, ab))
        w = normalized_weights(weights)
        gram, cross = np.asarray(p.stats.gram), np.asarray(p.stats.cross)
        assert shown.mse == pytest.approx(w @ gram @ w - 2 * w @ cross + p.stats.energy, rel=1e-12)
        assert not p.stats.may_clip(weights, 1.0) and not data.may_clip(weights, 1.0)
    for rule in ("median", "most-saturated"):
        ab = combine_ab(p.members_ab, [1, 1, 1, 0, 0, 0], rule, 1.0)
        assert np.array_equal(p.preview(Blend([1, 1, 1, 0, 0, 0], rule, 1.0, 1.0)).rgb, render(p.lightness, ab))


def test_vividness_scales_the_colours_and_clips_them(data):
    p, weights = data.photos[1], [0, 0, 0, 0, 0, 1]
    ab = blend_ab(p.members_ab, weights)
    for k in (0.0, 0.5, 1.5, 3.0):
        want = np.clip(k * ab, -1, 1)
        assert np.array_equal(vivid(ab, k), want)
        assert np.array_equal(p.preview(Blend(weights, k=k)).rgb, render(p.lightness, want))
    assert np.array_equal(p.preview(Blend(weights, k=0.0)).rgb, p.grayscale())  # no colour at all
    many = vivid(np.array([-0.9, -0.2, 0.0, 0.2, 0.9]), 2.0)
    assert many.tolist() == [-1.0, -0.4, 0.0, 0.4, 1.0]
    chroma = [p.preview(Blend(weights, k=k)).colourfulness for k in (0.5, 1.0, 2.0)]
    assert chroma[0] < chroma[1] < chroma[2]
    for rule in ("median", SOFTMAX):  # after the rule: the rule's map times k
        want = np.clip(2.0 * combine_ab(p.members_ab, weights, rule, 3.0), -1, 1)
        assert np.array_equal(p.preview(Blend(weights, rule, 3.0, 2.0)).rgb, render(p.lightness, want))
        assert p.preview(Blend(weights, rule, 3.0, 2.0)).mse == mse_ab(want, p.true_ab)


def _full_size(ev, i):
    box = ev.validation.infos[i].box
    members = np.stack([ev.predictions[m][i].numpy()[(slice(None), *box)] for m in TRAINED_MODELS]).astype(np.float64)
    return members, ev.validation.ab[i].numpy()[(slice(None), *box)]


def test_exact_mse_at_vividness_k_is_the_direct_mse_until_clipping_can_bite(ev):
    members, truth = _full_size(ev, 0)
    stats = MseStats.from_maps(members, truth)
    assert stats.peak == tuple(float(x) for x in np.abs(members).reshape(len(members), -1).max(axis=1))
    weights = [3, 0, 7, 1, 0, 20]
    w = np.asarray(weights, float) / sum(weights)
    blend = np.tensordot(w, members, axes=1)
    safe = 1.0 / float(w @ np.asarray(stats.peak))  # the largest k the bound calls safe
    assert safe > 1.1
    for k in (0.0, 0.4, 1.0, 1.1, safe * 0.999):
        assert not stats.may_clip(weights, k)
        assert stats.mse(weights, k) == pytest.approx(mse_ab(vivid(blend, k), truth), rel=1e-9, abs=1e-15)
    k = 3.0 * safe
    assert stats.may_clip(weights, k) and np.abs(k * blend).max() > 1  # clipping bites
    assert stats.mse(weights, k) == pytest.approx(mse_ab(k * blend, truth), rel=1e-9)  # exact before clipping
    assert mse_ab(vivid(blend, k), truth) < stats.mse(weights, k)  # after clipping: lower, as the note says


def test_the_widget_has_the_vividness_slider_and_says_when_the_mse_is_approximate(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    assert (w.vividness.min, w.vividness.max, w.vividness.value) == (VIVIDNESS_MIN, VIVIDNESS_MAX, VIVIDNESS_INITIAL)
    assert w.score_note.value == "" and w.delta_e_box.layout.display == "none"
    w.vividness.value = 1.5
    weights = w.weights()
    preview = data.photos[0].preview(Blend(weights, k=1.5))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(w.images["blend"].value))), preview.rgb)
    assert w.mse_readout.value == format_mse(data.photos[0].stats.mse(weights, 1.5)) == format_mse(preview.mse)
    assert w.mse_all_readout.value == format_mse(data.mean_mse(Blend(weights, k=1.5)))
    assert w.colourfulness_readout.value == format_colourfulness(preview.colourfulness)
    assert (w.score_note.value == APPROXIMATE_MESSAGE) == data.may_clip(weights, 1.5)
    w.vividness.value = VIVIDNESS_MAX
    assert data.may_clip(weights, VIVIDNESS_MAX) and w.score_note.value == APPROXIMATE_MESSAGE
    w.rule.value = "median"  # measured on the clipped maps: exact on them, no note
    assert w.score_note.value == ""
    assert w.mse_all_readout.value == format_mse(
        data.mean_mse(Blend(weights, "median", w.temperature.value, VIVIDNESS_MAX))
    )
    w.set_rule(MEAN)
    w.apply_preset("baseline only")  # a preset sets its vividness too
    assert w.vividness.value == VIVIDNESS_INITIAL and w.weights() == [0, 0, 0, 0, 0, 100]


def test_a_preset_with_its_own_vividness_reaches_the_page_and_the_widget(ev):
    from colorlib.explorer.widget import explorer

    presets = {**PRESETS, "baseline ×1.5": Preset({"baseline": 100}, 1.5)}
    data = explorer_data(ev, ab_size=32, presets=presets)
    bundle = to_bundle(data)
    assert bundle["presets"]["baseline ×1.5"] == {"weights": data.presets["baseline only"], "vividness": 1.5}
    again = from_bundle(json.loads(json.dumps(bundle)))
    assert again.offered == data.offered and again.offered["baseline ×1.5"].vividness == 1.5
    assert again.photos[0].stats == data.photos[0].stats  # the peaks travel too
    page = explorer_html(bundle)
    assert 'data-preset="baseline ×1.5"' in page
    assert f'id="vividness" min="{VIVIDNESS_MIN}" max="{VIVIDNESS_MAX}" step="{VIVIDNESS_STEP}"' in page
    for ident in ("vividness-value", "delta-e-readout", "score-note"):
        assert f'id="{ident}"' in page
    w = explorer(again)
    w.apply_preset("baseline ×1.5")
    assert w.vividness.value == 1.5 and w.weights() == [0, 0, 0, 0, 0, 100]
    assert w.mse_readout.value == format_mse(again.photos[0].stats.mse([0, 0, 0, 0, 0, 1], 1.5))


# --- a reader's photo, scored against its own colours ------------------------------------------------


def _own(rgb, size=64, seed=0):
    """An OwnPhoto whose 'models' are smooth random maps (what is tested here is the scoring, not a network)."""
    info = pad_info(*rgb.shape[:2], size)
    rng = np.random.default_rng(seed)
    members = np.tanh(rng.normal(0, 0.3, (len(TRAINED_MODELS), 2, 8, 8))).repeat(8, axis=2).repeat(8, axis=3)
    return OwnPhoto("mine.jpg", rgb, info, members.astype(np.float32))


def test_a_photo_in_colour_is_scored_against_its_own_colours(ev):
    rgb = ev.validation.photos[0]
    own = _own(rgb)
    assert own.in_colour
    weights = [1, 0, 1, 0, 0, 2]
    lightness, ab_true, info = preprocess(rgb, 64)
    box = (slice(None), *info.box)

    def lab(ab):  # Lab (h, w, 3) over the photo's area, on the photo's own L
        return np.concatenate([lightness[box].transpose(1, 2, 0) * 100, ab[box].transpose(1, 2, 0) * 128], -1)

    for k in (1.0, 1.5):
        score = own.score(Blend(weights, MEAN, 1.0, k))
        pred = np.clip(k * blend_ab(own.members_ab, weights), -1, 1)
        assert score.mse == pytest.approx(mse_ab(pred[box], ab_true[box]), rel=1e-6)
        assert score.delta_e == pytest.approx(float(np.mean(deltaE_ciede2000(lab(ab_true), lab(pred)))), rel=1e-4)
    assert own.score(Blend(weights, MEAN, 1.0, 1.5)).delta_e != own.score(Blend(weights)).delta_e
    perfect = OwnPhoto("mine.jpg", rgb, own.info, np.repeat(preprocess(rgb, 64)[1][None], len(TRAINED_MODELS), 0))
    assert perfect.score(Blend([1] * 6)).mse == 0 and perfect.score(Blend([1] * 6)).delta_e == 0


def test_a_grey_photo_has_nothing_to_score_against(ev):
    from colorlib.explorer.widget import OWN, explorer

    grey = np.repeat(ev.validation.photos[1].mean(axis=-1, keepdims=True).astype(np.uint8), 3, axis=-1)
    noisy = np.clip(grey.astype(int) + np.random.default_rng(1).integers(-1, 2, grey.shape), 0, 255).astype(np.uint8)
    for rgb in (grey, noisy):  # a grey photo, and one saved in colour with a level of noise per channel
        assert not _own(rgb).in_colour and _own(rgb).score(Blend([1] * 6)) is None
    assert in_colour(np.full((2, 10, 10), 0.1)) and not in_colour(np.zeros((2, 10, 10)))
    spot = np.zeros((2, 10, 10))
    spot[0, 0, :2] = 0.5  # 2 % of the pixels are red: a grey photo with a red spot is in colour
    assert in_colour(spot)

    w = explorer(explorer_data(ev, ab_size=32))
    for rgb, note in ((grey, OWN_NO_TRUTH), (ev.validation.photos[0], OWN_SCORED)):
        w.own = _own(rgb)
        w._cache.pop(OWN, None)
        w.photo.options = [*w.photo.options[:3], ("your photo", OWN)]
        w.photo.value = OWN
        w.vividness.value = 1.5
        assert w.score_note.value.endswith(note)
        score = w.own.score(Blend(w.weights(), MEAN, w.temperature.value, 1.5))
        assert w.mse_readout.value == (format_mse(score.mse) if score else "–")
        assert w.delta_e_readout.value == (format_delta_e(score.delta_e) if score else "–")
        assert (w.delta_e_box.layout.display == "none") == (score is None)
        w.photo.value = 0
        w.vividness.value = 1.0


def test_the_vivid_preset_is_the_baseline_at_its_fitted_scale_on_the_sliders_step():
    from colorlib.explorer.contract import VIVID_PRESET, with_vivid_preset

    presets = with_vivid_preset(PRESETS, 1.523)
    assert presets[VIVID_PRESET] == Preset({"baseline": 100}, 1.5) and set(PRESETS) < set(presets)
    assert with_vivid_preset(PRESETS, 1.53)[VIVID_PRESET].vividness == 1.55
    assert with_vivid_preset(PRESETS, 3.9)[VIVID_PRESET].vividness == 3.0  # the slider's end
    assert with_vivid_preset(PRESETS, None) == PRESETS  # no calibration photos, no fitted k: no such preset
