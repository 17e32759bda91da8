"""Writing files safely: atomic text writes, and JSON caches that a damaged or stale copy never breaks."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import one_line

log = logging.getLogger(__name__)
STARTED = time.time()  # about when this process started: a temporary file older than it is no writer's any more


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Call `write` on a temporary file beside path, then rename it over path: a crash mid-write never leaves
    a half-written file behind (readers see the old file or the new one)."""
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


def remove_stale_temporaries(path: Path) -> None:
    """Delete what a process killed inside :func:`atomic_write` left beside `path`: hidden files named by
    its own pattern (``.<name>.<8 random characters>.tmp``), regular files only, older than this process."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[a-z0-9_]{{8}}\.tmp")
    for tmp in path.parent.iterdir() if path.parent.is_dir() else ():
        if pattern.fullmatch(tmp.name) and stat.S_ISREG(tmp.lstat().st_mode) and tmp.lstat().st_mtime < STARTED:
            log.info("removing %s, left by a write that was killed", tmp)
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (:func:`atomic_write`)."""
    atomic_write(path, lambda out: out.write(text.encode("utf-8")))


def read_json_cache(
    path: Path | None, fmt: str, settings: dict, what: str, parse: Callable[[dict], dict] = dict
) -> dict:
    """A cache's entries, through `parse`; {} when absent, damaged, or written with other settings (a cache
    only saves work, so any problem with it costs a recomputation, never an error)."""
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
