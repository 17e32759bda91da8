"""The `colorlib` subcommands that the workflow and `make` call: archive, verify, notebooks, study, web, publish.

They sit beside the user's commands (:mod:`colorlib.cli`, which registers them) so that every tool of the
project is one `colorlib COMMAND` with one parser style; each function here only parses and prints, the work
is the library's. Imports are lazy: `colorlib --help` loads none of the book's toolchain.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def cmd_archive(args: argparse.Namespace) -> None:
    from .workflow import archive

    if args.action == "pack":
        index = archive.pack(args.variant, args.out, args.force)
        size = args.out.stat().st_size / 1e6
        print(f"{args.out}: variant {index['variant']}, {len(index['files'])} files, {size:.1f} MB, "
              f"code {index['code_fingerprint']} at {index['commit']}")  # fmt: skip
    elif args.action == "show":
        index = archive.read_index(args.archive)
        said = {k: printable(index.get(k)) for k in ("variant", "command", "commit", "code_fingerprint")}
        print(f"variant {said['variant']}: {len(index['files'])} files; built, its maker says, with "
              f"`{said['command']}` from commit {said['commit']}, code {said['code_fingerprint']}")  # fmt: skip
    else:
        expected = None if args.config is None else archive.expected_variant(args.config)
        print(archive.restore(args.archive, args.build, expected).name)


def printable(value: object) -> str:
    """A stranger's text as it may be shown on a terminal: control characters (escape sequences too) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def cmd_verify(args: argparse.Namespace) -> None:
    from .workflow.verify import verify

    print(verify(args.variant, args.model, args.out_dir, progress=not args.quiet))


def cmd_notebooks(args: argparse.Namespace) -> None:
    from .pages.notebooks import write_notebooks

    logging.getLogger("papermill").setLevel(logging.WARNING)  # its "Input Notebook: ..." lines, once per copy
    print(write_notebooks(args.variant, args.templates))


def cmd_study(args: argparse.Namespace) -> None:
    from .study.manifest import StudyParams, format_study_report, prepare
    from .study.runs import parse_seeds

    seeds = parse_seeds(args.seeds)
    params = StudyParams(args.calibration, args.baseline, tuple(s for s in seeds if s > 0), args.per_axis, args.seed)
    manifest, written = prepare(
        args.paper_manifest, args.data_dir, args.out, params, cache_dir=args.cache, progress=not args.quiet
    )
    print(format_study_report(manifest))
    print(f"study manifest: {args.out} ({'written' if written else 'unchanged'})")


def cmd_web(args: argparse.Namespace) -> None:
    from .explorer.web import copy_runtime, export_models

    if args.action == "models":
        path = export_models(args.checkpoints, args.out / "models", storage=args.storage)
        for m in json.loads(path.read_text(encoding="utf-8"))["models"]:
            diff = "not checked (no onnxruntime)" if m["max_abs_diff"] is None else f"{m['max_abs_diff']:.2e}"
            print(f"{m['name']}: {m['file']}, {m['bytes'] / 1e6:.2f} MB, largest |ab| difference to PyTorch {diff}")
        return
    index = json.loads(copy_runtime(args.package, args.out).read_text(encoding="utf-8"))
    if "unavailable" in index:
        print(f"warning: {index['unavailable']}", file=sys.stderr)
    else:
        total = sum(f["bytes"] for f in index["files"])
        print(f"onnxruntime-web {index['version']}: {len(index['files'])} files, {total / 1e6:.1f} MB")


def cmd_publish(args: argparse.Namespace) -> None:
    from .pages.provenance import publish

    publish(args.variant, args.out, Path.cwd())


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the workflow's subcommands on `colorlib`'s parser."""
    from .explorer.web import STORAGES

    s = sub.add_parser("archive", help="pack a built variant into one file, restore one (every hash checked), show one")
    act = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = act.add_parser("pack", help="pack a built variant (its manifest, specs, checkpoints, logs; no pages) into OUT")
    a.add_argument("variant", type=Path)
    a.add_argument("out", type=Path)
    a.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    a = act.add_parser("restore", help="unpack ARCHIVE into BUILD/<variant>; prints the variant's name")
    a.add_argument("archive", type=Path)
    a.add_argument("build", type=Path)
    a.add_argument("--config", nargs="*", metavar="NAME=VALUE",
                   help="the workflow's settings: the archive must hold the variant they make")  # fmt: skip
    a = act.add_parser("show", help="what an archive holds and the command that built it")
    a.add_argument("archive", type=Path)
    s.set_defaults(func=cmd_archive)

    s = sub.add_parser("verify", help="retrain one model of a built variant: bit-identical, or how far off?")
    s.add_argument("variant", type=Path, help="a built variant (build/latest)")
    s.add_argument("model", help="the model to retrain (blue, yellow, ...)")
    s.add_argument("out_dir", nargs="?", type=Path, help="where the retrained checkpoint goes (default: a temp folder)")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("notebooks", help="write the notebooks filled in for a built variant into VARIANT/jupyter")
    s.add_argument("variant", nargs="?", type=Path, default=Path("build/latest"), help="a variant's folder")
    s.add_argument("--templates", type=Path, default=Path("notebooks"), help="the notebook templates")
    s.set_defaults(func=cmd_notebooks)

    s = sub.add_parser("study", help="Beyond the paper: extend the paper manifest for the study (prepare)")
    act = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = act.add_parser("prepare", help="extend the paper manifest with calibration, baseline draws and axis sets")
    a.add_argument("data_dir", nargs="?", help="photo folder (default: the paper manifest's)")
    a.add_argument("--paper-manifest", type=Path, default=Path("build/latest/manifest.json"))
    a.add_argument("--out", type=Path, default=Path("build/latest/beyond/manifest.json"))
    a.add_argument("--calibration", type=int, default=32, help="calibration photos (32)")
    a.add_argument("--baseline", type=int, default=864, help="photos in each extra baseline draw (864)")
    a.add_argument("--seeds", default="0 1 2", help='training seeds, one baseline draw per seed above 0 ("0 1 2")')
    a.add_argument("--per-axis", type=int, default=24, help="photos in each of a+, a-, b+, b- (24)")
    a.add_argument("--seed", type=int, default=0, help="seed of the random draws (0)")
    a.add_argument("--cache", type=Path, default=Path(".colorlib-cache"), help="scan cache folder")
    s.set_defaults(func=cmd_study)

    s = sub.add_parser("web", help="the explorer page's models (ONNX) and runtime (onnxruntime-web)")
    act = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = act.add_parser("models", help="export the trained models to ONNX for the page")
    a.add_argument("checkpoints", type=Path, help="folder with blue.pt, yellow.pt, ...")
    a.add_argument("out", type=Path, help="the page's web folder (models/ is written in it)")
    a.add_argument("--storage", choices=STORAGES, default="float16", help="how the weights are stored")
    a = act.add_parser("runtime", help="copy onnxruntime-web's files for the page")
    a.add_argument("package", type=Path, help="node_modules/onnxruntime-web")
    a.add_argument("out", type=Path, help="the page's web folder (ort/ and runtime.json are written in it)")
    s.set_defaults(func=cmd_web)

    s = sub.add_parser("publish", help="the book's variant pages, and the executed pages stamped with their source")
    s.add_argument("variant", type=Path, help="a built variant's folder (holds variant.json)")
    s.add_argument("out", type=Path, help="the book's generated folder")
    s.set_defaults(func=cmd_publish)
