"""The paper's splits: duplicates grouped, one usable photo per group, the colour sets from the top
scorers and the random sets from a seeded generator, written out as the manifest's content."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np

import colorlib

from ..errors import UserError
from ..spec import SplitParams
from .duplicates import PHASH_MAX_DISTANCE, group_duplicates
from .features import COLOURS, dominant, feature_settings
from .manifest import MANIFEST_FORMAT
from .scan import PhotoRecord, ScanReport


@dataclass
class Pool:
    """The photos a split draws from: records by name, their groups and one usable photo each."""

    records: list[PhotoRecord]  # sorted by name
    group_of: list[int]  # record index -> duplicate group id
    groups: list[list[int]]
    usable: list[int]  # one record index per group holding a colour photo, by group id


def make_pool(report: ScanReport) -> Pool:
    """Group duplicates and pick each group's usable photo: its smallest colour (non-B&W) name."""
    records = sorted(report.records, key=lambda r: r.name)
    groups = group_duplicates(records)
    group_of = [0] * len(records)
    usable = []
    for gid, members in enumerate(groups):
        for i in members:
            group_of[i] = gid
        colour = [i for i in members if not records[i].bw]
        if colour:
            usable.append(min(colour, key=lambda i: records[i].name))
    return Pool(records, group_of, groups, usable)


