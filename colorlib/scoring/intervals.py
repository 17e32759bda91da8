"""Confidence intervals over photos: a bootstrap that resamples the scored photos.

Per-photo errors spread widely, so the mean error of a few dozen photos moves a lot with the photos
drawn. The paired intervals compare two models on the *same* photos, resampling them once for both,
which cancels the spread they share (a hard photo is hard for both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP = 2000  # resamples
LEVEL = 0.95
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def fmt(self, digits: int = 4) -> str:
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def resamples(n: int, n_boot: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """(n_boot, n) photo indices: the bootstrap's draws, the same for every model scored on n photos."""
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def percentiles(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap samples (NaN samples, e.g. a 0/0 ratio, left out)."""
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(np.asarray(values, dtype=np.float64), [tail, 100 - tail])
    return float(low), float(high)


def mean_interval(values: np.ndarray, n_boot: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> Interval:
    """The mean of per-photo values with a percentile bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    means = v[resamples(len(v), n_boot, seed)].mean(axis=1)
    return Interval(float(v.mean()), *percentiles(means))


def _paired(left: np.ndarray, right: np.ndarray, combine) -> Interval:
    """combine(mean(left), mean(right)) of two models' per-photo scores on the same photos, with a paired
    percentile bootstrap interval (one resample of the photos for both)."""
    left, right = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if left.shape != right.shape:
        raise ValueError(f"paired scores need the same photos: {left.shape} vs {right.shape}")
    idx = resamples(len(left))
    samples = combine(left[idx].mean(axis=1), right[idx].mean(axis=1))
    return Interval(float(combine(left.mean(), right.mean())), *percentiles(samples))


def paired_ratio(left: np.ndarray, right: np.ndarray) -> Interval:
    """mean(left) / mean(right) over the same photos, with a paired percentile bootstrap interval."""
    return _paired(left, right, np.divide)


def paired_difference(left: np.ndarray, right: np.ndarray) -> Interval:
    """mean(left) − mean(right) over the same photos, with a paired percentile bootstrap interval."""
    return _paired(left, right, np.subtract)
