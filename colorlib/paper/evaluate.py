"""Table I: every model scored on the validation photos, next to the paper's numbers, with the
trivial references grey and constant (:mod:`.references`) and the believability measures
(:mod:`.believability`) beside the paper's loss."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import ALL_MODELS, COMBINED_MODELS, TRAINED_MODELS
from ..checkpoint import checkpoint_path, load_checkpoint
from ..data import load_set, manifest_hash
from ..ensemble import TrainedColorizer, blend, expand_model_names
from ..errors import UserError
from ..lab import PadInfo, preprocess_batch, unpad
from ..pages.markdown import markdown_table
from ..scoring.believability import believability
from ..scoring.intervals import mean_interval
from ..scoring.metrics import METRICS, PhotoScores, mse_ab, original_scores, score_set, summarize
from ..scoring.references import constant_prediction, grey_prediction, mean_ab, skill
from . import PAPER_TABLE_I

log = logging.getLogger(__name__)


@dataclass
class ValidationSet:
    names: list[str]
    photos: list[np.ndarray]  # uint8 RGB at their own resolution
    lightness: torch.Tensor  # (N, 1, S, S)
    ab: torch.Tensor  # (N, 2, S, S)
    infos: list[PadInfo]


def load_validation(manifest: dict, data_dir: Path, size: int, set_name: str = "validation") -> ValidationSet:
    """The validation photos, decoded and prepared at the working size."""
    named = load_set(manifest, set_name, data_dir)
    photos = [rgb for _, rgb in named]
    lightness, ab, infos = preprocess_batch(photos, size)
    return ValidationSet(
        names=[n for n, _ in named],
        photos=photos,
        lightness=torch.from_numpy(lightness),
        ab=torch.from_numpy(ab),
        infos=infos,
    )


def checkpoint_files(checkpoint_dir: Path, models) -> dict[str, Path]:
    """The checkpoint of each trained model the names stand for; a missing one is a UserError."""
    files = {m: checkpoint_path(checkpoint_dir, m) for m in expand_model_names(models)}
    missing = [m for m, path in files.items() if not path.is_file()]
    if missing:
        raise UserError(f"no checkpoint for {', '.join(sorted(missing))} in {checkpoint_dir}; train them first")
    return files


def predict_models(
    checkpoint_dir: Path, lightness: torch.Tensor, models=ALL_MODELS, device: str = "cpu"
) -> dict[str, torch.Tensor]:
    """ab predictions of each named model; combined models are equal-weight blends of members."""
    files = checkpoint_files(checkpoint_dir, models)
    preds = {}
    for m in TRAINED_MODELS:
        if m in files:
            preds[m] = TrainedColorizer(files[m], m, device).predict_ab(lightness)
    for m, members in COMBINED_MODELS.items():
        if m in models:
            preds[m] = blend(torch.stack([preds[x] for x in members]), [1.0] * len(members))
    return {m: preds[m] for m in models}


@dataclass
class Evaluation:
    validation: ValidationSet
    predictions: dict[str, torch.Tensor]
    per_photo: dict[str, list[PhotoScores]]
    summary: dict[str, dict[str, float]]
    originals: dict[str, float]
    test_mse: dict[str, np.ndarray] = field(default_factory=dict)  # per-photo MSE on the test set, if any


def reference_predictions(lightness: torch.Tensor, constant_ab: np.ndarray) -> dict:
    """grey (ab = 0) and constant (the baseline's training photos' mean ab) for a batch of L."""
    return {"grey": grey_prediction(lightness), "constant": constant_prediction(lightness, constant_ab)}


TEST_CHUNK = 32  # test photos predicted at once (a few hundred photos do not fit in memory at once)


def score_test(
    manifest: dict, data_dir: Path, checkpoint_dir: Path, models, size: int, constant_ab, device: str = "cpu"
) -> dict[str, np.ndarray]:
    """Per-photo MSE of every model (and the references, given constant_ab) on the test set."""
    named = load_set(manifest, "test", data_dir)
    out: dict[str, list[float]] = defaultdict(list)
    for start in range(0, len(named), TEST_CHUNK):
        lightness, ab, infos = preprocess_batch([rgb for _, rgb in named[start : start + TEST_CHUNK]], size)
        light = torch.from_numpy(lightness)
        preds = predict_models(checkpoint_dir, light, models, device)
        if constant_ab is not None:
            preds.update(reference_predictions(light, constant_ab))
        for m, p in preds.items():
            out[m] += [
                mse_ab(unpad(p[i].numpy().transpose(1, 2, 0), info), unpad(ab[i].transpose(1, 2, 0), info))
                for i, info in enumerate(infos)
            ]
    return {m: np.array(v) for m, v in out.items()}


def summarize_set(pred: torch.Tensor, split: ValidationSet, scores: list[PhotoScores]) -> dict[str, float]:
    """Mean scores over the photos of a split, and the set's believability measures."""
    return {**summarize(scores), **believability(pred, split.ab, split.infos)}


