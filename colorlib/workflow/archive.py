"""Published models a reader can restore and check: a built variant's models packed into one file, and
unpacked again with every file's hash checked (`make archive`, `make book FROM=file`, which then executes
the pages anew from them: no page a stranger executed is shown).

An archive is a tar file. Its first member, ``colorlib-archive.json``, lists every other member with
its size and sha256, and records the variant's name, the commit that built it and the fingerprint
of the code that trained it, module by module. An archive is input from a stranger: :func:`restore`
computes where each file goes itself (:func:`_unpack`), and refuses, in one line and before it
renames anything into place: a file that is not such an archive or is cut short, a variant name
that is not one the workflow makes (or not the one the caller's settings make), a member that is
not a regular file in the variant's layout or whose size or hash differs, an archive of other
training code (naming the modules that differ), and a variant folder that already holds other files.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

from ..errors import UserError
from ..fingerprint import code_commit, code_fingerprint, file_sha256, module_fingerprints
from ..identity import HASH_LENGTH, read_variant
from .plan import PROFILES, Plan

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "colorlib-archive/2"  # 2: variant names of the key colorlib.identity.digest makes, run specs
INDEX = "colorlib-archive.json"
INDEX_LIMIT = 1 << 24  # bytes: a paper-scale variant's index is a few kilobytes
# what a variant's folder holds that the book needs, in the order a rebuild dates them (oldest first): the
# inputs of its pages, never the pages themselves (executed notebooks hold HTML and code a book would show and a
# reader might run: the workflow executes them anew here, from this checkout's templates)
PACKED_FILES = ("variant.json", "manifest.json", "data-report.txt")
PACKED_FOLDERS = ("specs", "checkpoints", "logs")
PACKED = PACKED_FILES + PACKED_FOLDERS
# a variant's folder name as colorlib.identity.Variant.name makes it: one path component
VARIANT_NAME = re.compile(rf"(?:{'|'.join(map(re.escape, PROFILES))})-s[0-9]+-[0-9a-f]{{{HASH_LENGTH}}}", re.ASCII)


def _why(exc: BaseException) -> str:
    """An exception in one line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _trained_commit(folder: Path) -> str | None:
    """The commit(s) the variant's checkpoints record they were trained at (None when none records one)."""
    from ..checkpoint import load_checkpoint

    commits = set()
    for path in sorted((folder / "checkpoints").glob("*.pt")):
        try:
            commits.add(load_checkpoint(path).get("code_commit"))
        except UserError:  # an unreadable checkpoint is packed as it is; its hash still guards it
            continue
    commits.discard(None)
    return ", ".join(sorted(commits)) or None


def _members(folder: Path) -> list[Path]:
    out = []
    for name in PACKED:
        path = folder / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.endswith(".tmp"))
    return out


