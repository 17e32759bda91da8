"""The code fingerprint: what training imports, hashed so that only edits of what runs change it."""

import shutil
from pathlib import Path

import pytest

from colorlib import checkpoint, fingerprint
from colorlib import train as T

from .helpers import train_config as _cfg

PACKAGE = Path(fingerprint.__file__).resolve().parent


@pytest.fixture
def copy(tmp_path) -> Path:
    """A copy of the package under tmp_path (the root that holds `colorlib/`)."""
    shutil.copytree(PACKAGE, tmp_path / "colorlib", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit(root: Path, module: str, old: str, new: str) -> None:
    path = root / module
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not once in {module}"
    path.write_text(text.replace(old, new))


def test_the_files_are_what_training_imports_and_the_packages_they_sit_in(copy):
    names = {p.relative_to(copy).as_posix() for p in fingerprint.code_modules(copy).values()}
    for needed in ("colorlib/train.py", "colorlib/model.py", "colorlib/lab.py", "colorlib/steps.py"):
        assert needed in names
    assert "colorlib/__init__.py" in names and "colorlib/data/__init__.py" in names
    assert "colorlib/data/manifest.py" in names  # through `from .data import ...` and data/__init__
    # what training does not import, and this module itself, are not part of it
    assert not any(n.startswith(("colorlib/paper/", "colorlib/study/", "colorlib/explorer/")) for n in names)
    assert "colorlib/cli.py" not in names and "colorlib/fingerprint.py" not in names
    assert "colorlib/spec.py" in names and "colorlib/identity.py" not in names  # the defaults are; the hash is not
    assert fingerprint.code_modules() and len(fingerprint.code_modules()) == len(names)


def test_same_code_same_fingerprint_anywhere(copy):
    assert fingerprint.code_fingerprint(copy) == fingerprint.code_fingerprint()
    assert len(fingerprint.code_fingerprint(copy)) == 16


def test_a_numeric_change_changes_it_and_going_back_restores_it(copy):
    before = fingerprint.code_fingerprint(copy)
    _edit(copy, "colorlib/train.py", "delta=0.1)", "delta=0.2)")
    changed = fingerprint.code_fingerprint(copy)
    assert changed != before
    _edit(copy, "colorlib/train.py", "delta=0.2)", "delta=0.1)")
    assert fingerprint.code_fingerprint(copy) == before


def test_a_change_in_an_imported_module_changes_it(copy):
    before = fingerprint.code_fingerprint(copy)
    text = (copy / "colorlib/lab.py").read_text()
    (copy / "colorlib/lab.py").write_text(text + "\nEXTRA = 1\n")
    assert fingerprint.code_fingerprint(copy) != before


def test_comments_docstrings_and_layout_do_not_change_it(copy):
    before = fingerprint.code_fingerprint(copy)
    path = copy / "colorlib/train.py"
    text = path.read_text()
    assert text.startswith('"""')
    edited = '"""A docstring rewritten entirely."""\n' + text.split('"""', 2)[2].replace(
        "def batch_order(", "# a new comment\n\n\ndef batch_order(", 1
    ).replace('"""The fields that define the result', '"""Other words for the fields', 1)
    assert edited != text
    path.write_text(edited)
    # a comment and blank lines in a transitively imported module, too
    model = copy / "colorlib/model.py"
    model.write_text(model.read_text().replace("\n", "  # trailing comment\n", 1))
    assert fingerprint.code_fingerprint(copy) == before


def test_a_module_outside_training_does_not_change_it(copy):
    before = fingerprint.code_fingerprint(copy)
    figures = copy / "colorlib/paper/figures.py"
    figures.write_text(figures.read_text() + "\nEXTRA = 1\n")
    assert fingerprint.code_fingerprint(copy) == before


def test_code_that_does_not_parse_is_an_error(copy):
    (copy / "colorlib/lab.py").write_text("def broken(:\n")
    with pytest.raises(SyntaxError):
        fingerprint.code_fingerprint(copy)


def test_the_checkpoint_records_the_fingerprint(tiny):
    manifest, data, tmp = tiny
    T.train(_cfg(iterations=2), manifest, data, tmp / "c.pt", progress=False)
    state = checkpoint.load_checkpoint(tmp / "c.pt")
    assert state["code_fingerprint"] == fingerprint.code_fingerprint()
