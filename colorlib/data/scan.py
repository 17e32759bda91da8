"""Scanning a photo folder once: a record per photo (hashes, size, chroma, B&W flag, colour
scores), a reason per file that could not be read, and a cache so that a rescan decodes only new or
changed files."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from ..errors import ImageLoadError, UserError
from ..files import read_json_cache, write_json_cache
from ..identity import digest
from .features import COLOURS, feature_settings, pixel_features
from .photos import IMAGE_SUFFIXES, MAX_PIXELS, decode_image, read_regular_file

log = logging.getLogger(__name__)

CACHE_FORMAT = "colorlib-scan-cache/1"  # bump when the way a record is computed changes


@dataclass
class PhotoRecord:
    """What a scan learns about one photo."""

    name: str  # POSIX path relative to the scanned folder
    sha256: str  # of the file's bytes: exact duplicates
    phash: int  # 64-bit DCT perceptual hash: near duplicates
    width: int
    height: int
    chroma: float  # 99th percentile of pixel chroma on the thumbnail (B&W test)
    bw: bool  # black-and-white or near-monochrome photo
    scores: dict[str, float]  # colour-bias scores, see colour_scores


@dataclass
class ScanReport:
    """The photos of a folder that loaded, and the files that did not (with why)."""

    folder: Path
    records: list[PhotoRecord]  # sorted by name
    skipped: list[tuple[str, str]]  # (name, reason)
    from_cache: int = 0  # files whose result (record or skip reason) came from the scan cache

    @property
    def files_seen(self) -> int:
        """Every non-hidden file found under the folder."""
        return len(self.records) + len(self.skipped)


def describe_photo(name: str, data: bytes) -> PhotoRecord:
    """Decode one photo's bytes and compute its record (hashes, chroma, B&W flag, scores)."""
    rgb = decode_image(data, name)
    sha256 = hashlib.sha256(data).hexdigest()
    return PhotoRecord(name=name, sha256=sha256, width=rgb.shape[1], height=rgb.shape[0], **pixel_features(rgb, sha256))


def list_files(folder: Path) -> list[str]:
    """Relative POSIX names of every non-hidden file under folder (recursive, sorted)."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(root).relative_to(folder)
        names += [(rel / f).as_posix() for f in files if not f.startswith(".")]
    return sorted(names)


def check_folder(folder: Path) -> None:
    """UserError unless folder is an existing directory."""
    if not folder.exists():
        raise UserError(f"photo folder {folder} does not exist: pass a folder of photos")
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: pass the folder that holds the photos")


def _record_to_json(record: PhotoRecord) -> dict:
    """A record as JSON-ready dict (phash as 16 hex digits; the name is the entry's key)."""
    entry = asdict(record)
    del entry["name"]
    return {**entry, "phash": f"{record.phash:016x}"}


def _record_from_json(name: str, entry: dict) -> PhotoRecord:
    """Inverse of _record_to_json."""
    return PhotoRecord(
        name=name,
        sha256=str(entry["sha256"]),
        phash=int(entry["phash"], 16),
        width=int(entry["width"]),
        height=int(entry["height"]),
        chroma=float(entry["chroma"]),
        bw=bool(entry["bw"]),
        scores={c: float(entry["scores"][c]) for c in COLOURS},
    )


def _usable_entry(name: str, entry: dict) -> bool:
    """Whether a cache entry is well formed (a damaged one is rescanned, not trusted)."""
    try:
        if "record" in entry:
            _record_from_json(name, entry["record"])
            return True
        return isinstance(entry["skipped"], str)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


def _scan_entry(folder: Path, name: str, cache: dict) -> tuple[dict, bool]:
    """The cache entry {"size", "mtime_ns", "record" | "skipped"} of one file, reused when its size and mtime
    are unchanged: (entry, came from cache)."""
    path = folder / name
    try:
        stat = path.stat()
    except OSError as exc:  # vanished, or a broken link
        log.warning("skipping %s: cannot read file (%s)", name, exc.strerror or exc)
        return {"skipped": f"cannot read file ({exc.strerror or exc})"}, False
    entry = cache.get(name)
    if isinstance(entry, dict) and (entry.get("size"), entry.get("mtime_ns")) == (stat.st_size, stat.st_mtime_ns):
        return entry, True
    entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        log.info("skipping %s: not an image file", name)
        return {**entry, "skipped": "not an image file"}, False
    try:
        return {**entry, "record": _record_to_json(describe_photo(name, read_regular_file(path, name)))}, False
    except ImageLoadError as exc:
        log.warning("skipping %s", exc)
        return {**entry, "skipped": str(exc).removeprefix(f"{name}: ")}, False


def scan_folder(folder: Path, *, progress: bool = True, cache_dir: Path | None = None) -> ScanReport:
    """Decode and describe every photo under folder (recursively); report what could not be read.

    Hidden files and folders are ignored; other files without an image suffix are reported as
    skipped. With cache_dir, results are kept per file (keyed by name, size and mtime) so a rescan
    only decodes new or changed files.
    """
    folder = Path(folder)
    check_folder(folder)
    names = list_files(folder)
    # one cache file per scanned folder, for the settings a record depends on
    cache_file = None if cache_dir is None else Path(cache_dir) / f"scan-{digest(str(folder.resolve()).encode())}.json"
    settings = feature_settings(max_pixels=MAX_PIXELS)

    def usable(entries: dict) -> dict:
        return {name: entry for name, entry in entries.items() if _usable_entry(name, entry)}

    cache = read_json_cache(cache_file, CACHE_FORMAT, settings, "scan cache", usable)
    entries, records, skipped, from_cache = {}, [], [], 0
    for name in tqdm(names, desc="scanning photos", unit="file", disable=not progress):
        entry, cached = _scan_entry(folder, name, cache)
        entries[name], from_cache = entry, from_cache + cached
        if "record" in entry:
            records.append(_record_from_json(name, entry["record"]))
        else:
            skipped.append((name, entry["skipped"]))
    if cache_file and entries != cache:
        write_json_cache(cache_file, CACHE_FORMAT, settings, entries, "scan cache")
    if not records:
        raise UserError(
            f"no usable photo in {folder} ({len(names)} files, {len(skipped)} unreadable or not "
            f"images): pass a folder of JPEG/PNG photos"
        )
    log.info("scanned %s: %d photos, %d skipped", folder, len(records), len(skipped))
    return ScanReport(folder, sorted(records, key=lambda r: r.name), skipped, from_cache)
