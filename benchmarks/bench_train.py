"""Training throughput and agreement: a hobby project's reference loop against colorlib's own path.

On the same photos (24 training, 32 validation), `--pairs` times in turn: the reference loop, then
colorlib's `train()`, with the same seed, so both start from the same weights and see the same
batches (benchmarks/train_paths.py has the two paths). The pairs are interleaved (reference, fast,
reference, fast...) so that a drift in the machine's load hits both; each pair gives one speed
ratio, and the report is their median with the range. Then:

- **the loss check** (benchmarks/paired.py): the two paths' training losses compared batch by
  batch (same photos at every step), pooled over the pairs, with a block-bootstrap 95 % interval
  and the smallest difference the check could detect; it passes when the whole interval lies
  inside +-`--loss-tol`. The final validation losses are printed per pair as well: a single model
  after a few hundred batches of four moves by tens of per cent with rounding alone, which is why
  they do not decide;
- **the share of the machine's bf16 rate**: the FLOPs of a step (torch.utils.flop_counter) over
  the median time between colorlib's steps, against a large bf16 matrix product measured here with
  the same number of threads;
- **the pipeline's configuration**: two `train()` runs at once, one thread each (how `make book`
  trains), their joint throughput against the reference's, and the share of the bf16 rate;
- **where a step's time goes**: one profiled colorlib step, grouped into convolutions (the work
  counted as FLOPs) and the memory-bound rest (batch norm, ReLU, pooling, upsampling, casts).

    python benchmarks/bench_train.py                          # the full measurement (minutes)
    python benchmarks/bench_train.py --pairs 1 --batches 60   # a quick look

Exit status 0 whatever the verdict (it is a measurement); --check exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import paired  # noqa: E402
import train_paths  # noqa: E402

from colorlib.data import load_image  # noqa: E402
from colorlib.device import autocast, resolve_precision  # noqa: E402
from colorlib.errors import UserError  # noqa: E402
from colorlib.model import ColorNet, ModelConfig  # noqa: E402
from colorlib.train import TrainConfig  # noqa: E402

SET_NAME = "blue"  # the set name the benchmark's manifest uses (train() needs a named set)
GROUPS = {  # profiler op name fragments -> what they are
    "convolution": ("convolution",),
    "batch norm": ("batch_norm",),
    "ReLU": ("threshold_backward", "clamp_min", "relu"),
    "pooling and upsampling": ("max_pool", "upsample"),
    "casts and copies": ("copy_", "_to_copy", "fill_", "empty"),
    "optimizer": ("adam",),
}


def parse_args(argv=None) -> argparse.Namespace:
    p = common.base_parser(__doc__, "use this manifest's blue set and validation set instead of file names")
    p.add_argument("--photos", type=int, default=24, help="training photos (the paper's colour sets hold 24)")
    p.add_argument("--val", type=int, default=32, help="validation photos, disjoint from the training ones")
    p.add_argument("--batches", type=int, default=300, help="batches per run (default 300: 50 epochs of 24 photos)")
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seed", type=int, default=0, help="seed of the first pair (pair k uses seed + k)")
    p.add_argument("--pairs", type=int, default=3, help="interleaved (reference, colorlib) pairs (default 3)")
    p.add_argument("--skip", type=int, default=100, help="first batches left out of the loss check (the fast fall)")
    p.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"), help="colorlib's precision")
    p.add_argument("--no-pair-run", dest="pipeline", action="store_false", help="skip the 2-runs-at-once path")
    p.add_argument("--min-speedup", type=float, default=4.0)
    p.add_argument("--min-share", type=float, default=0.40, help="target share of the measured bf16 rate")
    p.add_argument("--loss-tol", type=float, default=0.05, help="tolerance on the paired loss difference (5%%)")
    p.add_argument("--peak-seconds", type=float, default=2.0, help="time spent measuring each matmul rate")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--check", action="store_true", help="exit 1 when the verdict is FAIL")
    return p.parse_args(argv)


def matmul_rates(seconds: float) -> dict[int, float]:
    """Measured bf16 matmul FLOP/s with 1 thread and with all of this process's threads."""
    threads = torch.get_num_threads()
    rates = {}
    for n in sorted({1, threads}):
        torch.set_num_threads(n)
        rates[n] = common.measured_matmul_peak(torch.bfloat16, seconds=seconds)
    torch.set_num_threads(threads)
    return rates