def pack(folder: Path | str, out: Path | str, force: bool = False) -> dict:
    """Pack the built variant `folder` into the archive `out` (over an existing one only with `force`); its index."""
    folder, out = Path(folder).resolve(), Path(out)
    variant = read_variant(folder)
    if not (folder / "checkpoints").is_dir():
        raise UserError(f"{folder} has no checkpoints: run `{variant.command or 'make book'}` first")
    if (out.exists() or out.is_symlink()) and not force:
        raise UserError(f"{out} exists: name another OUT, or overwrite it with FORCE=1 (--force)")
    files = {p.relative_to(folder).as_posix(): p for p in _members(folder)}
    index = {
        "format": ARCHIVE_FORMAT,
        "variant": variant.name,
        "command": variant.command,
        "commit": _trained_commit(folder) or code_commit(),
        "code_fingerprint": code_fingerprint(),
        "modules": module_fingerprints(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {name: {"size": p.stat().st_size, "sha256": file_sha256(p)} for name, p in files.items()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        data = json.dumps(index, indent=1).encode()
        entry = tarfile.TarInfo(INDEX)
        entry.size, entry.mtime = len(data), int(time.time())
        tar.addfile(entry, io.BytesIO(data))
        for name, path in files.items():
            tar.add(path, arcname=name, recursive=False)
    os.replace(partial, out)
    return index


def read_index(archive: Path | str) -> dict:
    """The archive's index; a one-line UserError when it is no colorlib archive."""
    archive = Path(archive)
    if not archive.is_file():
        raise UserError(f"archive not found: {archive}")
    try:
        with tarfile.open(archive, "r:") as tar:
            first = tar.next()
            if first is None or first.name != INDEX or not first.isreg():
                raise UserError(f"{archive} is not a colorlib archive (it does not start with {INDEX})")
            if first.size > INDEX_LIMIT:  # read into memory: a stranger's size is bounded first
                raise UserError(f"{archive} has an index of {first.size} bytes, more than any variant's")
            index = json.loads(tar.extractfile(first).read())
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise UserError(f"{archive} is not a readable colorlib archive ({_why(exc)})") from None
    theirs = str(index.get("format")) if isinstance(index, dict) else ""
    if theirs.startswith("colorlib-archive/") and theirs != ARCHIVE_FORMAT:
        raise UserError(f"{archive} is a {theirs} archive, of an older colorlib: restore it in a checkout of its "
                        f"commit ({index.get('commit')}), or build it anew with `{index.get('command')}`")  # fmt: skip
    if theirs != ARCHIVE_FORMAT:
        raise UserError(f"{archive} is not a {ARCHIVE_FORMAT} archive")
    files = index.get("files")
    entries = files.values() if isinstance(files, dict) else [None]
    if not all(isinstance(e, dict) and type(e.get("size")) is int and type(e.get("sha256")) is str for e in entries):
        raise UserError(f"{archive} has a malformed index (its files need a size and a sha256 each)")
    return index


def code_differences(index: dict) -> list[str]:
    """The training modules whose code differs between the archive and this checkout."""
    ours, theirs = module_fingerprints(), index.get("modules", {})
    return sorted(m for m in set(ours) | set(theirs) if ours.get(m) != theirs.get(m))


def _in_layout(name: object) -> bool:
    """Whether `name` is a relative POSIX path of a variant's layout: a file of PACKED_FILES, or a path of
    real components (no '', '.', '..', backslash or NUL) under a folder of PACKED_FOLDERS."""
    if not isinstance(name, str) or "\\" in name or "\0" in name:
        return False
    parts = name.split("/")
    return name in PACKED_FILES or (
        len(parts) > 1 and parts[0] in PACKED_FOLDERS and all(p not in ("", ".", "..") for p in parts)
    )


def _unpack(archive: Path, index: dict, build: Path, expected: str | None) -> tuple[Path, Path]:
    """Unpack `archive` into a new temporary folder inside `build`, every size and sha256 checked; returns
    that folder and build/<variant>, where the caller puts it.

    Why no archive can write elsewhere: the destination is build/<name>, <name> matched in full by
    VARIANT_NAME (one path component; equal to `expected` when given). The only writes are a folder that
    mkdtemp makes fresh in `build` (so nothing in it is a link) and files this function opens there,
    exclusively, at temp/<member>, once every member is known to be a regular file listed once in the
    index, at a path `_in_layout` (relative, no '..'), of its index's size; each path is checked to resolve
    inside temp, and no more than that size is copied. tarfile's extract is never called. On any
    failure, Ctrl-C too, the folder is removed."""
    name, files = index.get("variant"), index["files"]
    if not isinstance(name, str) or not VARIANT_NAME.fullmatch(name):
        raise UserError(f"{archive} names its variant {name!r}, which is no variant folder name (PROFILE-sSEED-KEY)")
    if expected is not None and name != expected:
        raise UserError(f"the archive holds variant {name}, but these settings make {expected}: give the settings "
                        "of the archive's command (colorlib archive show ARCHIVE)")  # fmt: skip
    target = build / name
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise UserError(f"{target} exists and is not a folder: move it away to restore {archive}")
    outside = sorted(n for n in files if not _in_layout(n))
    if outside:
        raise UserError(f"{archive} lists {outside[0]!r}, outside a variant's layout ({', '.join(PACKED)})")
    with tarfile.open(archive, "r:") as tar:
        members = tar.getmembers()[1:]  # after the index
        count = Counter(m.name for m in members)
        for m in members:
            if not m.isreg() or m.name not in files or count[m.name] > 1:
                raise UserError(f"{archive}: member {m.name!r} is not a regular file listed once in its index")
            if m.size != files[m.name]["size"]:
                raise UserError(f"{archive}: member {m.name!r} holds {m.size} bytes, its index says otherwise")
        missing = sorted(set(files) - set(count))
        if missing:
            raise UserError(f"{archive} is cut short: {len(missing)} file(s) missing, e.g. {missing[0]}")
        build.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".restore-{name}-", dir=build)).resolve()
        try:
            for m in members:
                path = temp / m.name
                if not path.resolve().is_relative_to(temp):
                    raise UserError(f"{archive}: member {m.name!r} would be written outside {temp}")
                path.parent.mkdir(parents=True, exist_ok=True)
                if _copy(tar.extractfile(m), path, files[m.name]["size"]) != files[m.name]["sha256"]:
                    raise UserError(f"{archive}: {m.name} does not match its sha256: the archive was altered")
            _check_photo_names(archive, temp / "manifest.json")
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return temp, target


def _check_photo_names(archive: Path, manifest: Path) -> None:
    """The pages read the photos a manifest names from the reader's own folder: a stranger's manifest may
    name none outside it (an absolute path, a '..')."""
    if not manifest.is_file():
        return
    try:
        photos = json.loads(manifest.read_text(encoding="utf-8")).get("photos", {})
    except (ValueError, UnicodeDecodeError, AttributeError):
        raise UserError(f"{archive}: its manifest.json is not a manifest") from None
    for name in photos if isinstance(photos, dict) else ():
        if name.startswith("/") or "\0" in name or ".." in name.replace("\\", "/").split("/"):
            raise UserError(f"{archive}: its manifest names the photo {name!r}, outside any photo folder")


def _copy(source: io.BufferedIOBase, path: Path, size: int) -> str:
    """Copy `size` bytes of `source`, no more, into the new file `path`; their sha256 (EOFError if fewer)."""
    digest = hashlib.sha256()
    with path.open("xb") as out:
        while size:
            block = source.read(min(size, 1 << 20))
            if not block:
                raise EOFError(f"{path.name} ends early")
            digest.update(block)
            out.write(block)
            size -= len(block)
    return digest.hexdigest()


def restore(archive: Path | str, build: Path | str, expected: str | None = None) -> Path:
    """Unpack `archive` into build/<its variant>, every member's size and sha256 checked; returns that folder.

    `expected` is the variant the caller's settings make: an archive of another is refused before
    anything is written. Nothing is overwritten: a variant folder that exists must hold exactly the
    archive's files, and the archive is read and checked in full even then."""
    archive, build = Path(archive), Path(build)
    index = read_index(archive)
    differs = code_differences(index)
    if differs:
        raise UserError(
            f"{archive} was trained by other code (commit {index.get('commit')}, fingerprint "
            f"{index.get('code_fingerprint')}; here {code_fingerprint()}): {', '.join(differs)} differ; "
            "check out that commit to rebuild from it"
        )
    try:
        temp, target = _unpack(archive, index, build, expected)
    except (tarfile.TarError, EOFError) as exc:
        raise UserError(f"{archive} is truncated or damaged ({_why(exc)})") from None
    except (OSError, ValueError) as exc:  # ValueError: a name this file system cannot encode
        raise UserError(f"cannot restore {archive} into {build} ({_why(exc)})") from None
    # variant.json is checked like every member but never placed: the workflow writes it anew from the reader's
    # own settings, so the command the book offers to copy is never a stranger's text.
    kept = {n: f for n, f in index["files"].items() if n != "variant.json"}
    try:
        (temp / "variant.json").unlink(missing_ok=True)
        if target.is_dir():
            have = {p.relative_to(target).as_posix() for p in _members(target)} - {"variant.json"}
            if have != set(kept) or any(file_sha256(target / n) != kept[n]["sha256"] for n in kept):
                raise UserError(f"{target} already holds a build that differs from {archive}; move it away to restore")
            log.info("%s already holds %s (the archive read in full, every sha256 checked)", target, archive)
            return target
        _date_in_build_order(temp, kept)
        temp.chmod(build.stat().st_mode & 0o777)  # mkdtemp's folder is private: make it like its siblings
        os.replace(temp, target)
    except OSError as exc:
        raise UserError(f"cannot restore {archive} into {target} ({_why(exc)})") from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    log.info("restored %s from %s (every sha256 checked)", target, archive)
    return target


def _date_in_build_order(folder: Path, files: dict) -> None:
    """Give the restored files fresh times in the order the workflow makes them (manifest, runs,
    pages), so that Snakemake sees each output newer than its inputs and rebuilds nothing."""
    start = time.time()
    for name in files:
        when = start + PACKED.index(name.split("/", 1)[0])  # a second apart, in the order of PACKED
        os.utime(folder / name, (when, when))


def expected_variant(settings: list[str]) -> str:
    """The variant that workflow settings ('profile=smoke', 'seed=1', ... as make hands them over) make."""
    return Plan.from_config({k: v for k, _, v in (s.partition("=") for s in settings)}).variant.name
