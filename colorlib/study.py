"""Beyond the paper: seed noise, measured vividness, fitted blend weights and the paper's follow-ups.

Klefbom & Mjöberg trained each model once and judged vividness by eye. This module holds the logic
of a larger study that tests their conclusions properly, on a *study manifest* that extends the
paper's manifest:

- the paper's sets and validation photos, verbatim (so the paper's comparisons are repeated as is);
- ``calibration``: photos for fitting blend weights, disjoint from validation and every training set;
- ``baseline-1``, ``baseline-2``, ...: further random draws of the baseline's size, one per seed;
- ``a+``, ``a-``, ``b+``, ``b-``: photos dominated by one half-axis of Lab's colour plane (magenta/red,
  green/cyan, yellow, blue; the follow-up the paper proposes) and ``ab``, their union.

Every new set avoids the validation photos and their duplicate groups. The study then trains every
model over several seeds (and a second loss), and :func:`evaluate_study` scores all of them, their
equal-weight ensembles and ensembles with non-negative least-squares weights fitted on calibration.
``python -m colorlib.study prepare ...`` writes the study manifest (see :func:`main`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from scipy.optimize import nnls
from tqdm.auto import tqdm

import colorlib

from . import COMBINED_MODELS, TRAINED_MODELS
from .data import (
    CHROMA_MIN,
    THUMB_SIZE,
    ScanReport,
    _lch,
    _make_pool,
    _mean_scores,
    _photo_entry,
    _Pool,
    _thumbnail,
    decode_image,
    manifest_hash,
    read_manifest,
    resolve_data_dir,
    scan_folder,
    write_json_cache,
    write_manifest,
)
from .errors import UserError
from .figures import mark_originals
from .lab import PadInfo, rgb_to_lab, unpad
from .metrics import PhotoScores, original_scores, score_set, summarize

log = logging.getLogger(__name__)

# --- names ------------------------------------------------------------------------------------------

CALIBRATION = "calibration"
# Half-axes of the ab plane and the hue quadrant around each, h = atan2(b, a) in degrees, [start, end).
AXES = ("a+", "a-", "b+", "b-")
AXIS_QUADRANTS = {"a+": (-45.0, 45.0), "b+": (45.0, 135.0), "a-": (135.0, 225.0), "b-": (225.0, 315.0)}
AXIS_NAMES = {"a+": "magenta/red (+a)", "a-": "green/cyan (−a)", "b+": "yellow (+b)", "b-": "blue (−b)"}
AXIS_POOLED = "ab"  # the union of the four axis sets, trained as one model
AXIS_COMBINED = "ab-combined"  # equal-weight average of the four axis models
# Ensembles evaluated besides the paper's by-combined and bgy-combined. "members" are the three
# single-colour models, "all" the six trained models; "nnls" weights are fitted on calibration
# and used as fitted (their sum is free), "nnls-sum1" are the same weights scaled to sum to 1.
MEMBERS = ("blue", "yellow", "green")
ALL_SIX = TRAINED_MODELS
FITTED = {"bgy-nnls": MEMBERS, "all-nnls": ALL_SIX}
ALL_COMBINED = "all-combined"  # equal-weight average of the six trained models
PAPER_MODELS = TRAINED_MODELS + tuple(COMBINED_MODELS)
CLOSE_TO_BASELINE = 0.25  # as colorlib.figures.CLOSE_TO_BASELINE: "close" = at most 25 % above
STUDY_FORMAT = "colorlib-study/1"
AXIS_CACHE_FORMAT = "colorlib-axis-cache/1"
NOT_BUILT_KEY = "colorlib_study"  # output metadata of the notebook's status cell when not built
STUDY_TAG = "study"  # notebook cells that only make sense when the study was built
METRIC_LABELS = {
    "mse": "MSE",
    "l1": "L1",
    "psnr": "PSNR dB",
    "delta_e": "ΔE2000",
    "colourfulness": "colourfulness",
    "chroma": "mean chroma",
}
STUDY_METRICS = tuple(METRIC_LABELS)


# --- axis scores ------------------------------------------------------------------------------------


def _axis_scores_from_lch(chroma: np.ndarray, hue: np.ndarray) -> dict[str, float]:
    """Share of all pixels that are clearly chromatic (C > CHROMA_MIN) with a hue in each quadrant."""
    vivid = chroma > CHROMA_MIN
    shifted = (np.asarray(hue) + 45.0) % 360.0  # quadrant k covers [90k, 90k + 90) after the shift
    quadrant = np.floor(shifted / 90.0).astype(int)
    order = ("a+", "b+", "a-", "b-")  # quadrants 0..3, counter-clockwise from +a
    shares = {axis: round(float(np.mean(vivid & (quadrant == k))), 4) for k, axis in enumerate(order)}
    return {axis: shares[axis] for axis in AXES}


def axis_scores(rgb: np.ndarray) -> dict[str, float]:
    """Axis scores {"a+", "a-", "b+", "b-"} in [0, 1] of a uint8 RGB photo.

    Each is the share of the photo (on the same THUMB_SIZE thumbnail as the colour scores) whose
    pixels are clearly chromatic and whose hue lies in the 90° quadrant around that half-axis:
    +a [-45°, 45°), +b [45°, 135°), -a [135°, 225°), -b [225°, 315°). As with the colour scores the
    denominator is the whole photo, so a few vivid pixels do not make a photo a top scorer.
    """
    chroma, hue = _lch(rgb_to_lab(_thumbnail(rgb)))
    return _axis_scores_from_lch(chroma, hue)


def dominant_axis(scores: Mapping[str, float]) -> str | None:
    """The half-axis with the highest score (ties: the earlier of AXES); None if all are 0."""
    best = max(AXES, key=lambda a: scores[a])
    return best if scores[best] > 0 else None


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
    if path is None:
        return {}
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        if content["format"] != AXIS_CACHE_FORMAT or content["settings"] != _axis_cache_settings():
            return {}
        return {k: {a: float(v[a]) for a in AXES} for k, v in content["entries"].items()}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a damaged cache only costs a recomputation
        log.warning("ignoring unreadable axis-score cache %s (%s)", path, exc)
        return {}


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


# --- the study manifest -----------------------------------------------------------------------------


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


def baseline_set(seed: int) -> str:
    """The baseline draw a seed's baseline model trains on: the paper's for seed 0, else baseline-<seed>."""
    return "baseline" if seed == 0 else f"baseline-{seed}"


def _stream(seed: int, stream: int) -> np.random.Generator:
    """An independent random stream per purpose, all from one seed (and none equal to the paper's)."""
    return np.random.default_rng([seed, stream])


def _draw(candidates: list[int], size: int, rng: np.random.Generator, what: str) -> list[int]:
    """size distinct candidates at random, in candidate order; a UserError when there are too few."""
    if size > len(candidates):
        raise UserError(
            f"only {len(candidates)} usable photos are left for {what}, but it needs {size}: make it smaller"
        )
    chosen = rng.choice(len(candidates), size=size, replace=False)
    return [candidates[j] for j in sorted(chosen)]


def _paper_indices(paper: Mapping, pool: _Pool) -> dict[str, list[int]]:
    """Record indices of every paper set, checking that the folder still holds the same photos."""
    by_name = {r.name: i for i, r in enumerate(pool.records)}
    out = {}
    for set_name, names in paper["sets"].items():
        idx = []
        for name in names:
            i = by_name.get(name)
            if i is None or pool.records[i].sha256 != paper["photos"][name]["sha256"]:
                raise UserError(
                    f"{name} of the paper manifest is missing or changed in the photo folder: "
                    "make the paper manifest again (make book) before the study"
                )
            idx.append(i)
        out[set_name] = idx
    return out


def _pick_axis_sets(
    pool: _Pool, candidates: list[int], scores: Mapping[str, Mapping[str, float]], per_axis: int
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The per_axis best scorers of each half-axis among candidates dominated by it (disjoint sets)."""
    ranked: dict[str, list[int]] = {a: [] for a in AXES}
    for i in candidates:
        axis = dominant_axis(scores[pool.records[i].name])
        if axis is not None:
            ranked[axis].append(i)
    picks = {}
    for axis in AXES:
        order = sorted(ranked[axis], key=lambda i: (-scores[pool.records[i].name][axis], i))
        if len(order) < per_axis:
            raise UserError(
                f"only {len(order)} usable photos are mostly {AXIS_NAMES[axis]}: lower per_axis (now {per_axis})"
            )
        picks[axis] = order[:per_axis]
    return picks, {a: len(v) for a, v in ranked.items()}


def make_study_manifest(
    paper: Mapping,
    report: ScanReport,
    params: StudyParams,
    *,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> dict:
    """The study manifest: the paper manifest's sets verbatim plus calibration, more baseline draws
    and the axis sets, all drawn from photos (and duplicate groups) that validation does not use.

    Deterministic for (paper manifest, photo folder, params). Calibration also avoids every training
    set, so weights fitted on it are never fitted on a model's own training photos.
    """
    params.check()
    pool = _make_pool(report)
    paper_idx = _paper_indices(paper, pool)
    group = pool.group_of
    val_groups = {group[i] for i in paper_idx["validation"]}
    paper_groups = {group[i] for idx in paper_idx.values() for i in idx}
    colour_groups = {group[i] for c in MEMBERS for i in paper_idx[c]}

    calibration = _draw(
        [i for i in pool.usable if group[i] not in paper_groups],
        params.calibration,
        _stream(params.seed, 1),
        "calibration",
    )
    held_out = val_groups | {group[i] for i in calibration}

    candidates = [i for i in pool.usable if group[i] not in held_out]
    scores = score_axes(report.folder, [pool.records[i] for i in candidates], cache_dir=cache_dir, progress=progress)
    axis_sets, eligible = _pick_axis_sets(pool, candidates, scores, params.per_axis)

    # Extra baseline draws come from the pool the paper's baseline came from (not the colour sets,
    # not validation) less the calibration photos.
    rest = [i for i in pool.usable if group[i] not in held_out | colour_groups]
    baselines = {
        baseline_set(s): _draw(rest, params.baseline, _stream(params.seed, 100 + s), baseline_set(s))
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
            photos.setdefault(pool.records[i].name, _photo_entry(pool, i))
    report_section = json.loads(json.dumps(paper.get("report", {})))
    set_means = report_section.setdefault("set_mean_scores", {})
    for name, idx in new_sets.items():
        set_means[name] = _mean_scores([pool.records[i] for i in idx])
    axis_photos = sorted({pool.records[i].name for a in AXES for i in axis_sets[a]})
    report_section["study"] = {
        "axis_candidates": len(candidates),
        "axis_eligible": eligible,
        "folder_mean_axis_scores": {a: round(float(np.mean([s[a] for s in scores.values()])), 4) for a in AXES},
        "set_mean_axis_scores": {
            a: {b: round(float(np.mean([scores[pool.records[i].name][b] for i in axis_sets[a]])), 4) for b in AXES}
            for a in AXES
        },
        "overlap_with_paper_sets": _overlaps(
            paper["sets"], {n: [pool.records[i].name for i in idx] for n, idx in new_sets.items()}
        ),
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
                "calibration": params.calibration,
                "baseline": params.baseline,
                "baseline_seeds": list(params.baseline_seeds),
                "per_axis": params.per_axis,
                "seed": params.seed,
                "axis_quadrants": {k: list(v) for k, v in AXIS_QUADRANTS.items()},
                "axis_score": "share of all thumbnail pixels with chroma > chroma_min and hue in the quadrant",
            },
        },
        "sets": {**paper["sets"], **{n: [pool.records[i].name for i in idx] for n, idx in new_sets.items()}},
        "photos": photos,
        "axis_scores": {name: scores[name] for name in axis_photos},
        "report": report_section,
    }


def _overlaps(paper_sets: Mapping[str, list[str]], new_sets: Mapping[str, list[str]]) -> dict[str, dict[str, int]]:
    """Photos each new set shares with each paper set (only non-zero counts)."""
    out = {}
    for name, names in new_sets.items():
        mine = set(names)
        shared = {p: len(mine & set(v)) for p, v in paper_sets.items() if mine & set(v)}
        out[name] = shared
    return out


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


# --- runs -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One training run of the study: a model name, a seed and a training loss."""

    model: str
    seed: int
    loss: str = "mse"

    @property
    def name(self) -> str:
        return f"{self.model}-s{self.seed}-{self.loss}"

    @property
    def set_name(self) -> str:
        """The manifest set it trains on: the baseline of seed s trains on its own random draw."""
        return baseline_set(self.seed) if self.model == "baseline" else self.model


AXIS_MODELS = AXES + (AXIS_POOLED,)


def study_runs(
    seeds: Sequence[int] = (0, 1, 2),
    axis_seeds: Sequence[int] = (0,),
    second_loss: str | None = "l1",
    second_loss_seeds: Sequence[int] = (0,),
) -> list[Run]:
    """Every run of the study (the Makefile fragment beyond.mk generates the same list)."""
    runs = [Run(m, s) for s in seeds for m in TRAINED_MODELS]
    runs += [Run(m, s) for s in axis_seeds for m in AXIS_MODELS]
    if second_loss:
        runs += [Run(m, s, second_loss) for s in second_loss_seeds for m in TRAINED_MODELS]
    return runs


def checkpoint_file(study_dir: Path, run: Run) -> Path:
    return Path(study_dir) / "checkpoints" / f"{run.name}.pt"


def missing_runs(study_dir: Path, runs: Iterable[Run]) -> list[Run]:
    """The runs without a checkpoint file (see study_status for the full check)."""
    return [r for r in runs if not checkpoint_file(study_dir, r).is_file()]


def parse_seeds(value: object, what: str = "seeds") -> tuple[int, ...]:
    """Seeds from a list, one int, or a string such as "0 1 2" or "0,1,2" (papermill parameters)."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    seeds = []
    for item in items:
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            seeds.append(int(item))
        elif isinstance(item, str) and item.lstrip("-").isdigit():
            seeds.append(int(item))
        else:
            raise UserError(f'{what} must be whole numbers such as "0 1 2", got {value!r}')
    if any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UserError(f"{what} must be distinct non-negative numbers, got {value!r}")
    return tuple(seeds)


# --- predictions and scores -------------------------------------------------------------------------


def mean_abs_error(pred: np.ndarray, target: np.ndarray, info: PadInfo) -> float:
    """L1 of normalised ab over the photo's area (padding excluded): the second loss, as a metric."""
    p = unpad(np.asarray(pred).transpose(1, 2, 0), info)
    t = unpad(np.asarray(target).transpose(1, 2, 0), info)
    return float(np.mean(np.abs(p.astype(np.float64) - t)))


def score_predictions(split, pred: torch.Tensor) -> tuple[dict[str, float], np.ndarray]:
    """(mean scores incl. "l1", per-photo MSE) of a prediction of a split (evaluate.ValidationSet)."""
    per_photo: list[PhotoScores] = score_set(split.lightness, pred, split.ab, split.infos)
    summary = summarize(per_photo)
    summary["l1"] = float(
        np.mean([mean_abs_error(pred[i].numpy(), split.ab[i].numpy(), info) for i, info in enumerate(split.infos)])
    )
    return summary, np.array([s.mse for s in per_photo])


def equal_blend(preds: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.stack(list(preds)).mean(dim=0)


def weighted_sum(preds: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """sum_i w_i P_i as fitted (weights need not sum to 1), clipped to the ab range [-1, 1].

    The targets lie in [-1, 1], so clipping can only lower the error.
    """
    w = torch.as_tensor(np.asarray(weights, dtype=np.float32)).view(-1, *([1] * preds[0].dim()))
    return (torch.stack(list(preds)) * w).sum(dim=0).clamp(-1.0, 1.0)


def nnls_weights(preds: Sequence[torch.Tensor], target: torch.Tensor, infos: Sequence[PadInfo]) -> np.ndarray:
    """Non-negative weights w minimising the mean over photos of the per-photo MSE of sum_i w_i P_i.

    That is the validation metric's own form (each photo counts equally, padding excluded). The
    problem is reduced to its k x k normal equations (Gram matrix), solved by scipy's NNLS through a
    Cholesky factor, so millions of pixels cost no more than a few photos. No sum-to-1 constraint.
    """
    k = len(preds)
    gram, rhs = np.zeros((k, k)), np.zeros(k)
    for n, info in enumerate(infos):
        cols = np.stack([unpad(p[n].numpy().transpose(1, 2, 0), info).ravel() for p in preds], axis=1).astype(
            np.float64
        )
        y = unpad(target[n].numpy().transpose(1, 2, 0), info).ravel().astype(np.float64)
        gram += cols.T @ cols / len(y)
        rhs += cols.T @ y / len(y)
    gram += np.eye(k) * 1e-10 * max(np.trace(gram), 1e-12)  # identical members would make it singular
    upper = np.linalg.cholesky(gram).T  # gram = U^T U; ||U w - U^-T rhs||^2 = w^T G w - 2 rhs.w + const
    weights, _ = nnls(upper, np.linalg.solve(upper.T, rhs))
    return weights


@dataclass
class StudyResults:
    """Everything the book reports, from the checkpoints of one study."""

    rows: list[dict]  # one per (loss, model, seed): {"loss", "model", "seed", metric: value, ...}
    per_photo: dict[tuple[str, str, int], np.ndarray]  # (loss, model, seed) -> validation MSE per photo
    weights: list[dict]  # {"loss", "seed", "fit", "models", "raw", "normalised"} per NNLS fit
    originals: dict[str, float]  # colourfulness and chroma of the validation photos themselves
    image_size: int
    n_validation: int
    n_calibration: int
    states: dict[str, dict] = field(default_factory=dict)  # run name -> checkpoint metadata (no weights)

    def value(self, model: str, seed: int, metric: str = "mse", loss: str = "mse") -> float:
        for r in self.rows:
            if (r["loss"], r["model"], r["seed"]) == (loss, model, seed):
                return r[metric]
        raise KeyError((loss, model, seed))

    def seeds(self, model: str, loss: str = "mse") -> list[int]:
        return sorted(r["seed"] for r in self.rows if r["loss"] == loss and r["model"] == model)


def _group_runs(runs: Iterable[Run]) -> dict[tuple[str, int], list[Run]]:
    groups: dict[tuple[str, int], list[Run]] = defaultdict(list)
    for r in runs:
        groups[(r.loss, r.seed)].append(r)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0] != "mse", kv[0][0], kv[0][1])))


