"""Markdown that the notebooks show and write: pipe tables, and outputs that render as tables in
Jupyter and in the built book alike."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markdown_it import MarkdownIt


def markdown_table(head: Sequence[str], rows: Iterable[Sequence[object]], align: Sequence[str] | None = None) -> str:
    """A pipe table; `align` holds one of "---", "---:", ":---:" per column (default: the first
    column left, the others right, as numbers are)."""
    align = align or ["---"] + ["---:"] * (len(head) - 1)
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def markdown_list(lines: Iterable[str]) -> str:
    """One Markdown list item per line."""
    return "".join(f"- {line}\n" for line in lines)


class MarkdownOutput:
    """Markdown for a notebook output, offered as Markdown and as HTML: Jupyter Book renders Markdown outputs
    as CommonMark, which has no tables, so the HTML copy keeps tables readable there, while Jupyter shows the
    Markdown. Every Markdown a notebook displays goes through this class (IPython's would show raw pipes)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        """The HTML copy, in a `colorlib-table` box: the book's style (book/_static/book.css) keeps a number
        and its interval on one line there, so a table of numbers reads at a glance."""
        return f'<div class="colorlib-table">\n{MarkdownIt("commonmark").enable("table").render(self.text)}</div>\n'


_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TAG = re.compile(r"<[^>]+>")


def pipe_tables_as_text(html: str) -> list[str]:
    """Lines of a built page's paragraphs that are pipe-table rows: a table shown as raw text (one that did
    not render survives as a paragraph, or preformatted text, of two or more "| a | b |" lines)."""
    found = []
    for block in re.findall(r"<(?:p|pre)\b[^>]*>(.*?)</(?:p|pre)>", html, flags=re.S):
        rows = [line for line in _TAG.sub("", block).splitlines() if _PIPE_ROW.match(line)]
        if len(rows) >= 2:
            found.extend(rows)
    return found
