"""A loss check with power: two training paths compared batch by batch on the same runs.

Two runs that differ only in arithmetic (fp32 against bf16, one data path against another) but
start from the same weights and see the same photos in the same order have loss curves that can be
compared step by step: at step t both models are scored on the *same* four photos, so the photos'
own difficulty, which makes a single curve jump by a factor of several from batch to batch, cancels
in the difference. What remains is how far the two models have drifted apart.

The statistic is the relative difference of the summed training losses over the measured steps
(after the first fast fall), pooled over the pairs of runs: sum(fast) / sum(reference) - 1. Its
uncertainty comes from a block bootstrap: the steps of each pair are cut into consecutive blocks
(neighbouring steps are correlated through the shared weights), and blocks are resampled with
replacement. The smallest difference the check can detect is the true difference that would put
the interval clear of zero four times in five: (1.96 + 0.84) standard errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colorlib.scoring.intervals import percentiles, resamples

Z95, Z80 = 1.959964, 0.841621  # two-sided 95 % interval; 80 % power


@dataclass(frozen=True)
class PairedDifference:
    estimate: float  # sum(fast) / sum(reference) - 1 over the measured steps of every pair
    low: float  # 95 % bootstrap interval
    high: float
    standard_error: float
    detectable: float  # smallest true relative difference detected with 80 % power at the 5 % level
    pairs: int
    steps: int  # measured steps per pair
    block: int

    def within(self, tol: float) -> bool:
        """The whole interval inside +-tol: the paths agree to within the tolerance, and the check could tell."""
        return -tol <= self.low and self.high <= tol


def paired_difference(
    fast: list[np.ndarray], reference: list[np.ndarray], start: int, block: int = 25, draws: int = 4000, seed: int = 0
) -> PairedDifference:
    """Compare paired loss curves (fast[i] and reference[i] from the same weights and batch order) from `start` on."""
    if len(fast) != len(reference) or not fast:
        raise ValueError("need the same number (at least one) of fast and reference curves")
    f_blocks, r_blocks = [], []
    for f, r in zip(fast, reference, strict=True):
        f, r = np.asarray(f, float)[start:], np.asarray(r, float)[start:]
        if len(f) != len(r) or len(f) < block:
            raise ValueError(f"paired curves must have the same length, at least {start + block} steps")
        n = len(f) // block * block
        f_blocks.append(f[:n].reshape(-1, block).sum(axis=1))
        r_blocks.append(r[:n].reshape(-1, block).sum(axis=1))
    f_units, r_units = np.concatenate(f_blocks), np.concatenate(r_blocks)
    estimate = f_units.sum() / r_units.sum() - 1
    picks = resamples(len(f_units), draws, seed)  # blocks drawn as Table I draws photos
    boot = f_units[picks].sum(axis=1) / r_units[picks].sum(axis=1) - 1
    low, high = percentiles(boot)
    se = float(boot.std(ddof=1))
    return PairedDifference(
        float(estimate), float(low), float(high), se, (Z95 + Z80) * se, len(fast), len(f_blocks[0]) * block, block
    )


def interleaved_ratio(reference_seconds: list[float], fast_seconds: list[float]) -> tuple[float, float, float]:
    """Speed-up of each interleaved (reference, fast) pair, as (median, min, max)."""
    ratios = np.asarray(reference_seconds, float) / np.asarray(fast_seconds, float)
    return float(np.median(ratios)), float(ratios.min()), float(ratios.max())