def _ensembles(
    val_preds: Mapping[str, torch.Tensor], cal_preds: Mapping[str, torch.Tensor], cal, fits: list[dict]
) -> dict[str, torch.Tensor]:
    """Equal-weight and NNLS-weighted ensembles whose members are all present (validation preds)."""
    out = {}
    for name, members in {**COMBINED_MODELS, ALL_COMBINED: ALL_SIX, AXIS_COMBINED: AXES}.items():
        if all(m in val_preds for m in members):
            out[name] = equal_blend([val_preds[m] for m in members])
    for name, members in FITTED.items():
        if cal is None or not all(m in val_preds and m in cal_preds for m in members):
            continue
        raw = nnls_weights([cal_preds[m] for m in members], cal.ab, cal.infos)
        norm = raw / raw.sum() if raw.sum() > 0 else np.full(len(members), 1.0 / len(members))
        fits.append({"fit": name, "models": list(members), "raw": raw.tolist(), "normalised": norm.tolist()})
        out[name] = weighted_sum([val_preds[m] for m in members], raw)
        out[f"{name}-sum1"] = weighted_sum([val_preds[m] for m in members], norm)
    return out


def evaluate_study(
    manifest: Mapping,
    data_dir: Path,
    study_dir: Path,
    runs: Sequence[Run],
    *,
    device: str = "cpu",
    progress: bool = True,
) -> StudyResults:
    """Score every run, the paper's ensembles and the fitted ones on validation (fits on calibration).

    Works one (loss, seed) group at a time, so only one group's predictions are held in memory.
    """
    from .ensemble import TrainedColorizer
    from .evaluate import load_validation
    from .train import load_checkpoint

    missing = missing_runs(study_dir, runs)
    if missing:
        raise UserError(
            f"{len(missing)} checkpoints of the study are missing "
            f"(e.g. {checkpoint_file(study_dir, missing[0])}): run make beyond"
        )
    states = {}
    for r in runs:
        state = load_checkpoint(checkpoint_file(study_dir, r))
        states[r.name] = {k: v for k, v in state.items() if k not in ("model", "optimizer")}
    sizes = {s["model_config"]["image_size"] for s in states.values()}
    if len(sizes) != 1:
        raise UserError(
            f"the study's checkpoints use different image sizes {sorted(sizes)}: train them again with one size"
        )
    size = sizes.pop()
    val = load_validation(manifest, data_dir, size)
    cal = load_validation(manifest, data_dir, size, CALIBRATION) if manifest["sets"].get(CALIBRATION) else None
    rows, per_photo, weights = [], {}, []
    groups = _group_runs(runs)
    bar = tqdm(total=len(runs), desc="predicting", unit="model", disable=not progress)
    for (loss, seed), group in groups.items():
        val_preds, cal_preds = {}, {}
        for r in group:
            model = TrainedColorizer(checkpoint_file(study_dir, r), r.model, device)
            val_preds[r.model] = model.predict_ab(val.lightness)
            if cal is not None and (r.model in ALL_SIX):
                cal_preds[r.model] = model.predict_ab(cal.lightness)
            bar.update(1)
        fits: list[dict] = []
        preds = {**val_preds, **_ensembles(val_preds, cal_preds, cal, fits)}
        weights += [{"loss": loss, "seed": seed, **f} for f in fits]
        for model_name, pred in preds.items():
            summary, photo_mse = score_predictions(val, pred)
            rows.append({"loss": loss, "model": model_name, "seed": seed, **summary})
            per_photo[(loss, model_name, seed)] = photo_mse
    bar.close()
    return StudyResults(
        rows=rows,
        per_photo=per_photo,
        weights=weights,
        originals=original_scores(val.lightness, val.ab, val.infos),
        image_size=size,
        n_validation=len(val.names),
        n_calibration=len(cal.names) if cal is not None else 0,
        states=states,
    )


