"""The book's pages cleared of the building machine's paths and stamped with their source
(colorlib.pages.provenance), on notebooks written as papermill writes them."""

from __future__ import annotations

import ast
import json
from html.parser import HTMLParser
from pathlib import Path

from colorlib.pages.provenance import SOURCE_KEY, publish_pages, scrub, shown_paths, template_of

from .helpers import REPO

INFO = {"name": "paper-s0-abc", "profile": "paper", "data": "/home/ann/photos"}


def test_paths_are_replaced_whole_and_longest_first(tmp_path):
    pairs = shown_paths(tmp_path / "repo", tmp_path / "repo" / "build" / "paper-s0-abc", INFO)
    text = f'manifest = "{tmp_path}/repo/build/paper-s0-abc/manifest.json"; data "/home/ann/photos"'
    assert scrub(text, pairs) == 'manifest = "build/paper-s0-abc/manifest.json"; data "$DATA"'
    assert scrub("/home/ann/photos2 and /home/ann/photos/x.jpg", pairs) == "/home/ann/photos2 and $DATA/x.jpg"
    assert scrub(f"{tmp_path}/repo/notebooks", pairs) == "./notebooks"


def test_the_default_photo_folder_keeps_its_relative_name(tmp_path):
    (tmp_path / "shared" / "data" / "landscapes").mkdir(parents=True)
    root = tmp_path / "repo"
    info = {**INFO, "data": str(tmp_path / "shared" / "data" / "landscapes")}
    pairs = shown_paths(root, root / "build" / "x", info)
    assert scrub(f"Data report for {tmp_path}/shared/data/landscapes", pairs) == (
        "Data report for ../shared/data/landscapes"
    )


def test_a_page_is_scrubbed_and_stamped_once(tmp_path):
    page = tmp_path / "repo" / "book" / "generated" / "train-blue.ipynb"
    page.parent.mkdir(parents=True)
    cell = {"cell_type": "code", "id": "a", "metadata": {}, "source": 'data_dir = "/home/ann/photos"',
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["read /home/ann/photos/a.jpg\n"]}],
            "execution_count": 1}  # fmt: skip
    page.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    for _ in range(2):  # the book rule may run again on the same copies
        publish_pages(page.parent, tmp_path / "repo", tmp_path / "build" / "x", INFO, "0123456789ab-modified")
    nb = json.loads(page.read_text())
    assert nb["cells"][0]["source"] == 'data_dir = "$DATA"'
    assert nb["cells"][0]["outputs"][0]["text"] == ["read $DATA/a.jpg\n"]
    notes = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert len(notes) == 1 and "`notebooks/train.ipynb`" in notes[0]["source"]
    assert len(nb["cells"][0]["outputs"]) == 1  # printed text only: no source line
    assert "from commit `0123456789ab` with uncommitted changes (modified)" in notes[0]["source"]
    assert template_of("results.ipynb") == "notebooks/results.ipynb"


def test_a_page_names_the_template_papermill_ran():
    """The beyond page comes from one of two templates: its note names the one papermill recorded."""
    recorded = {"papermill": {"input_path": "notebooks/beyond-not-built.ipynb"}}
    assert template_of("beyond.ipynb", recorded) == "notebooks/beyond-not-built.ipynb"
    assert template_of("beyond.ipynb") == "notebooks/beyond.ipynb"  # no record: the page's own name
    assert template_of("train-blue.ipynb", {"papermill": {}}) == "notebooks/train.ipynb"


def output(**data) -> dict:
    return {"output_type": "display_data", "data": data, "metadata": {}}


def test_each_figure_and_table_links_to_the_executed_notebook_once(tmp_path):
    """Under every shown cell that draws an image or a table: the notebook as the built book serves it
    (Sphinx copies it to _build/html/_sources/), and the cell's number."""
    root = tmp_path / "repo"
    page = root / "book" / "generated" / "results.ipynb"
    page.parent.mkdir(parents=True)
    png = output(**{"image/png": "iVBORw0K", "text/plain": "<Figure>"})
    table = output(**{"text/html": "<table><tr><td>1</td></tr></table>", "text/markdown": "| a |\n| --- |\n| 1 |\n"})
    pipes = output(**{"text/markdown": "| a | b |\n| --- | ---: |\n| 1 | 2 |\n", "text/plain": "x"})
    prose = output(**{"text/html": "<p>a | b</p>", "text/markdown": "a | b"})
    printed = {"output_type": "stream", "name": "stdout", "text": "4 photos\n"}
    cells = [([png], [], 5), ([printed, table], [], 6), ([pipes], [], None), ([prose, printed], [], 8),
             ([png], ["remove-cell"], 9), ([png], ["remove-output"], 10)]  # fmt: skip
    nb = {"cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {"tags": tags}, "source": "x", "outputs": outs,
                     "execution_count": n} for i, (outs, tags, n) in enumerate(cells)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    page.write_text(json.dumps(nb))
    for _ in range(2):  # the book rule may run again on the same copies
        publish_pages(page.parent, root, root / "build" / "x", INFO, "0123456789ab")
    got = json.loads(page.read_text())["cells"]
    href = "../../_sources/book/generated/results.ipynb"
    assert (root / "book" / "generated" / href).resolve() == root / "_sources" / "book" / "generated" / "results.ipynb"
    lines = [[o for o in c.get("outputs", []) if o.get("metadata", {}).get(SOURCE_KEY)] for c in got]
    assert [len(x) for x in lines] == [1, 1, 1, 0, 0, 0, 0]  # the closing note is a Markdown cell
    for line, number in zip(lines[:3], (5, 6, 2), strict=True):  # unnumbered: its place among the cells
        html = line[0]["data"]["text/html"]
        assert f'<a href="{href}">results.ipynb</a>, cell [{number}]' in html and 'class="colorlib-source"' in html
    assert got[1]["outputs"][-1]["metadata"].get(SOURCE_KEY)  # the line closes the cell, under the table