def step_profile(cfg: TrainConfig, steps: int = 6) -> dict[str, float]:
    """Share of one colorlib step's CPU time per group of operations (torch.profiler, self time)."""
    from torch.profiler import ProfilerActivity, profile

    dev = torch.device("cpu")
    precision = resolve_precision(cfg.precision, dev)
    fmt = torch.channels_last if precision == "bf16" else torch.contiguous_format
    torch.manual_seed(0)
    model = ColorNet(cfg.model_config()).to(memory_format=fmt).train()
    optim = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
    x = torch.rand(cfg.batch_size, 1, cfg.image_size, cfg.image_size).contiguous(memory_format=fmt)
    y = (torch.rand(cfg.batch_size, 2, cfg.image_size, cfg.image_size) * 2 - 1).contiguous(memory_format=fmt)

    def step():
        with autocast(dev, precision):
            pred = model(x)
        loss = F.mse_loss(pred.float(), y)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()

    for _ in range(3):
        step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    totals = {g: 0.0 for g in GROUPS} | {"other": 0.0}
    for event in prof.key_averages():
        name = event.key.lower()
        group = next((g for g, keys in GROUPS.items() if any(k in name for k in keys)), "other")
        totals[group] += event.self_cpu_time_total
    whole = sum(totals.values())
    return {g: t / whole for g, t in totals.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    manifest, train_names, val_names = common.pick_sets(args.data, args.photos, args.val, args.manifest, SET_NAME)
    paths = [args.data / n for n in train_names]
    threads = torch.get_num_threads()
    cfg = TrainConfig(
        dataset=SET_NAME,
        iterations=args.batches,
        batch_size=args.batch_size,
        image_size=args.image_size,
        seed=args.seed,
        precision=args.precision,
        threads=threads,  # one run on every core; the pipeline path gives each of two runs one
    )
    if not 0 <= args.skip <= cfg.iterations - 25:
        raise UserError(f"--skip must leave at least 25 batches of the {cfg.iterations} to compare")
    cpu = common.cpu_info()
    load_before = common.machine_load()
    print(
        f"# bench_train: {len(train_names)} training photos ({train_names[0]} .. {train_names[-1]}), "
        f"{len(val_names)} validation photos, {cfg.iterations} batches of {cfg.batch_size} at {cfg.image_size} px, "
        f"{args.pairs} interleaved pairs from seed {cfg.seed}"
    )
    print(f"# {cpu.model}: {cpu.cores} CPUs; {common.environment_line()}; load average before: {load_before:.2f}")
    val_l, val_ab = common.prepare([args.data / n for n in val_names], cfg.image_size, load_image)
    model = lambda: ColorNet(ModelConfig(image_size=cfg.image_size))  # noqa: E731
    flops_step = common.train_step_flops(model, cfg.batch_size, cfg.image_size)
    rates = matmul_rates(args.peak_seconds)
    print(
        f"# one training step: {flops_step / 1e9:.1f} GFLOP; measured bf16 matmul rate: "
        + ", ".join(f"{rates[n] / 1e9:.0f} GFLOP/s on {n} thread{'s' if n > 1 else ''}" for n in rates)
    )

    pairs = []
    with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
        # a few untimed batches of each path first: the process's one-off costs (oneDNN kernel
        # generation, allocator growth, lazy imports) would otherwise fall on the first pair alone
        print("# warming up both paths ...", flush=True)
        warm = dataclasses.replace(cfg, iterations=min(10, cfg.iterations))
        train_paths.run_reference(paths, warm, 0)
        train_paths.run_colorlib(manifest, args.data, warm, Path(tmp), "warm")
        for k in range(args.pairs):
            c = dataclasses.replace(cfg, seed=cfg.seed + k)
            print(f"# pair {k + 1}/{args.pairs}, seed {c.seed}: the reference ...", flush=True)
            ref = train_paths.run_reference(paths, c, 0)
            print(f"# pair {k + 1}/{args.pairs}, seed {c.seed}: colorlib train() ...", flush=True)
            fast = train_paths.run_colorlib(manifest, args.data, c, Path(tmp), f"fast{k}")
            for r in (ref, fast):
                r["val_loss"] = common.validation_loss(r.pop("model"), val_l, val_ab)
            pairs.append({"seed": c.seed, "reference": ref, "colorlib": fast})
        pipeline = None
        if args.pipeline:
            print(f"# the pipeline's configuration: seeds {cfg.seed} and {cfg.seed + 1} at once, 1 thread each ...")
            pipeline = train_paths.run_pair(manifest, args.data, cfg, Path(tmp))
            pipeline["val_losses"] = [common.validation_loss(m, val_l, val_ab) for m in pipeline.pop("models")]
    print("# profiling one colorlib step ...", flush=True)
    profile_shares = step_profile(cfg)
    load_after = common.machine_load()
    precision = pairs[0]["colorlib"]["precision"]
    images = cfg.iterations * cfg.batch_size

    # --- speed ---
    rows = []
    for p in pairs:
        r, f = p["reference"], p["colorlib"]
        rows.append(
            [
                str(p["seed"]),
                f"{r['seconds']:.1f}",
                f"{f['seconds']:.1f}",
                f"{r['seconds'] / f['seconds']:.2f}x",
                f"{images / f['seconds']:.1f}",
                f"{r['val_loss']:.5f}",
                f"{f['val_loss']:.5f}",
                f"{f['val_loss'] / r['val_loss'] - 1:+.1%}",
            ]
        )
    print()
    head = ["seed", "reference s", "colorlib s", "speed-up", "colorlib img/s", "val ref", "val colorlib", "val diff"]
    print(common.table(rows, head))
    median, low, high = paired.interleaved_ratio(
        [p["reference"]["seconds"] for p in pairs], [p["colorlib"]["seconds"] for p in pairs]
    )
    ok_speed = median >= args.min_speedup
    print(
        f"\none run, {threads} threads: colorlib train() ({precision}) is {median:.2f}x the reference "
        f"(fp32, DataLoader), median of {len(pairs)} interleaved pairs, range {low:.2f}x-{high:.2f}x; "
        f"target >= {args.min_speedup:g}x: {_pf(ok_speed)}"
    )

    # --- loss check ---
    diff = paired.paired_difference(
        [p["colorlib"]["losses"] for p in pairs], [p["reference"]["losses"] for p in pairs], start=args.skip
    )
    ok_loss = diff.within(args.loss_tol)
    print(
        f"loss check: colorlib's training loss vs the reference's on the same batches from the same weights, "
        f"batches {args.skip + 1}-{args.skip + diff.steps}: {diff.estimate:+.2%}, 95 % interval "
        f"[{diff.low:+.2%}, {diff.high:+.2%}] ({diff.pairs} pairs, block bootstrap, blocks of {diff.block}); "
        f"smallest difference this check detects (80 % power): {diff.detectable:.2%}; "
        f"interval inside +-{args.loss_tol:.0%}: {_pf(ok_loss)}"
    )
    val_ratios = [p["colorlib"]["val_loss"] / p["reference"]["val_loss"] - 1 for p in pairs]
    print(
        "  final validation losses, colorlib vs reference per pair: "
        + ", ".join(f"{v:+.1%}" for v in val_ratios)
        + " (one model's loss after a few hundred batches: too noisy to decide, shown for the record)"
    )

    # --- share of the bf16 rate ---
    steady = float(np.median([p["colorlib"]["step_seconds"] for p in pairs]))
    share = flops_step / steady / rates[threads]
    ok_share = share >= args.min_share
    print(
        f"share of the measured bf16 rate, one run on {threads} threads: {flops_step / steady / 1e9:.0f} GFLOP/s "
        f"(median step {steady * 1000:.0f} ms) = {share:.1%} of {rates[threads] / 1e9:.0f}; "
        f"target >= {args.min_share:.0%}: {_pf(ok_share)}"
    )
    if pipeline:
        ref_ips = float(np.median([images / p["reference"]["seconds"] for p in pairs]))
        ips = 2 * images / pipeline["seconds"]
        per_run = flops_step * cfg.iterations / float(np.mean(pipeline["run_seconds"]))
        both = 2 * flops_step * cfg.iterations / pipeline["seconds"]
        print(
            f"the pipeline's configuration (2 runs at once, 1 thread each): {ips:.1f} images/s together = "
            f"{ips / ref_ips:.2f}x the reference's median; {both / 1e9:.0f} GFLOP/s = {both / rates[threads]:.1%} "
            f"of the {threads}-thread rate; each run {per_run / rates[1]:.1%} of the 1-thread rate; "
            f"val losses {', '.join(f'{v:.5f}' for v in pipeline['val_losses'])}"
        )
    print(
        "where one colorlib step's time goes (torch.profiler, self CPU time): "
        + ", ".join(f"{g} {s:.0%}" for g, s in sorted(profile_shares.items(), key=lambda kv: -kv[1]))
    )
    verdict = "PASS" if ok_speed and ok_loss and ok_share else "FAIL"
    parts = f"speed-up {_pf(ok_speed)}, loss check {_pf(ok_loss)}, share of bf16 rate {_pf(ok_share)}"
    print(f"verdict: {verdict} ({parts})")
    print(f"load average: {load_before:.1f} before, {load_after:.1f} after (its own threads included)")
    if load_before > 0.5 * cpu.cores:
        print(f"warning: the machine was busy before the run (load {load_before:.1f}): every time above is inflated")

    if args.json:
        payload = {
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "cpu": cpu.model,
            "environment": common.environment_line(),
            "load_average": [load_before, load_after],
            "flops_per_step": flops_step,
            "bf16_rates": rates,
            "pairs": [
                {"seed": p["seed"]} | {k: _without_losses(p[k]) for k in ("reference", "colorlib")} for p in pairs
            ],
            "speedup": {"median": median, "min": low, "max": high},
            "loss_check": dataclasses.asdict(diff),
            "share": share,
            "pipeline": _without_losses(pipeline or {}),
            "profile": profile_shares,
            "verdict": verdict,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if args.check and verdict == "FAIL" else 0


def _without_losses(run: dict) -> dict:
    return {k: v for k, v in run.items() if k != "losses"}


def _pf(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:  # a missing folder, a stale manifest: one line, not a traceback
        sys.exit(f"error: {exc}")