# --- statistics -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanStd:
    mean: float
    std: float  # sample standard deviation over seeds (ddof = 1); nan for a single seed
    n: int

    def fmt(self, digits: int = 4) -> str:
        if self.n < 2 or math.isnan(self.std):
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


def mean_std(values: Sequence[float]) -> MeanStd:
    """Mean and sample standard deviation (ddof = 1) of some per-seed values."""
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return MeanStd(math.nan, math.nan, 0)
    return MeanStd(float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan, int(v.size))


def seed_stats(rows: Sequence[Mapping], metric: str, loss: str = "mse") -> dict[str, MeanStd]:
    """{model: mean ± std over seeds} of one metric, for the runs trained with one loss."""
    by_model: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["loss"] == loss:
            by_model[r["model"]].append(r[metric])
    return {m: mean_std(v) for m, v in by_model.items()}


@dataclass(frozen=True)
class Claim:
    """A comparison "left < factor x right" of two models' validation metric, checked seed by seed."""

    text: str
    left: str
    right: str
    factor: float = 1.0


def paper_claims() -> list[Claim]:
    """The paper's loss claims, as paired comparisons (the baseline of seed s has its own draw)."""
    limit = 1 + CLOSE_TO_BASELINE
    return [
        Claim("by-combined < by (combined beats pooled)", "by-combined", "by"),
        Claim("bgy-combined < bgy (combined beats pooled)", "bgy-combined", "bgy"),
        Claim(f"by-combined ≤ {limit:g} × baseline (close to the baseline)", "by-combined", "baseline", limit),
        Claim(f"bgy-combined ≤ {limit:g} × baseline (close to the baseline)", "bgy-combined", "baseline", limit),
        Claim("by-combined < baseline (as in the paper's Table I)", "by-combined", "baseline"),
        Claim("bgy-combined < baseline (as in the paper's Table I)", "bgy-combined", "baseline"),
    ]


