"""Confidence intervals over photos: a bootstrap that resamples the scored photos.

Per-photo errors spread widely, so the mean error of a few dozen photos moves a lot with the
photos drawn. `mean_interval` gives a percentile bootstrap interval of one model's mean error;
`paired_ratio` and `paired_difference` compare two models scored on the *same* photos, resampling the
photos once for both, which cancels the photo-to-photo spread they share (a hard photo is hard for both). A
comparison whose interval excludes the threshold (1, or 1.25 for "close to") is settled by these
photos; one whose interval straddles it is not.
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


def mean_interval(
    values: np.ndarray, n_boot: int = BOOTSTRAP, level: float = LEVEL, seed: int = BOOTSTRAP_SEED
) -> Interval:
    """The mean of per-photo values with a percentile bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    means = v[resamples(len(v), n_boot, seed)].mean(axis=1)
    return Interval(float(v.mean()), *percentiles(means, level))


def _paired(left: np.ndarray, right: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(left, right, their resamples' indices): two models' per-photo scores on the same photos."""
    a, b = np.asarray(left, dtype=np.float64), np.asarray(right, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need the same photos: {a.shape} vs {b.shape}")
    return a, b, resamples(len(a), n_boot, seed)


def paired_ratio(
    left: np.ndarray, right: np.ndarray, n_boot: int = BOOTSTRAP, level: float = LEVEL, seed: int = BOOTSTRAP_SEED
) -> Interval:
    """mean(left) / mean(right) over the same photos, with a paired percentile bootstrap interval."""
    a, b, idx = _paired(left, right, n_boot, seed)
    ratios = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    return Interval(float(a.mean() / b.mean()), *percentiles(ratios, level))


def paired_difference(
    left: np.ndarray, right: np.ndarray, n_boot: int = BOOTSTRAP, level: float = LEVEL, seed: int = BOOTSTRAP_SEED
) -> Interval:
    """mean(left) − mean(right) over the same photos, with a paired percentile bootstrap interval."""
    a, b, idx = _paired(left, right, n_boot, seed)
    return Interval(float(a.mean() - b.mean()), *percentiles(a[idx].mean(axis=1) - b[idx].mean(axis=1), level))
