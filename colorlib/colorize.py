"""What `colorlib colorize` does: photos and folders of photos colorized by one model or a blend, and a
record of how (``colorize.json``), so that the same pictures can be made again.

Under the output folder, a photo named on the command line gives STEM.LABEL.png and a folder one output per
file in it (recursive, sorted, hidden files and the output folder skipped) at its sub-path (``a/p.jpg`` gives
``a/p.LABEL.png``); a path met before (``p.jpg`` and ``p.png``, or one sub-path in two folders) gets STEM-2...
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from . import __version__
from .data.photos import decode_image, read_regular_file
from .data.scan import list_files
from .ensemble import Ensemble, normalize_weights
from .errors import ImageLoadError, UserError
from .explorer.blending import INITIAL_TEMPERATURE, RULES, combine_ab
from .files import atomic_write, atomic_write_text
from .fingerprint import code_commit, file_sha256

log = logging.getLogger(__name__)

RECORD = "colorize.json"
RECORD_FORMAT = 1
StackRule = Callable[[torch.Tensor], torch.Tensor]  # member predictions (K, ...) -> one (...)


def make_rule(name: str, temperature: float | None) -> tuple[StackRule | None, float | None]:
    """The explorer's combination rule `name` over a stack of member predictions, and its temperature
    (None where it has none); the rule is None for the weighted mean (the paper's: the ensemble's
    blend). A bad name or temperature is a UserError."""
    if name not in RULES:
        raise UserError(f"unknown rule {name!r}; choose from: {', '.join(RULES)}")
    spec = RULES[name]
    if temperature is not None and not spec.uses_temperature:
        with_t = ", ".join(n for n, r in RULES.items() if r.uses_temperature)
        raise UserError(f"--temperature applies to --rule {with_t} only, not to {name}")
    if spec.uses_weights:
        return None, None
    t = (INITIAL_TEMPERATURE if temperature is None else temperature) if spec.uses_temperature else None
    if t is not None and not t >= 0:
        raise UserError(f"the temperature must be 0 or more (inf: the plain mean), got {t:g}")

    def rule(stack: torch.Tensor) -> torch.Tensor:
        # the page's own function, given the members the ensemble chose (weight above zero) as equals
        return torch.from_numpy(combine_ab(stack.numpy(), np.ones(len(stack)), name, t or 0.0)).to(stack.dtype)

    return rule, t


def collect_photos(paths: Sequence[Path], out_dir: Path) -> list[tuple[Path, PurePosixPath]]:
    """(file, its sub-path for the output) for each PATH: a file as itself, a folder as every file in it."""
    out = Path(out_dir).resolve()
    jobs: list[tuple[Path, PurePosixPath]] = []
    for path in paths:
        if not path.is_dir():
            jobs.append((path, PurePosixPath(path.name)))
            continue
        names = [n for n in list_files(path) if not (path / n).resolve().is_relative_to(out)]
        if not names:
            raise UserError(f"folder {path} has no files to colorize (hidden files are skipped)")
        jobs += [(path / n, PurePosixPath(n)) for n in names]
    return jobs


def output_names(photos: Sequence[PurePosixPath], label: str) -> list[PurePosixPath]:
    """One distinct output per input sub-path, SUB/STEM.LABEL.png: a path met before gets -2, -3... (in input order)."""
    names: list[PurePosixPath] = []
    taken: set[str] = set()
    for photo in photos:
        name, n = photo.with_name(f"{photo.stem}.{label}.png"), 1
        while str(name).casefold() in taken:  # casefold: distinct on case-insensitive file systems too
            n += 1
            name = photo.with_name(f"{photo.stem}-{n}.{label}.png")
        taken.add(str(name).casefold())
        names.append(name)
    return names


def colorize_all(
    colorizer: Ensemble, jobs: Sequence[tuple[Path, Path]], batch_size: int, progress: bool
) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """Colorize (photo, output) pairs a batch at a time: the pairs written, and the photos skipped with why."""
    done: list[tuple[Path, Path]] = []
    skipped: list[tuple[Path, str]] = []
    bar = tqdm(total=len(jobs), desc="colorizing", unit="photo", disable=not progress)
    with bar, logging_redirect_tqdm():
        for start in range(0, len(jobs), batch_size):
            batch = []
            for photo, out in jobs[start : start + batch_size]:
                try:
                    batch.append((photo, out, decode_image(read_regular_file(photo, str(photo)), str(photo))))
                except ImageLoadError as exc:
                    log.warning("skipped %s", exc)
                    skipped.append((photo, str(exc)))
                    bar.update()
            results = colorizer.colorize_many([rgb for _, _, rgb in batch], batch_size) if batch else []
            for (photo, out, _), rgb in zip(batch, results, strict=True):
                try:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(out, lambda file, rgb=rgb: Image.fromarray(rgb).save(file, format="PNG"))
                except OSError as exc:
                    raise UserError(f"cannot write {out} ({exc.strerror or exc})") from None
                done.append((photo, out))
                bar.update()
    return done, skipped


def write_record(
    out_dir: Path,
    colorizer: Ensemble,
    models: Sequence[str],
    weights: Sequence[float] | None,
    rule: str,
    temperature: float | None,
    outputs: Sequence[tuple[Path, Path]],
    skipped: Sequence[tuple[Path, str]],
) -> Path:
    """Write RECORD in out_dir: what made these pictures (models, weights, rule, vividness, precision,
    each checkpoint's sha256, the code) and which input gave which output."""
    record = {
        "format": RECORD_FORMAT,
        "colorlib": __version__,
        "commit": code_commit(),
        "models": list(models),
        "weights": list(weights) if weights is not None else None,
        "weights_normalised": normalize_weights(weights or [1.0] * len(models), len(models)).tolist(),
        "rule": rule,
        "temperature": temperature if temperature is None or math.isfinite(temperature) else "inf",
        "vividness": colorizer.vividness,
        "device": str(colorizer.members[0].device),
        "precision": colorizer.members[0].precision,
        "members": [
            {"model": m.name, "weight": float(w), "checkpoint": str(m.checkpoint), "sha256": file_sha256(m.checkpoint)}
            for m, w in zip(colorizer.members, colorizer.weights, strict=True)
        ],
        "outputs": [{"input": str(p), "output": out.relative_to(out_dir).as_posix()} for p, out in outputs],
        "skipped": [{"input": str(p), "reason": why} for p, why in skipped],
    }
    path = out_dir / RECORD
    try:
        atomic_write_text(path, json.dumps(record, indent=2, allow_nan=False) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {path} ({exc.strerror or exc})") from None
    return path