def check_claims(results: StudyResults, claims: Sequence[Claim], metric: str = "mse", loss: str = "mse") -> list[dict]:
    """Each claim per seed (paired: same seed on both sides), with the ratio left / right.

    "photos" is the share of validation photos, pooled over seeds, on which the claim holds photo by
    photo (MSE only): a claim that holds on the mean but on few photos rests on a few photos.
    """
    out = []
    for c in claims:
        seeds = [s for s in results.seeds(c.left, loss) if s in results.seeds(c.right, loss)]
        if not seeds:
            continue
        left = [results.value(c.left, s, metric, loss) for s in seeds]
        right = [results.value(c.right, s, metric, loss) for s in seeds]
        holds = [lv <= c.factor * rv if c.factor != 1 else lv < rv for lv, rv in zip(left, right, strict=True)]
        photo_share = math.nan
        if metric == "mse":
            wins = [
                results.per_photo[(loss, c.left, s)] <= c.factor * results.per_photo[(loss, c.right, s)] for s in seeds
            ]
            photo_share = float(np.mean(np.concatenate(wins)))
        out.append(
            {
                "claim": c.text,
                "metric": metric,
                "loss": loss,
                "seeds": seeds,
                "left": left,
                "right": right,
                "ratio": mean_std([lv / rv for lv, rv in zip(left, right, strict=True)]),
                "holds": holds,
                "held": sum(holds),
                "every_seed": all(holds),
                "photos": photo_share,
            }
        )
    return out


# --- tables (Markdown) ------------------------------------------------------------------------------


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None) -> str:
    align = align or ["---"] + ["---:"] * (len(head) - 1)
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _digits(metric: str) -> int:
    return 4 if metric in ("mse", "l1") else 2


def mean_std_table(
    results: StudyResults, models: Sequence[str], loss: str = "mse", metrics: Sequence[str] = STUDY_METRICS
) -> str:
    """Table I over seeds: mean ± std of every metric per model, with the originals' vividness."""
    stats = {m: seed_stats(results.rows, m, loss) for m in metrics}
    rows = []
    for model in models:
        if model not in stats[metrics[0]]:
            continue
        n = stats[metrics[0]][model].n
        rows.append([model, str(n)] + [stats[m][model].fmt(_digits(m)) for m in metrics])
    originals = [results.originals.get(m) for m in metrics]
    rows.append(["originals", "–"] + ["–" if v is None else f"{v:.2f}" for v in originals])
    return _table(["model", "seeds"] + [METRIC_LABELS[m] for m in metrics], rows)


