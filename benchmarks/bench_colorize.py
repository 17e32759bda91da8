"""Colorizing throughput: one photo at a time against a batched path, same photos, same weights.

(a) per-photo -- the obvious loop: for each file, `colorlib.data.load_image`, then
    `Colorizer.colorize` (preprocess, one forward pass, postprocess) in fp32;
(b) batched  -- load and `colorlib.lab.preprocess` every photo, one `predict_ab` call that runs
    the network in batches of --batch-size under colorlib's precision (bf16 autocast where
    `resolve_precision("auto")` picks it), then `colorlib.lab.postprocess` each photo.

Both use `colorlib.ensemble.TrainedColorizer`, so the network code is colorlib's own; (b) only
changes how calls are grouped and the precision. The outputs must agree: mean absolute RGB
difference at most --rgb-tol (default 1.0 of 255) over all pixels of all photos (for each
faster variant; the worst counts).

Without --checkpoint the network is a freshly initialised one (seeded), written as a
checkpoint by a one-batch `colorlib.train.train` run, so the speed is right but its colours
are not meaningful; pass a trained checkpoint for a realistic agreement check.

    python benchmarks/bench_colorize.py
    python benchmarks/bench_colorize.py --checkpoint runs/paper/checkpoints/blue.pt
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

from colorlib.data import load_image  # noqa: E402
from colorlib.device import cpu_has_bf16  # noqa: E402
from colorlib.ensemble import TrainedColorizer  # noqa: E402
from colorlib.errors import UserError  # noqa: E402
from colorlib.lab import postprocess, preprocess, preprocess_batch  # noqa: E402
from colorlib.model import ColorNet, ModelConfig  # noqa: E402
from colorlib.train import TrainConfig, train  # noqa: E402


def per_photo(colorizer: TrainedColorizer, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
    start = time.perf_counter()
    outs = [colorizer.colorize(load_image(p)) for p in paths]
    return time.perf_counter() - start, outs


def batched(colorizer: TrainedColorizer, paths: list[Path], batch_size: int) -> tuple[float, list[np.ndarray], dict]:
    stages = {}
    start = t = time.perf_counter()
    photos = [load_image(p) for p in paths]
    stages["load"], t = time.perf_counter() - t, time.perf_counter()
    lightness_np, _, infos = preprocess_batch(photos, colorizer.image_size)
    lightness = torch.from_numpy(lightness_np)
    stages["preprocess"], t = time.perf_counter() - t, time.perf_counter()
    ab = colorizer.predict_ab(lightness, batch_size=batch_size).numpy()
    stages["network"], t = time.perf_counter() - t, time.perf_counter()
    outs = [postprocess(rgb, ab[i], infos[i]) for i, rgb in enumerate(photos)]
    stages["postprocess"] = time.perf_counter() - t
    return time.perf_counter() - start, outs, stages


def random_checkpoint(data_dir: Path, size: int, seed: int, workdir: Path) -> Path:
    """A checkpoint of a seeded, barely trained network, written by colorlib's own train()."""
    manifest, _, _ = common.pick_sets(data_dir, 4, 1, None, "blue")
    cfg = TrainConfig(dataset="blue", iterations=1, batch_size=4, image_size=size, seed=seed, precision="fp32")
    out = workdir / "random.pt"
    train(cfg, manifest, data_dir, out, device="cpu", force=True, progress=False)
    return out


