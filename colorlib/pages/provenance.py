"""Where every page of the rendered book came from, and nothing of the machine that built it.

The book rule copies the executed notebooks into ``book/generated`` and runs ``colorlib publish``
(:func:`publish`): the page of the variant's settings and the front page's line, and each page stamped
(:func:`publish_pages`) with a closing *Source* note (template, variant, the commit the book was built
from); under every figure and table, a source line that links to the executed notebook (which the built
book keeps under ``_sources/``, as showyourwork's and Quarto's source links do) and names the cell that
drew it; and every absolute path of the building machine replaced in code, parameters and output by the
name a reader can use (``.``, ``build/<variant>``, ``$DATA``, ``~``). Figures are images and keep no path.
"""

from __future__ import annotations

import json
import platform
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path

from ..identity import Variant, read_variant
from .markdown import markdown_table

DEFAULT_DATA = "../shared/data/landscapes"  # the Makefile's default, relative to the checkout
SOURCE_CLASS = "colorlib-source"  # the HTML class of the source line under a figure or table
SOURCE_KEY = "colorlib_source"  # the output metadata that marks that line (so it is added once)
# What makes an output a figure or a table: an image, or HTML that holds one (the explorer draws on a canvas).
DRAWN_HTML = re.compile(r"<(table|img|svg|canvas)\b", re.I)
PIPE_TABLE = re.compile(r"^\s*\|.*\|\s*\n\s*\|\s*:?-{3,}", re.M)


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
    named = [(variant_dir, f"build/{info['name']}")]
    if info.get("data"):
        data = Path(info["data"]).expanduser()
        named.append((data, DEFAULT_DATA if data.resolve() == (Path(root) / DEFAULT_DATA).resolve() else "$DATA"))
    pairs: dict[str, str] = {}
    for path, shown in [*named, (root, "."), (Path.home(), "~")]:
        for form in {str(path), str(Path(path).resolve())}:  # as given, and with its links resolved
            if Path(form).is_absolute() and form != "/":
                pairs.setdefault(form, shown)
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
    return (
        f"---\n\n*Source: every figure and table on this page was drawn by this page, the notebook "
        f"`{template_of(page, metadata)}` executed by papermill for the variant `{info['name']}` "
        f"({info['profile']} profile), {built_from(commit)}. Its parameters are in the first cells; the page "
        "[Re-running the notebooks](../rerun.md) says how to run it again. Under each figure and table, a link to "
        "this page's executed notebook names the cell that drew it, numbered as Jupyter numbers it.*"
    )


def draws(output: Mapping) -> bool:
    """Whether a cell's output is a figure or a table (an image, or HTML or Markdown holding one)."""
    data = output.get("data", {})
    text = {k: "".join(v) if isinstance(v, list) else str(v) for k, v in data.items() if k.startswith("text/")}
    return (
        any(k.startswith("image/") for k in data)
        or bool(DRAWN_HTML.search(text.get("text/html", "")))
        or bool(PIPE_TABLE.search(text.get("text/markdown", "")))
    )


def notebook_href(page: Path, root: Path) -> str:
    """The link from a page's HTML to its executed notebook, which Sphinx copies to ``_sources/`` beside it."""
    doc = Path(page).resolve().relative_to(Path(root).resolve()).as_posix()
    return posixpath.relpath(f"_sources/{doc}", posixpath.dirname(doc))


def source_line(name: str, href: str, cell: int) -> dict:
    """The output under a figure or table: the executed notebook (linked) and the cell, as Jupyter numbers it."""
    html = f'<p class="{SOURCE_CLASS}"><small>Source: <a href="{href}">{name}</a>, cell [{cell}]</small></p>'
    data = {"text/html": html, "text/plain": f"Source: {name}, cell [{cell}]"}
    return {"output_type": "display_data", "data": data, "metadata": {SOURCE_KEY: True}}


def link_sources(nb: dict, name: str, href: str) -> None:
    """Add a source line under every shown cell whose outputs draw a figure or a table."""
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        outputs = [o for o in cell.get("outputs", []) if not o.get("metadata", {}).get(SOURCE_KEY)]
        hidden = {"remove-cell", "remove-output"} & set(cell.get("metadata", {}).get("tags", []))
        if any(draws(o) for o in outputs) and not hidden:
            outputs.append(source_line(name, href, cell.get("execution_count") or index))
        cell["outputs"] = outputs


