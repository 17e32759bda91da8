"""Markdown tables: one writer, outputs that render as tables, and a check that no built page shows
a pipe table as raw text (which is what IPython's own Markdown output gives in the book)."""

from __future__ import annotations

import json
from pathlib import Path

from colorlib.pages.markdown import MarkdownOutput, markdown_list, markdown_table, pipe_tables_as_text

ROOT = Path(__file__).resolve().parents[1]


def test_markdown_table_aligns_numbers_right_by_default():
    text = markdown_table(["model", "MSE"], [["blue", "0.1000"], ["bgy", 0.25]])
    assert text == "| model | MSE |\n| --- | ---: |\n| blue | 0.1000 |\n| bgy | 0.25 |\n"
    assert markdown_table(["a", "b"], [], [":---:", "---"]).splitlines()[1] == "| :---: | --- |"


def test_markdown_list():
    assert markdown_list(["one", "two"]) == "- one\n- two\n"


def test_pipe_table_shown_as_text_is_found_and_a_rendered_one_is_not():
    table = markdown_table(["preset", "mean MSE"], [["blue", "0.1"]])
    assert pipe_tables_as_text(MarkdownOutput(table)._repr_html_()) == []
    as_text = "<div><p>| preset | mean MSE |\n| — | —: |\n| blue | 0.1 |</p></div>"
    assert pipe_tables_as_text(as_text) == ["| preset | mean MSE |", "| — | —: |", "| blue | 0.1 |"]
    assert pipe_tables_as_text("<p>a | b is not a table</p><pre>x = a | b</pre>") == []


def test_notebooks_show_markdown_only_through_markdown_output():
    """IPython's Markdown output is CommonMark in the book: a table in it would show as raw pipes."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code":
                assert "Markdown(" not in source.replace("MarkdownOutput(", ""), f"{path.name}: use MarkdownOutput"


def test_no_built_page_shows_a_pipe_table_as_text(smoke_book):
    """Every page of the smoke book built from this checkout (not a stale build lying around)."""
    pages = sorted((smoke_book / "_build" / "html").rglob("*.html"))
    assert len(pages) > 10
    shown = {p.name: pipe_tables_as_text(p.read_text(encoding="utf-8")) for p in pages}
    assert {name: rows for name, rows in shown.items() if rows} == {}
