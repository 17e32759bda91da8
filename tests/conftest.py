"""Shared fixtures: small synthetic photo folders, and the real landscape folder when present."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from .helpers import REPO, SHARED_DATA, VENV, tiny_folder

# Reference colours (sRGB) used to paint synthetic photos.
SKY_BLUE = (70, 130, 220)
DEEP_BLUE = (25, 60, 150)
GOLD = (235, 175, 40)
ORANGE = (240, 120, 40)
GRASS = (80, 150, 50)
FOREST = (30, 100, 40)
GRAY = (128, 128, 128)


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers: the tests that read the real shared photo folder, and the slow tier."""
    config.addinivalue_line("markers", "shared_data: uses the real landscape photos in ../shared/data/landscapes")
    config.addinivalue_line("markers", "slow: builds a book, runs the workflow or a notebook, or starts a server")


# Two speeds. The fast tier (`make test-fast`, i.e. `pytest -m "not slow"`) is unit tests on small real data
# that a developer runs after every change; the slow tier builds books, executes notebooks, starts servers,
# a cluster or a browser. A test is slow when it is marked so, or when it needs one of these fixtures.
SLOW_FIXTURES = {"smoke_book", "explorer_page"}  # the session smoke book; the browser test's own tiny book


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def textured(seed: int, colour_a: tuple, colour_b: tuple, size: int = 96) -> np.ndarray:
    """A uint8 RGB 'photo': two colours in random smooth blobs, shaded, so it has structure."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray((rng.random((6, 6)) * 255).astype(np.uint8))
    field = np.asarray(coarse.resize((size, size), Image.BICUBIC), dtype=np.float64) / 255.0
    mask = (field > np.median(field))[..., None]
    base = np.where(mask, np.array(colour_a, float), np.array(colour_b, float))
    shade = 0.85 + 0.3 * field[..., None]
    return np.clip(base * shade, 0, 255).astype(np.uint8)


def gray_photo(seed: int, size: int = 96) -> np.ndarray:
    """A black-and-white photo (R = G = B) with structure."""
    gray = textured(seed, (200, 200, 200), (60, 60, 60), size)[..., :1]
    return np.repeat(gray, 3, axis=2)


def save_photo(path: Path, rgb: np.ndarray, fmt: str | None = None, **options) -> Path:
    """Write a uint8 RGB array as an image file (format from the suffix unless fmt is given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(path, format=fmt, **options)
    return path


@pytest.fixture
def make_photo() -> Callable[..., Path]:
    """make_photo(path, rgb_array, fmt=None, **save_options) -> path."""
    return save_photo


@pytest.fixture
def synth() -> SimpleNamespace:
    """Synthetic photo makers and reference colours: synth.textured(seed, a, b), synth.gray(seed),
    synth.SKY_BLUE, ..."""
    colours = {"SKY_BLUE": SKY_BLUE, "DEEP_BLUE": DEEP_BLUE, "GOLD": GOLD, "ORANGE": ORANGE}
    colours |= {"GRASS": GRASS, "FOREST": FOREST, "GRAY": GRAY}
    return SimpleNamespace(textured=textured, gray=gray_photo, **colours)


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    """A small messy folder: blue, yellow, green photos, a B&W one, an exact duplicate (in a
    subfolder), a JPEG re-encode, a truncated JPEG, a text file and a hidden file."""
    folder = tmp_path / "photos"
    save_photo(folder / "blue.jpg", textured(1, SKY_BLUE, DEEP_BLUE), quality=95)
    save_photo(folder / "yellow.png", textured(2, GOLD, ORANGE))
    save_photo(folder / "green.jpg", textured(3, GRASS, FOREST), quality=95)
    save_photo(folder / "green_q40.jpg", textured(3, GRASS, FOREST), quality=40)
    save_photo(folder / "bw.jpg", gray_photo(4), quality=95)
    (folder / "sub").mkdir()
    shutil.copyfile(folder / "blue.jpg", folder / "sub" / "blue_copy.jpg")
    broken = (folder / "blue.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(broken[: len(broken) // 2])
    (folder / "notes.txt").write_text("not a photo\n")
    (folder / ".hidden.jpg").write_bytes(broken)
    return folder


# Colours of the photos of split_folder: (name, colour a, colour b).
SPLIT_PHOTOS = [
    *[(f"blue{i}", SKY_BLUE, DEEP_BLUE) for i in range(4)],
    *[(f"yellow{i}", GOLD, ORANGE) for i in range(4)],
    *[(f"green{i}", GRASS, FOREST) for i in range(4)],
    *[(f"mixed{i}", SKY_BLUE, FOREST) for i in range(4)],
    *[(f"mixed{i + 4}", GOLD, GRAY) for i in range(4)],
]


@pytest.fixture
def split_folder(tmp_path: Path) -> Path:
    """Enough photos for small splits (20 distinct colour photos), plus a B&W photo, an exact
    copy of blue0, a re-encode of mixed0 and an exact copy of mixed1."""
    folder = tmp_path / "split"
    for seed, (name, colour_a, colour_b) in enumerate(SPLIT_PHOTOS, start=10):
        save_photo(folder / f"{name}.jpg", textured(seed, colour_a, colour_b), quality=95)
    save_photo(folder / "bw.jpg", gray_photo(99), quality=95)
    shutil.copyfile(folder / "blue0.jpg", folder / "zz_blue0_copy.jpg")
    shutil.copyfile(folder / "mixed1.jpg", folder / "zz_mixed1_copy.jpg")
    with Image.open(folder / "mixed0.jpg") as mixed0:
        mixed0.save(folder / "zz_mixed0_q30.jpg", quality=30)
    return folder


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real landscape folder; tests using it are skipped where it is absent."""
    folder = SHARED_DATA.resolve()
    if not folder.is_dir():
        pytest.skip(f"shared photo folder {folder} not present")
    return folder


# --- building the smoke book in a copy of the repository -------------------------------------------

COPIED = ["Makefile", "workflow", "_config.yml", "_toc.yml", "pyproject.toml", "requirements.lock", "book", "notebooks",
          "colorlib", "package.json", "package-lock.json"]  # fmt: skip


def copy_repo(root: Path) -> Path:
    """The files a build needs, copied to `root` (a user's own build and outputs stay untouched); the
    page's runtime that `make web` installed (node_modules) is linked, not installed again."""
    root.mkdir(parents=True)
    if (REPO / "node_modules" / ".package-lock.json").is_file():
        (root / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            ignore = shutil.ignore_patterns("generated", "__pycache__", ".ipynb_checkpoints", ".snakemake")
            shutil.copytree(src, root / name, ignore=ignore)
        elif src.exists():
            shutil.copy2(src, root / name)
    return root


def make(root: Path, *args: str, check: bool = True, data: Path | None = None) -> subprocess.CompletedProcess:
    """`make ARGS PROFILE=smoke` in the copy `root`, with the running venv and the shared photos."""
    # -o: never (re)install into the running venv from the copy (that would repoint its editable install)
    cmd = ["make", "-C", str(root), "-o", f"{VENV}/.installed", *args, "PROFILE=smoke", f"VENV={VENV}",
           f"DATA={(data or SHARED_DATA).resolve()}", f"CACHE={REPO / '.colorlib-cache'}"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def jobs_run(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """Snakemake's job counts ('Job stats' table) from a make call's output; {} when nothing was to do."""
    text = proc.stdout + proc.stderr
    if "Job stats:" not in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M)}


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory) -> Path:
    if os.environ.get("COLORLIB_SMOKE_BOOK"):  # reuse a copy built by an earlier run (development)
        return Path(os.environ["COLORLIB_SMOKE_BOOK"])
    if not SHARED_DATA.is_dir():
        pytest.skip("the shared landscape photos are not here")
    if not (VENV / "bin" / "snakemake").exists() or not (VENV / "bin" / "papermill").exists():
        pytest.skip("run the tests from the project's .venv (make test)")
    root = copy_repo(tmp_path_factory.mktemp("book") / "repo")
    make(root, "book")
    return root


@pytest.fixture
def smoke_copy(smoke_book, tmp_path) -> Path:
    """A private copy of the built smoke book, for a test that edits or rebuilds it: the session's own copy
    is read by other tests and stays as built."""
    root = tmp_path / "repo"
    shutil.copytree(smoke_book, root, symlinks=True)
    return root


@pytest.fixture
def tiny(tmp_path):
    """A folder of 8 synthetic photos and a hand-written manifest over it (training's tests)."""
    return tiny_folder(tmp_path)