def pick_top(
    candidates: list[int],
    scores: Callable[[int], Mapping[str, float]],
    kinds: tuple[str, ...],
    size: int,
    too_few: Callable[[str, int], str],
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The `size` best scorers of each kind among the candidates dominated by that kind.

    Eligibility is exclusive (a candidate is eligible only for its dominant kind), so the sets are
    disjoint and the paper's round-robin pick (blue, yellow, green, blue, ...) equals taking each
    kind's top list. Returns the picks and how many candidates each kind had; too few is a
    UserError with the message too_few(kind, count).
    """
    ranked: dict[str, list[int]] = {k: [] for k in kinds}
    for i in candidates:
        kind = dominant(scores(i), kinds)
        if kind is not None:
            ranked[kind].append(i)
    picks = {}
    for kind in kinds:
        order = sorted(ranked[kind], key=lambda i: (-scores(i)[kind], i))
        if len(order) < size:
            raise UserError(too_few(kind, len(order)))
        picks[kind] = order[:size]
    return picks, {k: len(v) for k, v in ranked.items()}


# How to ask for smaller sets, in words that work for `colorlib prepare` and for `make` alike.
SMALLER_SETS = (
    "add photos, or ask for smaller sets (make: PROFILE=smoke; colorlib prepare: --per-colour, --baseline, "
    "--validation, --test, --calibration)"
)


def draw(candidates: list[int], size: int, rng: np.random.Generator, what: str) -> list[int]:
    """size distinct candidates drawn at random, returned in candidate (name) order.

    Fewer candidates than size is a UserError naming `what` the draw is for.
    """
    if size > len(candidates):
        raise UserError(
            f"only {len(candidates)} usable photos are left for {what}, but it needs {size}: make it smaller"
        )
    chosen = rng.choice(len(candidates), size=size, replace=False)
    return [candidates[j] for j in sorted(chosen)]


# The sets drawn after the paper's seven, in this order, each from a random stream of its own so that no
# other set depends on it: test, then calibration. Calibration's stream, 1, is the one the study manifest
# drew its calibration photos from before the paper manifest had them: the same seed, the same photos.
HELD_OUT_STREAMS = {"test": 7, "calibration": 1}


def unused(pool: Pool, sets: Mapping[str, list[int]]) -> list[int]:
    """The usable photos of groups no set in `sets` uses."""
    used = {pool.group_of[i] for idx in sets.values() for i in idx}
    return [i for i in pool.usable if pool.group_of[i] not in used]


def draw_held_out(pool: Pool, sets: Mapping[str, list[int]], size: int, seed: int, stream: int, what: str) -> list[int]:
    """size random usable photos of groups no set in `sets` uses, drawn after all of them from a random
    stream of their own, so adding such a set changes no other set."""
    return draw(unused(pool, sets), size, np.random.default_rng([seed, stream]), what)


def _make_sets(pool: Pool, params: SplitParams) -> dict[str, list[int]]:
    """The sets as record indices, in the manifest's order: the paper's seven (by and bgy keep the order
    blue, (green,) yellow), then test and calibration when asked for."""

    def too_few(colour: str, count: int) -> str:
        return (
            f"the {colour} set needs {params.per_colour} photos, only {count} usable ones are mostly {colour}: "
            f"{SMALLER_SETS}"
        )

    colour, _ = pick_top(pool.usable, lambda i: pool.records[i].scores, COLOURS, params.per_colour, too_few)
    # validation and baseline: random usable photos of groups not in the colour sets
    rest = unused(pool, colour)
    rng = np.random.default_rng(params.seed)
    validation = draw(rest, params.validation, rng, "validation")
    chosen = set(validation)
    baseline = draw([i for i in rest if i not in chosen], params.baseline, rng, "baseline")
    sets = {
        **colour,
        "by": colour["blue"] + colour["yellow"],
        "bgy": colour["blue"] + colour["green"] + colour["yellow"],
        "baseline": baseline,
        "validation": validation,
    }
    for name, stream in HELD_OUT_STREAMS.items():
        if getattr(params, name):
            sets[name] = draw_held_out(pool, sets, getattr(params, name), params.seed, stream, name)
    return sets


def mean_scores(records: list[PhotoRecord]) -> dict[str, float]:
    """Mean colour scores of some records (0 for none)."""
    if not records:
        return {c: 0.0 for c in COLOURS}
    return {c: round(float(np.mean([r.scores[c] for r in records])), 4) for c in COLOURS}


def photo_entry(pool: Pool, i: int) -> dict:
    """What the manifest records of one photo."""
    record = pool.records[i]
    return {
        "sha256": record.sha256,
        "phash": f"{record.phash:016x}",
        "group": pool.group_of[i],
        "chroma": record.chroma,
        "scores": record.scores,
    }


def make_manifest(report: ScanReport, params: SplitParams, data_dir_label: str) -> dict:
    """The paper's seven sets from a scan, deterministic for params.seed (JSON-ready dict).

    B&W photos are never used; each duplicate group contributes at most one photo, and a group
    is used by one set only, so validation never holds a copy of a training photo.
    """
    pool = make_pool(report)
    needed = 3 * params.per_colour + params.baseline + params.validation + params.test + params.calibration
    if len(pool.usable) < needed:  # refused before any draw
        raise UserError(
            f"{report.folder} has {len(pool.usable)} usable photos, but the sets need at least {needed}: {SMALLER_SETS}"
        )
    sets = _make_sets(pool, params)
    records = pool.records
    return {
        "format": MANIFEST_FORMAT,
        "colorlib_version": colorlib.__version__,
        "data_dir": data_dir_label,
        "params": {
            # a manifest without a test or calibration set reads as before
            **{key: value for key, value in asdict(params).items() if value or key not in HELD_OUT_STREAMS},
            **feature_settings(phash_max_distance=PHASH_MAX_DISTANCE),
        },
        "sets": {name: [records[i].name for i in idx] for name, idx in sets.items()},
        "photos": {records[i].name: photo_entry(pool, i) for i in sorted({i for idx in sets.values() for i in idx})},
        "report": {  # what was read, skipped, removed, and the mean scores of each set
            "files_seen": report.files_seen,
            "photos_read": len(records),
            "skipped": [{"name": n, "reason": r} for n, r in sorted(report.skipped)],
            "bw_removed": sum(r.bw for r in records),
            "duplicate_groups": sum(len(g) > 1 for g in pool.groups),
            "duplicates_removed": sum(not r.bw for r in records) - len(pool.usable),  # colour photos not used
            "usable_photos": len(pool.usable),
            "folder_mean_scores": mean_scores([records[i] for i in pool.usable]),
            "set_mean_scores": {name: mean_scores([records[i] for i in idx]) for name, idx in sets.items()},
        },
    }
