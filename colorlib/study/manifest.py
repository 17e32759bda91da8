"""The study manifest: the paper manifest's sets verbatim, plus ``calibration`` photos, more baseline draws
(``baseline-1``, ``baseline-2``, ...) and the axis sets (``a+``, ``a-``, ``b+``, ``b-`` and their union ``ab``),
every new set kept apart from the validation and test photos and their duplicate groups."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

import colorlib

from ..data import ScanReport, manifest_hash, read_manifest, resolve_data_dir, scan_folder, write_manifest
from ..data.splits import HELD_OUT_STREAMS, Pool, draw, draw_held_out, make_pool, mean_scores, photo_entry, pick_top
from ..errors import UserError
from .axes import score_axes
from .runs import AXES, AXIS_NAMES, AXIS_POOLED, AXIS_QUADRANTS, CALIBRATION, MEMBERS, STUDY_FORMAT, baseline_set


@dataclass
class StudyParams:
    """Sizes of the study's extra sets and the seed of its random draws."""

    calibration: int = 32
    baseline: int = 864  # size of each extra baseline draw (the paper's baseline size)
    baseline_seeds: tuple[int, ...] = (1, 2)  # one extra draw "baseline-<s>" per seed s
    per_axis: int = 24
    seed: int = 0

    def check(self) -> None:
        for key in ("calibration", "baseline", "per_axis"):
            if getattr(self, key) < 1:
                raise UserError(f"{key} must be at least 1, got {getattr(self, key)}")
        if any(s < 1 for s in self.baseline_seeds):
            raise UserError("extra baseline draws are for seeds 1 and up (seed 0 uses the paper's baseline)")


def _paper_indices(paper: Mapping, pool: Pool) -> dict[str, list[int]]:
    """Record indices of every paper set, checking that the folder still holds the same photos."""
    by_name = {r.name: i for i, r in enumerate(pool.records)}
    for name in chain.from_iterable(paper["sets"].values()):
        if name not in by_name or pool.records[by_name[name]].sha256 != paper["photos"][name]["sha256"]:
            raise UserError(
                f"{name} of the paper manifest is missing or changed in the photo folder: "
                "make the paper manifest again (make book) before the study"
            )
    return {set_name: [by_name[name] for name in names] for set_name, names in paper["sets"].items()}


