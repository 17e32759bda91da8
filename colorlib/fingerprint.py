"""A fingerprint of the code that decides a training run's numbers.

The code is the modules of this package that :mod:`colorlib.train` imports, directly or through
other modules of the package (found by reading their ``import`` statements, not by importing them),
with the ``__init__`` of every package they sit in, since Python runs those too. Each file is read as
a syntax tree with its docstrings taken out, so an edit of comments, docstrings or layout leaves the
fingerprint as it was, and any edit of what runs changes it. A checkpoint records the fingerprint
(``code_fingerprint`` in its metadata) beside the commit, so a result says which code computed it.

The tree is written out by :func:`_canonical`, which skips empty fields, so the fingerprint is the
same under the Python versions the package supports for code that uses no syntax added in between.
This module and colorlib.identity (its :func:`digest`) only describe the code: they are not part of it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import subprocess
from functools import lru_cache
from pathlib import Path

from .identity import digest

PACKAGE = "colorlib"
ENTRY = "colorlib.train"
# the modules that describe the code and the results but compute no number: not part of the fingerprint
DESCRIBING = ("colorlib.fingerprint", "colorlib.identity")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder that holds the package: checkout or site-packages


def _module_file(root: Path, module: str) -> Path | None:
    """The file of a module of the package under `root`, or None when there is none."""
    base = root.joinpath(*module.split("."))
    return next((path for path in (base.with_suffix(".py"), base / "__init__.py") if path.is_file()), None)


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module of the package that a module's code imports (at any depth of its code), each
    named in full; `from X import name` names X.name when that is a module, which the caller checks."""
    out: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return {m for m in out if m == PACKAGE or m.startswith(PACKAGE + ".")}


def code_modules(root: Path | None = None, entry: str = ENTRY) -> dict[str, Path]:
    """{module name: file} of the code that decides a run's numbers, sorted by name."""
    root = Path(root) if root is not None else PACKAGE_ROOT
    found: dict[str, Path] = {}
    todo = [entry]
    while todo:
        module = todo.pop()
        if module in found or module in DESCRIBING:
            continue
        path = _module_file(root, module)
        if path is None:
            continue  # a name imported from a module, not a module itself
        found[module] = path
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        todo.extend(_imported(tree, module, path.name == "__init__.py"))
        parts = module.split(".")  # colorlib.a.b: colorlib and colorlib.a, whose __init__ Python runs first
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
    return dict(sorted(found.items()))


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """The tree without the docstring of its module, classes and functions."""
    for node in ast.walk(tree):
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, documented) and ast.get_docstring(node, clean=False) is not None:
            node.body = node.body[1:]
    return tree


def _canonical(node: object) -> str:
    """A node written out with its type and non-empty fields, without positions."""
    if isinstance(node, ast.AST):
        fields = ((name, getattr(node, name, None)) for name in node._fields)
        shown = [f"{name}={_canonical(value)}" for name, value in fields if value is not None and value != []]
        return f"{type(node).__name__}({','.join(shown)})"
    if isinstance(node, list):
        return "[" + ",".join(_canonical(v) for v in node) + "]"
    return repr(node)


@lru_cache(maxsize=256)  # by source text: every plan and archive asks again for the same files
def source_fingerprint(text: str, filename: str = "<code>") -> str:
    """The digest of one module's syntax tree without docstrings (a SyntaxError if it does not parse)."""
    return digest(_canonical(_strip_docstrings(ast.parse(text, filename=filename))).encode())


def module_fingerprints(root: Path | None = None) -> dict[str, str]:
    """{module: its fingerprint} of :func:`code_modules`: which module a difference is in."""
    modules = code_modules(root)
    return {name: source_fingerprint(path.read_text(encoding="utf-8"), name) for name, path in modules.items()}


def code_fingerprint(root: Path | None = None) -> str:
    """The fingerprint of :func:`code_modules`: the digest of each module's name and fingerprint, in order."""
    return digest(list(module_fingerprints(root).items()))


def code_commit(root: Path | None = None) -> str:
    """The commit of the checkout the package runs from, with "-modified" when tracked files differ
    from it; "unknown" outside a git checkout (an installed package)."""
    root = Path(root) if root is not None else PACKAGE_ROOT

    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=True)
        return proc.stdout.strip()

    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-modified" if dirty else "")


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks (archives and checkpoints are large)."""
    with Path(path).open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()
