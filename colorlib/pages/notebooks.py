"""The project's notebooks filled in for a built variant, so that each runs in Jupyter as it stands.

`make explorer` (Voilà) and `make lab` (JupyterLab) open Jupyter on a variant's folder (``build/latest``).
Jupyter runs a notebook in its own folder, while the templates' default paths are relative to the
repository root, so each notebook is copied into ``<variant>/jupyter/`` with its parameters filled in by
papermill: paths relative to that folder, and each training run's spec file. Every copy runs top to
bottom without an edit (a training notebook finds its checkpoint) and writes only inside ``jupyter/``.
"""

from __future__ import annotations

from pathlib import Path

from .. import TRAINED_MODELS
from ..checkpoint import checkpoint_path, load_checkpoint
from ..errors import UserError
from ..identity import Variant, read_variant
from . import PAGE_PROFILES

JUPYTER_DIR = "jupyter"  # inside the variant's folder
FIRST_BUILD = "make book"


def check_variant(folder: Path) -> Variant:
    """The variant of a folder that holds a manifest and six complete models, else a UserError saying what
    to build."""
    folder = Path(folder)
    if folder.name == "latest" and not folder.exists():
        raise UserError(
            f"no book built yet ({folder} does not exist): run `{FIRST_BUILD}` first "
            f"(`{FIRST_BUILD} PROFILE=smoke` builds a small one in a few minutes)"
        )
    info = read_variant(folder)
    build = info.command or FIRST_BUILD
    if not (folder / "manifest.json").is_file():
        raise UserError(f"variant {info.name} has no manifest yet: run `{build}` first")
    paths = {model: checkpoint_path(folder / "checkpoints", model) for model in TRAINED_MODELS}
    lacking = [
        model for model, path in paths.items() if not path.is_file() or not load_checkpoint(path).get("complete")
    ]
    if lacking:
        raise UserError(f"variant {info.name} lacks the trained model(s) {', '.join(lacking)}: run `{build}` first")
    return info


def notebook_parameters(info: Variant) -> dict[str, tuple[str, dict]]:
    """Each copy's file name -> (its template's name, the parameters papermill fills in)."""
    data_dir = info.data if Path(info.data).is_dir() else ""  # else: the folder the manifest names
    common = {"manifest": "../manifest.json", "data_dir": data_dir}
    models = common | {"checkpoints": "../checkpoints"}
    copies = {
        f"train-{m}.ipynb": ("train", {"spec": f"../specs/{m}.json", **common, "out_dir": "../checkpoints"})
        for m in TRAINED_MODELS
    }
    copies["data.ipynb"] = ("data", common)
    profile = info.profile if info.profile in PAGE_PROFILES["results"] else "custom"
    copies["results.ipynb"] = ("results", models | {"generated_dir": "generated", "profile": profile})
    explorer = {"results": "../pages/results.json", "static_dir": "explorer-data", "web_dir": "../pages/web/colorize"}
    copies["explorer.ipynb"] = ("explorer", models | explorer | {"show_widget": True})
    return copies


def write_notebooks(variant: Path, templates: Path = Path("notebooks")) -> Path:
    """Write the filled-in copies into ``<variant>/jupyter/`` and return that folder; a copy newer than its
    template is kept as it is, with whatever a user changed in it."""
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
