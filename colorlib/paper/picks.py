"""Which validation photos the figures show, by stated rules instead of by eye, and those photos
colorized at their own resolution."""

from __future__ import annotations

import numpy as np

from ..lab import postprocess
from ..scoring.vividness import photo_colourfulness
from .claims import SAME_DATA_MODEL
from .evaluate import Evaluation


def colorized(ev: Evaluation, model: str, index: int) -> np.ndarray:
    """The validation photo `index` colorized by `model`, at the photo's own resolution (uint8 RGB)."""
    val = ev.validation
    return postprocess(val.photos[index], ev.predictions[model][index].numpy(), val.infos[index])


def pick_showcase(ev: Evaluation) -> tuple[int, str]:
    """The photo for Figs 5-8: where a combined model beats the model trained on the same photos most, the
    largest max(MSE(by) - MSE(by-combined), MSE(bgy) - MSE(bgy-combined)) (the first one on a tie)."""
    pairs = [(c, t) for c, t in SAME_DATA_MODEL.items() if c in ev.per_photo and t in ev.per_photo]
    if not pairs:
        raise ValueError("pick_showcase needs by/by-combined or bgy/bgy-combined scores")
    mse = {m: np.array([s.mse for s in scores]) for m, scores in ev.per_photo.items()}
    gains = np.stack([mse[t] - mse[c] for c, t in pairs])  # (pairs, photos)
    index = int(np.argmax(gains.max(axis=0)))
    detail = ", ".join(f"{t} {mse[t][index]:.4f} → {c} {mse[c][index]:.4f}" for c, t in pairs)
    text = (
        f"Figures 5–8 show {ev.validation.names[index]}: the validation photo on which a combined model "
        f"lowers the loss most against the model trained on the same photos ({detail})."
    )
    return index, text


def pick_desaturated(ev: Evaluation, exclude: int | None = None) -> tuple[int, str]:
    """The photo for Fig. 9: the validation photo whose original is least colourful, never `exclude` (the
    showcase photo), so that the two figures show different photos."""
    val = ev.validation
    scores = photo_colourfulness(val.lightness, val.ab, val.infos)  # as the models see them: working size, no padding
    ranked = [i for i in np.argsort(scores, kind="stable") if i != exclude]
    if not ranked:
        raise ValueError("no validation photo left to pick")
    index = int(ranked[0])
    text = (
        f"Figure 9 shows {val.names[index]}: the least colourful validation photo "
        f"(colourfulness {scores[index]:.1f}; median of the set {np.median(scores):.1f})."
    )
    return index, text
