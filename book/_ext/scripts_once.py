"""Each inline script of the book's pages written once: Sphinx 8.2's fix (sphinx-doc/sphinx#13402) for
the Sphinx 7 that Jupyter Book 1 requires.

Sphinx 7 hands an inline script (``app.add_js_file(None, body=...)``) added after the builder started
to the builder as filename None, and again as "" when the pages are written; the two differ, so the
script is written twice. sphinx-thebe adds ``const THEBE_JS_URL = ...`` that way, and every page
logged "Identifier 'THEBE_JS_URL' has already been declared". Giving "" from the start makes the two
equal, as Sphinx 8.2 does.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict[str, Any]:
    add = app.add_js_file

    def add_js_file(filename: str | None, *args: Any, **kwargs: Any) -> None:
        add(filename or "", *args, **kwargs)

    app.add_js_file = add_js_file  # type: ignore[method-assign]
    return {"parallel_read_safe": True, "parallel_write_safe": True}
