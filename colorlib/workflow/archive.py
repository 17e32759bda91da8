"""Published models a reader can restore and check: a built variant packed into one file, and
unpacked again with every file's hash checked (`make archive`, `make book FROM=file`).

An archive is a tar file. Its first member, ``colorlib-archive.json``, lists every other member with
its size and sha256, and records the variant's name, the commit that built it and the fingerprint
of the code that trained it, module by module. :func:`restore` refuses, in one line and before
writing anything: a file that is not such an archive or is cut short, a member whose hash or size
differs, an archive of other training code (naming the modules that differ), and a variant folder
that already holds other files. It unpacks into a temporary folder beside the target and renames
it into place, so an interrupted restore leaves nothing half-written.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import time
from pathlib import Path

from ..errors import UserError
from ..fingerprint import code_commit, code_fingerprint, file_sha256, module_fingerprints

ARCHIVE_FORMAT = "colorlib-archive/1"
INDEX = "colorlib-archive.json"
# what a variant's folder holds that the book needs, in the order a rebuild dates them (oldest first)
PACKED = ("variant.json", "manifest.json", "data-report.txt", "checkpoints", "logs", "pages")


def _why(exc: Exception) -> str:
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


def pack(folder: Path | str, out: Path | str) -> dict:
    """Pack the built variant `folder` into the archive `out`; returns its index."""
    folder = Path(folder).resolve()
    if not (folder / "variant.json").is_file() or not (folder / "checkpoints").is_dir():
        raise UserError(f"{folder} is not a built variant (no variant.json and checkpoints): run `make book` first")
    info = json.loads((folder / "variant.json").read_text(encoding="utf-8"))
    files = _members(folder)
    index = {
        "format": ARCHIVE_FORMAT,
        "variant": info["name"],
        "command": info.get("command", ""),
        "commit": _trained_commit(folder) or code_commit(),
        "code_fingerprint": code_fingerprint(),
        "modules": module_fingerprints(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": {
            p.relative_to(folder).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)} for p in files
        },
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        data = json.dumps(index, indent=1).encode()
        entry = tarfile.TarInfo(INDEX)
        entry.size, entry.mtime = len(data), int(time.time())
        tar.addfile(entry, io.BytesIO(data))
        for p in files:
            tar.add(p, arcname=p.relative_to(folder).as_posix(), recursive=False)
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
            if first is None or first.name != INDEX:
                raise UserError(f"{archive} is not a colorlib archive (it does not start with {INDEX})")
            index = json.loads(tar.extractfile(first).read())
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise UserError(f"{archive} is not a readable colorlib archive ({_why(exc)})") from None
    if index.get("format") != ARCHIVE_FORMAT:
        raise UserError(f"{archive} is a {index.get('format')!r} archive, not {ARCHIVE_FORMAT}")
    return index


def code_differences(index: dict, root: Path | None = None) -> list[str]:
    """The training modules whose code differs between the archive and this checkout."""
    ours, theirs = module_fingerprints(root), index.get("modules", {})
    return sorted(m for m in set(ours) | set(theirs) if ours.get(m) != theirs.get(m))


def restore(archive: Path | str, build: Path | str) -> Path:
    """Unpack `archive` into build/<its variant>, every hash checked; returns that folder.

    Nothing is overwritten: a variant folder that exists must hold exactly the archive's files
    (then nothing is done)."""
    archive, build = Path(archive), Path(build)
    index = read_index(archive)
    differs = code_differences(index)
    if differs:
        raise UserError(
            f"{archive} was trained by other code (commit {index.get('commit')}, fingerprint "
            f"{index.get('code_fingerprint')}; here {code_fingerprint()}): {', '.join(differs)} differ; "
            "check out that commit to rebuild from it"
        )
    target = build / index["variant"]
    files = index["files"]
    if target.exists():
        have = {p.relative_to(target).as_posix() for p in _members(target)}
        same = have == set(files) and all(file_sha256(target / n) == files[n]["sha256"] for n in files)
        if same:
            return target
        raise UserError(f"{target} already holds a build that differs from {archive}; move it away to restore")
    build.mkdir(parents=True, exist_ok=True)
    temp = build / f".restore-{index['variant']}-{os.getpid()}"
    shutil.rmtree(temp, ignore_errors=True)
    try:
        seen = set()
        with tarfile.open(archive, "r:") as tar:
            for member in tar:
                if member.name == INDEX:
                    continue
                if member.name not in files or not member.isfile():
                    raise UserError(f"{archive}: unexpected member {member.name!r} (not in its index)")
                tar.extract(member, temp, filter="data")
                path = temp / member.name
                want = files[member.name]
                if path.stat().st_size != want["size"] or file_sha256(path) != want["sha256"]:
                    raise UserError(f"{archive}: {member.name} does not match its sha256: the archive was altered")
                seen.add(member.name)
        if seen != set(files):
            missing = sorted(set(files) - seen)
            raise UserError(f"{archive} is cut short: {len(missing)} file(s) missing, e.g. {missing[0]}")
    except (tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise UserError(f"{archive} is truncated or damaged ({_why(exc)})") from None
    except UserError:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    _date_in_build_order(temp, files)
    os.replace(temp, target)
    return target


def _date_in_build_order(folder: Path, files: dict) -> None:
    """Give the restored files fresh times in the order the workflow makes them (manifest, runs,
    pages), so that Snakemake sees each output newer than its inputs and rebuilds nothing."""
    start = time.time()
    rank = {name: i for i, name in enumerate(PACKED)}
    for name in sorted(files, key=lambda n: rank.get(n.split("/", 1)[0], len(PACKED))):
        t = start + rank.get(name.split("/", 1)[0], len(PACKED))
        os.utime(folder / name, (t, t))


def main(argv: list[str] | None = None) -> int:
    """`python -m colorlib.workflow.archive pack VARIANT OUT` | `restore ARCHIVE BUILD` (prints the
    variant's name on stdout, what it did on stderr) | `show ARCHIVE`."""
    import argparse
    import sys

    from ..errors import run_command

    p = argparse.ArgumentParser(prog="python -m colorlib.workflow.archive", description=main.__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("pack", help="pack a built variant into one file")
    s.add_argument("variant", type=Path)
    s.add_argument("out", type=Path)
    s = sub.add_parser("restore", help="unpack an archive into BUILD/<variant>, every hash checked")
    s.add_argument("archive", type=Path)
    s.add_argument("build", type=Path)
    s = sub.add_parser("show", help="what an archive holds and the command that built it")
    s.add_argument("archive", type=Path)
    args = p.parse_args(argv)

    def run() -> int:
        if args.command == "pack":
            index = pack(args.variant, args.out)
            size = args.out.stat().st_size / 1e6
            print(f"{args.out}: variant {index['variant']}, {len(index['files'])} files, {size:.1f} MB, "
                  f"code {index['code_fingerprint']} at {index['commit']}")  # fmt: skip
        elif args.command == "show":
            index = read_index(args.archive)
            print(f"variant {index['variant']}: {len(index['files'])} files; built with `{index['command']}` from "
                  f"commit {index['commit']}, training code {index['code_fingerprint']}")  # fmt: skip
        else:
            target = restore(args.archive, args.build)
            print(f"restored {target} from {args.archive} (every sha256 checked)", file=sys.stderr)
            print(target.name)
        return 0

    return run_command("archive", False, run)


if __name__ == "__main__":
    raise SystemExit(main())
