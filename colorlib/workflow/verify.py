"""`make verify MODEL=blue`: retrain one model of a built variant from scratch, with the settings its
checkpoint records, and say whether the result is the published one.

The answer is *bit-identical* (every weight equal: expected on the same kind of processor), or the
distance between the two models' validation MSE, in units of that model's measured band
(colorlib.paper.reference_results) where the variant is comparable with the reference builds, else in MSE
alone. The retrained checkpoint goes to a folder of its own; the variant is never touched.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch

from ..errors import UserError


def _validation_mse(checkpoint: Path, model: str, val) -> float:
    """The model's Table I loss: the mean over the validation photos of each photo's MSE."""
    from ..ensemble import TrainedColorizer
    from ..scoring.metrics import score_set

    pred = TrainedColorizer(checkpoint, model).predict_ab(val.lightness)
    scores = score_set(val.lightness, pred, val.ab, val.infos)
    return sum(s.mse for s in scores) / len(scores)


def verify(variant: Path | str, model: str, out_dir: Path | str | None = None, progress: bool = True) -> str:
    """Retrain `model` of `variant` into `out_dir` (a temporary folder by default); the verdict, one line."""
    from .. import TRAINED_MODELS
    from ..checkpoint import load_checkpoint
    from ..data import read_manifest
    from ..identity import read_variant
    from ..paper.evaluate import load_validation
    from ..paper.reference_results import load_references
    from ..paper.reproduction import differences
    from ..spec import TrainConfig
    from ..train import train

    variant = Path(variant)
    if model not in TRAINED_MODELS:
        raise UserError(f"MODEL must be one of {', '.join(TRAINED_MODELS)}, got {model!r}")
    published = variant / "checkpoints" / f"{model}.pt"
    if not published.is_file() or not (variant / "manifest.json").is_file():
        raise UserError(f"{variant} has no trained {model} (no {published}): build it first (make book)")
    state = load_checkpoint(published)
    if not state.get("complete"):
        raise UserError(f"{published} is an interrupted run: finish it (make book) before verifying it")
    manifest = read_manifest(variant / "manifest.json")
    info = read_variant(variant) if (variant / "variant.json").is_file() else None
    photos = Path(info.data) if info and Path(info.data).is_dir() else Path(manifest["data_dir"])
    cfg = TrainConfig(**{**state["train_config"], "dataset": model})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        again = folder / f"{model}.pt"
        if again.exists():
            raise UserError(f"{again} exists: give an empty folder for the retrained model")
        train(cfg, manifest, photos, again, progress=progress)
        ours, theirs = load_checkpoint(again)["model"], state["model"]
        if ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours):
            retrained = f"{cfg.iterations} batches retrained"
            return f"{model}: bit-identical to the published model (every weight equal, {retrained})"
        val = load_validation(manifest, photos, cfg.image_size)
        a, b = _validation_mse(published, model, val), _validation_mse(again, model, val)
    refs = load_references()
    band = refs.bands().get(model)
    comparable = not differences(info and info.to_json(), refs.settings)[0]
    text = f"{model}: not bit-identical; validation MSE published {a:.4f}, retrained {b:.4f} (difference {b - a:+.4f})"
    if comparable and band is not None and band.width > 0:
        return text + f", {abs(b - a) / band.width:.2f} of the measured band's width {band.fmt()} ({band.runs} runs)"
    return text + " (no measured band at these settings: the reference builds are paper-scale)"
