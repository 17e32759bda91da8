"""Published models (colorlib.workflow.archive, `make archive`, `make book FROM=`): a variant packed with
a sha256 per file, restored only when every hash holds, never over other files, and a book rebuilt
from it without training."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from colorlib.errors import UserError
from colorlib.workflow import archive

from .conftest import copy_repo, jobs_run, make
from .helpers import VENV


def fake_variant(folder: Path) -> Path:
    for name, data in {
        "variant.json": json.dumps({"name": folder.name, "command": "make book PROFILE=smoke"}),
        "manifest.json": "{}",
        "checkpoints/blue.pt": bytes(range(256)) * 40,
        "logs/blue.txt": "trained\n",
        "pages/table1.csv": "model,mse\nblue,0.04\n",
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def packed(tmp_path) -> tuple[Path, Path]:
    variant = fake_variant(tmp_path / "built" / "smoke-s0-abc")
    out = tmp_path / "smoke.tar"
    archive.pack(variant, out)
    return variant, out


def test_a_restored_variant_is_the_packed_one(packed, tmp_path):
    variant, out = packed
    target = archive.restore(out, tmp_path / "build")
    assert target == tmp_path / "build" / "smoke-s0-abc" and files(target) == files(variant)
    assert archive.restore(out, tmp_path / "build") == target  # again: the same files, nothing to do
    assert archive.read_index(out)["files"]["checkpoints/blue.pt"]["size"] == 10240


def test_restore_dates_outputs_after_their_inputs(packed, tmp_path):
    target = archive.restore(packed[1], tmp_path / "build")
    t = {name: (target / name).stat().st_mtime for name in ("manifest.json", "logs/blue.txt", "pages/table1.csv")}
    assert t["manifest.json"] < t["logs/blue.txt"] < t["pages/table1.csv"]


def test_a_truncated_archive_is_one_line_and_writes_nothing(packed, tmp_path):
    _, out = packed
    cut = tmp_path / "cut.tar"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(UserError, match="cut short|truncated") as info:
        archive.restore(cut, tmp_path / "build")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").iterdir())


def test_an_altered_archive_is_refused(packed, tmp_path):
    _, out = packed
    data = bytearray(out.read_bytes())
    at = data.find(bytes(range(256)))  # inside checkpoints/blue.pt
    data[at + 7] ^= 0xFF
    altered = tmp_path / "altered.tar"
    altered.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"checkpoints/blue.pt does not match its sha256: the archive was altered"):
        archive.restore(altered, tmp_path / "build")
    assert not (tmp_path / "build" / "smoke-s0-abc").exists()


def test_an_archive_of_other_training_code_names_what_differs(packed, tmp_path, monkeypatch):
    variant, _ = packed
    theirs = archive.module_fingerprints()
    theirs["colorlib.train"] = "0" * 16
    monkeypatch.setattr(archive, "module_fingerprints", lambda root=None: theirs)
    out = tmp_path / "other.tar"
    archive.pack(variant, out)
    monkeypatch.undo()
    with pytest.raises(UserError, match=r"was trained by other code .*: colorlib.train differ"):
        archive.restore(out, tmp_path / "build")


def test_restore_never_overwrites_another_build(packed, tmp_path):
    _, out = packed
    other = fake_variant(tmp_path / "build" / "smoke-s0-abc")
    (other / "logs" / "blue.txt").write_text("another run\n")
    before = files(other)
    with pytest.raises(UserError, match="already holds a build that differs"):
        archive.restore(out, tmp_path / "build")
    assert files(other) == before


def test_a_file_that_is_no_archive_is_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    for path, said in ((tmp_path / "notes.txt", "not a readable colorlib archive"), (tmp_path / "no.tar", "not found")):
        proc = subprocess.run([sys.executable, "-m", "colorlib.workflow.archive", "restore", str(path), str(tmp_path)],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 2 and said in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_book_rebuilds_from_an_archive_without_training(smoke_book, tmp_path):
    """`make archive` in the smoke book, then `make book FROM=` in a fresh copy: only the book is built."""
    out = tmp_path / "smoke.tar"
    make(smoke_book, "archive", f"OUT={out}")
    fresh = copy_repo(tmp_path / "fresh")
    proc = make(fresh, "book", f"FROM={out}")
    ran = jobs_run(proc)
    assert "train" not in ran and "prepare" not in ran and "results_page" not in ran, ran
    assert ran.get("book") == 1, proc.stdout[-2000:]
    table = "build/latest/pages/table1.md"
    assert (fresh / table).read_text() == (smoke_book / table).read_text()
    assert (fresh / "_build" / "html" / "book" / "generated" / "results.html").is_file()
    # the settings must name the archive's variant
    wrong = make(fresh, "book", f"FROM={out}", "SEED=5", check=False)
    assert wrong.returncode != 0 and "the archive holds variant" in wrong.stderr + wrong.stdout
    with tarfile.open(out) as tar:
        assert tar.getnames()[0] == "colorlib-archive.json"
    assert VENV.exists()


# --- make verify ---------------------------------------------------------------------------------------


def test_verify_retrains_a_model_bit_identically(smoke_book):
    proc = make(smoke_book, "verify", "MODEL=green")
    assert "green: bit-identical to the published model (every weight equal, 30 batches retrained)" in proc.stdout


def test_verify_reports_how_far_a_different_model_lies(smoke_book, tmp_path):
    """A published checkpoint whose weights were nudged is not what its settings train: verify says so."""
    import shutil

    import torch

    variant = tmp_path / "variant"
    shutil.copytree((smoke_book / "build" / "latest").resolve(), variant)
    path = variant / "checkpoints" / "green.pt"
    state = torch.load(path, weights_only=False)
    key = next(k for k, v in state["model"].items() if v.is_floating_point())
    state["model"][key] = state["model"][key] * 1.5
    torch.save(state, path)
    proc = subprocess.run([sys.executable, "-m", "colorlib.workflow.verify", str(variant), "green"],
                          capture_output=True, text=True, cwd=smoke_book)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "green: not bit-identical; validation MSE published 0." in proc.stdout
    assert "no measured band at these settings" in proc.stdout  # the smoke profile has none


def test_verify_names_a_model_that_is_not_there(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "colorlib.workflow.verify", str(tmp_path), "purple"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2 and "MODEL must be one of blue" in proc.stderr
