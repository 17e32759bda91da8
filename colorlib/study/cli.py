"""The study's command line, `python -m colorlib.study prepare` (the workflow calls it)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..errors import run_command
from .manifest import StudyParams, format_study_report, prepare
from .runs import parse_seeds

PROG = "python -m colorlib.study"


def cmd_prepare(args: argparse.Namespace) -> int:
    seeds = parse_seeds(args.seeds)
    params = StudyParams(args.calibration, args.baseline, tuple(s for s in seeds if s > 0), args.per_axis, args.seed)
    manifest, written = prepare(
        args.paper_manifest, args.data_dir, args.out, params, cache_dir=args.cache, progress=not args.quiet
    )
    print(format_study_report(manifest))
    print(f"study manifest: {args.out} ({'written' if written else 'unchanged'})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Beyond the paper: the study's manifest.")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("prepare", help="extend the paper manifest with calibration, baseline draws and axis sets")
    s.add_argument("data_dir", nargs="?", help="photo folder (default: the paper manifest's)")
    s.add_argument("--paper-manifest", type=Path, default=Path("build/paper/manifest.json"))
    s.add_argument("--out", type=Path, default=Path("build/beyond/manifest.json"))
    s.add_argument("--calibration", type=int, default=32, help="calibration photos (32)")
    s.add_argument("--baseline", type=int, default=864, help="photos in each extra baseline draw (864)")
    s.add_argument(
        "--seeds", default="0 1 2", help='training seeds; one extra baseline draw per seed above 0 ("0 1 2")'
    )
    s.add_argument("--per-axis", type=int, default=24, help="photos in each of a+, a-, b+, b- (24)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random draws (0)")
    s.add_argument("--cache", type=Path, default=Path(".colorlib-cache"), help="scan cache folder")
    s.set_defaults(func=cmd_prepare)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m colorlib.study`: a user's mistake is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    return run_command("colorlib.study", args.quiet, lambda: args.func(args))
