"""What several test modules share: the repository, the venv running the tests, the shared photos,
and small builders of real library objects (an Evaluation of synthetic photos, a training setup)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy.ndimage import gaussian_filter

from colorlib import COMBINED_MODELS, TRAINED_MODELS
from colorlib import train as T
from colorlib.ensemble import blend
from colorlib.lab import preprocess
from colorlib.paper.evaluate import ValidationSet, score_predictions

REPO = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)  # the venv running the tests: builds use it, never reinstall it
SHARED_DATA = REPO / "../shared/data/landscapes"
TRAIN_SIZE = 32  # the working size of the tiny training runs
# the scores the held-out statistics give with an interval
SCORES = ("mse", "colourfulness", "hist_distance", "patchiness", "ratio", "colour_gain")


# --- an Evaluation of synthetic photos -----------------------------------------------------------------


def _field(rng, shape, cells):
    """Smooth random field (unit std) over the last two axes: noise on a coarse grid, interpolated."""
    coarse = torch.from_numpy(rng.standard_normal((*shape[:-2], cells, cells)).reshape(-1, 1, cells, cells))
    x = torch.nn.functional.interpolate(coarse, size=shape[-2:], mode="bicubic", align_corners=False).numpy()
    return x.reshape(shape) / (x.std() + 1e-12)


def fake_evaluation(n=3, size=64, models=TRAINED_MODELS, seed=0, shapes=None):
    """A real Evaluation, scored by the library, of synthetic photos and 'predictions' that look like a
    CNN's (the true colour blurred and desaturated, a colour cast per model, a little smooth noise)."""
    rng = np.random.default_rng(seed)
    shapes = shapes or [(90, 120), (100, 100), (120, 80)]
    photos = []
    for i in range(n):
        h, w = shapes[i % len(shapes)]
        base = _field(rng, (3, h, w), 6).transpose(1, 2, 0) * 45 + 120
        photos.append(np.clip(base + rng.normal(0, 10, (h, w, 1)), 0, 255).astype(np.uint8))
    prepared = [preprocess(p, size) for p in photos]
    lightness = torch.from_numpy(np.stack([p[0] for p in prepared]))
    ab = torch.from_numpy(np.stack([p[1] for p in prepared]))
    blurred = gaussian_filter(ab.numpy(), (0, 0, size / 40, size / 40))
    predictions = {}
    for m in models:
        cast = rng.normal(0, 0.05, (1, 2, 1, 1))
        noise = _field(rng, (n, 2, size, size), 8)
        predictions[m] = torch.from_numpy(
            np.tanh(blurred * rng.uniform(0.3, 0.8) + cast + 0.02 * noise).astype(np.float32)
        )
    for m, members in COMBINED_MODELS.items():  # as the book's evaluation forms them
        if all(x in predictions for x in members):
            predictions[m] = blend(torch.stack([predictions[x] for x in members]), [1.0] * len(members))
    validation = ValidationSet(
        [f"photo_{i:02d}.jpg" for i in range(n)], photos, lightness, ab, [p[2] for p in prepared]
    )
    return score_predictions(validation, predictions)


# --- statistics ----------------------------------------------------------------------------------------


def assert_estimates_inside(*stats) -> None:
    """Every score of each model's stats lies inside its own interval."""
    for s in stats:
        for key in SCORES:
            if key in s:
                assert s[key].low <= s[key].estimate <= s[key].high, (s["model"], key)


# --- a tiny training setup ------------------------------------------------------------------------------


def sky_photo(rng: np.random.Generator, hue: int) -> np.ndarray:
    """A sky-over-ground picture: colour follows lightness, so it is learnable."""
    y = np.linspace(0, 1, 48)[:, None, None]
    base = np.array([[40, 90, 220], [60, 160, 40], [230, 190, 40]][hue], float)
    img = base * (0.4 + 0.6 * (y < 0.5)) + rng.normal(0, 6, (48, 48, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def tiny_folder(tmp_path: Path) -> tuple[dict, Path, Path]:
    """A folder of 8 synthetic photos and a hand-written manifest over it."""
    rng = np.random.default_rng(0)
    data = tmp_path / "photos"
    data.mkdir()
    photos = {}
    for i in range(8):
        name = f"p{i}.png"
        Image.fromarray(sky_photo(rng, i % 3)).save(data / name)
        photos[name] = {"sha256": hashlib.sha256((data / name).read_bytes()).hexdigest()}
    names = sorted(photos)
    manifest = {
        "format": "colorlib-manifest/1",
        "params": {"seed": 0},
        "sets": {"blue": names[:6], "baseline": names[:6], "validation": names[6:]},
        "photos": photos,
    }
    return manifest, data, tmp_path


def train_config(**kw):
    args = dict(
        dataset="blue", iterations=40, batch_size=4, image_size=TRAIN_SIZE, precision="fp32", checkpoint_every=10
    )
    args.update(kw)
    return T.TrainConfig(**args)
