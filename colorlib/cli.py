"""The `colorlib` command: prepare data, train, evaluate, colorize, check a build against the references.

A user's mistake ends with one line on stderr and exit status 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import ALL_MODELS, TRAINED_MODELS, __version__
from .errors import UserError, run_command

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


# --- subcommands ----------------------------------------------------------------------------------


def cmd_prepare(args: argparse.Namespace) -> int:
    from .data import SplitParams, format_report, make_manifest, scan_folder, write_manifest

    folder = _data_dir(args.data_dir, download=args.download)
    report = scan_folder(folder, progress=not args.quiet, cache_dir=args.cache)
    params = SplitParams(
        per_colour=args.per_colour, baseline=args.baseline, validation=args.validation, seed=args.seed, test=args.test
    )
    manifest = make_manifest(report, params, str(folder))
    changed = write_manifest(manifest, args.out)
    print(format_report(manifest))
    print(f"manifest: {args.out} ({'written' if changed else 'unchanged'})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .data import read_manifest
    from .train import TrainConfig, train

    cfg = TrainConfig(  # its values are checked before anything is read or written
        dataset=args.dataset,
        iterations=args.iterations,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        image_size=args.image_size,
        precision=args.precision,
        encoder_weights=args.encoder_weights,
        threads=args.threads,
        loss=args.loss,
        checkpoint_every=args.checkpoint_every,
    )
    manifest = read_manifest(args.manifest)
    out = args.out or DEFAULT_CHECKPOINTS / f"{args.dataset}.pt"
    result = train(
        cfg,
        manifest,
        _data_dir(args.data, manifest),
        out,
        device=args.device,
        force=args.force,
        progress=not args.quiet,
    )
    if result.skipped:
        print(f"{out}: already trained with these settings (use --force to train again)")
    else:
        tail = result.losses[-50:]
        print(f"{out}: {cfg.iterations} batches, final loss {sum(tail) / len(tail):.4f}, {result.elapsed_s:.0f} s")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .data import read_manifest
    from .paper.evaluate import evaluate, table_rows, to_csv, to_markdown

    manifest = read_manifest(args.manifest)
    ev = evaluate(manifest, _data_dir(args.data, manifest), args.checkpoints, tuple(args.models), args.device)
    rows = table_rows(ev)
    md = to_markdown(rows)
    print(md, end="")
    for path, text in ((args.markdown, md), (args.csv, to_csv(rows))):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    return 0


def cmd_colorize(args: argparse.Namespace) -> int:
    from PIL import Image

    from .data import load_image
    from .ensemble import load_colorizer

    colorizer = load_colorizer(args.models, args.checkpoints, args.weights, args.device, args.precision)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for start in range(0, len(args.photos), args.batch_size):
        batch = []
        for photo in args.photos[start : start + args.batch_size]:
            try:
                batch.append((photo, load_image(photo)))
            except UserError as exc:
                print(f"skipped {exc}", file=sys.stderr)
                failed += 1
        if not batch:
            continue
        for (photo, rgb), out_rgb in zip(batch, colorizer.colorize_many([rgb for _, rgb in batch]), strict=True):
            out = args.out_dir / f"{photo.stem}.{colorizer.name}.png"
            Image.fromarray(out_rgb).save(out)
            print(f"{photo} -> {out} ({rgb.shape[1]}x{rgb.shape[0]})")
    if failed:
        raise UserError(f"{failed} of {len(args.photos)} files could not be read as photos")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from .data import download_dataset

    print(download_dataset())
    return 0


# --- parser ---------------------------------------------------------------------------------------


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
    s.add_argument("--per-colour", type=_positive_int, default=24, help="photos in each of blue, yellow, green (24)")
    s.add_argument("--baseline", type=_positive_int, default=864, help="photos in the baseline set (864)")
    s.add_argument("--validation", type=_positive_int, default=32, help="validation photos (32)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random draws (0)")
    s.add_argument("--test", type=int, default=0, help="held-out test photos, drawn after every other set (0: none)")
    s.add_argument("--cache", type=Path, default=Path(".colorlib-cache"), help="scan cache folder")
    s.add_argument("--download", action="store_true", help="download the Kaggle dataset if no folder is given")
    s.set_defaults(func=cmd_prepare)

    s = sub.add_parser("train", help="train one model on one set of the manifest (resumes if interrupted)")
    s.add_argument("dataset", help=f"one of {', '.join(TRAINED_MODELS)}")
    s.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    s.add_argument("--data", help="photo folder (default: the manifest's)")
    s.add_argument("--out", type=Path, help=f"checkpoint (default {DEFAULT_CHECKPOINTS}/DATASET.pt)")
    s.add_argument("--iterations", type=_positive_int, default=2000, help="batches (2000)")
    s.add_argument("--batch-size", type=_positive_int, default=4, help="photos per batch (4)")
    s.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (0.001)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--image-size", type=_positive_int, default=256, help="working size, a multiple of 8 (256)")
    s.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    s.add_argument("--encoder-weights", default="none", help="none, torchvision (downloads) or a state-dict file")
    s.add_argument("--loss", choices=("mse", "l1", "huber"), default="mse", help="training loss (the paper: mse)")
    s.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="CPU threads of this run (1); part of the run's identity, since another count rounds differently",
    )
    s.add_argument("--checkpoint-every", type=_positive_int, default=250, help="batches between checkpoints")
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
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("colorize", help="colorize photos with one model or a weighted blend")
    s.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    s.add_argument(
        "--models", nargs="+", default=["bgy-combined"], metavar="MODEL", help=f"from {', '.join(ALL_MODELS)}"
    )
    s.add_argument("--weights", nargs="+", type=float, help="one non-negative weight per model (default equal)")
    s.add_argument("--checkpoints", type=Path, default=DEFAULT_CHECKPOINTS)
    s.add_argument("--out-dir", type=Path, default=Path("colorized"))
    s.add_argument("--device", default="cpu")
    s.add_argument(
        "--precision",
        choices=("auto", "bf16", "fp32"),
        default="auto",
        help="auto: bf16 where the hardware has it (fast), else fp32",
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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`colorlib COMMAND`: a user's mistake is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    return run_command("colorlib", args.quiet, lambda: args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
