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


def axis_scores(rgb: np.ndarray) -> dict[str, float]:
    """Axis scores {"a+", "a-", "b+", "b-"} in [0, 1] of a uint8 RGB photo.

    Each is the share of the photo (on the same THUMB_SIZE thumbnail as the colour scores) whose
    pixels are clearly chromatic and whose hue lies in the 90° quadrant around that half-axis:
    +a [-45°, 45°), +b [45°, 135°), -a [135°, 225°), -b [225°, 315°). As with the colour scores the
    denominator is the whole photo, so a few vivid pixels do not make a photo a top scorer.
    """
    chroma, hue = thumbnail_lch(rgb)
    quadrant = np.floor(((np.asarray(hue) + 45.0) % 360.0) / 90.0).astype(int)  # 0..3 from +a, counter-clockwise
    shares = {axis: vivid_share(chroma, quadrant == k) for k, axis in enumerate(("a+", "b+", "a-", "b-"))}
    return {axis: shares[axis] for axis in AXES}


def dominant_axis(scores: Mapping[str, float]) -> str | None:
    """The half-axis with the highest score (ties: the earlier of AXES); None if all are 0."""
    return dominant(scores, AXES)


def score_axes(
    folder: Path, records: Sequence, *, cache_dir: Path | None = None, progress: bool = False
) -> dict[str, dict[str, float]]:
    """Axis scores of some scanned records {name: scores}, decoded from folder (cached by sha256)."""
    cache_file = Path(cache_dir) / "axis-scores.json" if cache_dir is not None else None
    settings = {
        "thumb_size": THUMB_SIZE,
        "chroma_min": CHROMA_MIN,
        "quadrants": {k: list(v) for k, v in AXIS_QUADRANTS.items()},
    }

    def parse(entries: dict) -> dict[str, dict[str, float]]:
        return {k: {a: float(v[a]) for a in AXES} for k, v in entries.items()}

    # {sha256: scores}; {} when absent, damaged or from other settings
    cache = read_json_cache(cache_file, AXIS_CACHE_FORMAT, settings, "axis-score cache", parse)
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
        write_json_cache(cache_file, AXIS_CACHE_FORMAT, settings, cache, "axis-score cache")
    return out
