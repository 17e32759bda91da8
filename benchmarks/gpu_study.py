"""Train the paper's six models and the whole "Beyond the paper" study on a GPU, then bring it home.

Two halves, one per machine:

``run`` (on the GPU machine, from the repository root, no installation needed)::

    python benchmarks/gpu_study.py run --manifest M --data PHOTOS --out RESULTS [--size 256]

1. trains the paper's six models (the study's seed-0 MSE runs: the paper's sets, 2,000 batches of 4
   at 256 px) **one at a time**, timing each: the paper-scale training time on that GPU;
2. trains every other run of the study (more seeds, baseline draws, axis sets, the second loss)
   several at a time (``--parallel``): tiny batches leave the GPU mostly idle, so processes overlap;
3. writes each finished checkpoint again without its optimizer state and with float16 weights
   (a 12 MB checkpoint becomes 2 MB, so all of them fit through a narrow transfer), checks on the
   validation photos how far the float16 copy's MSE is from the full-precision one, and packs them
   into a few tar files under ``RESULTS``, beside ``gpu-run.json`` (timings, device, checks).

Runs that fail are reported and the rest goes on; with ``--deadline`` no new run starts when too
little time is left, so whatever finished still comes back.

``import`` (here, after fetching RESULTS)::

    python benchmarks/gpu_study.py import RESULTS --study-dir build/beyond

unpacks the checkpoints into the study's folder (refusing a study manifest other than the one they
were trained on), writes the training logs Make expects and records the image size, so that
``make beyond BEYOND_IMAGE_SIZE=256`` scores them and builds the page without training again.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PACK_LIMIT = 15 * 2**20  # bytes per tar file (the transfer takes files of at most 16 MiB)


def _train_command(args, run, ckpt: Path) -> list[str]:
    return [
        sys.executable, "-m", "colorlib.cli", "-q", "train", run.set_name,
        "--manifest", str(args.manifest), "--data", str(args.data), "--out", str(ckpt),
        "--seed", str(run.seed), "--loss", run.loss, "--image-size", str(args.size),
        "--iterations", str(args.iterations), "--batch-size", str(args.batch_size),
        "--device", args.device,
    ]  # fmt: skip


def _train(args, run, work: Path, phase: str) -> dict:
    ckpt = work / "checkpoints" / f"{run.name}.pt"
    log = work / "logs" / f"{run.name}.txt"
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(
            _train_command(args, run, ckpt), cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=_env(args)
        )
    wall = time.perf_counter() - start
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    print(f"  {run.name:<20} {status:<18} {wall:7.1f} s   [{phase}]", flush=True)
    return {"run": run.name, "phase": phase, "status": status, "wall_s": round(wall, 2)}


def _env(args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) // max(1, args.parallel))))
    return env


def _slim(src: Path, dst: Path) -> None:
    """The checkpoint without optimizer state, weights in float16 (integers such as BN counters kept)."""
    import torch

    state = torch.load(src, map_location="cpu", weights_only=True)
    state.pop("optimizer", None)
    state["model"] = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    state["weights_dtype"] = "float16"
    torch.save(state, dst)


def _fp16_check(args, names: list[str], work: Path) -> dict:
    """Validation MSE of each run with its full-precision weights and with its float16 copy."""
    from colorlib.data import read_manifest
    from colorlib.ensemble import TrainedColorizer
    from colorlib.evaluate import load_validation
    from colorlib.study import score_predictions

    manifest = read_manifest(args.manifest)
    val = load_validation(manifest, args.data, args.size)
    out = {}
    for name in names:
        full = TrainedColorizer(work / "checkpoints" / f"{name}.pt", name, args.device)
        half = TrainedColorizer(work / "slim" / f"{name}.pt", name, args.device)
        a = score_predictions(val, full.predict_ab(val.lightness))[0]["mse"]
        b = score_predictions(val, half.predict_ab(val.lightness))[0]["mse"]
        out[name] = {"mse_full": a, "mse_float16": b, "relative_difference": (b - a) / a}
    return out


def _pack(files: list[Path], out: Path) -> list[str]:
    packs, current, size = [], [], 0
    for f in files:
        if current and size + f.stat().st_size > PACK_LIMIT:
            packs.append(current)
            current, size = [], 0
        current.append(f)
        size += f.stat().st_size
    if current:
        packs.append(current)
    names = []
    for i, group in enumerate(packs, 1):
        name = f"checkpoints-{i}.tar"
        with tarfile.open(out / name, "w") as tar:
            for f in group:
                tar.add(f, arcname=f"checkpoints/{f.name}")
                log = f.parent.parent / "logs" / f"{f.stem}.txt"
                if log.is_file():
                    tar.add(log, arcname=f"logs/{f.stem}.txt")
        names.append(name)
    return names


def run(args) -> int:
    import torch

    from colorlib import TRAINED_MODELS
    from colorlib.study import study_runs

    t0 = time.perf_counter()
    out = Path(args.out)
    work = Path(args.work)
    for d in (out, work / "checkpoints", work / "logs", work / "slim"):
        d.mkdir(parents=True, exist_ok=True)
    info = {
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "size": args.size,
        "iterations": args.iterations,
        "batch_size": args.batch_size,
        "parallel": args.parallel,
    }
    print(json.dumps(info), flush=True)
    runs = study_runs(args.seeds, args.axis_seeds, args.second_loss or None, args.second_loss_seeds)
    paper = [r for r in runs if r.seed == args.seeds[0] and r.loss == "mse" and r.model in TRAINED_MODELS]
    rest = [r for r in runs if r not in paper]
    results = []

    print(f"paper-scale training: {len(paper)} models, one at a time", flush=True)
    p0 = time.perf_counter()
    for r in paper:
        results.append(_train(args, r, work, "paper, sequential"))
    paper_wall = time.perf_counter() - p0
    print(f"paper-scale training wall time: {paper_wall:.1f} s", flush=True)

    print(f"the rest of the study: {len(rest)} runs, {args.parallel} at a time", flush=True)
    r0 = time.perf_counter()
    longest = max([x["wall_s"] for x in results] + [1.0])

    def job(r):
        if args.deadline and time.perf_counter() - t0 > args.deadline - 2 * longest:
            print(f"  {r.name:<20} skipped: too little time left", flush=True)
            return {"run": r.name, "phase": "study", "status": "skipped (deadline)", "wall_s": 0.0}
        return _train(args, r, work, "study, parallel")

    with ThreadPoolExecutor(args.parallel) as pool:
        results += list(pool.map(job, rest))
    rest_wall = time.perf_counter() - r0

    done = [x["run"] for x in results if x["status"] == "ok"]
    for name in done:
        _slim(work / "checkpoints" / f"{name}.pt", work / "slim" / f"{name}.pt")
    try:
        check = _fp16_check(args, done, work)
    except Exception as exc:  # noqa: BLE001 - a failed check must not lose the trained models
        check = {"error": f"{exc.__class__.__name__}: {exc}"}
    packs = _pack([work / "slim" / f"{n}.pt" for n in done], out)
    report = {
        **info,
        "paper_models": [r.name for r in paper],
        "paper_training_wall_s": round(paper_wall, 1),
        "rest_wall_s": round(rest_wall, 1),
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "runs": results,
        "float16_check": check,
        "packs": packs,
    }
    (out / "gpu-run.json").write_text(json.dumps(report, indent=1))
    failed = [x for x in results if x["status"] != "ok"]
    print(f"done: {len(done)} of {len(runs)} runs, {len(failed)} not; packs {packs}", flush=True)
    if isinstance(check, dict) and "error" not in check and check:
        worst = max(abs(v["relative_difference"]) for v in check.values())
        print(f"float16 copies: largest relative change of validation MSE {worst:.2e}", flush=True)
    else:
        print(f"float16 check: {check}", flush=True)
    for x in failed:
        log = work / "logs" / f"{x['run']}.txt"
        if log.is_file():
            print(f"--- {x['run']}: {x['status']}\n" + log.read_text()[-1500:], flush=True)
    return 0 if not failed else 1


def import_results(args) -> int:
    """Unpack the GPU run's checkpoints into the study folder so Make treats them as trained."""
    import torch

    from colorlib.data import manifest_hash, read_manifest

    src = Path(args.results)
    study = Path(args.study_dir)
    report = json.loads((src / "gpu-run.json").read_text())
    manifest = read_manifest(study / "manifest.json")
    digest = manifest_hash(manifest)
    (study / "checkpoints").mkdir(parents=True, exist_ok=True)
    (study / "logs").mkdir(parents=True, exist_ok=True)
    n = 0
    for pack in report["packs"]:
        with tarfile.open(src / pack) as tar:
            for member in tar.getmembers():
                name = Path(member.name)
                if not member.isfile() or name.parent.name not in ("checkpoints", "logs") or len(name.parts) != 2:
                    raise SystemExit(f"{pack}: unexpected entry {member.name}")
                data = tar.extractfile(member).read()
                dest = study / name
                dest.write_bytes(data)
                if name.parent.name == "checkpoints":
                    state = torch.load(dest, map_location="cpu", weights_only=True)
                    if state.get("manifest_hash") != digest:
                        dest.unlink()
                        raise SystemExit(f"{name.name} was trained on another study manifest than {study}")
                    # where it was trained, and what the float16 copy changed: the page reports both
                    state["device_name"] = report["device"]
                    check = report.get("float16_check", {}).get(name.stem)
                    if isinstance(check, dict):
                        state["float16_check"] = check
                    torch.save(state, dest)
                    n += 1
    # Make's targets: the logs must be newer than the manifest, the parameters and the code.
    (study / "train-params.txt").write_text(
        f"size={report['size']} iterations={report['iterations']} batch={report['batch_size']}"
    )
    now = time.time() + 1
    for f in (study / "logs").glob("*.txt"):
        os.utime(f, (now, now))
    print(f"imported {n} checkpoints into {study}/checkpoints; now run: make beyond BEYOND_IMAGE_SIZE={report['size']}")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train the paper's models and the study (on the GPU machine)")
    r.add_argument("--manifest", type=Path, required=True, help="the study manifest (build/beyond/manifest.json)")
    r.add_argument("--data", type=Path, required=True, help="folder holding the manifest's photos")
    r.add_argument("--out", type=Path, required=True, help="where the packs and gpu-run.json go")
    r.add_argument("--work", type=Path, default=Path("/tmp/gpu-study"), help="full checkpoints and logs")
    r.add_argument("--size", type=int, default=256)
    r.add_argument("--iterations", type=int, default=2000)
    r.add_argument("--batch-size", type=int, default=4)
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    r.add_argument("--axis-seeds", type=int, nargs="+", default=[0])
    r.add_argument("--second-loss", default="l1")
    r.add_argument("--second-loss-seeds", type=int, nargs="+", default=[0])
    r.add_argument("--parallel", type=int, default=6, help="study runs at a time after the paper's six")
    r.add_argument("--device", default="cuda")
    r.add_argument("--deadline", type=float, default=0, help="seconds: start no run that may not finish by then")
    i = sub.add_parser("import", help="unpack a GPU run's results into the study folder (here)")
    i.add_argument("results", type=Path)
    i.add_argument("--study-dir", type=Path, default=Path("build/beyond"))
    args = p.parse_args(argv)
    return run(args) if args.cmd == "run" else import_results(args)


if __name__ == "__main__":
    sys.exit(main())