def evaluate(
    manifest: dict,
    data_dir: Path,
    checkpoint_dir: Path,
    models=ALL_MODELS,
    device: str = "cpu",
    references: bool = True,
    test: bool = True,
    other_manifest: bool = False,
) -> Evaluation:
    """Score every model (and, unless told not to, grey and constant) on the validation set, and on
    the test set when the manifest has one and `test` is on (the explorer needs validation only).

    Every row gets its skill, 1 − MSE / MSE(grey), when grey is scored. Checkpoints trained on another
    manifest are refused unless other_manifest (:func:`checked_image_size`).
    """
    size = checked_image_size(manifest, checkpoint_dir, models, other_manifest)
    val = load_validation(manifest, data_dir, size)
    preds = predict_models(checkpoint_dir, val.lightness, models, device)
    constant_ab = mean_ab(manifest, data_dir, size) if references else None
    if references:
        preds.update(reference_predictions(val.lightness, constant_ab))
    ev = score_predictions(val, preds)
    if test and manifest["sets"].get("test"):
        ev.test_mse = score_test(manifest, data_dir, checkpoint_dir, models, size, constant_ab, device)
    return ev


def score_predictions(val: ValidationSet, preds: dict[str, torch.Tensor]) -> Evaluation:
    """Every prediction scored on the validation set (each row's skill when grey is among them)."""
    per_photo = {m: score_set(val.lightness, p, val.ab, val.infos) for m, p in preds.items()}
    summary = {m: summarize_set(preds[m], val, s) for m, s in per_photo.items()}
    if "grey" in summary:
        for s in summary.values():
            s["skill"] = skill(s["mse"], summary["grey"]["mse"])
    originals = {**original_scores(val.lightness, val.ab, val.infos), **believability(val.ab, val.ab, val.infos)}
    return Evaluation(val, preds, per_photo, summary, originals)


def checked_image_size(manifest: dict, checkpoint_dir: Path, models, other_manifest: bool = False) -> int:
    """The models' working size, refusing checkpoints trained on another manifest than the one scored.

    A checkpoint records only its manifest's hash: under another manifest its training photos may be
    among the photos scored (a leak no score would show), so that is a UserError, or with
    other_manifest a loud warning.
    """
    digest, sizes, other = manifest_hash(manifest), [], []
    for m, path in checkpoint_files(checkpoint_dir, models).items():
        state = load_checkpoint(path)
        sizes.append(int(state["model_config"]["image_size"]))
        if state.get("manifest_hash") != digest:
            other.append(m)
    if other and not other_manifest:
        raise UserError(
            f"{', '.join(other)} in {checkpoint_dir} trained on another manifest: their training photos may be among "
            "those scored; score them with their own manifest (or pass colorlib evaluate --allow-other-manifest)"
        )
    if other:
        log.warning("WARNING: %s trained on another manifest: their training photos may be scored", ", ".join(other))
    return sizes[0]


def table_rows(ev: Evaluation) -> list[dict]:
    """One row per model: our loss, the paper's loss, and the extra metrics."""
    rows = []
    for m, s in ev.summary.items():
        rows.append(
            {"model": m, "paper_loss": PAPER_TABLE_I.get(m, math.nan), **{k: s.get(k, math.nan) for k in EXTRA}}
        )
        photo_mse = [p.mse for p in ev.per_photo.get(m, [])]
        rows[-1]["mse_ci"] = _interval(photo_mse)
        rows[-1]["test_mse"] = _interval(ev.test_mse.get(m, []), with_mean=True)
    perfect = {"mse": 0.0, "psnr": math.inf, "delta_e": 0.0, "skill": 1.0}
    originals = {k: v for k, v in ev.originals.items() if k in EXTRA}
    rows.append(
        {"model": "originals", "paper_loss": math.nan, **dict.fromkeys(EXTRA, math.nan), **perfect, **originals}
    )
    rows[-1] |= {"mse_ci": "–", "test_mse": "–"}
    return rows


def _interval(values, with_mean: bool = False) -> str:
    """The 95 % bootstrap interval over photos of a mean (after the mean itself if asked), as text."""
    if len(values) == 0:
        return "–"
    ci = mean_interval(np.asarray(values))
    return ci.fmt() if with_mean else f"[{ci.low:.4f}, {ci.high:.4f}]"


# Table I's scores besides the paper's loss: ours, the skill against grey, and the believability measures.
EXTRA = (*METRICS, "skill", "hist_distance", "patchiness")


COLUMNS = {
    "model": "model",
    "mse": "loss (ours, MSE)",
    "paper_loss": "loss (paper)",
    "mse_ci": "95 % CI",
    "test_mse": "test loss, 95 % CI",
    "skill": "skill vs grey",
    "psnr": "PSNR dB",
    "delta_e": "ΔE2000",
    "colourfulness": "colourfulness",
    "chroma": "mean chroma",
    "hist_distance": "colour distance",
    "patchiness": "patchiness",
}


def _fmt(key: str, value) -> str:
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{value:.4f}" if key in ("mse", "paper_loss") else f"{value:.2f}"


def to_markdown(rows: list[dict]) -> str:
    """Table I as a Markdown table (the model column left-aligned, the numbers right-aligned)."""
    return markdown_table(list(COLUMNS.values()), [[_fmt(k, r[k]) for k in COLUMNS] for r in rows])


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r[k] for k in COLUMNS})
    return buf.getvalue()
