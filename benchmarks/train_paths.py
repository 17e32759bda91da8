"""The two training paths that benchmarks/bench_train.py compares, and colorlib's pipeline configuration.

(a) the reference -- what the hobby colorization projects the paper followed do: fp32, contiguous
    layout, every photo decoded, resized-and-padded and converted to Lab inside a `Dataset` behind
    a `DataLoader`, every batch;
(b) colorlib -- a call of `colorlib.train.train` itself (photos decoded once, channels-last, bf16
    autocast where the CPU has bf16 instructions), timed from call to return;
(c) the pipeline's configuration -- two `train()` runs at once in two processes, one thread each.

Each returns its wall time, its per-batch training losses and its final model(s). (a) and (b) take
the same `TrainConfig`, so with the same seed they start from the same weights and see the same
photos in the same order: their loss curves can be compared batch by batch.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import common
import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, Sampler

from colorlib.checkpoint import load_model
from colorlib.data import load_image
from colorlib.lab import preprocess
from colorlib.model import ColorNet, ModelConfig
from colorlib.train import TrainConfig, batch_order, train

# --- (a) the reference: a hobby project's Dataset + DataLoader loop ---------------------------


class LabPhotos(Dataset):
    """Decode, resize-and-pad and convert one photo to Lab on every access (no cache)."""

    def __init__(self, paths: list[Path], size: int):
        self.paths, self.size = list(paths), size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        lightness, ab, _ = preprocess(load_image(self.paths[i]), self.size)
        return torch.from_numpy(lightness), torch.from_numpy(ab)


class FixedBatches(Sampler):
    """A batch sampler yielding the rows of colorlib.train.batch_order: the same photo order."""

    def __init__(self, order: np.ndarray):
        self.order = order

    def __iter__(self):
        for row in self.order:
            yield row.tolist()

    def __len__(self) -> int:
        return len(self.order)


def run_reference(paths: list[Path], cfg: TrainConfig, workers: int) -> dict:
    """The reference loop; returns its wall time, losses and final model."""
    order = batch_order(len(paths), cfg.iterations, cfg.batch_size, cfg.seed)
    loader = DataLoader(LabPhotos(paths, cfg.image_size), batch_sampler=FixedBatches(order), num_workers=workers)
    torch.manual_seed(cfg.seed)
    model = ColorNet(ModelConfig(image_size=cfg.image_size))
    optim = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model.train()
    losses = []
    with common.step_clock() as stamps:
        start = time.perf_counter()
        for x, y in loader:
            loss = F.mse_loss(model(x), y)
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(loss.item())
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "step_seconds": common.steady_seconds_per_step(stamps),
        "losses": losses,
        "model": model,
    }


# --- (b) colorlib's own path ------------------------------------------------------------------


def run_colorlib(manifest: dict, data_dir: Path, cfg: TrainConfig, workdir: Path, tag: str) -> dict:
    """colorlib.train.train itself, timed from call to return (decode once + loop + checkpoints)."""
    out = workdir / f"{tag}.pt"
    with common.step_clock() as stamps:
        start = time.perf_counter()
        result = train(cfg, manifest, data_dir, out, device="cpu", force=True, progress=False)
        seconds = time.perf_counter() - start
    model, state = load_model(out)
    return {
        "seconds": seconds,
        "step_seconds": common.steady_seconds_per_step(stamps),
        "losses": result.losses,
        "model": model,
        "precision": state["precision"],
    }


_START = None  # the barrier of run_pair, handed to each worker process when it starts


def _pair_init(barrier) -> None:
    global _START
    _START = barrier
    torch.set_num_threads(1)


def _pair_worker(args) -> dict:
    """One of the two concurrent runs: wait for the start signal, then train() as usual."""
    manifest, data_dir, cfg, out = args
    _START.wait()
    start = time.perf_counter()
    result = train(cfg, manifest, data_dir, out, device="cpu", force=True, progress=False)
    return {"seconds": time.perf_counter() - start, "end": time.time(), "losses": result.losses}


def run_pair(manifest: dict, data_dir: Path, cfg: TrainConfig, workdir: Path) -> dict:
    """colorlib's pipeline path: two train() runs at once, one thread each (what `make book` does on two cores).

    The two runs train the same photos with the benchmark's seed and the next one (the pipeline
    trains different models side by side). Processes are started and torch imported before the
    clock starts; the time is from the start signal to the end of the later run, so images/s
    counts both runs' batches over that span. Both models are scored.
    """
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(3)
    jobs = [
        (manifest, data_dir, dataclasses.replace(cfg, seed=cfg.seed + k, threads=1), workdir / f"pair{k}.pt")
        for k in (0, 1)
    ]
    with ctx.Pool(2, initializer=_pair_init, initargs=(barrier,)) as pool:
        pending = pool.map_async(_pair_worker, jobs, chunksize=1)
        barrier.wait()
        start = time.time()
        results = pending.get()
    seconds = max(r["end"] for r in results) - start
    models = [load_model(workdir / f"pair{k}.pt") for k in (0, 1)]
    return {
        "seconds": seconds,
        "runs": 2,
        "run_seconds": [r["seconds"] for r in results],
        "losses": results[0]["losses"],
        "models": [m for m, _ in models],
        "precision": models[0][1]["precision"],
    }