def per_seed_table(results: StudyResults, models: Sequence[str], metric: str = "mse", loss: str = "mse") -> str:
    """One column per seed: the raw numbers behind the mean ± std."""
    seeds = sorted({r["seed"] for r in results.rows if r["loss"] == loss and r["model"] in models})
    rows = []
    for model in models:
        have = results.seeds(model, loss)
        if not have:
            continue
        rows.append([model] + [f"{results.value(model, s, metric, loss):.4f}" if s in have else "–" for s in seeds])
    return _table(["model"] + [f"seed {s}" for s in seeds], rows)


def claims_table(checked: Sequence[Mapping], show_metric: bool = False) -> str:
    """Per claim: the per-seed verdicts, the ratio left/right as mean ± std, and "every seed"."""
    rows = []
    for c in checked:
        verdicts = " ".join(f"s{s}: {'yes' if h else 'no'}" for s, h in zip(c["seeds"], c["holds"], strict=True))
        photos = "–" if math.isnan(c["photos"]) else f"{c['photos']:.0%}"
        every = f"**{'yes' if c['every_seed'] else 'no'}** ({c['held']}/{len(c['seeds'])})"
        metric = [METRIC_LABELS[c["metric"]]] if show_metric else []
        rows.append([c["claim"], *metric, verdicts, c["ratio"].fmt(3), photos, every])
    head = ["claim", *(["metric"] if show_metric else []), "per seed", "ratio left/right", "photos where it holds"]
    align = ["---", *(["---"] if show_metric else []), "---", "---:", "---:", ":---:"]
    return _table([*head, "holds in every seed"], rows, align)


def weights_table(results: StudyResults, loss: str = "mse") -> str:
    """NNLS weights per fit and seed, raw (as fitted) and normalised to sum 1."""
    rows = []
    for w in results.weights:
        if w["loss"] != loss:
            continue
        raw = ", ".join(f"{m} {v:.2f}" for m, v in zip(w["models"], w["raw"], strict=True))
        norm = ", ".join(f"{v:.2f}" for v in w["normalised"])
        rows.append([w["fit"], str(w["seed"]), raw, f"{sum(w['raw']):.2f}", norm])
    return _table(
        ["fit", "seed", "raw weights (as fitted)", "sum", "normalised (sum 1)"],
        rows,
        ["---", "---:", "---", "---:", "---"],
    )


def blend_comparison(results: StudyResults, loss: str = "mse") -> list[dict]:
    """Equal against fitted weights on validation: per blend, MSE mean ± std and seeds where fitted wins."""
    pairs = [
        ("bgy-combined", "bgy-nnls"),
        ("bgy-combined", "bgy-nnls-sum1"),
        (ALL_COMBINED, "all-nnls"),
        (ALL_COMBINED, "all-nnls-sum1"),
    ]
    out = []
    for equal, fitted in pairs:
        seeds = [s for s in results.seeds(fitted, loss) if s in results.seeds(equal, loss)]
        if not seeds:
            continue
        e = [results.value(equal, s, "mse", loss) for s in seeds]
        f = [results.value(fitted, s, "mse", loss) for s in seeds]
        out.append(
            {
                "equal": equal,
                "fitted": fitted,
                "equal_mse": mean_std(e),
                "fitted_mse": mean_std(f),
                "fitted_wins": sum(fv < ev for fv, ev in zip(f, e, strict=True)),
                "seeds": seeds,
            }
        )
    return out


def blend_table(comparison: Sequence[Mapping]) -> str:
    rows = [
        [c["equal"], c["equal_mse"].fmt(), c["fitted"], c["fitted_mse"].fmt(), f"{c['fitted_wins']}/{len(c['seeds'])}"]
        for c in comparison
    ]
    return _table(
        ["equal weights", "validation MSE", "fitted weights", "validation MSE", "seeds where fitted is lower"], rows
    )


def loss_comparison_table(results: StudyResults, second_loss: str, seed: int = 0) -> str:
    """Models trained with MSE and with the second loss (same seed), scored in both metrics."""
    models = [m for m in PAPER_MODELS if seed in results.seeds(m, second_loss) and seed in results.seeds(m, "mse")]
    rows = []
    for m in models:
        rows.append(
            [m]
            + [
                f"{results.value(m, seed, metric, loss):.4f}"
                for loss in ("mse", second_loss)
                for metric in ("mse", "l1")
            ]
            + [f"{results.value(m, seed, 'colourfulness', loss):.1f}" for loss in ("mse", second_loss)]
        )
    head = [
        "model",
        "MSE-trained: MSE",
        "MSE-trained: L1",
        f"{second_loss}-trained: MSE",
        f"{second_loss}-trained: L1",
        "MSE-trained: colourfulness",
        f"{second_loss}-trained: colourfulness",
    ]
    return _table(head, rows)


def axis_table(results: StudyResults, seed: int = 0) -> str:
    """The axis models, their ensemble and pooled model beside bgy, bgy-combined and the baseline."""
    models = [*AXES, AXIS_POOLED, AXIS_COMBINED, "bgy", "bgy-combined", "baseline"]
    rows = []
    for m in models:
        if seed not in results.seeds(m):
            continue
        rows.append(
            [m]
            + [
                f"{results.value(m, seed, k):.{_digits(k)}f}"
                for k in ("mse", "l1", "delta_e", "colourfulness", "chroma")
            ]
        )
    return _table(["model", "MSE", "L1", "ΔE2000", "colourfulness", "mean chroma"], rows)


# --- figures ----------------------------------------------------------------------------------------

_COLOURS = {
    "blue": "#3182bd", "yellow": "#e6b800", "green": "#31a354", "by": "#8c6bb1", "bgy": "#dd3497",
    "baseline": "#525252", "by-combined": "#41b6c4", "bgy-combined": "#fd8d3c", ALL_COMBINED: "#a6761d",
    "bgy-nnls": "#e31a1c", "all-nnls": "#b15928", "a+": "#d6307a", "a-": "#1a9850", "b+": "#e6b800",
    "b-": "#2166ac", AXIS_POOLED: "#7570b3", AXIS_COMBINED: "#66a61e",
}  # fmt: skip


