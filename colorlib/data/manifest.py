"""The manifest file: which photo is in which set, with content hashes; reading it back checked,
and loading a set's photos refusing any that changed since."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .. import SETS
from ..errors import UserError
from ..files import atomic_write_text
from .photos import decode_image

MANIFEST_FORMAT = "colorlib-manifest/1"


def manifest_hash(manifest: dict) -> str:
    """sha256 of what defines the data (params, sets, photos), as compact JSON with sorted keys (the same
    content always gives the same text): a checkpoint can record it."""
    core = {key: manifest[key] for key in ("params", "sets", "photos")}
    return hashlib.sha256(json.dumps(core, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def write_manifest(manifest: dict, path: Path) -> bool:
    """Write the manifest atomically as readable JSON; False (file untouched, mtime too) if already identical."""
    path = Path(path)
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, ValueError):  # absent or unreadable: write it
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return True


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with a parsed manifest, or None."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return f"not a {MANIFEST_FORMAT} file"
    sets, photos = manifest.get("sets"), manifest.get("photos")
    if not isinstance(sets, dict) or not isinstance(photos, dict):
        return "it lacks sets or photos"
    missing = [name for name in SETS if not isinstance(sets.get(name), list)]
    if missing:
        return f"it lacks the set(s) {', '.join(missing)}"
    if any(name not in photos for names in sets.values() for name in names):
        return "a photo of a set is not described"
    return None


def read_manifest(path: Path) -> dict:
    """Read and check a manifest; a missing or damaged one is a UserError."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"manifest {path} not found: run `colorlib prepare` first") from exc
    except OSError as exc:
        raise UserError(f"cannot read manifest {path} ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise UserError(f"manifest {path} is not valid JSON: run `colorlib prepare` again") from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise UserError(f"manifest {path} is unusable ({problem}): run `colorlib prepare` again")
    return manifest


def load_set(manifest: dict, set_name: str, data_dir: Path, *, progress: bool = False) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) of each photo of a set, in manifest order; a photo missing or not the content the
    manifest recorded is refused."""
    sets, data_dir = manifest["sets"], Path(data_dir)
    if set_name not in sets:
        raise UserError(f"unknown set {set_name!r}: valid sets are {', '.join(sets)}")
    photos = []
    for name in tqdm(sets[set_name], desc=f"loading {set_name}", unit="photo", disable=not progress):
        try:
            data = (data_dir / name).read_bytes()
        except OSError as exc:
            raise UserError(
                f"{name} cannot be read from {data_dir} ({exc.strerror or exc}): the photo folder "
                f"changed since the manifest was made; run `colorlib prepare` again"
            ) from exc
        if hashlib.sha256(data).hexdigest() != manifest["photos"][name]["sha256"]:
            raise UserError(
                f"{name} in {data_dir} changed since the manifest was made (content hash differs): "
                f"run `colorlib prepare` again"
            )
        photos.append((name, decode_image(data, name)))
    return photos
