"""What makes a result what it is: one hash, the photos' fingerprint, and a variant's key and record.

:func:`digest` is the one hash (of the variant and study keys, the code and photo fingerprints). A *variant*
is everything that changes a number in the book: its runs' specs (colorlib.spec), the photos and the code
that trains; its folder is ``build/<profile>-s<seed>-<key>``, whose ``variant.json`` :func:`read_variant`
reads. The photos enter by what their folder holds (every file's name and size), not by where it is (a
photo changed in place at the same size is caught when loaded, by the manifest's content hashes). Like
colorlib.fingerprint, this module describes results and computes none: it is not fingerprinted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .errors import UserError

HASH_LENGTH = 16
VARIANT_FORMAT = "colorlib-variant/2"


def digest(value: object) -> str:
    """The one hash: the first HASH_LENGTH hex digits of the sha256 of `value` (bytes as they are,
    anything else as canonical JSON: sorted keys, no spaces)."""
    data = value if isinstance(value, bytes) else json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def folder_listing(folder: Path) -> dict[str, int]:
    """Every visible file under `folder` as relative path -> size in bytes (no file is opened)."""
    folder = Path(folder)
    out = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                path = Path(root) / name
                out[path.relative_to(folder).as_posix()] = path.stat().st_size
    return dict(sorted(out.items()))


def photos_fingerprint(folder: Path) -> str:
    """'<digest>-<number of files>' of the folder's listing: equal for equal contents wherever they are."""
    listing = folder_listing(folder)
    return f"{digest(listing)}-{len(listing)}"


@dataclass(frozen=True)
class Variant:
    """One build: its identity (the runs' specs, photos and code) and where its photos are read."""

    profile: str
    data: str  # the photo folder, resolved: where to read them, not part of the identity
    photos: str  # photos_fingerprint of the folder
    split: dict  # a colorlib.spec.SplitParams's fields
    train: dict  # a colorlib.spec.TrainConfig's fields but the dataset: what every run of the variant shares
    code: str  # the fingerprint of the code training runs (colorlib.fingerprint)
    command: str = ""  # the `make` command that rebuilds it, as readers copy it

    @property
    def seed(self) -> int:
        return self.split["seed"]

    @property
    def key(self) -> str:
        return digest({"photos": self.photos, "code": self.code, "split": self.split, "train": self.train})

    @property
    def name(self) -> str:
        return f"{self.profile}-s{self.seed}-{self.key}"

    def to_json(self) -> dict:
        return {"format": VARIANT_FORMAT, "name": self.name, "seed": self.seed, **asdict(self)}


def read_variant(folder: Path | str) -> Variant:
    """The variant of a built variant's folder, from its variant.json; a folder that is none, or one built
    by an older colorlib, is a one-line UserError that says what to do."""
    path = Path(folder) / "variant.json"
    if not path.is_file():
        raise UserError(f"{folder} is not a built variant (no variant.json): run `make book` first")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path} ({exc})") from None
    info = info if isinstance(info, dict) else {}
    if info.get("format") != VARIANT_FORMAT:
        raise UserError(
            f"{folder} was built by an older colorlib ({info.get('format', 'no format')}): build it anew with "
            f"`{info.get('command') or 'make book'}` (a new folder), or check out the commit that built it"
        )
    try:
        return Variant(**{f.name: info[f.name] for f in fields(Variant)})
    except KeyError as exc:
        raise UserError(f"{path} has no {exc}: build the variant anew with `make book`") from None
