"""Writing files safely: atomic text writes, and JSON caches that a damaged or stale copy never breaks."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import one_line

log = logging.getLogger(__name__)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write` on a temporary file beside path, then rename it over path.

    A crash mid-write never leaves a half-written file behind: readers see the old file or the new one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a manifest, cache or checkpoint is not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda out: out.write(text.encode("utf-8")))


def read_json_cache(
    path: Path | None, fmt: str, settings: dict, what: str, parse: Callable[[dict], dict] = dict
) -> dict:
    """A cache's entries, through `parse`; {} when absent, damaged, or written with other settings.

    A cache only saves work, so any problem with it costs a recomputation, never an error.
    """
    if path is None:
        return {}
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
        if content["format"] != fmt or content["settings"] != settings:
            log.info("%s %s is from other settings; recomputing", what, path)
            return {}
        return parse(content["entries"])
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a damaged cache only costs a recomputation
        log.warning("ignoring unreadable %s %s (%s)", what, path, one_line(exc))
        return {}


def write_json_cache(path: Path, fmt: str, settings: dict, entries: dict, what: str) -> None:
    """Save a cache atomically with its format and settings; failure is logged, never fatal."""
    content = {"format": fmt, "settings": settings, "entries": entries}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(content, sort_keys=True))
    except OSError as exc:
        log.warning("could not write %s %s (%s)", what, path, one_line(exc))