def seed_strip(results: StudyResults, models: Sequence[str], loss: str = "mse", metric: str = "mse") -> Figure:
    """Validation metric per model: one dot per seed, a bar at the mean and ± 1 std (log scale)."""
    stats = seed_stats(results.rows, metric, loss)
    models = [m for m in models if m in stats]
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for x, m in enumerate(models):
        seeds = results.seeds(m, loss)
        values = [results.value(m, s, metric, loss) for s in seeds]
        ax.scatter([x] * len(values), values, color=_COLOURS.get(m, "0.5"), edgecolor="0.2", zorder=3, s=28)
        st = stats[m]
        ax.hlines(st.mean, x - 0.3, x + 0.3, color="0.2", lw=1.5)
        if st.n > 1:
            ax.errorbar(x + 0.2, st.mean, yerr=st.std, color="0.2", capsize=3, lw=1)
    ax.set_xticks(range(len(models)), models, rotation=20)
    ax.set_yscale("log")
    ax.set_ylabel(f"validation {METRIC_LABELS[metric]} (log scale)")
    ax.set_title("Table I over seeds: one dot per seed, bar at the mean, whisker ± 1 std")
    return fig


def vividness_errorbars(results: StudyResults, models: Sequence[str], loss: str = "mse") -> Figure:
    """Colourfulness (x) against validation MSE (y), mean ± std over seeds per model; a line at the originals."""
    colour = seed_stats(results.rows, "colourfulness", loss)
    error = seed_stats(results.rows, "mse", loss)
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    points = []
    for m in models:
        if m not in colour:
            continue
        cx, ey = colour[m], error[m]
        ax.errorbar(
            cx.mean, ey.mean, xerr=0 if cx.n < 2 else cx.std, yerr=0 if ey.n < 2 else ey.std,
            fmt="o", color=_COLOURS.get(m, "0.5"), mec="0.2", capsize=3, zorder=3,
        )  # fmt: skip
        points.append((m, cx.mean, ey.mean))
    mark_originals(ax, results.originals["colourfulness"], f"originals {results.originals['colourfulness']:.1f}")
    ax.set_xlabel("colourfulness (Hasler–Süsstrunk), mean over validation photos")
    ax.set_ylabel("validation MSE")
    ax.set_title("Error against vividness, mean ± std over seeds")
    _label_points(fig, ax, points)
    return fig


