"""Where every page of the rendered book came from, and nothing of the machine that built it.

The book rule copies the executed notebooks into ``book/generated`` and then runs
``python -m colorlib.workflow.variant``, which calls :func:`publish_pages`: each page gets a closing
*Source* note (the notebook template it was executed from, the variant, the commit the book was
built from, "modified" when the checkout had uncommitted changes), and every absolute path of the
building machine (the checkout, the variant's folder, the photo folder, the home folder) is
replaced in the pages' code, parameters and printed output by the name a reader can use
(``.``, ``build/<variant>``, ``$DATA``, ``~``). Figures are images and keep no path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

DEFAULT_DATA = "../shared/data/landscapes"  # the Makefile's default, relative to the checkout


def template_of(page: str, metadata: Mapping | None = None) -> str:
    """The notebook under notebooks/ that a page of book/generated was executed from: the one papermill
    recorded in the page's `metadata` (the beyond page comes from one of two), else the one its name says."""
    recorded = ((metadata or {}).get("papermill") or {}).get("input_path")
    if recorded:
        return f"notebooks/{Path(str(recorded)).name}"
    stem = Path(page).stem
    return "notebooks/train.ipynb" if stem.startswith("train-") else f"notebooks/{stem}.ipynb"


def shown_paths(root: Path, variant_dir: Path, info: dict) -> list[tuple[str, str]]:
    """(absolute path on this machine, what the book shows instead), the longest first."""
    root = Path(root)
    pairs: dict[str, str] = {}

    def add(path: Path | str, shown: str) -> None:
        for form in {str(path), str(Path(path).resolve())}:
            if Path(form).is_absolute() and form != "/":
                pairs.setdefault(form, shown)

    add(variant_dir, f"build/{info['name']}")
    data = info.get("data")
    if data:
        default = (root / DEFAULT_DATA).resolve()
        add(Path(data).expanduser(), DEFAULT_DATA if Path(data).expanduser().resolve() == default else "$DATA")
    add(root, ".")
    add(Path.home(), "~")
    return sorted(pairs.items(), key=lambda p: -len(p[0]))


def scrub(text: str, pairs: list[tuple[str, str]]) -> str:
    """`text` with each absolute path replaced where it stands as a whole path (not inside a longer name)."""
    for path, shown in pairs:
        text = re.sub(re.escape(path) + r"(?=$|[/\s\"'`<>),:;\]\\])", lambda _m, s=shown: s, text)
    return text


def _scrub_value(value, pairs):
    """Strings in any nesting of lists and dicts scrubbed; images (base64 under image/*) left alone."""
    if isinstance(value, str):
        return scrub(value, pairs)
    if isinstance(value, list):
        return [_scrub_value(v, pairs) for v in value]
    if isinstance(value, dict):
        return {k: v if k.startswith("image/") else _scrub_value(v, pairs) for k, v in value.items()}
    return value


def built_from(commit: str) -> str:
    """How a page says which commit it was built from (colorlib.fingerprint.code_commit's answer)."""
    if commit == "unknown":
        return "outside a git checkout (no commit known)"
    if commit.endswith("-modified"):
        return f"from commit `{commit.removesuffix('-modified')}` with uncommitted changes (modified)"
    return f"from commit `{commit}`"


def source_note(page: str, info: dict, commit: str, metadata: Mapping | None = None) -> str:
    """The closing note of one executed page (`metadata`: the page's own, where papermill recorded its template)."""
    made = built_from(commit)
    return (
        f"---\n\n*Source: every figure and table on this page was drawn by this page, the notebook "
        f"`{template_of(page, metadata)}` executed by papermill for the variant `{info['name']}` "
        f"({info['profile']} profile), "
        f"{made}. Its parameters are in the first cells; the page [Re-running the notebooks](../rerun.md) "
        f"says how to run it again.*"
    )


def publish_page(path: Path, info: dict, commit: str, pairs: list[tuple[str, str]]) -> None:
    """Scrub one executed notebook of book/generated in place and close it with its source note."""
    nb = _scrub_value(json.loads(path.read_text(encoding="utf-8")), pairs)  # cells, outputs, papermill's record
    text = source_note(path.name, info, commit, nb.get("metadata"))
    note = {"cell_type": "markdown", "metadata": {"tags": ["provenance"]}, "source": text}
    if nb.get("nbformat_minor", 0) >= 5:
        note["id"] = "provenance"
    nb["cells"] = [c for c in nb["cells"] if "provenance" not in c.get("metadata", {}).get("tags", [])] + [note]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def publish_pages(folder: Path, root: Path, variant_dir: Path, info: dict, commit: str) -> list[Path]:
    """Every notebook and Markdown file in `folder` (book/generated) scrubbed; the notebooks stamped."""
    pairs = shown_paths(root, variant_dir, info)
    done = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix == ".ipynb":
            publish_page(path, info, commit, pairs)
        elif path.suffix in (".md", ".json", ".txt", ".csv", ".js"):
            path.write_text(scrub(path.read_text(encoding="utf-8"), pairs), encoding="utf-8")
        else:
            continue
        done.append(path)
    return done
