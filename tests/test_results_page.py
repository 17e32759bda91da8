"""The results page as an object (colorlib.paper.page.ResultsPage): its parameters checked before any
work, and every figure, table and generated file of notebooks/results.ipynb from six tiny models."""

from __future__ import annotations

import pytest
from PIL import Image

from colorlib import ALL_MODELS, TRAINED_MODELS
from colorlib.checkpoint import checkpoint_path
from colorlib.data import SplitParams, make_manifest, scan_folder, write_manifest
from colorlib.errors import UserError
from colorlib.paper import GENERATED_FILES, SNIPPETS, diagrams, figures, results
from colorlib.paper.evaluate import loss_markdown, measures_markdown
from colorlib.paper.page import ResultsPage
from colorlib.train import train

from .helpers import train_config


@pytest.fixture
def six_models(split_folder, tmp_path):
    """A manifest over the split folder's photos (with test and calibration photos) and the six paper
    models, one batch each."""
    params = SplitParams(2, 4, 3, seed=0, test=3, calibration=2)
    manifest = make_manifest(scan_folder(split_folder, progress=False), params, str(split_folder))
    write_manifest(manifest, tmp_path / "manifest.json")
    for m in TRAINED_MODELS:
        cfg = train_config(dataset=m, iterations=1, batch_size=2)
        train(cfg, manifest, split_folder, checkpoint_path(tmp_path / "checkpoints", m), progress=False)
    return tmp_path


def test_parameters_are_checked_before_any_work(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")  # never read: a mistake is found first
    given = {"manifest": tmp_path / "manifest.json", "checkpoints": tmp_path, "data_dir": "", "generated_dir": "out"}
    for mistake, message in [
        ({"profile": "beyond"}, "unknown profile 'beyond': use one of paper, smoke, custom"),
        ({"generated_dir": " "}, "generated_dir must name a folder"),
        ({"checkpoints": tmp_path / "none"}, "no checkpoint for blue, yellow"),
        ({"manifest": tmp_path / "none.json"}, "manifest file not found"),
    ]:
        with pytest.raises(UserError, match=message):
            ResultsPage(**(given | {"profile": "smoke"} | mistake))


def test_every_figure_table_and_file_of_the_page(six_models):
    page = ResultsPage(six_models / "manifest.json", six_models / "checkpoints", "", six_models / "generated", "custom")
    assert page.show != page.dull  # Figure 9 shows another photo than Figures 5-8
    assert page.summary().splitlines() == ["3 validation photos, working size 32.", page.show_rule, page.dull_rule]
    panels = {"fig5": 3, "fig6": 3, "fig7": 2, "fig8": 2, "fig9": 4, "hero": 4}
    for name, n in panels.items():
        assert len(getattr(page, name)().axes) == n, name
    assert len(figures.fig1_lab_channels(page.photo).axes) == 4, "fig1"
    for name in ("trade_off", "loss_curves"):
        assert getattr(page, name)().axes, name
    drawn = {
        "fig2": diagrams.fig2_encoder(page.model),
        "fig3": diagrams.fig3_data_flow(page.model, page.photo),
        "fig4": diagrams.fig4_decoder(page.model),
        "table1_chart": figures.table_loss_bar(page.rows),
    }
    for name, fig in drawn.items():
        assert fig.axes, name
    boosted = list(page.evaluation.boost.rows())  # the baseline ×k rows, k fitted on the 2 calibration photos
    assert any(label.endswith("(MSE)") for label in boosted)
    table = page.snippets["table1.md"]
    rows = (*ALL_MODELS, *boosted, "grey", "constant", "originals")
    assert [line.split(" | ")[0][2:] for line in table.splitlines()[2:]] == list(rows)
    loss, measures = loss_markdown(page.rows), measures_markdown(page.rows)  # the page's two views of it
    assert loss.splitlines()[0] == "| model | loss (ours, MSE), 95 % CI | loss (paper) | test loss, 95 % CI |"
    assert measures.splitlines()[0].startswith("| model | skill vs grey | PSNR dB |")
    assert all(f"| {m} |" in loss and f"| {m} |" in measures for m in rows)
    claims = page.snippets["claims.md"].splitlines()[2:]  # one row a claim, each with its verdict
    assert len(claims) == len(page.claims) and all(row.endswith(("| yes |", "| no |")) for row in claims)
    assert page.claims[-1]["id"] == "bgy-combined-more-colourful-than-boosted-baseline"
    assert "on 3 test photos" in page.claims[-1]["ours"] or "no k from k_mse" in page.claims[-1]["ours"]
    assert "On the 3 test photos the baseline scores" in page.trade_off_findings()
    assert "| model | photos | batches |" in page.provenance() and "Profile `custom`" in page.provenance()
    assert page.versions().endswith(f"photo folder: {page.data_dir}")

    written = page.write_files(six_models / "generated")
    assert [p.name for p in written] == list(GENERATED_FILES) and all(p.is_file() for p in written)
    folder = six_models / "generated"
    assert (folder / "table1.md").read_text() == table
    stored = results.read(folder)  # the results as data: every view is rendered from them
    assert stored == page.results and [r["model"] for r in stored["table1"]] == [*rows]
    assert [c["id"] for c in stored["claims"]] == [c["id"] for c in page.claims]
    assert results.snippets(stored) == {name: (folder / name).read_text() for name in SNIPPETS}
    assert (folder / "claims.md").read_text() == page.snippets["claims.md"]
    assert (folder / "findings.md").read_text() == page.findings() + "\n"
    assert (folder / "trade-off.md").read_text() == page.trade_off_findings() + "\n"
    with Image.open(folder / "hero.png") as hero:
        assert hero.format == "PNG" and hero.width > 2 * hero.height  # four photos side by side
    with Image.open(folder / "trade-off.png") as figure:
        assert figure.format == "PNG"
