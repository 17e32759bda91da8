"""On a GPU: one training run with every step eager against the same run replayed as a CUDA graph.

    python benchmarks/bench_gpu.py build/<variant>/manifest.json --data PHOTOS [--set baseline]

Both runs start from the same weights and see the same batches (same seed), so their loss curves
should agree up to the GPU's non-deterministic kernels; the script prints each run's time, the
speed-up, and how far apart the two curves and the two final validation errors are. It needs CUDA
and is not part of `make bench` (which measures the CPU); the README quotes its output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from colorlib.data import read_manifest  # noqa: E402
from colorlib.ensemble import TrainedColorizer  # noqa: E402
from colorlib.train import TrainConfig, load_tensors, train  # noqa: E402


def validation_mse(checkpoint: Path, name: str, lightness: torch.Tensor, ab: torch.Tensor) -> float:
    model = TrainedColorizer(checkpoint, name, device="cuda")
    with torch.no_grad():
        pred = model.predict_ab(lightness).float()
    return float(((pred - ab) ** 2).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--set", default="baseline")
    ap.add_argument("--iterations", type=int, default=2000)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA GPU here", file=sys.stderr)
        return 2
    man = read_manifest(args.manifest)
    val_l, val_ab = load_tensors(man, "validation", args.data, 256, progress=False)
    cfg = TrainConfig(dataset=args.set, iterations=args.iterations)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}; set {args.set}, {cfg.iterations} batches of 4")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for graph in (False, True, False, True):  # interleaved, twice each
            out = Path(tmp) / f"{args.set}-{graph}.pt"
            out.unlink(missing_ok=True)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            res = train(cfg, man, args.data, out, device="cuda", progress=False, cuda_graph=graph)
            wall = time.perf_counter() - t0
            val = validation_mse(out, args.set, val_l, val_ab)
            rows.setdefault(graph, []).append((wall, res.elapsed_s, res.losses, val))
    for graph, runs in rows.items():
        kind = "CUDA graph" if graph else "eager     "
        for wall, loop, _, val in runs:
            rate = cfg.iterations / loop
            print(f"{kind}: {wall:6.1f} s in all, {loop:6.1f} s of steps ({rate:5.0f} steps/s), val MSE {val:.5f}")
    eager_loop = np.median([r[1] for r in rows[False]])
    graph_loop = np.median([r[1] for r in rows[True]])
    print(f"steps: graph {eager_loop / graph_loop:.1f}x faster than eager (median of two each)")
    a, b = np.array(rows[False][0][2]), np.array(rows[True][0][2])
    print(
        f"loss curves eager vs graph: first 3 steps max |diff| {np.abs(a[:3] - b[:3]).max():.2e}, "
        f"mean of last 200: {a[-200:].mean():.5f} vs {b[-200:].mean():.5f}; "
        f"eager vs eager repeat mean of last 200: {np.array(rows[False][1][2])[-200:].mean():.5f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
