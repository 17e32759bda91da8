"""Tests of colorlib.paper.figures: diagrams follow the model, figures have their panels, rules pick right."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from colorlib import ALL_MODELS, data, pages
from colorlib.lab import preprocess
from colorlib.model import ColorNet, ModelConfig
from colorlib.pages import markdown
from colorlib.paper import GENERATED_FILES, PAPER_TABLE_I, claims, diagrams, figures, picks
from colorlib.paper.evaluate import Boost, Evaluation, ValidationSet, table_rows
from colorlib.paper.reference_results import load_references
from colorlib.scoring.intervals import Interval
from colorlib.scoring.metrics import PhotoScores

SIZE = 32
ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "build" / "latest"  # the variant `make book` built last (used when it is a smoke build)


def _smoke_built() -> bool:
    info = SMOKE / "variant.json"
    if not info.is_file() or json.loads(info.read_text())["profile"] != "smoke":
        return False
    return (SMOKE / "manifest.json").is_file() and len(list((SMOKE / "checkpoints").glob("*.pt"))) >= 6


@pytest.fixture(scope="module")
def model() -> ColorNet:
    torch.manual_seed(0)
    return ColorNet(ModelConfig(image_size=SIZE))


def _photo(saturation: float, shape=(40, 56), seed: int = 0) -> np.ndarray:
    """A smooth synthetic photo: blue-ish top, green-ish bottom, colour scaled by `saturation`."""
    rng = np.random.default_rng(seed)
    h, w = shape
    grey = np.linspace(60, 200, h)[:, None, None] * np.ones((h, w, 3))
    tint = np.where(np.arange(h)[:, None, None] < h // 2, [-40, 0, 60], [-30, 50, -40]) * np.ones((h, w, 3))
    rgb = grey + saturation * tint + rng.normal(0, 3, (h, w, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def _scores(mse: float, colour: float = 10.0) -> PhotoScores:
    return PhotoScores(mse=mse, psnr=30.0, delta_e=5.0, colourfulness=colour, chroma=10.0)


def _summary(loss: dict[str, float], colour: dict[str, float]) -> dict:
    """Per-model mean scores as evaluate.summarize returns them."""
    return {
        m: {"mse": loss[m], "psnr": 30.0, "delta_e": 5.0, "colourfulness": colour[m], "chroma": 10.0}
        for m in ALL_MODELS
    }


def fake_evaluation(
    per_photo_mse: dict[str, list[float]] | None = None, summary: dict | None = None, saturations=(1.0, 0.8, 0.05, 0.6)
) -> Evaluation:
    """A hand-built Evaluation: real synthetic photos, random predictions, chosen scores."""
    photos = [_photo(s, seed=i) for i, s in enumerate(saturations)]
    prepared = [preprocess(p, SIZE) for p in photos]
    val = ValidationSet(
        names=[f"photo{i}.jpg" for i in range(len(photos))],
        photos=photos,
        lightness=torch.from_numpy(np.stack([p[0] for p in prepared])),
        ab=torch.from_numpy(np.stack([p[1] for p in prepared])),
        infos=[p[2] for p in prepared],
    )
    n = len(photos)
    per_photo_mse = per_photo_mse or {}
    per_photo = {m: [_scores(v) for v in per_photo_mse.get(m, [0.05] * n)] for m in ALL_MODELS}
    gen = torch.Generator().manual_seed(0)
    predictions = {m: torch.rand(n, 2, SIZE, SIZE, generator=gen) * 0.4 - 0.2 for m in ALL_MODELS}
    summary = summary or _summary(PAPER_TABLE_I, {m: 10.0 for m in ALL_MODELS})
    return Evaluation(val, predictions, per_photo, summary, {"colourfulness": 30.0, "chroma": 20.0})


def _results(ev: Evaluation, rows: list[dict]) -> dict:
    """What claims.findings reads from results.json (Table I, the claims, the photo count), for ev."""
    return {"validation_photos": len(ev.validation.names), "table1": table_rows(ev), "claims": rows}


def _boxes(fig: Figure) -> list[str]:
    return [p.get_gid() for p in fig.axes[0].patches if (p.get_gid() or "").startswith("layer-")]


def _texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def _renders(fig: Figure) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=40)


# --- network diagrams -----------------------------------------------------------------------------


def test_fig2_draws_one_box_per_encoder_child(model):
    fig = diagrams.fig2_encoder(model)
    assert len(_boxes(fig)) == len(list(model.encoder.children()))
    text = _texts(fig)
    assert "Conv2d 7×7 /2, 1→64" in text
    assert "MaxPool2d 3×3 /2" in text
    assert f"128×{SIZE // 8}×{SIZE // 8}" in text  # layer2's output at this image size
    assert f"{sum(p.numel() for p in model.encoder[0].parameters()):,} params" in text
    _renders(fig)


def test_fig4_follows_the_decoder(model):
    fig = diagrams.fig4_decoder(model)
    assert len(_boxes(fig)) == len(list(model.decoder.children()))
    assert f"2×{SIZE}×{SIZE}" in _texts(fig)

    other = ColorNet(ModelConfig(image_size=SIZE))
    other.decoder = nn.Sequential(nn.Conv2d(128, 2, 3, padding=1), nn.Upsample(scale_factor=8), nn.Tanh())
    changed = diagrams.fig4_decoder(other)
    assert len(_boxes(changed)) == 3
    assert "Upsample ×8 (nearest)" in _texts(changed)
    assert "Conv2d 3×3 /1, 128→2" in _texts(changed)
    _renders(changed)


def test_trace_keeps_the_model_mode(model):
    model.train()
    layers = diagrams.trace_layers(model, "encoder")
    assert model.training
    assert layers[0].shape == (64, SIZE // 2, SIZE // 2)


def test_fig3_uses_the_real_tensors(model):
    rgb = _photo(1.0)
    fig = diagrams.fig3_data_flow(model, rgb)
    assert len(fig.axes) == 8
    text = "\n".join(ax.get_title() for ax in fig.axes)
    assert f"L input 1×{SIZE}×{SIZE}" in text and f"predicted a {SIZE}×{SIZE}" in text
    assert fig.axes[-1].images[0].get_array().shape[:2] == rgb.shape[:2]  # shown at the photo's own size
    _renders(fig)


# --- figures and their panels ---------------------------------------------------------------------


def test_figures_have_their_panels():
    photos = [_photo(s, seed=i) for i, s in enumerate((1, 0.5, 0.2, 0.8, 0))]
    ev = fake_evaluation()
    from colorlib.paper.evaluate import table_rows

    cases = {
        "contact": (figures.contact_sheet(photos, [f"p{i}" for i in range(5)], cols=3, title="t"), 5),
        "fig1": (figures.fig1_lab_channels(photos[0]), 4),
        "row": (figures.prediction_row(photos[:3], ["a", "b", "c"]), 3),
        "fig9": (figures.fig9_grid(*photos[:4]), 4),
        "loss": (figures.loss_curve({"blue": np.linspace(1, 0.1, 80), "by": np.linspace(1, 0.2, 80)}, smooth=10), 1),
        "bar": (figures.table_loss_bar(table_rows(ev)), 1),
        "trade-off": (
            figures.trade_off(
                {
                    m: (Interval(20.0 + i, 19.0 + i, 21.0 + i), Interval(0.02, 0.01, 0.03))
                    for i, m in enumerate(ev.summary)
                },
                [(k, 25.0 * k, 0.02 + 0.01 * (k - 1) ** 2) for k in (0.0, 0.5, 1.0, 2.0, 3.0)],
                41.5,
                {"×2.00 (k_vivid)": (50.0, 0.03)},
            ),
            1,
        ),
        "scores": (
            figures.colour_score_bars(
                {
                    "folder_mean_scores": {"blue": 0.1, "yellow": 0.1, "green": 0.1},
                    "set_mean_scores": {s: {"blue": 0.3, "yellow": 0.1, "green": 0.05} for s in ("blue", "validation")},
                }
            ),
            1,
        ),
    }
    for name, (fig, n_axes) in cases.items():
        assert isinstance(fig, Figure), name
        assert len(fig.axes) == n_axes, name
        _renders(fig)


def test_table_bar_skips_the_originals_row():
    from colorlib.paper.evaluate import table_rows

    fig = figures.table_loss_bar(table_rows(fake_evaluation()))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(PAPER_TABLE_I)


def test_colorized_keeps_the_photo_resolution():
    ev = fake_evaluation()
    out = picks.colorized(ev, "bgy-combined", 1)
    assert out.shape == ev.validation.photos[1].shape and out.dtype == np.uint8


# --- data page helpers ---------------------------------------------------------------------------


def test_set_contact_sheet_captions_the_sets_colour(tmp_path):
    import hashlib

    from PIL import Image

    names = ["a.png", "b.png", "c.png"]
    for i, name in enumerate(names):
        Image.fromarray(_photo(1.0, seed=i)).save(tmp_path / name)
    photos = {
        n: {
            "sha256": hashlib.sha256((tmp_path / n).read_bytes()).hexdigest(),
            "scores": {"blue": 0.5, "yellow": 0.25, "green": 0.0},
        }
        for n in names
    }
    manifest = {"sets": {"blue": names, "validation": names[:2]}, "photos": photos}
    fig = figures.set_contact_sheet(manifest, "blue", tmp_path)
    assert len(fig.axes) == 3 and fig.axes[0].get_title() == "a.png\nb 0.50"
    fig = figures.set_contact_sheet(manifest, "validation", tmp_path)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "b.png\nb 0.50 y 0.25 g 0.00"


def test_selection_rule_states_the_manifests_thresholds():
    params = {
        "per_colour": 24,
        "seed": 7,
        "thumb_size": 64,
        "chroma_min": 15.0,
        "bw_chroma": 8.0,
        "bw_percentile": 99.0,
        "phash_max_distance": 6,
        "hue_ranges": {"yellow": [40.0, 105.0], "green": [105.0, 170.0], "blue": [190.0, 300.0]},
    }
    sets = {"by": [0] * 48, "bgy": [0] * 72, "baseline": [0] * 864, "validation": [0] * 32}
    text = data.selection_rule({"params": params, "sets": sets})
    assert text.count("\n") == 6
    for part in ("chroma above 15", "blue 190–300°", "24 best scorers", "seed 7", "Validation (32 photos)", "(72)"):
        assert part in text, part


def test_resolve_inputs_gives_one_line_errors(tmp_path):
    from colorlib.errors import UserError

    with pytest.raises(UserError, match="manifest file not found"):
        pages.resolve_inputs(tmp_path / "missing.json")
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(UserError, match="no checkpoint for blue, yellow"):
        pages.resolve_inputs(tmp_path / "manifest.json", checkpoints=tmp_path)


# --- selection rules ------------------------------------------------------------------------------


def test_pick_showcase_takes_the_largest_combined_gain():
    mse = {
        "by": [0.10, 0.10, 0.10, 0.10],
        "by-combined": [0.09, 0.05, 0.10, 0.12],  # gains 0.01, 0.05, 0, -0.02
        "bgy": [0.10, 0.10, 0.20, 0.10],
        "bgy-combined": [0.10, 0.10, 0.12, 0.10],  # gains 0, 0, 0.08, 0
    }
    index, text = picks.pick_showcase(fake_evaluation(mse))
    assert index == 2
    assert "photo2.jpg" in text and "bgy 0.2000 → bgy-combined 0.1200" in text


def test_pick_desaturated_takes_the_greyest_original():
    ev = fake_evaluation()  # saturations 1.0, 0.8, 0.05, 0.6
    index, text = picks.pick_desaturated(ev)
    assert index == 2 and "photo2.jpg" in text
    assert picks.pick_desaturated(ev, exclude=2)[0] == 3


# --- claims ---------------------------------------------------------------------------------------


def test_claims_on_the_papers_own_numbers():
    colour = {m: 20.0 for m in ALL_MODELS} | {"baseline": 10.0}
    rows = claims.claims(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)))
    assert len(rows) == 6
    assert all(set(r) == {"id", "claim", "paper", "ours", "holds"} for r in rows)
    known = {c["text"]: c["id"] for c in load_references().claims}  # the ids the references' verdicts use
    assert all(known[r["claim"]] == r["id"] for r in rows)
    assert [r["holds"] for r in rows] == [True] * 6
    assert "0.0156 < 0.0238" in rows[0]["paper"]


def test_claims_fail_on_contrary_numbers():
    loss = {m: 0.05 for m in ALL_MODELS} | {"by-combined": 0.06, "bgy-combined": 0.04, "baseline": 0.02}
    colour = {m: 10.0 for m in ALL_MODELS} | {"blue": 30.0, "by-combined": 12.0, "bgy-combined": 9.0}
    rows = claims.claims(fake_evaluation(summary=_summary(loss, colour)))
    # by-combined worse than by; bgy-combined better than bgy; combined 2-3x the baseline;
    # yellow/green no more colourful than the baseline; bgy-combined less colourful; baseline lowest.
    assert [r["holds"] for r in rows] == [False, True, False, False, False, False]


def test_close_to_baseline_uses_the_stated_margin():
    loss = dict(PAPER_TABLE_I) | {"baseline": 0.10, "by-combined": 0.124, "bgy-combined": 0.11}
    colour = {m: 10.0 for m in ALL_MODELS}
    assert claims.claims(fake_evaluation(summary=_summary(loss, colour)))[2]["holds"]
    loss["by-combined"] = 0.126
    assert not claims.claims(fake_evaluation(summary=_summary(loss, colour)))[2]["holds"]


def test_claims_markdown_and_findings():
    colour = {m: 20.0 for m in ALL_MODELS} | {"baseline": 10.0}
    ev = fake_evaluation(summary=_summary(PAPER_TABLE_I, colour))
    rows = claims.claims(ev)
    md = claims.claims_markdown(rows)
    assert md.count("\n") == 2 + len(rows) and "| yes |" in md
    text = claims.findings(_results(ev, rows))
    assert "6 of the 6 claims" in text and "bgy-combined (0.0146)" in text
    assert 3 <= text.count(". ") + 1 <= 6


def test_markdown_output_also_renders_tables_as_html():
    out = markdown.MarkdownOutput("| a | b |\n| --- | ---: |\n| 1 | 2 |\n")
    assert out._repr_markdown_().startswith("| a |")
    assert "<table>" in out._repr_html_() and "<td>1</td>" in out._repr_html_()


# --- notebooks on the smoke artefacts -------------------------------------------------------------


def _has_output(cell, mime: str) -> bool:
    return any(mime in o.get("data", {}) for o in cell.get("outputs", []))


@pytest.mark.skipif(
    not _smoke_built(),
    reason="smoke artefacts not built (run make book PROFILE=smoke first)",
)
@pytest.mark.slow
@pytest.mark.parametrize("name", ["data", "results"])
def test_notebook_runs_on_smoke_artefacts(name, tmp_path):
    papermill = pytest.importorskip("papermill")
    import nbformat

    params = {"manifest": str(SMOKE / "manifest.json")}
    if name == "results":
        params |= {"checkpoints": str(SMOKE / "checkpoints"), "generated_dir": str(tmp_path / "generated")}
    out = tmp_path / f"{name}.ipynb"
    papermill.execute_notebook(
        str(ROOT / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters=params,
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    images = sum(_has_output(c, "image/png") for c in nb.cells)
    assert images >= (5 if name == "data" else 12)
    if name == "results":
        # every paper figure (and Table I) comes right after its heading
        for heading, kind in [(f"### Figure {n}", "image/png") for n in range(1, 10)] + [
            ("## Table I", "text/markdown")
        ]:
            at = next(
                i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and heading in c.source.splitlines()
            )
            assert _has_output(nb.cells[at + 1], kind), heading
        written = {p.name for p in (tmp_path / "generated").iterdir()}
        assert set(GENERATED_FILES) <= written


def test_trade_off_labels_overlap_neither_each_other_nor_the_originals_label():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # at the paper's scale yellow sat right under the originals' label, and the two overlapped
    points = {m: (30.0 + 3 * i, 0.02 + 0.001 * i) for i, m in enumerate(ALL_MODELS)} | {"yellow": (41.8, 0.05)}
    marks = {"×0.90 (k_mse)": (28.0, 0.019), "×1.50 (k_vivid)": (41.0, 0.024)}
    fig = figures.trade_off(
        {m: (Interval(c, c - 1, c + 1), Interval(e, e - 0.001, e + 0.001)) for m, (c, e) in points.items()},
        [(k, 30.0 * k, 0.02 + 0.005 * (k - 0.9) ** 2) for k in np.linspace(0, 3, 13)],
        41.5,
        marks,
    )
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()
    named = [t for t in fig.axes[0].texts if t.get_text() in {*points, *marks} or t.get_text().startswith("originals")]
    boxes = [t.get_window_extent(renderer) for t in named]
    assert len(boxes) == len(points) + len(marks) + 1
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def _boosted(ev: Evaluation, bgy_colour: np.ndarray, boosted_colour: np.ndarray, k_same: float | None = 1.3):
    """ev with the boosted baseline's fit and its test photos' numbers set by hand."""
    n = len(bgy_colour)
    ev.boost = Boost(n_photos=4, originals=40.0, k_mse=0.9, k_vivid=1.5, same_error=0.02, k_same=k_same)
    ev.test_mse = {m: np.full(n, 0.02) for m in ALL_MODELS}
    ev.test_colour = {m: np.full(n, 30.0) for m in ALL_MODELS} | {"bgy-combined": bgy_colour}
    ev.curve = {k: (np.full(n, 0.02), boosted_colour) for k in (0.9, 1.3, 1.5)}
    return ev


def test_the_boosted_baseline_claim_follows_its_numbers():
    """bgy-combined against the baseline boosted to its error: holds iff the paired interval of the
    colourfulness difference on the test photos lies above 0; a k that cannot be found says so."""
    colour = {m: 20.0 for m in ALL_MODELS} | {"baseline": 10.0}
    rng = np.random.default_rng(0)
    photos = rng.uniform(10, 60, 50)  # per-photo colourfulness: a wide spread shared by both models
    vivid = claims.claims(_boosted(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)), photos + 2, photos))
    assert len(vivid) == 7 and vivid[-1]["id"] == "bgy-combined-more-colourful-than-boosted-baseline"
    assert vivid[-1]["holds"] and "paired difference (95 % CI) 2.0 [2.0, 2.0]" in vivid[-1]["ours"]
    assert "baseline ×1.30" in vivid[-1]["ours"] and "on 50 test photos" in vivid[-1]["ours"]
    dull = claims.claims(_boosted(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)), photos - 2, photos))
    assert not dull[-1]["holds"] and "-2.0 [-2.0, -2.0]" in dull[-1]["ours"]
    noisy = photos + rng.normal(0, 20, 50)  # more colourful on average, by less than the noise: not shown
    assert not claims.claims(_boosted(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)), noisy, photos))[-1][
        "holds"
    ]
    unreachable = claims.claims(
        _boosted(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)), photos + 2, photos, None)
    )
    assert not unreachable[-1]["holds"] and "no k from k_mse 0.90 to 4" in unreachable[-1]["ours"]
    text = claims.findings(_results(fake_evaluation(summary=_summary(PAPER_TABLE_I, colour)), vivid))
    assert "the same error, holds: baseline ×1.30" in text


def test_claims_and_findings_say_how_the_models_compare_with_grey():
    colour = {m: 20.0 for m in ALL_MODELS} | {"baseline": 10.0}
    summary = _summary(PAPER_TABLE_I, colour)
    summary["grey"] = {"mse": 0.0160, "psnr": 30.0, "delta_e": 5.0, "colourfulness": 0.0, "chroma": 0.0}
    summary["constant"] = {"mse": 0.0170, "psnr": 30.0, "delta_e": 5.0, "colourfulness": 3.0, "chroma": 4.0}
    ev = fake_evaluation(summary=summary)
    rows = claims.claims(ev)
    assert len(rows) == 7 and all("skill vs grey" in r["ours"] for r in rows)
    assert rows[-1]["holds"]  # both combined models (0.0156, 0.0146) beat grey (0.0160)
    assert "by-combined +0.03" in rows[-1]["ours"]
    text = claims.findings(_results(ev, rows))
    assert "grey, ab = 0) scored 0.0160" in text and "2 of the 8 models beat grey" in text
    assert "lowest loss was bgy-combined" in text  # the references are not models


def test_with_a_test_set_loss_claims_rest_on_paired_intervals():
    colour = {m: 20.0 for m in ALL_MODELS} | {"baseline": 10.0}
    ev = fake_evaluation(summary=_summary(PAPER_TABLE_I, colour))
    rng = np.random.default_rng(0)
    hard = rng.lognormal(0, 1, 200)
    ev.test_mse = {m: hard * rng.uniform(0.5, 1.5, 200) for m in ALL_MODELS}  # all alike, up to noise
    ev.test_mse["by-combined"] = 0.5 * ev.test_mse["by"]  # clearly below by
    rows = claims.claims(ev)
    assert rows[0]["holds"] and "paired loss ratio on 200 test photos" in rows[0]["ours"]
    assert "by-combined/by 0.50 [0.50, 0.50]" in rows[0]["ours"]
    assert not rows[1]["holds"]  # bgy-combined < bgy on validation means, but not settled on test
