"""Duplicate photos: the same bytes, or perceptual hashes a few bits apart, grouped transitively."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from .scan import PhotoRecord

# Near duplicates: perceptual hashes at most this many bits apart (of 64; distances are even, as
# every hash has 32 bits set). On the landscape folder, pairs at <= 6 bits were all the same photo
# re-encoded, re-graded or turned B&W (or a burst shot of the same scene); at 8 bits unrelated
# photos with a similar layout start to appear.
PHASH_MAX_DISTANCE = 6


def connected_groups(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components of n items joined by pairs, each sorted, ordered by first member."""
    if n == 0:
        return []
    rows, cols = np.array(pairs, dtype=np.int64).reshape(-1, 2).T
    graph = coo_array((np.ones(len(pairs), dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups = defaultdict(list)
    for i, label in enumerate(labels.tolist()):
        groups[label].append(i)
    return sorted(groups.values())


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (np.bitwise_count needs numpy 2; the byte table works on 1.26)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[values[..., None].view(np.uint8)].sum(axis=-1, dtype=np.uint8)


def _near_hash_pairs(records: list[PhotoRecord], block: int = 512) -> list[tuple[int, int]]:
    """Pairs i < j whose perceptual hashes differ in at most PHASH_MAX_DISTANCE bits."""
    hashes = np.array([r.phash for r in records], dtype=np.uint64)
    pairs = []
    for start in range(0, len(hashes), block):
        rows = hashes[start : start + block, None]
        distance = _popcount(rows ^ hashes[None, :])
        i, j = np.nonzero(distance <= PHASH_MAX_DISTANCE)
        i += start
        keep = i < j
        pairs += zip(i[keep].tolist(), j[keep].tolist(), strict=True)
    return pairs


def group_duplicates(records: list[PhotoRecord]) -> list[list[int]]:
    """Indices of records grouped as duplicates: same bytes, or perceptual hashes at most
    PHASH_MAX_DISTANCE bits apart, joined transitively.

    Every record is in exactly one group (singletons included); groups are sorted lists, ordered
    by their first index.
    """
    # same bytes: every record joined to the last record with its content (itself, for most)
    last = {record.sha256: i for i, record in enumerate(records)}
    same_bytes = [(last[record.sha256], i) for i, record in enumerate(records)]
    return connected_groups(len(records), same_bytes + _near_hash_pairs(records))