def parse_args(argv=None) -> argparse.Namespace:
    p = common.base_parser(__doc__, "colorize this manifest's validation set instead of the last --photos files")
    p.add_argument("--photos", type=int, default=32, help="photos to colorize (the last ones by file name)")
    p.add_argument(
        "--image-size", type=int, default=256, help="working size of the random network (a checkpoint brings its own)"
    )
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument(
        "--precision", default="auto", choices=("auto", "bf16", "fp32"), help="precision of the batched path"
    )
    p.add_argument(
        "--checkpoint", type=Path, help="a trained colorlib checkpoint (default: a freshly initialised network)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--channels-last",
        action="store_true",
        help="also time the batched path with the network in channels-last layout",
    )
    p.add_argument(
        "--rgb-tol", type=float, default=1.0, help="largest allowed mean |RGB difference| (0-255) between the paths"
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--check", action="store_true", help="exit 1 when outputs disagree")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = common.machine_load()  # after the run it would count this benchmark's own threads
    if args.manifest:
        _, _, names = common.pick_sets(args.data, 0, args.photos, args.manifest, "validation")
    else:
        names = common.list_photos(args.data)[-args.photos :]
    paths = [args.data / n for n in names]
    with tempfile.TemporaryDirectory(prefix="bench_colorize_") as tmp:
        ckpt = args.checkpoint or random_checkpoint(args.data, args.image_size, args.seed, Path(tmp))
        slow = TrainedColorizer(ckpt, device="cpu", precision="fp32")
        fast = TrainedColorizer(ckpt, device="cpu", precision=args.precision)
    size = slow.image_size
    print(
        f"# bench_colorize: {len(paths)} photos ({names[0]} .. {names[-1]}) at {size} px, "
        f"batches of {args.batch_size}, "
        + (f"checkpoint {args.checkpoint}" if args.checkpoint else "freshly initialised network")
    )
    cpu = common.cpu_info()
    print(f"# {cpu.model}: {cpu.cores} CPUs; {common.environment_line()}")
    if fast.precision == "fp32" and args.precision == "auto" and {"avx512_bf16", "amx_bf16"} & cpu.flags:
        print(
            "# note: this CPU lists avx512_bf16/amx_bf16 but colorlib.device.cpu_has_bf16() is "
            f"{cpu_has_bf16()}, so 'auto' means fp32 here; --precision bf16 measures bf16"
        )
    flops = common.forward_flops(lambda: ColorNet(ModelConfig(image_size=size)), 1, size)

    # One untimed call of each path first: oneDNN builds its kernels for each shape and dtype on
    # first use, a one-off cost that would otherwise be charged to whichever path runs first.
    slow.colorize(load_image(paths[0]))
    warm = torch.from_numpy(preprocess(load_image(paths[0]), size)[0])[None]
    fast.predict_ab(warm.expand(min(args.batch_size, len(paths)), -1, -1, -1).contiguous(), args.batch_size)
    slow_s, slow_out = per_photo(slow, paths)
    fast_s, fast_out, stages = batched(fast, paths, args.batch_size)
    runs = {
        "per-photo (fp32, colorize one by one)": slow_s,
        f"batched ({fast.precision}, predict_ab x{args.batch_size})": fast_s,
    }
    outputs = {"batched": fast_out}
    if args.channels_last:
        fast.model.to(memory_format=torch.channels_last)
        fast.predict_ab(warm.expand(min(args.batch_size, len(paths)), -1, -1, -1).contiguous(), args.batch_size)
        cl_s, outputs["channels-last"], _ = batched(fast, paths, args.batch_size)
        runs[f"batched ({fast.precision}, channels-last)"] = cl_s

    # Agreement with the per-photo fp32 outputs, for every faster variant; the worst one counts.
    diffs = {
        name: [np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))) for a, b in zip(slow_out, out, strict=True)]
        for name, out in outputs.items()
    }
    mean_diff = max(float(np.mean(d)) for d in diffs.values())
    worst = max(float(np.max(d)) for d in diffs.values())
    ok = mean_diff <= args.rgb_tol

    rows = [[name, f"{s:.2f}", f"{len(paths) / s:.2f}", f"{slow_s / s:.2f}x"] for name, s in runs.items()]
    print()
    print(common.table(rows, ["path", "time s", "photos/s", "vs per-photo"]))
    total = sum(stages.values())
    print(
        "batched path, where the time goes: " + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in stages.items())
    )
    net_rate = flops * len(paths) / stages["network"]
    print(f"network alone: {flops / 1e9:.1f} GFLOP per photo, {net_rate / 1e9:.0f} GFLOP/s in the batched path")
    print()
    print(
        f"outputs agree: mean |RGB difference| {mean_diff:.3f} of 255 (worst photo {worst:.3f}); "
        f"tolerance {args.rgb_tol:g}  {'PASS' if ok else 'FAIL'}"
    )
    print(f"speed-up batched / per-photo: {slow_s / fast_s:.2f}x")
    if load_before > 0.5 * cpu.cores:
        print(f"warning: the machine was busy (load average {load_before:.1f} before the run): times are inflated")

    if args.json:
        payload = {
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "environment": common.environment_line(),
            "seconds": runs,
            "stages": stages,
            "mean_abs_rgb_diff": mean_diff,
            "worst_photo_diff": worst,
            "agree": ok,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:  # a missing folder, a stale manifest: one line, not a traceback
        sys.exit(f"error: {exc}")
