"""The pipeline end to end at the smoke profile: papermill runs every notebook, Jupyter Book
builds with warnings as errors, and the built HTML holds Figures 1-9 and Table I as real images
and tables. The build happens in a copy of the repository, so a user's own build is untouched."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from .conftest import jobs_run, make
from .helpers import REPO, SHARED_DATA, VENV


def html(root: Path, page: str) -> str:
    path = root / "_build" / "html" / page
    assert path.is_file(), f"{page} was not built"
    return path.read_text(encoding="utf-8")


def sections(text: str) -> dict[str, str]:
    """Heading text -> the HTML up to the next heading of any level."""
    parts = re.split(r"(<h[1-4][^>]*>.*?</h[1-4]>)", text, flags=re.S)
    out = {}
    for i in range(1, len(parts) - 1, 2):
        title = re.sub(r"<[^>]+>|¶|#", "", parts[i]).strip()
        out[title] = parts[i + 1]
    return out


def test_every_paper_figure_is_an_image(smoke_book):
    secs = sections(html(smoke_book, "book/generated/results.html"))
    for n in range(1, 10):
        matching = [body for title, body in secs.items() if re.match(rf"Figure {n}\b", title)]
        assert matching, f"no heading for Figure {n}; headings: {list(secs)}"
        assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", matching[0]), f"Figure {n} has no image"


def test_table_one_is_a_table_with_all_eight_models(smoke_book):
    secs = sections(html(smoke_book, "book/generated/results.html"))
    matching = [body for title, body in secs.items() if title.startswith("Table I")]
    assert matching, "no Table I heading"
    tables = re.findall(r"<table.*?</table>", matching[0], flags=re.S)
    assert len(tables) == 2, "Table I is not two HTML tables (the paper's loss, then the other measures)"
    loss, measures = tables
    for model in ("blue", "yellow", "green", "by", "bgy", "baseline", "by-combined", "bgy-combined"):
        assert re.search(rf">\s*{re.escape(model)}\s*<", loss), model
    assert "0.2780" in loss and len(re.findall(r"<th[ >]", loss)) == 4  # the paper's blue loss beside ours; 4 columns
    assert re.search(r">\s*baseline ×\d\.\d\d \(vivid\)\s*<", loss) and "colourfulness" in measures


def test_book_has_all_parts(smoke_book):
    for page in [
        "index.html",
        "book/method.html",
        "book/generated/data.html",
        "book/discussion.html",
        "book/rerun.html",
        "book/references.html",
        "book/generated/explorer.html",
        "book/generated/check.html",
    ] + [f"book/generated/train-{m}.html" for m in ("blue", "yellow", "green", "by", "bgy", "baseline")]:
        html(smoke_book, page)
    beyond = re.sub(r"<[^>]+>", "", html(smoke_book, "book/generated/beyond.html"))  # built without the study
    assert "This part was not built" in beyond and "make beyond PROFILE=smoke" in beyond  # says how to build it
    assert "url=book/index.html" in html(smoke_book, "index.html")
    front = html(smoke_book, "book/index.html")
    assert "hero.png" in front and "trade-off.png" in front and "What we found" in front
    discussion = html(smoke_book, "book/discussion.html")
    assert "<table" in discussion and "trade-off.png" in discussion  # the generated claims table, the figure
    assert "Turning up its colours by k traces the curve" in discussion  # and the words written from its numbers
    references = html(smoke_book, "book/references.html")
    assert "Hasler" in references and "Klefbom" in references and "Zhang" in references


def test_training_pages_show_loss_curve_and_provenance(smoke_book):
    page = html(smoke_book, "book/generated/train-green.html")
    assert page.count("<img") >= 3  # loss curve, training set, predictions
    assert "manifest_hash" in page and "colorlib_version" in page


def test_nothing_to_redo_and_text_edit_rebuilds_only_the_book(smoke_copy):
    idle = make(smoke_copy, "book", "SNAKE_ARGS=-n")
    assert "Nothing to be done" in idle.stdout and not jobs_run(idle), idle.stdout[-2000:]
    page = smoke_copy / "book" / "method.md"  # edited in a private copy: other tests read the session's book
    page.write_text(page.read_text() + "\nAn added sentence.\n")
    assert jobs_run(make(smoke_copy, "book", "SNAKE_ARGS=-n")) == {"book": 1}


def test_book_names_its_variant(smoke_book):
    variant = (smoke_book / "build" / "latest").resolve()
    assert variant.parent == (smoke_book / "build").resolve() and variant.name.startswith("smoke-s0-")
    front = html(smoke_book, "book/index.html")
    assert variant.name in front and "rerun.html" in front
    rerun = re.sub(r"<[^>]+>", "", html(smoke_book, "book/rerun.html"))  # inline code splits words into spans
    assert variant.name in rerun and "make book PROFILE=smoke" in rerun
    assert re.search(r"trained on cpu \((bf16|fp32), 1 thread\(s\) per run", rerun)


def test_the_smoke_book_shows_the_reproduction_check(smoke_book):
    """Front page and its own page: the smoke profile is not comparable with the paper-scale builds."""
    front = re.sub(r"<[^>]+>", "", html(smoke_book, "book/index.html"))
    said = r"Reproduction check: this build is not comparable with the reference builds \(profile .smoke. \(the "
    assert re.search(said + r"references: .paper.\), and 6 other settings\), so it gives no verdict", front), front
    page = html(smoke_book, "book/generated/check.html")
    assert "Verdict:" in page and "Intel Xeon with AMX" in page and "AMD EPYC" in page
    assert re.search(r"<img [^>]*src=\"[^\"]+\.png\"", page)  # the band figure


def test_every_page_says_where_it_came_from_and_no_machine_path_is_left(smoke_book):
    """Each executed page closes with its source (template, variant, commit); no absolute path of the
    building machine (the checkout, the photos, the build folder) reaches any file of the built book."""
    variant = (smoke_book / "build" / "latest").resolve().name
    for page in sorted((smoke_book / "_build" / "html" / "book" / "generated").glob("*.html")):
        text = re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))
        template = "notebooks/train.ipynb" if page.stem.startswith("train-") else f"notebooks/{page.stem}.ipynb"
        if page.stem == "beyond":  # the smoke book has no study: the page says how to build it
            template = "notebooks/beyond-not-built.ipynb"
        assert f"Source: every figure and table on this page was drawn by this page, the notebook {template}" in text
        assert f"variant {variant} (smoke profile)" in text, page.name
    front = re.sub(r"<[^>]+>", "", html(smoke_book, "book/index.html"))
    assert "It was built outside a git checkout" in front  # the test's copy is no checkout: it says so
    machine = [str(smoke_book), str(smoke_book.resolve()), str(SHARED_DATA), str(SHARED_DATA.resolve()), str(REPO)]
    for path in sorted((smoke_book / "_build" / "html").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".ipynb", ".md", ".txt", ".json", ".js"):
            text = path.read_text(encoding="utf-8", errors="replace")
            found = [m for m in machine if m in text]
            assert not found, f"{path.relative_to(smoke_book)} shows {found}"


def test_bad_papermill_parameter_fails_first_cell_with_clear_message(smoke_book, tmp_path):
    cmd = [
        str(VENV / "bin" / "papermill"),
        str(REPO / "notebooks" / "train.ipynb"),
        str(tmp_path / "out.ipynb"),
        "-p",
        "dataset",
        "purple",
        "-p",
        "manifest",
        str(smoke_book / "build/latest/manifest.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=smoke_book, env={**os.environ})
    assert proc.returncode != 0
    assert "dataset must be one of" in proc.stderr + proc.stdout
