"""The pipeline end to end at the smoke profile: papermill runs every notebook, Jupyter Book
builds with warnings as errors, and the built HTML holds Figures 1-9 and Table I as real images
and tables. The build happens in a copy of the repository, so a user's own build is untouched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
COPIED = ["Makefile", "beyond.mk", "_config.yml", "_toc.yml", "pyproject.toml", "book", "notebooks", "colorlib"]


def make(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    # -o: never (re)install into the running venv from the copy (that would repoint its editable install)
    cmd = [
        "make",
        "-C",
        str(root),
        "-o",
        f"{VENV}/.installed",
        *args,
        "PROFILE=smoke",
        f"VENV={VENV}",
        f"DATA={SHARED_DATA.resolve()}",
        f"CACHE={REPO / '.colorlib-cache'}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    if os.environ.get("COLORLIB_SMOKE_BOOK"):  # reuse a copy built by an earlier run (development)
        return Path(os.environ["COLORLIB_SMOKE_BOOK"])
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared landscape photos are not here")
    if not (VENV / ".installed").exists() and not (VENV / "bin" / "papermill").exists():
        pytest.skip("run the tests from the project's .venv (make test)")
    root = tmp_path_factory.mktemp("book") / "repo"
    root.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(
                src, root / name, ignore=shutil.ignore_patterns("generated", "__pycache__", ".ipynb_checkpoints")
            )
        else:
            shutil.copy2(src, root / name)
    make(root, "book")
    return root


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
    table = re.search(r"<table.*?</table>", matching[0], flags=re.S)
    assert table, "Table I is not an HTML table"
    for model in ("blue", "yellow", "green", "by", "bgy", "baseline", "by-combined", "bgy-combined"):
        assert re.search(rf">\s*{re.escape(model)}\s*<", table.group(0)), model
    assert "0.2780" in table.group(0)  # the paper's blue loss, quoted beside ours


def test_book_has_all_parts(smoke_book):
    for page in [
        "index.html",
        "book/method.html",
        "book/generated/data.html",
        "book/discussion.html",
        "book/rerun.html",
        "book/generated/explorer.html",
    ] + [f"book/generated/train-{m}.html" for m in ("blue", "yellow", "green", "by", "bgy", "baseline")]:
        html(smoke_book, page)
    html(smoke_book, "book/generated/beyond.html")  # built even without the study: says how to build it
    assert "url=book/index.html" in html(smoke_book, "index.html")
    front = html(smoke_book, "book/index.html")
    assert "hero.png" in front and "What we found" in front
    assert "<table" in html(smoke_book, "book/discussion.html")  # the generated claims table


def test_training_pages_show_loss_curve_and_provenance(smoke_book):
    page = html(smoke_book, "book/generated/train-green.html")
    assert page.count("<img") >= 3  # loss curve, training set, predictions
    assert "manifest_hash" in page and "colorlib_version" in page


def test_nothing_to_redo_and_text_edit_rebuilds_only_the_book(smoke_book):
    idle = make(smoke_book, "-n", "book").stdout
    assert "papermill" not in idle and "jupyter-book" not in idle and "colorlib prepare" not in idle, idle
    page = smoke_book / "book" / "method.md"
    page.write_text(page.read_text() + "\nAn added sentence.\n")
    plan = make(smoke_book, "-n", "book").stdout
    assert "jupyter-book build" in plan
    assert "papermill" not in plan and "colorlib prepare" not in plan


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
        str(smoke_book / "build/smoke/manifest.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=smoke_book, env={**os.environ})
    assert proc.returncode != 0
    assert "dataset must be one of" in proc.stderr + proc.stdout
