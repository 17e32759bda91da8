"""Shared pieces of the benchmarks: photo selection, FLOP counting, CPU peaks, tables.

Kept apart from the tests (nothing here is timed in a test) and from the library (nothing in
`colorlib` imports it). The scripts import this file as a sibling module, so run them as
`python benchmarks/<script>.py` from the repository root.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from colorlib.data import DEFAULT_DATA_DIR, IMAGE_SUFFIXES, MANIFEST_FORMAT, read_manifest
from colorlib.lab import preprocess_batch

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT / DEFAULT_DATA_DIR  # ../shared/data/landscapes from the repo root


# --- photos ---------------------------------------------------------------------------------


def list_photos(folder: Path) -> list[str]:
    """Image files directly in `folder`, sorted by name (the benchmark's deterministic pick)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SystemExit(f"photo folder not found: {folder} (pass --data DIR)")
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pick_sets(data_dir: Path, n_train: int, n_val: int, manifest_path: Path | None = None, set_name: str = "blue"):
    """(manifest, train names, validation names).

    With a manifest: its `set_name` set (default blue) and its validation set, cut to n_train and
    n_val photos. Without: the first n_train photos by sorted file name train and the last n_val
    validate (opposite ends of the folder, so no photo nor a re-encoded copy of one -- the
    Kaggle copies share a number prefix -- is in both), written as a minimal manifest so that
    `colorlib.train.train` can run on them.
    """
    if manifest_path is not None:
        manifest = read_manifest(manifest_path)
        if set_name not in manifest.get("sets", {}) or "validation" not in manifest["sets"]:
            raise SystemExit(f"{manifest_path}: needs a {set_name!r} set and a 'validation' set")
        train_names = list(manifest["sets"][set_name])[:n_train]
        val_names = list(manifest["sets"]["validation"])[:n_val]
        manifest = dict(manifest)
        manifest["sets"] = dict(manifest["sets"], **{set_name: train_names, "validation": val_names})
        return manifest, train_names, val_names
    names = list_photos(data_dir)
    if len(names) < n_train + n_val:
        raise SystemExit(f"{data_dir}: {len(names)} photos, need {n_train + n_val} (--photos + --val)")
    train_names, val_names = names[:n_train], names[-n_val:]
    manifest = {
        "format": MANIFEST_FORMAT,
        "params": {"seed": 0, "note": "benchmark selection: first --photos and last --val files by name"},
        "sets": {set_name: train_names, "validation": val_names},
        "photos": {n: {"sha256": _sha256(Path(data_dir) / n)} for n in train_names + val_names},
    }
    return manifest, train_names, val_names


def prepare(paths: list[Path], size: int, load) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode and convert photos once: (L (N, 1, S, S), ab (N, 2, S, S)) float32."""
    lightness, ab, _ = preprocess_batch([load(p) for p in paths], size)
    return torch.from_numpy(lightness), torch.from_numpy(ab)


# --- timing ---------------------------------------------------------------------------------


@contextmanager
def step_clock():
    """Timestamps of every optimizer step taken inside the block (torch's global post-step hook),
    so a loop we do not own -- colorlib.train.train -- can be timed step by step, untouched."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    stamps: list[float] = []
    handle = register_optimizer_step_post_hook(lambda *_: stamps.append(time.perf_counter()))
    try:
        yield stamps
    finally:
        handle.remove()


def steady_seconds_per_step(stamps: list[float]) -> float:
    """Median time between optimizer steps: the steady state, without one-off costs (decoding,
    kernel generation, compilation) and little moved by a burst of other work on the machine."""
    gaps = np.diff(np.asarray(stamps))
    return float(np.median(gaps)) if len(gaps) else float("nan")


def machine_load() -> float:
    """1-minute load average (0 where the OS does not report it)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


# --- evaluation -----------------------------------------------------------------------------


@torch.no_grad()
def validation_loss(model: torch.nn.Module, lightness: torch.Tensor, ab: torch.Tensor, batch: int = 8) -> float:
    """Table I loss (colorlib.scoring.metrics.mse_ab on normalised ab) of a model in eval mode, fp32,
    default memory layout, on every pixel of the working images (the benchmark photos are square,
    so there is no padding to exclude)."""
    from colorlib.scoring.metrics import mse_ab

    model = model.float().to(memory_format=torch.contiguous_format).eval()
    preds = torch.cat([model(chunk.contiguous()) for chunk in torch.split(lightness, batch)])
    return mse_ab(preds, ab)


# --- FLOPs and peaks ------------------------------------------------------------------------


def train_step_flops(model_factory, batch: int, size: int) -> int:
    """FLOPs of one training step (forward + backward, batch x 1 x size x size), counted by
    torch.utils.flop_counter: convolutions and matrix products only (batch norm, ReLU, upsampling
    and the optimizer are memory-bound and uncounted, so this slightly understates the work)."""
    from torch.utils.flop_counter import FlopCounterMode

    model = model_factory().train()
    x = torch.rand(batch, 1, size, size)
    y = torch.rand(batch, 2, size, size) * 2 - 1
    with FlopCounterMode(display=False) as counter:
        F.mse_loss(model(x), y).backward()
    return int(counter.get_total_flops())


def forward_flops(model_factory, batch: int, size: int) -> int:
    """FLOPs of one forward pass (inference), counted as in train_step_flops."""
    from torch.utils.flop_counter import FlopCounterMode

    model = model_factory().eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.rand(batch, 1, size, size))
    return int(counter.get_total_flops())


def measured_matmul_peak(dtype: torch.dtype, n: int = 2048, seconds: float = 2.0) -> float:
    """Attainable FLOP/s of a large square matmul on all threads (best of several timed reps)."""
    a = torch.randn(n, n).to(dtype)
    b = torch.randn(n, n).to(dtype)
    for _ in range(3):
        torch.matmul(a, b)
    best, spent = float("inf"), 0.0
    while spent < seconds:
        t = time.perf_counter()
        torch.matmul(a, b)
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
    return 2.0 * n**3 / best


@dataclass
class CpuInfo:
    model: str
    cores: int  # logical CPUs this process may use
    threads: int  # torch intra-op threads
    ghz: float
    ghz_source: str
    flags: set[str]


def cpu_info(ghz: float | None = None) -> CpuInfo:
    """Model name, usable cores, clock (lscpu max MHz, else /proc/cpuinfo MHz) and ISA flags."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = _first(r"model name\s*:\s*(.+)", text) or platform.processor() or "unknown CPU"
    flags = set((_first(r"flags\s*:\s*(.+)", text) or "").split())
    source = "--ghz"
    if ghz is None:
        try:
            lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            lscpu = ""
        mhz = _first(r"CPU max MHz:\s*([\d.]+)", lscpu)
        source = "lscpu max MHz"
        if not mhz:
            mhz = _first(r"cpu MHz\s*:\s*([\d.]+)", text)
            source = "/proc/cpuinfo MHz (nominal; turbo not known)"
        ghz = float(mhz) / 1000 if mhz else 2.0
        if not mhz:
            source = "unknown, 2.0 GHz assumed"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return CpuInfo(model.strip(), cores, torch.get_num_threads(), ghz, source, flags)


def _first(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text)
    return m.group(1) if m else None


def theoretical_peaks(cpu: CpuInfo) -> list[tuple[str, float, str]]:
    """(name, FLOP/s, assumption) of the vector/matrix units the flags advertise.

    Assumes two 512-bit FMA ports per core (Xeon Gold/Platinum class; one-port parts halve the
    AVX-512 numbers), every logical CPU a full core, and the clock from `cpu.ghz` all the time.
    """
    hz = cpu.ghz * 1e9
    out = []
    if "avx512f" in cpu.flags:
        out.append(("fp32 AVX-512 FMA", cpu.cores * hz * 64, "2 ports x 16 lanes x 2 (FMA) = 64 FLOP/cycle/core"))
    elif "avx2" in cpu.flags:
        out.append(("fp32 AVX2 FMA", cpu.cores * hz * 32, "2 ports x 8 lanes x 2 (FMA) = 32 FLOP/cycle/core"))
    if "avx512_bf16" in cpu.flags:
        out.append(
            (
                "bf16 AVX-512 BF16",
                cpu.cores * hz * 128,
                "VDPBF16PS: 2 ports x 16 lanes x 2 pairs x 2 = 128 FLOP/cycle/core",
            )
        )
    if "amx_bf16" in cpu.flags:
        out.append(
            (
                "bf16 AMX",
                cpu.cores * hz * 1024,
                "TDPBF16PS 16x16x32 tile (16384 FLOP) every 16 cycles = 1024 FLOP/cycle/core",
            )
        )
    return out


# --- output ---------------------------------------------------------------------------------


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain fixed-width text table."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def environment_line() -> str:
    return (
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"ATen CPU capability {torch.backends.cpu.get_cpu_capability()}, python {platform.python_version()}"
    )


def base_parser(doc: str, manifest_help: str) -> argparse.ArgumentParser:
    """The arguments both benchmarks share: where the photos come from."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="photo folder (default: ../shared/data/landscapes)")
    p.add_argument("--manifest", type=Path, help=manifest_help)
    return p
