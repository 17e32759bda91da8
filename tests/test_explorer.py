"""The ensemble-weight explorer without a browser: data, reference blend, bundle, HTML, widget."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from colorlib import COMBINED_MODELS, TRAINED_MODELS
from colorlib.errors import UserError
from colorlib.explorer.bundle import explorer_data, export_explorer_data, from_bundle, load_explorer_data, to_bundle
from colorlib.explorer.contract import PRESETS, ZERO_MESSAGE, format_colourfulness, format_mse
from colorlib.explorer.html import explorer_html
from colorlib.explorer.reference import (
    MseStats,
    blend_preview,
    dequantize_ab,
    dequantize_lightness,
    quantize_ab,
    quantize_lightness,
    upsample_bilinear,
)
from colorlib.paper.evaluate import score_predictions
from colorlib.scoring.metrics import mse_ab

from .helpers import fake_evaluation


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
        assert data.mean_mse(list(data.presets[name].values())) == pytest.approx(ev.summary[name]["mse"], rel=1e-6)


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
    bundle = to_bundle(data)
    bundle["photos"][0]["name"] = "a</script><b>.jpg"  # must not break out of the data tag
    page = explorer_html(bundle)
    assert page.startswith('<div id="colorlib-explorer"')
    for m in TRAINED_MODELS:
        assert f'id="w-{m}"' in page and 'type="range"' in page
    for name in PRESETS:
        assert f'data-preset="{name}"' in page
    for ident in ("photo-select", "mse-readout", "mse-all-readout", "colourfulness-readout", "explorer-message"):
        assert f'id="{ident}"' in page
    assert page.count("</script>") == 1 and "a&lt;/script&gt;&lt;b&gt;.jpg" in page
    start = page.index('class="colorlib-explorer-data">') + len('class="colorlib-explorer-data">')
    assert json.loads(page[start : page.index("</script>")]) == json.loads(json.dumps(bundle))
    linked = explorer_html(bundle, data_src="explorer-data/explorer.json", inline=False)
    assert 'data-src="explorer-data/explorer.json"' in linked and "colorlib-explorer-data" not in linked
    with pytest.raises(UserError):
        explorer_html(bundle, inline=False)


# --- the Jupyter widget ------------------------------------------------------------------------------


def test_widget_re_blends_when_sliders_move(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    assert [s.value for s in w.sliders.values()] == [100, 100, 100, 0, 0, 0]  # starts at bgy-combined
    assert w.mse_all_readout.value == format_mse(data.mean_mse([1, 1, 1, 0, 0, 0]))
    before = w.images["blend"].value
    w.sliders["baseline"].value = 60
    w.sliders["blue"].value = 0
    weights = w.weights()
    expected = data.photos[0].preview(weights)
    assert w.images["blend"].value != before
    assert w.mse_readout.value == format_mse(expected.mse)
    assert w.colourfulness_readout.value == format_colourfulness(expected.colourfulness)
    assert w.mse_all_readout.value == format_mse(data.mean_mse(weights))
    assert w.shares["baseline"].value == f"{100 * 60 / 260:.0f}%"
    assert w.message.value == ""

    w.photo.value = 2
    expected = data.photos[2].preview(weights)
    assert w.mse_readout.value == format_mse(expected.mse)
    assert w.colourfulness_readout.value == format_colourfulness(expected.colourfulness)


def test_widget_presets_and_all_zero(data):
    from colorlib.explorer.widget import explorer

    w = explorer(data)
    w.presets["baseline only"].click()
    assert w.weights() == [0, 0, 0, 0, 0, 100]
    assert w.mse_readout.value == format_mse(data.photos[0].preview([0, 0, 0, 0, 0, 1]).mse)
    w.presets["by-combined"].click()
    assert w.weights() == [100, 100, 0, 0, 0, 0]
    w.set_weights({})
    assert w.message.value == ZERO_MESSAGE
    assert w.mse_readout.value == w.colourfulness_readout.value == w.mse_all_readout.value == "–"
    w.sliders["green"].value = 1
    assert w.message.value == "" and w.mse_readout.value == format_mse(data.photos[0].preview([0, 0, 1, 0, 0, 0]).mse)


def test_notebook_template_has_its_parameters_and_no_outputs():
    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "explorer.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    for name in ("manifest", "checkpoints", "data_dir", "static_dir", "max_photos", "ab_size", "show_widget"):
        assert f"\n{name} = " in "\n" + code[0].source
    assert all(not c.outputs for c in code), "the template is kept with outputs cleared"
