"""The `colorlib` command: prepare data, train, evaluate, colorize, check a build against the references.

A user's mistake ends with one line on stderr and exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from . import ALL_MODELS, TRAINED_MODELS, __version__
from .build_commands import add_commands
from .errors import UserError, run_command
from .files import atomic_write_text
from .spec import PRECISIONS, SplitParams, TrainConfig, add_options, given, read_spec

log = logging.getLogger("colorlib")

DEFAULT_MANIFEST = Path("runs/manifest.json")
DEFAULT_CHECKPOINTS = Path("runs/checkpoints")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _data_dir(arg: str | None, manifest: dict | None = None, download: bool = False) -> Path:
    from .data import resolve_data_dir

    if arg is None and manifest is not None and Path(manifest.get("data_dir", "")).is_dir():
        return Path(manifest["data_dir"])
    return resolve_data_dir(arg, download=download)


def _check_output_file(path: Path | None, option: str) -> None:
    """Refuse, before any work, an output file that names a folder or lies under a file."""
    if path is None:
        return
    if path.is_dir():
        raise UserError(f"{option} {path} is a folder: name the file to write")
    if path.exists() and not path.is_file():
        raise UserError(f"{option} {path} is not a regular file: name the file to write")
    parent = next(p for p in path.absolute().parents if p.exists())
    if not parent.is_dir():
        raise UserError(f"{option} {path} cannot be written: {parent} is a file, not a folder")


def _write_text(path: Path, text: str, option: str) -> None:
    """Write an output file (its folder made if absent); a failure is one line."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as exc:
        raise UserError(f"cannot write {option} {path} ({exc.strerror or exc})") from None


def cmd_prepare(args: argparse.Namespace) -> None:
    from .data import format_report, make_manifest, scan_folder, write_manifest

    _check_output_file(args.out, "--out")
    params = SplitParams(**given(args, SplitParams))  # checked before the folder is read
    folder = _data_dir(args.data_dir, download=args.download)
    report = scan_folder(folder, progress=not args.quiet, cache_dir=args.cache)
    manifest = make_manifest(report, params, str(folder))
    try:
        changed = write_manifest(manifest, args.out)
    except OSError as exc:
        raise UserError(f"cannot write --out {args.out} ({exc.strerror or exc})") from None
    print(format_report(manifest))
    print(f"manifest: {args.out} ({'written' if changed else 'unchanged'})")


def cmd_train(args: argparse.Namespace) -> None:
    from .data import read_manifest
    from .train import train

    # the spec file's settings, then those named here; checked before anything is read or written
    values = (read_spec(args.spec) if args.spec else {}) | given(args, TrainConfig)
    if "dataset" not in values:
        raise UserError("name the set to train (DATASET) or a run spec (--spec FILE)")
    cfg = TrainConfig.from_dict(values, f"{args.spec}: " if args.spec else "")
    manifest = read_manifest(args.manifest)
    out = args.out or DEFAULT_CHECKPOINTS / f"{cfg.dataset}.pt"
    photos = _data_dir(args.data, manifest)
    result = train(cfg, manifest, photos, out, device=args.device, force=args.force, progress=not args.quiet)
    if result.skipped:
        print(f"{out}: already trained with these settings (use --force to train again)")
    else:
        tail = result.losses[-50:]
        print(f"{out}: {cfg.iterations} batches, final loss {sum(tail) / len(tail):.4f}, {result.elapsed_s:.0f} s")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from .data import read_manifest
    from .paper.evaluate import evaluate, table_rows, to_csv, to_markdown

    _check_output_file(args.markdown, "--markdown")
    _check_output_file(args.csv, "--csv")
    manifest = read_manifest(args.manifest)
    data = _data_dir(args.data, manifest)
    ev = evaluate(manifest, data, args.checkpoints, tuple(args.models), args.device, other_manifest=args.other_manifest)
    rows = table_rows(ev)
    md = to_markdown(rows)
    print(md, end="")
    for path, text, option in ((args.markdown, md, "--markdown"), (args.csv, to_csv(rows), "--csv")):
        if path:
            _write_text(path, text, option)
            print(f"wrote {path}")