def _label_points(fig: Figure, ax, points: Sequence[tuple[str, float, float]]) -> None:
    """Name each point, moving a label around its point until it overlaps no label placed before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw_without_rendering()  # fixes the layout and the axis limits the labels are placed against
    spots = [(5, 4, "left"), (5, -11, "left"), (-5, 4, "right"), (-5, -11, "right"), (5, 15, "left"), (5, -22, "left")]
    placed = []
    for name, x, y in sorted(points, key=lambda p: -p[2]):
        for dx, dy, ha in spots:
            label = ax.annotate(name, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=8, ha=ha)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed) or (dx, dy, ha) == spots[-1]:
                break
            label.remove()
        placed.append(box)


def axis_caption(manifest: Mapping, name: str, axis: str) -> str:
    return f"{name}\n{axis} {manifest['axis_scores'][name][axis]:.2f}"


# --- findings ---------------------------------------------------------------------------------------


def findings(
    results: StudyResults,
    checked: Sequence[Mapping],
    blends: Sequence[Mapping],
    second_loss: str | None,
    second_claims: Sequence[Mapping] = (),
    device_note: str = "",
) -> list[str]:
    """One line per finding, each with its numbers (written to findings-beyond.md for the closing note)."""
    lines = []
    mse = seed_stats(results.rows, "mse")
    n_seeds = max((s.n for s in mse.values()), default=0)
    main = [m for m in ("by", "by-combined", "bgy", "bgy-combined", "baseline") if m in mse]
    lines.append(
        f"Table I over {n_seeds} seeds ({results.image_size} px{device_note}), validation MSE mean ± std: "
        + ", ".join(f"{m} {mse[m].fmt()}" for m in main)
        + "."
    )
    if checked:
        verdicts = "; ".join(
            f"{c['claim'].split(' (')[0]}: {c['held']}/{len(c['seeds'])} seeds (ratio {c['ratio'].fmt(2)})"
            for c in checked
        )
        every = sum(c["every_seed"] for c in checked)
        lines.append(f"Paired claims, {every} of {len(checked)} hold in every seed: {verdicts}.")
    colour = seed_stats(results.rows, "colourfulness")
    chroma = seed_stats(results.rows, "chroma")
    vivid = [m for m in ("blue", "yellow", "green", "bgy", "bgy-combined", "baseline") if m in colour]
    lines.append(
        f"Vividness (colourfulness | mean chroma; originals {results.originals['colourfulness']:.1f} | "
        f"{results.originals['chroma']:.1f}): "
        + ", ".join(f"{m} {colour[m].fmt(1)} | {chroma[m].fmt(1)}" for m in vivid)
        + "."
    )
    for b in blends:
        if b["fitted"].endswith("-sum1"):
            continue
        fits = [w for w in results.weights if w["fit"] == b["fitted"] and w["loss"] == "mse"]
        mean_w = np.mean([w["raw"] for w in fits], axis=0)
        weights = ", ".join(f"{m} {v:.2f}" for m, v in zip(fits[0]["models"], mean_w, strict=True))
        sum1 = next((x for x in blends if x["fitted"] == f"{b['fitted']}-sum1"), None)
        tail = f"; normalised to sum 1: {sum1['fitted_mse'].fmt()}" if sum1 else ""
        colour = seed_stats(results.rows, "colourfulness")
        tail += f"; colourfulness {colour[b['fitted']].fmt(1)} against {colour[b['equal']].fmt(1)}"
        lines.append(
            f"NNLS weights on {results.n_calibration} calibration photos ({b['fitted']}, mean over seeds: {weights}; "
            f"sum {mean_w.sum():.2f}): validation MSE {b['fitted_mse'].fmt()} against {b['equal_mse'].fmt()} "
            f"for equal weights ({b['equal']}), lower in {b['fitted_wins']}/{len(b['seeds'])} seeds{tail}."
        )
    if 0 in results.seeds(AXIS_COMBINED):
        vals = {
            m: results.value(m, 0, "mse")
            for m in (AXIS_COMBINED, AXIS_POOLED, "bgy-combined", "baseline")
            if 0 in results.seeds(m)
        }
        col = {m: results.value(m, 0, "colourfulness") for m in vals}
        verdict = "beats" if vals[AXIS_COMBINED] < vals.get(AXIS_POOLED, math.inf) else "does not beat"
        lines.append(
            "Axis sets (seed 0), validation MSE | colourfulness: "
            + ", ".join(f"{m} {vals[m]:.4f} | {col[m]:.1f}" for m in vals)
            + f"; {AXIS_COMBINED} {verdict} the model trained on the pooled axis photos."
        )
    if second_loss and second_claims:
        parts = []
        for c in second_claims:
            if "baseline" in c["claim"]:
                continue
            verdict = "holds" if c["every_seed"] else "fails"
            left, right = np.mean(c["left"]), np.mean(c["right"])
            parts.append(f"{c['claim'].split(' (')[0]} in {c['metric'].upper()}: {left:.4f} vs {right:.4f} ({verdict})")
        lines.append(f"Trained with {second_loss.upper()} (seed 0): " + "; ".join(parts) + ".")
    return lines


# --- the notebook's status --------------------------------------------------------------------------


@dataclass
class StudyStatus:
    """Whether the study can be shown: its manifest, and every run trained to the end on it."""

    manifest_found: bool
    problems: dict[str, str]  # run name -> why it cannot be used ("missing", "incomplete", ...)
    total: int
    stale_manifest: str = ""  # why the study manifest no longer matches the paper manifest, if it does not

    @property
    def built(self) -> bool:
        return self.manifest_found and not self.problems and not self.stale_manifest


def study_status(
    study_dir: Path, runs: Sequence[Run], image_size: int, paper_manifest: Path | None = None
) -> StudyStatus:
    """Check the study's manifest and checkpoints without scoring anything.

    A run counts only when its checkpoint exists, is complete, was trained on this study manifest
    and at `image_size`; anything else would silently mix results of different studies.
    """
    from .train import load_checkpoint

    path = Path(study_dir) / "manifest.json"
    if not path.is_file():
        return StudyStatus(False, {r.name: "missing" for r in runs}, len(runs))
    manifest = read_manifest(path)
    if not is_study_manifest(manifest):
        raise UserError(f"{path} is not a study manifest: make it with `python -m colorlib.study prepare`")
    stale = ""
    if paper_manifest is not None and Path(paper_manifest).is_file():
        recorded = manifest["params"]["study"]["paper_manifest_hash"]
        if manifest_hash(read_manifest(Path(paper_manifest))) != recorded:
            stale = f"the paper manifest {paper_manifest} changed since the study manifest was made"
    digest = manifest_hash(manifest)
    problems = {}
    for r in runs:
        file = checkpoint_file(study_dir, r)
        if not file.is_file():
            problems[r.name] = "missing"
            continue
        state = load_checkpoint(file)
        size = state["model_config"]["image_size"]
        if not state.get("complete"):
            problems[r.name] = f"incomplete (batch {state['step']} of {state['train_config']['iterations']})"
        elif state.get("manifest_hash") != digest:
            problems[r.name] = "trained on another manifest"
        elif size != image_size:
            problems[r.name] = f"trained at {size} px, not {image_size} px"
    return StudyStatus(True, problems, len(runs), stale)


def not_built_markdown(status: StudyStatus, command: str) -> str:
    """The short page shown when the study has not been run (or not to the end, or is stale)."""
    if not status.manifest_found:
        what = "its manifest has not been made and none of its training runs exist"
    elif status.stale_manifest:
        what = status.stale_manifest
    else:
        reasons: dict[str, list[str]] = defaultdict(list)
        for name, why in status.problems.items():
            reasons[why.split(" (")[0]].append(name)
        what = (
            f"{len(status.problems)} of its {status.total} training runs cannot be used ("
            + "; ".join(
                f"{why}: {', '.join(names[:4])}{', ...' if len(names) > 4 else ''}" for why, names in reasons.items()
            )
            + ")"
        )
    return (
        f"**This part was not built:** {what}. It trains {status.total} models besides the paper's six, so "
        f"the paper-scale book does not wait for it. Build it with\n\n```bash\n{command}\n```\n\n"
        "which trains what is missing (skipping what is done), executes this page again and rebuilds the book."
    )


def finalize_page(path: Path) -> bool:
    """Drop the cells tagged STUDY_TAG from an executed beyond notebook that reported "not built".

    The notebook marks its status output with NOT_BUILT_KEY metadata; the cells it then skipped hold
    headings and prose for results that do not exist. Returns whether cells were removed.
    """
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    not_built = any(
        out.get("metadata", {}).get(NOT_BUILT_KEY) == "not built"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )
    if not not_built:
        return False
    nb.cells = [c for c in nb.cells if STUDY_TAG not in c.get("metadata", {}).get("tags", [])]
    nbformat.write(nb, str(path))
    return True


# --- the page -------------------------------------------------------------------------------------


def check_parameters(
    image_size: object, seeds: object, axis_seeds: object, second_loss: object, second_loss_seeds: object
) -> dict:
    """The beyond notebook's parameters, checked and parsed; a mistake is a one-line UserError."""
    from .train import LOSSES

    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise UserError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    loss = str(second_loss or "").strip()
    if loss and (loss not in LOSSES or loss == "mse"):
        raise UserError(
            f"second_loss must be one of {', '.join(k for k in LOSSES if k != 'mse')} or empty, got {loss!r}"
        )
    parsed = {
        "seeds": parse_seeds(seeds, "seeds"),
        "axis_seeds": parse_seeds(axis_seeds, "axis_seeds"),
        "second_loss_seeds": parse_seeds(second_loss_seeds, "second_loss_seeds"),
    }
    if not parsed["seeds"]:
        raise UserError("seeds must name at least one seed")
    return {"image_size": image_size, "second_loss": loss or None, **parsed}


def write_findings(generated_dir: Path, lines: Sequence[str]) -> Path:
    """findings-beyond.md: one finding a line (a Markdown list), for the book's closing note."""
    path = Path(generated_dir) / "findings-beyond.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"- {line}\n" for line in lines), encoding="utf-8")
    return path


VIVID_MODELS = (*PAPER_MODELS, "bgy-nnls", AXIS_COMBINED)
NOISE_MODELS = (*PAPER_MODELS, ALL_COMBINED, "bgy-nnls", "all-nnls")


