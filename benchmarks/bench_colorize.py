"""Colorizing throughput: one photo at a time against colorlib's batched path, same photos, same weights.

(a) per-photo  -- the reference, the obvious loop as `Colorizer.colorize` was before issue 13: for
    each file `colorlib.data.load_image`, `colorlib.lab.preprocess` (full Lab conversion), one
    forward pass of batch 1 in fp32, `colorlib.lab.postprocess_reference` (scikit-image's float64
    resize and lab2rgb);
(b) batched    -- colorlib's fast path, what `Colorizer.colorize_many` runs: load every photo,
    `colorlib.lab.preprocess_lightness_batch` (L only), one `predict_ab` call running the network
    in batches of --batch-size under colorlib's precision (bf16 autocast where
    `resolve_precision("auto")` picks it), then `colorlib.lab.postprocess` (float32 upsampling and
    Lab -> sRGB) each photo;
(c) batched as before issue 13 -- (b)'s grouping and precision with (a)'s float64 pre- and
    postprocessing, for the share of time Lab -> sRGB took before.

The paths run interleaved, (a) (b) (c) (a) (b) (c) ..., --repeats times, so that load drifts hit all of
them; each is reported as the median of its repeats with the spread (min-max), and the speed-up
as the ratio of medians (spread: the per-repeat ratios). Verdict: (b) at least --target times (a).
The Lab -> sRGB conversions are timed alone on the same inputs in every repeat (scikit-image's
`join_lab` for (a) and (c), colorlib's `lab_planes_to_rgb_fast` for (b)), for their share of the
batched time before and after.

Agreement, two checks: (1) end to end, (b) against (a): mean |RGB difference| over all pixels of
all photos at most --rgb-tol (default 1.0 of 255), the largest difference printed too (the bf16
network is most of it); (2) the fast conversion alone: `postprocess` against
`postprocess_reference` on the same predictions, at most 1 level apart on at most
`FAST_UINT8_MAX_SHARE` of the pixels.

Without --checkpoint the network is a freshly initialised one (seeded), written as a
checkpoint by a one-batch `colorlib.train.train` run, so the speed is right but its colours
are not meaningful; pass a trained checkpoint for a realistic agreement check.

    python benchmarks/bench_colorize.py
    python benchmarks/bench_colorize.py --checkpoint runs/paper/checkpoints/blue.pt
"""

from __future__ import annotations

import argparse
import json
import statistics
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
from colorlib.lab import (  # noqa: E402
    AB_SCALE,
    FAST_UINT8_MAX_SHARE,
    denormalize_ab,
    join_lab,
    lab_lightness,
    lab_planes_to_rgb_fast,
    postprocess,
    postprocess_reference,
    preprocess,
    preprocess_batch,
    preprocess_lightness_batch,
    upsample_ab,
    upsample_planes,
)
from colorlib.model import ColorNet, ModelConfig  # noqa: E402
from colorlib.train import TrainConfig, train  # noqa: E402


def per_photo(colorizer: TrainedColorizer, paths: list[Path]) -> tuple[float, list[np.ndarray]]:
    """(a): the reference loop, one photo at a time, float64 conversions."""
    start = time.perf_counter()
    outs = []
    for p in paths:
        rgb = load_image(p)
        lightness, _, info = preprocess(rgb, colorizer.image_size)
        ab = colorizer.predict_ab(torch.from_numpy(lightness)[None], batch_size=1).numpy()[0]
        outs.append(postprocess_reference(rgb, ab, info))
    return time.perf_counter() - start, outs


def batched(
    colorizer: TrainedColorizer, paths: list[Path], batch_size: int, fast: bool = True
) -> tuple[float, list[np.ndarray], dict, np.ndarray]:
    """(b) with fast=True: colorlib's path (Colorizer.colorize_many, stage by stage); (c) with fast=False."""
    stages = {}
    start = t = time.perf_counter()
    photos = [load_image(p) for p in paths]
    stages["load"], t = time.perf_counter() - t, time.perf_counter()
    if fast:
        lightness_np, infos = preprocess_lightness_batch(photos, colorizer.image_size)
    else:
        lightness_np, _, infos = preprocess_batch(photos, colorizer.image_size)
    lightness = torch.from_numpy(lightness_np)
    stages["preprocess"], t = time.perf_counter() - t, time.perf_counter()
    ab = colorizer.predict_ab(lightness, batch_size=batch_size).numpy()
    stages["network"], t = time.perf_counter() - t, time.perf_counter()
    post = postprocess if fast else postprocess_reference
    outs = [post(rgb, ab[i], infos[i]) for i, rgb in enumerate(photos)]
    stages["postprocess"] = time.perf_counter() - t
    return time.perf_counter() - start, outs, stages, ab


