"""The project's notebooks filled in for a built variant, so that each runs in Jupyter as it stands.

`make explorer` (the explorer as an app, with Voilà) and `make lab` (JupyterLab) open Jupyter on a
variant's folder, ``build/latest`` by default: the variant the book was built from last. The
templates in ``notebooks/`` cannot run there unchanged: Jupyter runs a notebook in its own folder,
while their default paths are relative to the repository root, and ``train.ipynb`` defaults to the
paper's training parameters, which another variant's checkpoints were not trained with. So this
module writes a copy of each notebook into ``<variant>/jupyter/`` with its parameters filled in by
papermill (a cell tagged ``injected-parameters`` after the ``parameters`` cell, as in the book's
executed pages): paths relative to that folder and the variant's own training parameters. Every
copy runs top to bottom without an edit; a training notebook finds its complete checkpoint and
skips training; what the notebooks write (the explorer's data, the results' tables) stays inside
``jupyter/``, away from the pages the book is built from.
"""

from __future__ import annotations

import json
from pathlib import Path

from .. import TRAINED_MODELS
from ..checkpoint import checkpoint_path, load_checkpoint
from ..errors import UserError
from . import PAGE_PROFILES

JUPYTER_DIR = "jupyter"  # inside the variant's folder
FIRST_BUILD = "make book"


def check_variant(variant: Path) -> dict:
    """The variant's ``variant.json``, once its folder is known to hold a manifest and six complete models.

    A folder that is not a built variant, or one that lacks a model, is a UserError saying what to build.
    """
    variant = Path(variant)
    if not (variant / "variant.json").is_file():
        if variant.name == "latest" and not variant.exists():
            raise UserError(
                f"no book built yet ({variant} does not exist): run `{FIRST_BUILD}` first "
                f"(`{FIRST_BUILD} PROFILE=smoke` builds a small one in a few minutes)"
            )
        raise UserError(f"{variant} is not a built variant (no variant.json): run `{FIRST_BUILD}` first")
    info = json.loads((variant / "variant.json").read_text(encoding="utf-8"))
    build = info.get("command") or FIRST_BUILD
    if not (variant / "manifest.json").is_file():
        raise UserError(f"variant {info['name']} has no manifest yet: run `{build}` first")
    lacking = []
    for model in TRAINED_MODELS:
        path = checkpoint_path(variant / "checkpoints", model)
        if not path.is_file() or not load_checkpoint(path).get("complete"):
            lacking.append(model)
    if lacking:
        raise UserError(f"variant {info['name']} lacks the trained model(s) {', '.join(lacking)}: run `{build}` first")
    return info


def notebook_parameters(info: dict) -> dict[str, tuple[str, dict]]:
    """Each copy's file name -> (its template's name, the parameters papermill fills in)."""
    data_dir = info["data"] if Path(info["data"]).is_dir() else ""  # else: the folder the manifest names
    common = {"manifest": "../manifest.json", "data_dir": data_dir}
    models = common | {"checkpoints": "../checkpoints"}
    copies = {
        f"train-{m}.ipynb": ("train", {"dataset": m, **info["train"], **common, "out_dir": "../checkpoints"})
        for m in TRAINED_MODELS
    }
    copies["data.ipynb"] = ("data", common)
    profile = info["profile"] if info["profile"] in PAGE_PROFILES["results"] else "custom"
    copies["results.ipynb"] = ("results", models | {"generated_dir": "generated", "profile": profile})
    copies["explorer.ipynb"] = (
        "explorer",
        models | {"static_dir": "explorer-data", "web_dir": "../pages/web/colorize", "show_widget": True},
    )
    return copies


def write_notebooks(variant: Path, templates: Path = Path("notebooks")) -> Path:
    """Write the filled-in copies into ``<variant>/jupyter/`` and return that folder.

    A copy newer than its template is kept as it is, with whatever a user changed in it.
    """
    import papermill

    info = check_variant(variant)
    folder = Path(variant) / JUPYTER_DIR
    folder.mkdir(exist_ok=True)
    for name, (template, parameters) in notebook_parameters(info).items():
        source, copy = Path(templates) / f"{template}.ipynb", folder / name
        if not source.is_file():
            raise UserError(f"notebook template {source} not found: run this from the repository's root")
        if copy.is_file() and copy.stat().st_mtime >= source.stat().st_mtime:
            continue
        papermill.execute_notebook(str(source), str(copy), parameters=parameters, prepare_only=True, progress_bar=False)
    return folder
