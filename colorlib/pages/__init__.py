"""What every results notebook does around the library: check its parameters and read its inputs,
and say how its results were obtained."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .. import TRAINED_MODELS
from ..checkpoint import checkpoint_path
from ..data import read_manifest
from ..errors import UserError
from .markdown import markdown_table

# The profiles each results page accepts: the workflow's own (colorlib.workflow.plan.PROFILES for
# the paper's pages, the study's two for its page) and "custom" for runs made by hand.
PAGE_PROFILES: dict[str, tuple[str, ...]] = {
    "results": ("paper", "smoke", "custom"),
    "beyond": ("beyond", "beyond-smoke", "custom"),
}


def check_profile(page: str, profile: str) -> str:
    """`profile` if the page `page` knows it, else a one-line UserError naming those it knows."""
    known = PAGE_PROFILES[page]
    if profile not in known:
        raise UserError(f"unknown profile {profile!r}: use one of {', '.join(known)}")
    return profile


def check_generated_dir(generated_dir: str | Path) -> Path:
    """The folder a page writes its files for other pages into; an empty one is a one-line UserError."""
    if not str(generated_dir).strip():
        raise UserError("generated_dir must name a folder for the generated files")
    return Path(generated_dir)


def resolve_inputs(
    manifest: str | Path, data_dir: str | Path = "", checkpoints: str | Path | None = None
) -> tuple[dict, Path]:
    """Check a notebook's parameters and read the manifest: (manifest, photo folder), by default (empty
    `data_dir`) the one the manifest records. Every mistake is a one-line UserError."""
    path = Path(manifest)
    if not path.is_file():
        raise UserError(f"manifest file not found: {path} (run `colorlib prepare` or `make` first)")
    if checkpoints is not None:
        folder = Path(checkpoints)
        missing = [m for m in TRAINED_MODELS if not checkpoint_path(folder, m).is_file()]
        if missing:
            raise UserError(f"no checkpoint for {', '.join(missing)} in {folder} (train them first)")
    loaded = read_manifest(path)
    photos = Path(data_dir or loaded["data_dir"])
    if not photos.is_dir():
        raise UserError(f"photo folder not found: {photos} (set data_dir to the folder of photos)")
    return loaded, photos


# --- how the results were obtained --------------------------------------------------------------
TRAINED_SETTINGS = ("batch_size", "image_size", "seed")  # the columns of the training table from train_config


def training_table(checkpoints: Mapping[str, Mapping], profile: str, manifest_digest: str) -> str:
    """A Markdown table of how each model was trained, from its checkpoint's metadata."""
    head = ["model", "photos", "batches", "batch size", "image size", "seed", "device", "precision", "minutes"]
    rows = [
        [name, state.get("n_photos", "–"), state["step"], *(state["train_config"][k] for k in TRAINED_SETTINGS)]
        + [state["device"], state["precision"], f"{state['elapsed_s'] / 60:.1f}", state.get("colorlib_version", "?")]
        for name, state in checkpoints.items()
    ]
    align = ["---", "---:", "---:", "---:", "---:", "---:", "---", "---", "---:", "---"]
    table = markdown_table([*head, "colorlib"], rows, align).rstrip("\n").split("\n")
    lines = [f"Profile `{profile}`, manifest hash `{manifest_digest[:16]}`.", "", *table]
    stale = sorted(n for n, s in checkpoints.items() if s.get("manifest_hash") != manifest_digest)
    if stale:
        lines += ["", f"**Warning:** trained on another manifest: {', '.join(stale)}."]
    return "\n".join(lines) + "\n"