def make_study_manifest(
    paper: Mapping, report: ScanReport, params: StudyParams, *, cache_dir: Path | None = None, progress: bool = False
) -> dict:
    """The study manifest: the paper manifest's sets verbatim plus calibration, more baseline draws
    and the axis sets, all drawn from photos (and duplicate groups) that validation does not use.

    Deterministic for (paper manifest, photo folder, params). Calibration also avoids every training
    set, so weights fitted on it are never fitted on a model's own training photos: it is the paper
    manifest's calibration set where that has one (params.calibration is then unused), else drawn as the
    paper manifest draws it (the same photos for the same seed and size).
    """
    params.check()
    pool = make_pool(report)
    paper_idx = _paper_indices(paper, pool)
    group = pool.group_of
    val_groups = {group[i] for i in paper_idx["validation"]}
    colour_groups = {group[i] for c in MEMBERS for i in paper_idx[c]}

    calibration = paper_idx.get(CALIBRATION) or draw_held_out(
        pool, paper_idx, params.calibration, params.seed, HELD_OUT_STREAMS[CALIBRATION], CALIBRATION
    )
    test_groups = {group[i] for i in paper_idx.get("test", [])}
    held_out = val_groups | test_groups | {group[i] for i in calibration}

    candidates = [i for i in pool.usable if group[i] not in held_out]
    scores = score_axes(report.folder, [pool.records[i] for i in candidates], cache_dir=cache_dir, progress=progress)

    def too_few(axis: str, count: int) -> str:
        return f"only {count} usable photos are mostly {AXIS_NAMES[axis]}: lower per_axis (now {params.per_axis})"

    # the per_axis best scorers of each half-axis among candidates dominated by it (disjoint sets)
    axis_sets, eligible = pick_top(candidates, lambda i: scores[pool.records[i].name], AXES, params.per_axis, too_few)

    # Extra baseline draws come from the pool the paper's baseline came from (not the colour sets,
    # not validation) less the calibration photos, each from its own random stream (none of the paper's).
    rest = [i for i in pool.usable if group[i] not in held_out | colour_groups]
    baselines = {
        baseline_set(s): draw(rest, params.baseline, np.random.default_rng([params.seed, 100 + s]), baseline_set(s))
        for s in params.baseline_seeds
    }
    new_sets = {
        CALIBRATION: calibration,
        **baselines,
        **axis_sets,
        AXIS_POOLED: [i for a in AXES for i in axis_sets[a]],
    }

    photos = dict(paper["photos"])
    for idx in new_sets.values():
        for i in idx:
            photos.setdefault(pool.records[i].name, photo_entry(pool, i))
    report_section = json.loads(json.dumps(paper.get("report", {})))  # a deep copy
    set_means = {name: mean_scores([pool.records[i] for i in idx]) for name, idx in new_sets.items()}
    report_section.setdefault("set_mean_scores", {}).update(set_means)
    axis_photos = sorted({pool.records[i].name for a in AXES for i in axis_sets[a]})
    new_names = {n: [pool.records[i].name for i in idx] for n, idx in new_sets.items()}
    paper_sets = {k: set(v) for k, v in paper["sets"].items() if k != CALIBRATION}
    shared = {n: {p: len(set(names) & v) for p, v in paper_sets.items()} for n, names in new_names.items()}
    report_section["study"] = {
        "axis_candidates": len(candidates),
        "axis_eligible": eligible,
        "folder_mean_axis_scores": {a: round(float(np.mean([s[a] for s in scores.values()])), 4) for a in AXES},
        "set_mean_axis_scores": {
            a: {b: round(float(np.mean([scores[pool.records[i].name][b] for i in axis_sets[a]])), 4) for b in AXES}
            for a in AXES
        },
        "overlap_with_paper_sets": {n: {p: k for p, k in counts.items() if k} for n, counts in shared.items()},
    }
    return {
        "format": paper["format"],
        "colorlib_version": colorlib.__version__,
        "data_dir": paper["data_dir"],
        "params": {
            **paper["params"],
            "study": {
                "format": STUDY_FORMAT,
                "paper_manifest_hash": manifest_hash(paper),
                "calibration": len(calibration),
                "baseline": params.baseline,
                "baseline_seeds": list(params.baseline_seeds),
                "per_axis": params.per_axis,
                "seed": params.seed,
                "axis_quadrants": {k: list(v) for k, v in AXIS_QUADRANTS.items()},
                "axis_score": "share of all thumbnail pixels with chroma > chroma_min and hue in the quadrant",
            },
        },
        "sets": {**paper["sets"], **new_names},
        "photos": photos,
        "axis_scores": {name: scores[name] for name in axis_photos},
        "report": report_section,
    }


def is_study_manifest(manifest: Mapping) -> bool:
    return manifest.get("params", {}).get("study", {}).get("format") == STUDY_FORMAT


def format_study_report(manifest: Mapping) -> str:
    """A short text report of the study manifest: every set's size and what it shares with others."""
    rep = manifest["report"]["study"]
    study = manifest["params"]["study"]
    lines = [f"Study manifest (seed {study['seed']}), extends the paper manifest {study['paper_manifest_hash'][:16]}"]
    for name, names in manifest["sets"].items():
        overlap = rep["overlap_with_paper_sets"].get(name)
        extra = ""
        if name == CALIBRATION:
            extra = "  (no photo of any paper set)"
        elif overlap:
            extra = "  shares " + ", ".join(f"{n} with {p}" for p, n in overlap.items())
        if name in AXES:
            mean = rep["set_mean_axis_scores"][name][name]
            extra = f"  mean {name} score {mean:.3f}" + (";" + extra[1:] if extra else "")
        lines.append(f"  {name:<12}{len(names):>5}{extra}")
    eligible = ", ".join(f"{a} {n}" for a, n in rep["axis_eligible"].items())
    lines.append(f"  photos eligible per half-axis (of {rep['axis_candidates']}): {eligible}")
    return "\n".join(lines)


def prepare(
    paper_manifest: Path,
    data_dir: str | Path | None,
    out: Path,
    params: StudyParams,
    *,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> tuple[dict, bool]:
    """Read the paper manifest, scan the photos, write the study manifest: (manifest, written)."""
    paper = read_manifest(paper_manifest)
    if is_study_manifest(paper):
        raise UserError(f"{paper_manifest} is already a study manifest: pass the paper manifest")
    if data_dir is None and Path(paper["data_dir"]).is_dir():
        data_dir = paper["data_dir"]
    folder = resolve_data_dir(data_dir)
    report = scan_folder(folder, progress=progress, cache_dir=cache_dir)
    manifest = make_study_manifest(paper, report, params, cache_dir=cache_dir, progress=progress)
    return manifest, write_manifest(manifest, out)
