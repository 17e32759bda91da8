"""Training one model on one set of the manifest, as the paper did, resumable.

Photos are decoded once and held as tensors. On CPU the default path runs channels-last with bf16 autocast
where the CPU has bf16 instructions (several times faster; `benchmarks/bench_train.py` checks that the
validation loss does not suffer). A checkpoint is written atomically every `checkpoint_every` batches and
on Ctrl-C; the same command again resumes from it. A loss or weight that turns non-finite stops the run
with one line, and is never saved.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from . import __version__
from .checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from .data import load_set, manifest_hash
from .device import pick_device, resolve_precision
from .errors import UserError
from .files import remove_stale_temporaries
from .fingerprint import code_commit, code_fingerprint
from .lab import preprocess_batch
from .model import ColorNet
from .spec import TrainConfig
from .steps import GraphedSteps, eager_step, gather

log = logging.getLogger(__name__)

HELD_OUT_SETS = ("validation", "calibration", "test")  # photos kept for scoring or fitting, never trained on
# Training losses on normalised ab, by the names TrainConfig.loss takes: the paper's MSE, and two robust
# alternatives for the study the paper proposes (does averaging biased models still help under another loss?).
LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss, "huber": partial(F.huber_loss, delta=0.1)}


@dataclass
class TrainResult:
    checkpoint: Path
    losses: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    resumed_from: int = 0
    skipped: bool = False


def load_tensors(manifest: dict, set_name: str, data_dir: Path, size: int, progress: bool = True):
    """Decode one set of the manifest once into (L (N, 1, S, S), ab (N, 2, S, S)) float32 tensors."""
    photos = [rgb for _, rgb in load_set(manifest, set_name, data_dir)]
    if not photos:
        raise UserError("no photos to convert")
    lightness, ab, _ = preprocess_batch(photos, size, progress=progress)
    return torch.from_numpy(lightness), torch.from_numpy(ab)


def batch_order(n_photos: int, iterations: int, batch_size: int, seed: int) -> np.ndarray:
    """Photo indices for every batch: shuffled epochs, fixed by the seed (so resume is exact)."""
    rng = np.random.default_rng(seed)
    needed = iterations * batch_size
    epochs = [rng.permutation(n_photos) for _ in range(-(-needed // n_photos))]
    return np.concatenate(epochs)[:needed].reshape(iterations, batch_size)


def _adam(model: torch.nn.Module, cfg: TrainConfig, dev: torch.device, capturable: bool = False) -> torch.optim.Adam:
    """Adam as the paper sets it; on the CPU the fused kernel (about 4 % of a step saved) where this torch has it
    (2.4 and later). `capturable` keeps its step counts on the GPU, so the step can be captured in a CUDA graph."""
    settings = {"lr": cfg.lr, "weight_decay": cfg.weight_decay, "capturable": capturable}
    if dev.type == "cpu":
        try:
            return torch.optim.Adam(model.parameters(), **settings, fused=True)
        except (RuntimeError, TypeError):
            pass
    return torch.optim.Adam(model.parameters(), **settings)


def _load_optimizer(optim: torch.optim.Optimizer, saved: dict) -> None:
    """Restore Adam's moments and step counts into `optim` as this device runs it: torch would take `capturable`
    and `fused` from the saved groups, so a run begun on a GPU could not resume on the CPU, nor the reverse."""
    groups = [
        {**g, "capturable": ours["capturable"], "fused": ours.get("fused")}
        for g, ours in zip(saved["param_groups"], optim.param_groups, strict=True)
    ]
    optim.load_state_dict({**saved, "param_groups": groups})


@contextmanager
def _deferred_interrupt():
    """Turn Ctrl-C into a request honoured between batches, so a checkpoint is never mid-step."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_run(out: Path, state: dict, cfg: TrainConfig, mhash: str | None, advice: str) -> dict:
    """`state`, when it is a checkpoint of this run (settings, manifest where given, code: the one check of a
    checkpoint's identity); else a one-line UserError ending in `advice`."""
    if not cfg.same_run(state.get("train_config_identity", {})) or mhash not in (None, state.get("manifest_hash")):
        raise UserError(f"{out} holds a run with other settings or another manifest; {advice}")
    theirs, ours = state.get("code_fingerprint"), code_fingerprint()
    if theirs and theirs != ours:  # another fingerprint is another run: never resumed or re-used
        raise UserError(f"{out} was trained by other code (fingerprint {theirs}, this code {ours}); {advice}")
    return state


