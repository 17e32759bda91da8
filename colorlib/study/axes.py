"""Axis scores: how much of a photo is dominated by each half-axis of Lab's colour plane (the
follow-up the paper proposes), computed like the colour scores and cached by content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..data import CHROMA_MIN, THUMB_SIZE, decode_image
from ..data.features import dominant, thumbnail_lch, vivid_share
from ..errors import UserError
from ..files import read_json_cache, write_json_cache
from .runs import AXES, AXIS_QUADRANTS

AXIS_CACHE_FORMAT = "colorlib-axis-cache/1"


def _axis_scores_from_lch(chroma: np.ndarray, hue: np.ndarray) -> dict[str, float]:
    """Share of all pixels that are clearly chromatic (C > CHROMA_MIN) with a hue in each quadrant."""
    shifted = (np.asarray(hue) + 45.0) % 360.0  # quadrant k covers [90k, 90k + 90) after the shift
    quadrant = np.floor(shifted / 90.0).astype(int)
    order = ("a+", "b+", "a-", "b-")  # quadrants 0..3, counter-clockwise from +a
    shares = {axis: vivid_share(chroma, quadrant == k) for k, axis in enumerate(order)}
    return {axis: shares[axis] for axis in AXES}


def axis_scores(rgb: np.ndarray) -> dict[str, float]:
    """Axis scores {"a+", "a-", "b+", "b-"} in [0, 1] of a uint8 RGB photo.

    Each is the share of the photo (on the same THUMB_SIZE thumbnail as the colour scores) whose
    pixels are clearly chromatic and whose hue lies in the 90° quadrant around that half-axis:
    +a [-45°, 45°), +b [45°, 135°), -a [135°, 225°), -b [225°, 315°). As with the colour scores the
    denominator is the whole photo, so a few vivid pixels do not make a photo a top scorer.
    """
    return _axis_scores_from_lch(*thumbnail_lch(rgb))


def dominant_axis(scores: Mapping[str, float]) -> str | None:
    """The half-axis with the highest score (ties: the earlier of AXES); None if all are 0."""
    return dominant(scores, AXES)


def _axis_cache_settings() -> dict:
    return {
        "thumb_size": THUMB_SIZE,
        "chroma_min": CHROMA_MIN,
        "quadrants": {k: list(v) for k, v in AXIS_QUADRANTS.items()},
    }


def _axis_cache_path(cache_dir: Path) -> Path:
    return Path(cache_dir) / "axis-scores.json"


def _read_axis_cache(path: Path | None) -> dict[str, dict[str, float]]:
    """{sha256: scores} from the axis-score cache; {} when absent, damaged or from other settings."""

    def parse(entries: dict) -> dict[str, dict[str, float]]:
        return {k: {a: float(v[a]) for a in AXES} for k, v in entries.items()}

    return read_json_cache(path, AXIS_CACHE_FORMAT, _axis_cache_settings(), "axis-score cache", parse)


def _write_axis_cache(path: Path, entries: dict) -> None:
    write_json_cache(path, AXIS_CACHE_FORMAT, _axis_cache_settings(), entries, "axis-score cache")


def score_axes(
    folder: Path, records: Sequence, *, cache_dir: Path | None = None, progress: bool = False
) -> dict[str, dict[str, float]]:
    """Axis scores of some scanned records {name: scores}, decoded from folder (cached by sha256)."""
    cache_file = _axis_cache_path(cache_dir) if cache_dir is not None else None
    cache = _read_axis_cache(cache_file)
    out, fresh = {}, 0
    for record in tqdm(records, desc="axis scores", unit="photo", disable=not progress):
        if record.sha256 not in cache:
            data = (Path(folder) / record.name).read_bytes()
            if hashlib.sha256(data).hexdigest() != record.sha256:
                raise UserError(f"{record.name} changed while the study was prepared: run the command again")
            cache[record.sha256] = axis_scores(decode_image(data, record.name))
            fresh += 1
        out[record.name] = cache[record.sha256]
    if cache_file is not None and fresh:
        _write_axis_cache(cache_file, cache)
    return out