def conversion_seconds(photos: list[np.ndarray], ab: np.ndarray, infos: list) -> tuple[float, float]:
    """Lab -> sRGB alone, on the inputs postprocess_reference and postprocess hand it: (float64, float32) s."""
    ref = fast = 0.0
    for rgb, pred, info in zip(photos, ab, infos, strict=True):
        lightness = lab_lightness(rgb)
        ab64 = upsample_ab(denormalize_ab(pred.transpose(1, 2, 0)), info)
        ab32 = upsample_planes(pred[(slice(None), *info.box)], info.height, info.width)
        t = time.perf_counter()
        join_lab(lightness, ab64)
        ref += time.perf_counter() - t
        t = time.perf_counter()
        lab_planes_to_rgb_fast(lightness, ab32[0], ab32[1], ab_unit=AB_SCALE)
        fast += time.perf_counter() - t
    return ref, fast


def median_spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


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
        help="run the batched path's network in channels-last layout (under bf16 it already is)",
    )
    p.add_argument(
        "--rgb-tol", type=float, default=1.0, help="largest allowed mean |RGB difference| (0-255) between the paths"
    )
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats of each path (median reported)")
    p.add_argument("--target", type=float, default=3.0, help="speed-up of the batched path the verdict asks for")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--check", action="store_true", help="exit 1 when the verdict is FAIL")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = common.machine_load()  # after the run it would count this benchmark's own threads
    if args.manifest:
        _, _, names = common.pick_sets(args.data, 0, args.photos, args.manifest, "validation")
    else:
        names = common.list_photos(args.data)[-args.photos :]
    paths = [args.data / n for n in names]
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="bench_colorize_") as tmp:
        ckpt = args.checkpoint or random_checkpoint(args.data, args.image_size, args.seed, Path(tmp))
        torch.set_num_threads(threads)  # train() sets its own thread count; time with and without a checkpoint alike
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
    if args.repeats < 1:
        raise UserError("--repeats must be at least 1")

    # One untimed call of each path first: oneDNN builds its kernels for each shape and dtype on
    # first use, a one-off cost that would otherwise be charged to whichever path runs first.
    per_photo(slow, paths[:1])
    warm = torch.from_numpy(preprocess(load_image(paths[0]), size)[0])[None]
    fast.predict_ab(warm.expand(min(args.batch_size, len(paths)), -1, -1, -1).contiguous(), args.batch_size)
    if args.channels_last:
        fast.model.to(memory_format=torch.channels_last)
    batched(fast, paths[:1], args.batch_size)

    names = {
        "ref": "per-photo (fp32, float64 Lab, one by one)",
        "fast": f"batched ({fast.precision}, float32 Lab, x{args.batch_size})",
        "before": f"batched as before ({fast.precision}, float64 Lab)",
    }
    times: dict[str, list[float]] = {k: [] for k in names}
    conv_ref: list[float] = []
    conv_fast: list[float] = []
    stages_runs: list[dict] = []
    photos = [load_image(p) for p in paths]
    infos = preprocess_lightness_batch(photos, size)[1]
    for _ in range(args.repeats):
        s_ref, ref_out = per_photo(slow, paths)
        s_fast, fast_out, stages, ab = batched(fast, paths, args.batch_size)
        s_before, _, _, _ = batched(fast, paths, args.batch_size, fast=False)
        c64, c32 = conversion_seconds(photos, ab, infos)
        for k, v in (("ref", s_ref), ("fast", s_fast), ("before", s_before)):
            times[k].append(v)
        conv_ref.append(c64)
        conv_fast.append(c32)
        stages_runs.append(stages)

    # (1) end to end: colorlib's path against the reference (outputs of the last repeat).
    per_photo_diff = [np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(ref_out, fast_out, strict=True)]
    mean_diff = float(np.mean([d.mean() for d in per_photo_diff]))
    worst = max(float(d.mean()) for d in per_photo_diff)
    max_diff = max(int(d.max()) for d in per_photo_diff)
    ok_end = mean_diff <= args.rgb_tol
    # (2) the fast conversion alone: the same predictions through both postprocess functions.
    conv_diff = [
        np.abs(postprocess(rgb, ab[i], infos[i]).astype(np.int16) - postprocess_reference(rgb, ab[i], infos[i]))
        for i, rgb in enumerate(photos)
    ]
    conv_max = max(int(d.max()) for d in conv_diff)
    conv_share = float(sum(int((d > 0).sum()) for d in conv_diff) / sum(d.size for d in conv_diff))
    ok_conv = conv_max <= 1 and conv_share <= FAST_UINT8_MAX_SHARE

    med = {k: median_spread(v) for k, v in times.items()}
    ratios = [r / f for r, f in zip(times["ref"], times["fast"], strict=True)]
    speedup = med["ref"][0] / med["fast"][0]
    ok_speed = speedup >= args.target
    share_before = statistics.median(conv_ref) / med["before"][0]
    share_after = statistics.median(conv_fast) / med["fast"][0]

    rows = [
        [
            names[k],
            f"{m:.2f}",
            f"{lo:.2f}-{hi:.2f}",
            f"{len(paths) / m:.2f}",
            f"{med['ref'][0] / m:.2f}x",
        ]
        for k, (m, lo, hi) in med.items()
    ]
    print()
    print(f"{args.repeats} interleaved repeats; time s: median and spread (min-max)")
    print(common.table(rows, ["path", "time s", "spread", "photos/s", "vs per-photo"]))
    stage_med = {k: statistics.median(r[k] for r in stages_runs) for k in stages_runs[0]}
    total = sum(stage_med.values())
    print(
        "batched path, where the time goes (medians): "
        + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in stage_med.items())
    )
    net_rate = flops * len(paths) / stage_med["network"]
    print(f"network alone: {flops / 1e9:.1f} GFLOP per photo, {net_rate / 1e9:.0f} GFLOP/s in the batched path")
    c64, c32 = statistics.median(conv_ref), statistics.median(conv_fast)
    print(
        f"Lab->RGB share of the batched time: before {share_before:.0%} (scikit-image float64, {c64:.3f} s), "
        f"after {share_after:.0%} (colorlib float32, {c32:.3f} s; {c64 / c32:.1f}x faster)"
    )
    print()
    print(
        f"agreement, batched vs per-photo: mean |RGB difference| {mean_diff:.3f} of 255 (worst photo {worst:.3f}, "
        f"largest pixel difference {max_diff} level(s)); tolerance {args.rgb_tol:g}  {'PASS' if ok_end else 'FAIL'}"
    )
    print(
        f"agreement, float32 vs float64 Lab->RGB on the same predictions: largest difference {conv_max} level(s), "
        f"on {conv_share:.4%} of pixel channels; tolerance 1 level on <= {FAST_UINT8_MAX_SHARE:.2%}  "
        f"{'PASS' if ok_conv else 'FAIL'}"
    )
    print(
        f"colorize: batched {len(paths) / med['fast'][0]:.1f} photos/s vs per-photo {len(paths) / med['ref'][0]:.1f} "
        f"= {speedup:.2f}x (spread {min(ratios):.2f}-{max(ratios):.2f}x; target >= {args.target:g}x)  "
        f"{'PASS' if ok_speed else 'FAIL'}"
    )
    verdict = ok_speed and ok_end and ok_conv
    print(f"verdict: {'PASS' if verdict else 'FAIL'}")
    if load_before > 0.5 * cpu.cores:
        print(f"warning: the machine was busy (load average {load_before:.1f} before the run): times are inflated")

    if args.json:
        payload = {
            "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
            "environment": common.environment_line(),
            "paths": names,
            "seconds": times,
            "stages": stages_runs,
            "lab_to_rgb_seconds": {"float64": conv_ref, "float32": conv_fast},
            "lab_to_rgb_share": {"before": share_before, "after": share_after},
            "speedup": speedup,
            "speedup_per_repeat": ratios,
            "mean_abs_rgb_diff": mean_diff,
            "worst_photo_diff": worst,
            "max_abs_rgb_diff": max_diff,
            "conversion_max_diff": conv_max,
            "conversion_diff_share": conv_share,
            "agree": ok_end and ok_conv,
            "verdict": verdict,
        }
        args.json.write_text(json.dumps(payload, indent=2))
    return 1 if args.check and not verdict else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UserError as exc:  # a missing folder, a stale manifest: one line, not a traceback
        sys.exit(f"error: {exc}")
