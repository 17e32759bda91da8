"""Jupyter on a built variant (`make lab`, `make explorer`): the notebooks filled in for it, what the
commands say before any build, and every notebook re-run as it stands on the smoke book's variant."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from colorlib import TRAINED_MODELS
from colorlib.errors import UserError
from colorlib.identity import Variant, read_variant
from colorlib.pages.notebooks import check_variant, notebook_parameters, write_notebooks

from .conftest import copy_repo
from .helpers import REPO, VENV
from .servers import free_port, served

NOTEBOOKS = [*(f"train-{m}.ipynb" for m in TRAINED_MODELS), "data.ipynb", "results.ipynb", "explorer.ipynb"]


def fake_variant(folder: Path, data: Path) -> Path:
    folder.mkdir(parents=True)
    train = {"image_size": 64, "iterations": 30, "batch_size": 4, "seed": 0, "lr": 0.001, "threads": 1}
    variant = Variant("smoke", str(data), "0123456789abcdef-24", {"seed": 0}, train, "c0de", "make book PROFILE=smoke")
    (folder / "variant.json").write_text(json.dumps(variant.to_json()))
    return folder


# --- what the commands check, without a build ---------------------------------------------------------


def test_before_any_build_it_says_to_build_first(tmp_path):
    with pytest.raises(UserError, match=r"no book built yet .*run `make book` first"):
        check_variant(tmp_path / "build" / "latest")
    with pytest.raises(UserError, match="not a built variant"):
        check_variant(tmp_path)


def test_a_variant_lacking_models_says_which_and_how_to_build_them(tmp_path):
    variant = fake_variant(tmp_path / "smoke-s0-abc", tmp_path)
    with pytest.raises(UserError, match=r"no manifest yet: run `make book PROFILE=smoke` first"):
        check_variant(variant)
    (variant / "manifest.json").write_text("{}")
    with pytest.raises(UserError, match=r"lacks the trained model\(s\) blue, .*baseline: run `make book PROFILE=smoke"):
        write_notebooks(variant, REPO / "notebooks")
    assert not (variant / "jupyter").exists()


def test_parameters_point_at_the_variant_from_the_copies_folder(tmp_path):
    copies = notebook_parameters(read_variant(fake_variant(tmp_path / "v", tmp_path)))
    assert sorted(copies) == sorted(NOTEBOOKS)
    template, train = copies["train-green.ipynb"]
    assert template == "train" and train["spec"] == "../specs/green.json" and train["out_dir"] == "../checkpoints"
    assert copies["explorer.ipynb"][1]["show_widget"] is True
    for _, parameters in copies.values():
        assert parameters["manifest"] == "../manifest.json" and parameters["data_dir"] == str(tmp_path)


@pytest.mark.slow
def test_make_explorer_before_any_build_prints_one_line(tmp_path):
    root = copy_repo(tmp_path / "repo")
    for target in ("explorer", "lab"):
        proc = subprocess.run(
            ["make", "-C", str(root), "-o", f"{VENV}/.installed", target, f"VENV={VENV}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode != 0
        said = [line for line in proc.stderr.splitlines() if not line.startswith("make")]
        assert len(said) == 1 and "run `make book` first" in said[0], proc.stderr


# --- every notebook as it stands, on the smoke book's variant ---------------------------------------------


@pytest.fixture(scope="module")
def copies(smoke_book) -> Path:
    """`make lab`'s folder in the smoke book: the notebooks filled in for build/latest."""
    proc = subprocess.run(
        [sys.executable, "-m", "colorlib", "notebooks", "build/latest"],
        cwd=smoke_book,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = smoke_book / proc.stdout.strip()
    assert sorted(p.name for p in folder.glob("*.ipynb")) == sorted(NOTEBOOKS)
    return folder


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom_as_it_stands(copies, name, tmp_path):
    """No parameter given, run in its own folder as Jupyter runs it: it must succeed on the built models."""
    checkpoints = copies.parent / "checkpoints"
    before = {p.name: p.read_bytes() for p in checkpoints.glob("*.pt")}
    out = tmp_path / name
    proc = subprocess.run(
        [str(VENV / "bin" / "papermill"), "--cwd", str(copies), "--log-level", "WARNING", str(copies / name), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"{name} failed in Jupyter's way:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    text = out.read_text(encoding="utf-8")
    if name.startswith("train-"):
        assert "(already trained, loaded)" in text, "the training notebook trained again"
    assert {p.name: p.read_bytes() for p in checkpoints.glob("*.pt")} == before, "a checkpoint was changed"


def test_make_lab_opens_jupyterlab_on_the_copies(smoke_book, copies, tmp_path):
    """`make lab` serves JupyterLab on 127.0.0.1 (a free port, a token) in the copies' folder."""
    port, token = free_port(), secrets.token_hex(16)
    args = f"--port={port} --no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"
    cmd = ["make", "-C", str(smoke_book), "-o", f"{VENV}/.installed", "lab", f"VENV={VENV}", f"JUPYTER_ARGS={args}"]

    def get(path: str) -> dict:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    with served(cmd, port, tmp_path / "lab.log"):
        for _ in range(120):  # the port opens a little before the API answers
            try:
                listing = get("/api/contents")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab's API did not answer:\n{(tmp_path / 'lab.log').read_text()[-3000:]}")
        assert sorted(c["name"] for c in listing["content"] if c["type"] == "notebook") == sorted(NOTEBOOKS)
        explorer = get("/api/contents/explorer.ipynb")["content"]
        injected = [c for c in explorer["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1 and "show_widget = True" in injected[0]["source"]
