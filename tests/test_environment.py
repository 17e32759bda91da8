"""The locked environment: pyproject.toml, requirements.lock and environment.yml agree with each other, the
lock names no machine, and the `colorlib` command needs none of the book toolchain.

Fast and offline: these read files and start one Python subprocess; nothing is installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
LOCKED_EXTRAS = ("book", "test", "explore")  # what tools/lock.sh locks besides the core dependencies
BOOK_TOOLCHAIN = ("jupyter-book", "papermill", "myst-nb", "snakemake")
# conda-forge package names that differ from the PyPI distribution's
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib"}
NOT_PYTHON_PACKAGES = {"python", "pip", "make", "nodejs"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(group: str) -> list[Requirement]:
    project = pyproject()
    specs = project["dependencies"] if group == "core" else project["optional-dependencies"][group]
    return [Requirement(s) for s in specs]


def locked() -> dict[str, tuple[Version, list[str]]]:
    """requirements.lock as {canonical name: (version, [sha256 hashes])}."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line):
            current = canonicalize_name(m[1])
            assert current not in pins, f"{m[1]} is locked twice"
            pins[current] = (Version(m[2]), [])
        elif m := re.match(r"^\s+--hash=sha256:([0-9a-f]{64})", line):
            assert current is not None, f"a hash before any requirement: {line}"
            pins[current][1].append(m[1])
        elif line.strip() and not line.lstrip().startswith("#"):
            pytest.fail(f"requirements.lock has a line that is neither a pin, a hash nor a comment: {line!r}")
    return pins


def conda_spec(spec: str) -> tuple[str, SpecifierSet]:
    """'numpy=2.4.6' / 'pytest>=8' / 'jupyter-book>=1.0,<2' -> (PyPI name, specifier); conda's '=X' is 'X.*'."""
    m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)", spec.strip())
    assert m, spec
    name, constraint = m[1], m[2].replace(" ", "")
    parts = []
    for part in filter(None, constraint.split(",")):
        if re.fullmatch(r"=[^=<>!].*", part):
            version = part[1:].removesuffix(".*").removesuffix("*")
            # PEP 440 allows no prefix match on a post/dev release: there '=X' can only mean X itself
            parts.append(f"=={version}" if re.search(r"(post|dev)\d*$", version) else f"=={version}.*")
        else:
            parts.append(part)
    return canonicalize_name(CONDA_TO_PYPI.get(name, name)), SpecifierSet(",".join(parts))


def environment() -> tuple[list[str], list[str]]:
    """environment.yml's conda specs and pip lines."""
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = [line for d in deps if isinstance(d, dict) for line in d.get("pip", [])]
    return conda, pip


def test_lock_pins_every_package_with_hashes():
    pins = locked()
    assert len(pins) > 50, "requirements.lock looks truncated"
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert not unhashed, f"`pip install --require-hashes` would refuse these unhashed pins: {unhashed}"
    assert "colorlib" not in pins, "the project itself is installed separately (pip install --no-deps -e .)"


@pytest.mark.parametrize("group", ["core", *LOCKED_EXTRAS])
def test_every_dependency_is_locked_within_its_specifier(group):
    pins = locked()
    for req in requirements(group):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} ({group}) is not in requirements.lock: run tools/lock.sh"
        version = pins[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"requirements.lock has {name}=={version}, outside pyproject's {req} ({group}): run tools/lock.sh"
        )


def test_lock_holds_the_tested_torch():
    pins = locked()
    for line in (ROOT / "tools" / "lock-constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            assert req.specifier.contains(pins[canonicalize_name(req.name)][0]), line


def test_lock_names_no_machine():
    text = LOCK.read_text()
    for pattern, what in [
        (r"(?m)^\s*-e\s", "an editable install"),
        (r"(?m)^\s*--?(index-url|extra-index-url|find-links|trusted-host|[ifc])\b", "a pip option"),
        (r"file://", "a file URL"),
        (r"(?<![\w.])/(opt|root|home|tmp|work|usr|var|mnt|Users)/", "an absolute path"),
        (r"[A-Za-z]:\\", "a Windows path"),
    ]:
        m = re.search(pattern, text)
        assert not m, f"requirements.lock names {what}: {text[max(0, m.start() - 60) : m.end() + 60]!r}"


def test_core_dependencies_leave_out_the_book_toolchain():
    core = {canonicalize_name(r.name) for r in requirements("core")}
    assert not core & set(BOOK_TOOLCHAIN), core & set(BOOK_TOOLCHAIN)
    book = {canonicalize_name(r.name) for r in requirements("book")}
    assert {"jupyter-book", "papermill", "snakemake"} <= book


def test_environment_yml_agrees_with_the_lock():
    pins = locked()
    conda, pip = environment()
    pinned = 0
    for spec in conda:
        name, specifier = conda_spec(spec)
        if name in NOT_PYTHON_PACKAGES:
            continue
        assert name in pins, f"environment.yml's {spec} is not in requirements.lock"
        assert specifier.contains(pins[name][0], prereleases=True), (
            f"environment.yml wants {spec}, requirements.lock has {name}=={pins[name][0]}"
        )
        pinned += any(s.operator == "==" for s in specifier)
    assert pinned >= 8, "environment.yml should pin its key packages to the lock's versions"
    for line in pip:
        if line.startswith("-"):
            continue
        req = Requirement(line)
        if any(s.operator == "==" for s in req.specifier):
            name = canonicalize_name(req.name)
            assert name in pins and req.specifier.contains(pins[name][0]), (
                f"environment.yml pip-installs {line}, requirements.lock has {pins.get(name, ('nothing',))[0]}"
            )


def test_environment_yml_has_every_pyproject_dependency():
    conda, pip = environment()
    names = {conda_spec(s)[0] for s in conda}
    names |= {canonicalize_name(Requirement(line).name) for line in pip if not line.startswith("-")}
    project = pyproject()
    wanted = [*project["dependencies"], *(s for specs in project["optional-dependencies"].values() for s in specs)]
    missing = sorted({canonicalize_name(Requirement(s).name) for s in wanted} - names)
    assert not missing, f"environment.yml lacks {missing}"
    python = next(s for s in conda if conda_spec(s)[0] == "python")
    assert python.replace(" ", "") == "python=3.11", "requirements.lock is made for Python 3.11"


def test_cli_imports_no_book_toolchain():
    """`colorlib` and the modules its commands load import none of the book's packages (they may be absent)."""
    blocked = ("papermill", "jupyter_book", "myst_nb", "myst_parser", "snakemake", "nbclient", "sphinx")
    script = textwrap.dedent(
        f"""
        import sys

        BLOCKED = {blocked!r}

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"blocked for this test: {{name}}")
                return None

        sys.meta_path.insert(0, Block())
        import colorlib.cli
        import colorlib.data, colorlib.train, colorlib.paper.evaluate, colorlib.ensemble  # loaded by the commands
        try:
            colorlib.cli.main(["--help"])
        except SystemExit as e:
            assert e.code in (0, None), e.code
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not loaded, loaded
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "usage: colorlib" in done.stdout
