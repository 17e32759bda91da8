"""The code a step depends on: the package modules a module imports, directly or not.

The workflow lists each step's code as inputs, so that a change reruns exactly the steps whose code
changed. The lists are not written by hand: :func:`module_files` follows the ``import`` statements
(read from the syntax tree, nothing is imported) from a step's entry module through the package.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = "colorlib"


def _module_path(root: Path, module: str) -> Path | None:
    """colorlib.x.y -> root/colorlib/x/y.py or root/colorlib/x/y/__init__.py (None if not in the package)."""
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(root: Path, module: str, path: Path) -> set[str]:
    """The package modules one file imports (at module level or inside functions)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # `from . import rules` names a module
    return {m for m in found if m.split(".")[0] == PACKAGE and _module_path(root, m)}


@cache
def _closure(root: Path, module: str) -> tuple[str, ...]:
    seen: set[str] = set()
    parents: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        # importing a.b runs a/__init__.py: it counts, but what it imports for its own users does not
        parents |= {".".join(parts[:i]) for i in range(1, len(parts))}
        todo += sorted(_imports(root, name, _module_path(root, name)))
    return tuple(sorted(seen | parents))


def module_files(*modules: str, root: Path | str = ".") -> list[str]:
    """Every package file that importing `modules` runs, as paths relative to `root` (sorted).

    >>> "colorlib/lab.py" in module_files("colorlib.train")
    True
    """
    root = Path(root)
    missing = [m for m in modules if _module_path(root, m) is None]
    if missing:
        raise ValueError(f"no module {missing[0]} under {root}")
    names = set().union(*(_closure(root.resolve(), m) for m in modules))
    return sorted(_module_path(root, m).as_posix() for m in names)


def package_files(root: Path | str = ".") -> list[str]:
    """Every Python file of the package (what a page that may use any of it depends on)."""
    return sorted(p.as_posix() for p in Path(root, PACKAGE).rglob("*.py"))