class BeyondPage:
    """Every table, figure and finding of the beyond page, from one evaluation of the study."""

    def __init__(
        self,
        manifest: Mapping,
        data_dir: Path,
        study_dir: Path,
        runs: Sequence[Run],
        second_loss: str | None,
        *,
        device: str = "cpu",
        progress: bool = True,
    ):
        self.manifest = manifest
        self.data_dir = Path(data_dir)
        self.results = evaluate_study(manifest, data_dir, study_dir, runs, device=device, progress=progress)
        self.second_loss = second_loss if second_loss and any(r.loss == second_loss for r in runs) else None
        self.claims = check_claims(self.results, paper_claims())
        self.blends = blend_comparison(self.results)
        self.second_claims: list[dict] = []
        if self.second_loss:
            for metric in ("mse", "l1"):
                self.second_claims += check_claims(self.results, paper_claims(), metric, self.second_loss)

    def scale_note(self) -> str:
        """How the study was run, and how that differs from the paper's scale."""
        states = self.results.states.values()
        devices = sorted({f"{s.get('device_name', s['device'])} ({s['precision']})" for s in states})
        cfg = next(iter(states))["train_config"]
        size = self.results.image_size
        text = (
            f"Every model here was trained for {cfg['iterations']:,} batches of {cfg['batch_size']} photos at "
            f"**{size} × {size} px** on {', '.join(devices)}; "
            f"{self.results.n_validation} validation and {self.results.n_calibration} calibration photos."
        )
        halves = [s for s in states if s.get("weights_dtype") == "float16"]
        if halves:
            checks = [abs(s["float16_check"]["relative_difference"]) for s in halves if "float16_check" in s]
            text += (
                f" The weights of {len(halves)} models came back from the GPU machine as float16 copies "
                "(`benchmarks/gpu_study.py`)"
                + (
                    f"; on the validation photos that moved a model's MSE by at most {max(checks):.2%} "
                    "against its full-precision weights."
                    if checks
                    else "."
                )
            )
        if size < 256:
            text += (
                f" The paper worked at 256 × 256 px: this part runs at {size} px so that its "
                f"{len(self.results.states)} training runs fit in the CPU time we had, so its numbers are not "
                "on the scale of Table I and are compared only with each other. On a GPU, "
                "`make beyond BEYOND_IMAGE_SIZE=256` repeats it at the paper's size."
            )
        return text

    def device_note(self) -> str:
        return ", " + "/".join(sorted({s["device"] for s in self.results.states.values()}))

    def provenance(self, profile: str) -> str:
        from .figures import provenance

        return provenance(self.results.states, profile, manifest_hash(self.manifest))

    def noise_table(self) -> str:
        return mean_std_table(self.results, NOISE_MODELS)

    def per_seed_table(self) -> str:
        return per_seed_table(self.results, NOISE_MODELS)

    def seed_strip(self) -> Figure:
        return seed_strip(self.results, PAPER_MODELS)

    def claims_table(self) -> str:
        return claims_table(self.claims)

    def vividness_table(self) -> str:
        return mean_std_table(self.results, VIVID_MODELS, metrics=("colourfulness", "chroma", "mse"))

    def vividness_plot(self) -> Figure:
        return vividness_errorbars(self.results, VIVID_MODELS)

    def weights_table(self) -> str:
        return weights_table(self.results)

    def blend_table(self) -> str:
        return blend_table(self.blends)

    def axis_sheet(self, axis: str) -> Figure:
        from .data import load_set
        from .figures import contact_sheet

        named = load_set(self.manifest, axis, self.data_dir)
        captions = [axis_caption(self.manifest, name, axis) for name, _ in named]
        title = f"{axis}: the {len(named)} photos most dominated by {AXIS_NAMES[axis]} (caption: {axis} score)"
        return contact_sheet([rgb for _, rgb in named], captions, 8, title)

    def axis_scores_table(self) -> str:
        rep = self.manifest["report"]["study"]
        rows = []
        for axis in AXES:
            means = rep["set_mean_axis_scores"][axis]
            shared = rep["overlap_with_paper_sets"].get(axis, {})
            overlap = ", ".join(f"{n} {k}" for k, n in shared.items() if k in MEMBERS) or "none"
            rows.append(
                [axis, AXIS_NAMES[axis], str(rep["axis_eligible"][axis])]
                + [f"{means[b]:.3f}" for b in AXES]
                + [overlap]
            )
        folder = rep["folder_mean_axis_scores"]
        rows.append(["(all candidates)", "", str(rep["axis_candidates"])] + [f"{folder[b]:.3f}" for b in AXES] + [""])
        head = ["set", "colour", "eligible photos", *[f"mean {b}" for b in AXES], "shared with blue/yellow/green"]
        return _table(head, rows, ["---", "---", "---:", "---:", "---:", "---:", "---:", "---"])

    def axis_table(self) -> str:
        return axis_table(self.results, min(self.results.seeds(AXIS_COMBINED) or [0]))

    def loss_table(self) -> str:
        if not self.second_loss:
            return "No second loss was trained (second_loss is empty)."
        return loss_comparison_table(self.results, self.second_loss, min(self.results.seeds("bgy", self.second_loss)))

    def loss_claims_table(self) -> str:
        return claims_table(self.second_claims, show_metric=True) if self.second_claims else ""

    def findings(self) -> list[str]:
        return findings(
            self.results, self.claims, self.blends, self.second_loss, self.second_claims, self.device_note()
        )


# --- command line -----------------------------------------------------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m colorlib.study", description="Beyond the paper: the study's manifest and pages."
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or info messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("prepare", help="extend the paper manifest with calibration, baseline draws and axis sets")
    s.add_argument("data_dir", nargs="?", help="photo folder (default: the paper manifest's)")
    s.add_argument("--paper-manifest", type=Path, default=Path("build/paper/manifest.json"))
    s.add_argument("--out", type=Path, default=Path("build/beyond/manifest.json"))
    s.add_argument("--calibration", type=int, default=32, help="calibration photos (32)")
    s.add_argument("--baseline", type=int, default=864, help="photos in each extra baseline draw (864)")
    s.add_argument(
        "--seeds", default="0 1 2", help='training seeds; one extra baseline draw per seed above 0 ("0 1 2")'
    )
    s.add_argument("--per-axis", type=int, default=24, help="photos in each of a+, a-, b+, b- (24)")
    s.add_argument("--seed", type=int, default=0, help="seed of the random draws (0)")
    s.add_argument("--cache", type=Path, default=Path(".colorlib-cache"), help="scan cache folder")
    s = sub.add_parser("finalize", help="drop the result cells of an executed beyond page that was not built")
    s.add_argument("page", type=Path)
    return p


def _run(args: argparse.Namespace) -> int:
    if args.command == "prepare":
        seeds = parse_seeds(args.seeds)
        params = StudyParams(
            args.calibration, args.baseline, tuple(s for s in seeds if s > 0), args.per_axis, args.seed
        )
        manifest, written = prepare(
            args.paper_manifest, args.data_dir, args.out, params, cache_dir=args.cache, progress=not args.quiet
        )
        print(format_study_report(manifest))
        print(f"study manifest: {args.out} ({'written' if written else 'unchanged'})")
    else:
        if not args.page.is_file():
            raise UserError(f"page {args.page} not found: execute notebooks/beyond.ipynb first")
        print(f"{args.page}: {'not built, result cells removed' if finalize_page(args.page) else 'built'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from .cli import run_command

    args = _build_parser().parse_args(argv)
    return run_command("colorlib.study", args.quiet, lambda: _run(args))


if __name__ == "__main__":
    sys.exit(main())