def trained_result(cfg: TrainConfig, out: Path, manifest: dict | None = None) -> TrainResult:
    """The result of a run trained before (by `colorlib train`), never training: a missing, incomplete or
    other run (other settings, another manifest) is a one-line UserError."""
    out = Path(out)
    if not out.is_file():
        raise UserError(f"{out} is not trained: run `colorlib train {cfg.dataset}` (make book does) first")
    mhash = None if manifest is None else manifest_hash(manifest)
    state = _check_run(out, load_checkpoint(out), cfg, mhash, "rebuild it with make book")
    if not state.get("complete"):
        raise UserError(f"{out} is an interrupted run ({state['step']} of {cfg.iterations} batches): train it again")
    return TrainResult(out, list(state["losses"]), state["elapsed_s"], state["step"], skipped=True)


def check_dataset(manifest: dict, dataset: str, allowed: tuple[str, ...] | None = None) -> None:
    """A set of `manifest` that may be trained on (not a held-out one), and one of `allowed` if given."""
    names = [k for k in manifest["sets"] if k not in HELD_OUT_SETS and (allowed is None or k in allowed)]
    if dataset not in names:
        raise UserError(f"dataset must be one of {', '.join(names)}, got {dataset!r}")


def train(
    cfg: TrainConfig,
    manifest: dict,
    data_dir: Path,
    out: Path,
    *,
    device: str = "auto",
    force: bool = False,
    progress: bool = True,
    cuda_graph: bool = True,
) -> TrainResult:
    """Train `cfg.dataset` of `manifest` into the checkpoint `out` (resuming if it exists); on a GPU the step is
    captured once as a CUDA graph and replayed (`colorlib.steps`) unless `cuda_graph=False`."""
    out = Path(out)
    check_dataset(manifest, cfg.dataset)
    mhash = manifest_hash(manifest)
    code, commit = code_fingerprint(), code_commit()  # the code that decides the numbers, and its checkout
    remove_stale_temporaries(out)  # a save killed mid-way left its temporary file
    state = None  # the checkpoint of a run to resume, which must be this run
    if out.exists() and not force:
        state = _check_run(out, load_checkpoint(out), cfg, mhash, "pass --force to overwrite it or choose another path")
    if state is not None and state.get("complete"):
        log.info("%s is complete and up to date; nothing to do", out)
        return TrainResult(out, list(state["losses"]), state["elapsed_s"], state["step"], skipped=True)

    dev = pick_device(device)
    precision = resolve_precision(cfg.precision, dev)
    torch.set_num_threads(cfg.threads)
    lightness, ab = load_tensors(manifest, cfg.dataset, data_dir, cfg.image_size, progress=progress)
    order = torch.from_numpy(batch_order(len(lightness), cfg.iterations, cfg.batch_size, cfg.seed))
    loss_fn = LOSSES[cfg.loss]
    n_photos = len(lightness)
    if dev.type == "cuda":
        # The whole set fits on the GPU (864 photos at 256 px: about 0.7 GB), so batches are gathered
        # there; the tiny batches are launch-bound, so cuDNN may pick its fastest kernels.
        lightness, ab, order = lightness.to(dev), ab.to(dev), order.to(dev)
        torch.backends.cudnn.benchmark = True

    memory_format = torch.channels_last if precision == "bf16" or dev.type == "cuda" else torch.contiguous_format
    torch.manual_seed(cfg.seed)
    model = ColorNet(cfg.model_config()).to(dev, memory_format=memory_format)
    optim = _adam(model, cfg, dev, capturable=dev.type == "cuda" and cuda_graph)
    step, losses, elapsed = 0, [], 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        _load_optimizer(optim, state["optimizer"])
        step, losses, elapsed = state["step"], list(state["losses"]), state["elapsed_s"]
        log.info("resuming %s from batch %d of %d", out, step, cfg.iterations)
    resumed_from = step

    def snapshot(complete: bool) -> dict:
        return {
            "format": CHECKPOINT_FORMAT,
            "colorlib_version": __version__,
            "model_config": asdict(cfg.model_config()),
            "train_config": asdict(cfg),
            "train_config_identity": cfg.identity(),
            "manifest_hash": mhash,
            "code_fingerprint": code,
            "code_commit": commit,
            "n_photos": n_photos,
            "step": step,
            "losses": losses,
            "elapsed_s": elapsed,
            "device": dev.type,
            "precision": precision,
            "torch_version": str(torch.__version__),
            "complete": complete,
            "model": model.state_dict(),
            "optimizer": optim.state_dict(),
        }

    model.train()
    bar = tqdm(total=cfg.iterations, initial=step, desc=f"train {cfg.dataset}", unit="batch", disable=not progress)
    start = time.perf_counter() - elapsed
    # each step's loss stays on the device until read back every few batches, not after each one
    step_losses = torch.zeros(cfg.iterations, device=dev)
    graphed = None
    if dev.type == "cuda" and cuda_graph:
        graphed = GraphedSteps(model, optim, loss_fn, lightness, ab, order, step_losses, precision, memory_format)

    def diverged(what: str) -> UserError:
        return UserError(f"training {cfg.dataset}: {what} of {cfg.iterations}; stopped without saving (try a lower lr)")

    def flush() -> None:
        """Read the losses back from the device; a non-finite one stops the run before anything is saved."""
        if len(losses) < step:
            new = step_losses[len(losses) : step].float().cpu().tolist()
            bad = next((i for i, v in enumerate(new, len(losses) + 1) if not math.isfinite(v)), 0)
            losses.extend(new)
            if bad:
                raise diverged(f"the loss became {losses[bad - 1]} at batch {bad}")

    def save(complete: bool) -> None:
        """Checkpoint the run, never with non-finite losses or weights (the last good checkpoint stays)."""
        nonlocal elapsed
        flush()
        weights = [t for t in model.state_dict().values() if t.is_floating_point()]
        if not bool(torch.stack([torch.isfinite(t).all() for t in weights]).all()):
            raise diverged(f"the weights became non-finite by batch {step}")
        elapsed = time.perf_counter() - start
        save_checkpoint(snapshot(complete), out)

    with _deferred_interrupt() as interrupt:
        while step < cfg.iterations and not interrupt.is_set():
            if graphed is not None:
                graphed.run(step)
            else:
                x, y = gather(lightness, ab, order[step], memory_format)
                eager_step(model, optim, loss_fn, x, y, step_losses, step, precision)
            step += 1
            bar.update(1)
            if step % 10 == 0 or step == cfg.iterations:
                flush()
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}")
            if not progress and step % max(1, cfg.iterations // 10) == 0:
                flush()
                log.info("%s: batch %d/%d, loss %.4f", cfg.dataset, step, cfg.iterations, np.mean(losses[-50:]))
            if step % cfg.checkpoint_every == 0 and step < cfg.iterations:
                save(False)
    bar.close()
    save(step == cfg.iterations)
    if step < cfg.iterations:  # Ctrl-C: saved; the caller exits as interrupted (status 130)
        log.warning("interrupted at batch %d of %d, saved in %s: run it again to resume", step, cfg.iterations, out)
        raise KeyboardInterrupt
    where = f"{dev.type} ({precision}, {cfg.threads} threads)"
    log.info("trained %s: %d batches in %.0f s on %s", cfg.dataset, step, elapsed, where)
    return TrainResult(out, losses, elapsed, resumed_from)