def _make_out_dir(path: Path) -> None:
    """Make the output folder if absent; a file in its way is one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UserError(f"--out-dir {path} is a file, not a folder: name a folder for the colorized photos") from None
    except OSError as exc:
        raise UserError(f"cannot make --out-dir {path} ({exc.strerror or exc})") from None


def cmd_colorize(args: argparse.Namespace) -> None:
    from .colorize import RECORD, collect_photos, colorize_all, make_rule, output_names, write_record
    from .combination_rules import MEAN
    from .ensemble import load_colorizer

    rule_name = args.rule or MEAN
    rule, temperature = make_rule(rule_name, args.temperature)
    jobs = collect_photos(args.photos, args.out_dir)
    colorizer = load_colorizer(
        args.models, args.checkpoints, args.weights, args.device, args.precision, rule, args.vividness
    )
    outs = [args.out_dir / name for name in output_names([sub for _, sub in jobs], colorizer.name)]
    # every name is planned and checked before anything is written: never a result overwritten silently
    planned = [*outs, args.out_dir / RECORD]
    clash = [o for o in planned if os.path.lexists(o) and not (args.overwrite and o.is_file() and not o.is_symlink())]
    if clash:
        raise UserError(
            f"{clash[0]} already exists ({len(clash)} of {len(planned)} outputs do): "
            "pass --overwrite to replace files, or choose another --out-dir"
        )
    _make_out_dir(args.out_dir)
    pairs = [(photo, out) for (photo, _), out in zip(jobs, outs, strict=True)]
    done, skipped = colorize_all(colorizer, pairs, args.batch_size, not args.quiet)
    record = write_record(args.out_dir, colorizer, args.models, args.weights, rule_name, temperature, done, skipped)
    print(f"{len(done)} photos colorized into {args.out_dir}; how: {record}")
    if skipped:
        raise UserError(f"{len(skipped)} of {len(jobs)} files could not be read as photos")


def cmd_fetch(args: argparse.Namespace) -> None:
    from .data import download_dataset

    print(download_dataset())


def cmd_check(args: argparse.Namespace) -> int:
    from .paper.check_report import report_text
    from .paper.reproduction import check

    cmp = check(args.variant, args.references)
    print(report_text(cmp))
    return 0 if not args.strict or any(cmp.reproduces(b["id"]) for b in cmp.refs.builds) else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colorlib", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"colorlib {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("prepare", help="scan a photo folder, report on it and write the splits manifest")
    s.add_argument("data_dir", nargs="?", help="folder of photos (default: ../shared/data/landscapes if present)")
    s.add_argument("--out", type=Path, default=DEFAULT_MANIFEST, help=f"manifest to write (default {DEFAULT_MANIFEST})")
    add_options(s, SplitParams)
    s.add_argument("--cache", type=Path, default=Path(".colorlib-cache"), help="scan cache folder")
    s.add_argument("--download", action="store_true", help="download the Kaggle dataset if no folder is given")
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("train", help="train one model on one set of the manifest (resumes if interrupted)")
    s.add_argument("dataset", nargs="?", help=f"one of {', '.join(TRAINED_MODELS)} (or the spec file's)")
    s.add_argument("--spec", type=Path, help="a run spec file (JSON, as the workflow writes one per run): its settings")
    s.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    s.add_argument("--data", help="photo folder (default: the manifest's)")
    s.add_argument("--out", type=Path, help=f"checkpoint (default {DEFAULT_CHECKPOINTS}/DATASET.pt)")
    add_options(s, TrainConfig, skip=("dataset",))  # over the spec file's settings, where one is given
    s.add_argument("--device", default="auto", help="auto, cpu or cuda")
    s.add_argument("--force", action="store_true", help="overwrite an existing checkpoint with other settings")
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("evaluate", help="score models on the validation photos (Table I)")
    s.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    s.add_argument("--checkpoints", type=Path, default=DEFAULT_CHECKPOINTS)
    s.add_argument("--data", help="photo folder (default: the manifest's)")
    s.add_argument("--models", nargs="+", default=list(ALL_MODELS), metavar="MODEL")
    s.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    s.add_argument("--csv", type=Path, help="also write the table as CSV here")
    s.add_argument("--device", default="cpu")
    s.add_argument(
        "--allow-other-manifest",
        dest="other_manifest",
        action="store_true",
        help="score checkpoints trained on another manifest (their training photos may be among those scored)",
    )
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("colorize", help="colorize photos and folders with one model or a weighted blend")
    s.add_argument("photos", nargs="+", type=Path, metavar="PATH", help="a photo, or a folder: every file in it")
    s.add_argument(
        "--models", nargs="+", default=["bgy-combined"], metavar="MODEL", help=f"from {', '.join(ALL_MODELS)}"
    )
    s.add_argument("--weights", nargs="+", type=float, help="one non-negative weight per model (default equal)")
    s.add_argument(
        "--rule",
        metavar="NAME",
        help="how the models combine, a rule of the explorer page (an unknown name lists them); default the "
        "weighted mean (the paper's); other rules combine the models of weight above zero as equals",
    )
    s.add_argument(
        "--temperature",
        type=float,
        help="T of the rule that has one, Lab chroma units (0: most saturated, inf: the mean)",
    )
    s.add_argument(
        "--vividness",
        type=float,
        default=1.0,
        metavar="K",
        help="the combined colours times K, clipped to the colour range (1: as they are)",
    )
    s.add_argument("--checkpoints", type=Path, default=DEFAULT_CHECKPOINTS)
    s.add_argument(
        "--out-dir",
        type=Path,
        default=Path("colorized"),
        help="folder of the results (colorized): PHOTO.MODEL.png each (at its sub-path for a folder's photos; "
        "PHOTO-2.MODEL.png... for a repeated name) and colorize.json, the record of how they were made",
    )
    s.add_argument("--overwrite", action="store_true", help="replace results already in --out-dir (default: refuse)")
    s.add_argument("--device", default="cpu")
    s.add_argument(
        "--precision", choices=PRECISIONS, default="auto", help="auto: bf16 where the hardware has it (fast), else fp32"
    )
    s.add_argument("--batch-size", type=_positive_int, default=16, help="photos per network pass (16)")
    s.set_defaults(func=cmd_colorize)

    s = sub.add_parser("check", help="did a built variant reproduce the paper and the reference builds?")
    s.add_argument("variant", nargs="?", type=Path, default=Path("build/latest"), help="a built variant (build/latest)")
    s.add_argument("--references", type=Path, help="reference file (default: the package's reference_results.toml)")
    s.add_argument("--strict", action="store_true", help="exit 1 unless the build reproduces a reference build")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("fetch", help="download the paper's Kaggle dataset (needs internet and kagglehub)")
    s.set_defaults(func=cmd_fetch)
    add_commands(sub)  # the workflow's own: archive, verify, notebooks, study, web, publish
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`colorlib COMMAND`: a user's mistake is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    return run_command("colorlib", args.quiet, lambda: args.func(args) or 0)  # None: done (check returns its status)