class Drawn(HTMLParser):
    """A built page's figures and tables: in each notebook cell's output, and in the article around them."""

    def __init__(self):
        super().__init__()
        self.divs = 0
        self.open: list[int] = []  # the div depths at which a cell output opened
        self.outputs: list[dict] = []  # per cell output: its figures and tables, its source links
        self.article = {"drawn": 0, "links": []}  # the same outside cell outputs (hand-written pages)
        self.in_source = 0

    def here(self) -> dict:
        return self.outputs[-1] if self.open else self.article

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "div":
            self.divs += 1
            if "cell_output" in classes:
                self.open.append(self.divs)
                self.outputs.append({"drawn": 0, "links": []})
        if tag in ("img", "table", "canvas"):
            self.here()["drawn"] += 1
        if "colorlib-source" in classes:
            self.in_source += 1
        if tag == "a" and self.in_source:
            self.here()["links"].append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag in ("p", "small") and self.in_source:
            self.in_source -= 1
        if tag == "div":
            if self.open and self.open[-1] == self.divs:
                self.open.pop()
            self.divs -= 1


def drawn(page: Path) -> Drawn:
    parser = Drawn()
    article = page.read_text(encoding="utf-8").split('<article class="bd-article">', 1)[1].split("</article>", 1)[0]
    parser.feed(article)
    return parser


def test_every_figure_and_table_of_the_built_book_links_to_the_notebook_that_drew_it(smoke_book):
    """On every executed page, each cell output holding an image, a table or the explorer's canvas has one
    source line whose link leads to a file of the built book: the executed notebook itself. The front
    page's figures and the discussion's claims table, written by the results page, link to it too."""
    site = smoke_book / "_build" / "html"
    counted = {}
    for page in sorted((site / "book" / "generated").glob("*.html")):
        found = drawn(page)
        assert found.article["drawn"] == 0, f"{page.name}: a figure or table outside the notebook's outputs"
        for out in found.outputs:
            assert len(out["links"]) == (1 if out["drawn"] else 0), (page.name, out)
            for href in out["links"]:
                target = (page.parent / href).resolve()
                assert target.is_file() and target.name == f"{page.stem}.ipynb", (page.name, href)
                assert target.relative_to(site.resolve()).parts[0] == "_sources"
        counted[page.stem] = sum(bool(out["drawn"]) for out in found.outputs)
    # Figures 1-9, Table I and its chart, vividness, claims, training curves, provenance; 3 per training page
    assert counted["results"] >= 15 and counted["check"] >= 3 and counted["explorer"] >= 1, counted
    assert all(counted[f"train-{m}"] >= 3 for m in ("blue", "yellow", "green", "by", "bgy", "baseline")), counted
    for page in ("book/index.html", "book/discussion.html"):  # the front page: the photo strip and the trade-off
        found = drawn(site / page)
        assert found.article["drawn"] >= 1 and len(found.article["links"]) == found.article["drawn"], page
        for link in found.article["links"]:
            target = ((site / page).parent / link).resolve()
            assert target == (site / "_sources/book/generated/results.ipynb").resolve() and target.is_file(), page


def test_no_package_of_colorlib_binds_a_name_its_submodule_would_rebind():
    """Importing colorlib.pages.provenance sets the attribute `provenance` of colorlib.pages to that module,
    so a function of the package with a submodule's name is lost once anything imports the submodule
    (the book's own build does). No package's __init__ may define or import such a name."""
    for init in sorted((REPO / "colorlib").rglob("__init__.py")):
        folder = init.parent
        modules = {p.stem for p in folder.glob("*.py")} | {p.parent.name for p in folder.glob("*/__init__.py")}
        bound = set()
        for node in ast.parse(init.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                bound |= {t.id for t in targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.ImportFrom) and node.module:  # `from . import x` binds the module itself
                bound |= {a.asname or a.name for a in node.names}
        assert not bound & (modules - {"__init__"}), (init.relative_to(REPO), bound & modules)
