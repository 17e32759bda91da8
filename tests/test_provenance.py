"""The book's pages cleared of the building machine's paths and stamped with their source
(colorlib.pages.provenance), on notebooks written as papermill writes them."""

from __future__ import annotations

import json

from colorlib.pages.provenance import publish_pages, scrub, shown_paths, template_of

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
    page = tmp_path / "generated" / "train-blue.ipynb"
    page.parent.mkdir()
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
    assert "from commit `0123456789ab` with uncommitted changes (modified)" in notes[0]["source"]
    assert template_of("results.ipynb") == "notebooks/results.ipynb"


def test_a_page_names_the_template_papermill_ran():
    """The beyond page comes from one of two templates: its note names the one papermill recorded."""
    recorded = {"papermill": {"input_path": "notebooks/beyond-not-built.ipynb"}}
    assert template_of("beyond.ipynb", recorded) == "notebooks/beyond-not-built.ipynb"
    assert template_of("beyond.ipynb") == "notebooks/beyond.ipynb"  # no record: the page's own name
    assert template_of("train-blue.ipynb", {"papermill": {}}) == "notebooks/train.ipynb"