def publish_page(path: Path, info: dict, commit: str, pairs: list[tuple[str, str]], href: str) -> None:
    """Scrub one executed notebook of book/generated in place, link each of its figures and tables to it
    (`href`: the notebook as the built book serves it) and close it with its source note."""
    nb = _scrub_value(json.loads(path.read_text(encoding="utf-8")), pairs)  # cells, outputs, papermill's record
    link_sources(nb, path.name, href)
    text = source_note(path.name, info, commit, nb.get("metadata"))
    note = {"cell_type": "markdown", "metadata": {"tags": ["provenance"]}, "source": text}
    if nb.get("nbformat_minor", 0) >= 5:
        note["id"] = "provenance"
    nb["cells"] = [c for c in nb["cells"] if "provenance" not in c.get("metadata", {}).get("tags", [])] + [note]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def publish_pages(folder: Path, root: Path, variant_dir: Path, info: dict, commit: str) -> list[Path]:
    """Every notebook and Markdown file in `folder` (book/generated) scrubbed; the notebooks stamped."""
    pairs = shown_paths(root, variant_dir, info)
    done = [p for p in sorted(Path(folder).rglob("*")) if p.suffix in (".ipynb", ".md", ".json", ".txt", ".csv", ".js")]
    for path in done:
        if path.suffix == ".ipynb":
            publish_page(path, info, commit, pairs, notebook_href(path, root))
        else:
            path.write_text(scrub(path.read_text(encoding="utf-8"), pairs), encoding="utf-8")
    return done


# --- what the book says about its variant --------------------------------------------------------


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def variant_markdown(variant: Variant, checkpoints: list[dict]) -> str:
    """The book's account of its variant: parameters, the command, and where the numbers were made
    (`checkpoints`: the metadata its trained models' checkpoints store)."""
    split = variant.split
    rows = [
        ("variant", f"`{variant.name}`"),
        ("photos", f"`{Path(variant.data).name}/` ({split['per_colour']} per colour, baseline {split['baseline']}, "
                   f"validation {split['validation']}, test {split.get('test', 0)})"),
        ("seed", str(variant.seed)),
    ] + [(k.replace("_", " "), f"`{v}`") for k, v in sorted(variant.train.items()) if k != "seed"]  # fmt: skip
    rows.append(("code fingerprint", f"`{variant.code}`"))
    text = markdown_table(["parameter", "value"], rows, ["---", "---"]) + "\n"
    where = {
        f"{c.get('device', '?')} ({c.get('precision', '?')}, "
        f"{c.get('train_config', {}).get('threads', 1)} thread(s) per run, torch {c.get('torch_version', '?')})"
        for c in checkpoints
    }
    text += f"Rebuild exactly this variant with `{variant.command}`. " if variant.command else ""
    if where:
        text += (
            f"Its {len(checkpoints)} models were trained on {'; '.join(sorted(where))}; the book was built on "
            f"{cpu_name()}. A run's numbers are bit-identical for the same parameters, thread count and "
            "kind of processor however the runs were scheduled; another processor family, thread count or "
            "precision rounds differently and moves the losses by about as much as another seed does "
            "(the *Beyond the paper* part measures that spread).\n"
        )
    code = sorted({(c.get("code_fingerprint") or "not recorded", c.get("code_commit") or "?") for c in checkpoints})
    if code:
        said = "; ".join(f"fingerprint `{f}` at commit `{c}`" for f, c in code)
        text += f"\nThe code that trained them: {said} (each checkpoint records its own).\n"
    return text


def variant_line(variant: Variant, commit: str = "unknown") -> str:
    """Two sentences for the front page: which variant this book shows, and the commit it was built from."""
    train = variant.train
    return (
        f"This book shows variant `{variant.name}` ({variant.profile} profile, seed {variant.seed}, "
        f"{train['image_size']} px, {train['iterations']:,} batches of {train['batch_size']}); "
        "its settings, and the command that rebuilds it, are on the page [Re-running the notebooks](rerun.md). "
        f"It was built {built_from(commit)}.\n"
    )


def publish(folder: Path, out: Path, checkout: Path) -> None:
    """The book's variant.md and variant-line.md, and the executed pages in `out` stamped with their source
    and cleared of this machine's paths (colorlib.pages.provenance); `colorlib publish` (the book rule)."""
    from .. import TRAINED_MODELS
    from ..checkpoint import load_checkpoint
    from ..fingerprint import code_commit

    folder, out = Path(folder), Path(out)
    variant = read_variant(folder)
    paths = [folder / "checkpoints" / f"{m}.pt" for m in TRAINED_MODELS]
    states = [load_checkpoint(p) for p in paths if p.is_file()]
    out.mkdir(parents=True, exist_ok=True)
    commit = code_commit(checkout)
    (out / "variant.md").write_text(variant_markdown(variant, states), encoding="utf-8")
    (out / "variant-line.md").write_text(variant_line(variant, commit), encoding="utf-8")
    publish_pages(out, checkout, folder, variant.to_json(), commit)
