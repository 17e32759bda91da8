"""Scoring the study: every run, the equal-weight and NNLS ensembles, the combination rules of
:mod:`colorlib.combination_rules`, the boosted baseline and the references grey and constant (every fit on calibration
only), one (loss, seed) at a time on the validation and test photos, with per-photo values for intervals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import nnls
from tqdm.auto import tqdm

from .. import COMBINED_MODELS
from ..checkpoint import load_checkpoint
from ..combination_rules import HueBandWeights, fit_hue_bands, fixed_rules
from ..ensemble import TrainedColorizer, blend, normalize_weights, vivid
from ..errors import UserError
from ..lab import PadInfo, unpad
from ..paper.evaluate import load_validation
from ..scoring.believability import PhotoTerms, photo_terms, pooled_believability
from ..scoring.metrics import PhotoScores, score_set, summarize
from ..scoring.no_skill import constant_prediction, grey_prediction, mean_ab, skill
from ..scoring.vividness import fit_k_same, fit_k_vivid, photo_colourfulness, photo_mse
from .runs import (
    ALL_COMBINED,
    ALL_SIX,
    AXES,
    AXIS_COMBINED,
    BOOSTED_SAME,
    BOOSTED_VIVID,
    CALIBRATION,
    FITTED,
    LEARNED_RULE,
    MEMBERS,
    Run,
    baseline_set,
    checkpoint_file,
    rule_model,
)


def mean_abs_error(pred: np.ndarray, target: np.ndarray, info: PadInfo) -> float:
    """L1 of normalised ab over the photo's area (padding excluded): the second loss, as a metric."""
    p = unpad(np.asarray(pred).transpose(1, 2, 0), info)
    t = unpad(np.asarray(target).transpose(1, 2, 0), info)
    return float(np.mean(np.abs(p.astype(np.float64) - t)))


@dataclass(frozen=True)
class PhotoValues:
    """Per-photo scores of one prediction of a split, for intervals over photos."""

    mse: np.ndarray  # (N,)
    colourfulness: np.ndarray  # (N,)
    terms: PhotoTerms  # histogram counts, gradient energy, hue jumps: the believability measures' pieces


def score_photos(split, pred: torch.Tensor, true_terms: PhotoTerms) -> tuple[dict[str, float], PhotoValues]:
    """(mean scores incl. "l1" and believability, per-photo values) of a prediction of a split
    (evaluate.ValidationSet); true_terms: photo_terms of the split's own colours."""
    per_photo: list[PhotoScores] = score_set(split.lightness, pred, split.ab, split.infos)
    terms = photo_terms(pred, split.infos)
    summary = {**summarize(per_photo), **pooled_believability(terms, true_terms)}
    summary["l1"] = float(
        np.mean([mean_abs_error(pred[i].numpy(), split.ab[i].numpy(), info) for i, info in enumerate(split.infos)])
    )
    values = PhotoValues(np.array([s.mse for s in per_photo]), np.array([s.colourfulness for s in per_photo]), terms)
    return summary, values


def weighted_sum(preds: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """sum_i w_i P_i as fitted (weights need not sum to 1), clipped to the ab range [-1, 1] (where the
    targets lie, so clipping can only lower the error)."""
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
        cols = np.stack([unpad(p[n].numpy().transpose(1, 2, 0), info).ravel() for p in preds], axis=1)
        cols = cols.astype(np.float64)
        y = unpad(target[n].numpy().transpose(1, 2, 0), info).ravel().astype(np.float64)
        gram += cols.T @ cols / len(y)
        rhs += cols.T @ y / len(y)
    gram += np.eye(k) * 1e-10 * max(np.trace(gram), 1e-12)  # identical members would make it singular
    upper = np.linalg.cholesky(gram).T  # gram = U^T U; ||U w - U^-T rhs||^2 = w^T G w - 2 rhs.w + const
    weights, _ = nnls(upper, np.linalg.solve(upper.T, rhs))
    return weights


@dataclass
class StudyResults:
    """Everything the book reports, from the checkpoints of one study: `rows`, `per_photo` and `originals`
    on the validation photos, the `test_*` fields on the test photos (empty without them)."""

    rows: list[dict]  # one per (loss, model, seed): {"loss", "model", "seed", metric: value, ...}
    per_photo: dict[tuple[str, str, int], np.ndarray]  # (loss, model, seed) -> validation MSE per photo
    weights: list[dict]  # {"loss", "seed", "fit", "models", "raw", "normalised"} per NNLS fit
    originals: dict[str, float]  # vividness and believability of the validation photos themselves
    image_size: int
    n_validation: int
    n_calibration: int
    states: dict[str, dict] = field(default_factory=dict)  # run name -> checkpoint metadata (no weights)
    rule_fits: list[dict] = field(default_factory=list)  # {"loss", "seed", "models", "weights", "pixels"}
    boosts: list[dict] = field(default_factory=list)  # {"loss", "seed", model: k} of the boosted baseline
    test_rows: list[dict] = field(default_factory=list)  # as rows, on the test photos
    test_photos: dict[tuple[str, str, int], PhotoValues] = field(default_factory=dict)  # as per_photo, all values
    test_names: list[str] = field(default_factory=list)  # the test photos, in the order of every per-photo array
    test_originals: dict[str, float] = field(default_factory=dict)
    test_original_photos: PhotoValues | None = None  # the test photos' own colourfulness and believability terms

    @property
    def n_test(self) -> int:
        return len(self.test_names)

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


@dataclass
class _Fits:
    """What a (loss, seed) group fitted on the calibration photos, to apply to validation and test."""

    nnls: dict[str, tuple[Sequence[str], np.ndarray, np.ndarray]]  # fit -> (members, raw, normalised)
    learned: HueBandWeights | None
    scales: dict[str, float] = field(default_factory=dict)  # boosted model -> its k


def _fit(cal_preds: Mapping[str, torch.Tensor], cal) -> _Fits:
    """NNLS blend weights, the hue-band rule and the boosted baseline's scales, fitted on the calibration
    photos' predictions and colours: the only data they are given (nothing without calibration photos)."""
    out = _Fits({}, None)
    for name, members in FITTED.items():
        if not all(m in cal_preds for m in members):
            continue
        raw = nnls_weights([cal_preds[m] for m in members], cal.ab, cal.infos)
        norm = normalize_weights(raw) if raw.sum() > 0 else np.full(len(members), 1.0 / len(members))
        out.nnls[name] = (members, raw, norm)
    if all(m in cal_preds for m in MEMBERS):
        out.learned = fit_hue_bands(torch.stack([cal_preds[m] for m in MEMBERS]), cal.ab, cal.infos)
    if "baseline" in cal_preds:
        base, own = cal_preds["baseline"], photo_colourfulness(cal.lightness, cal.ab, cal.infos).mean()
        out.scales[BOOSTED_VIVID] = fit_k_vivid(base, cal.lightness, cal.infos, own)
        if all(m in cal_preds for m in MEMBERS):
            mean = blend(torch.stack([cal_preds[m] for m in MEMBERS]), [1.0] * len(MEMBERS))
            out.scales[BOOSTED_SAME] = fit_k_same(base, cal.ab, cal.infos, photo_mse(mean, cal.ab, cal.infos).mean())
        out.scales = {m: k for m, k in out.scales.items() if k is not None}
    return out


def _derived(preds: Mapping[str, torch.Tensor], fitted: _Fits) -> Iterator[tuple[str, torch.Tensor]]:
    """The equal-weight and NNLS ensembles, every combination rule whose members are present and the
    boosted baseline, one at a time (so only one derived prediction is held besides the members)."""
    for name, members in {**COMBINED_MODELS, ALL_COMBINED: ALL_SIX, AXIS_COMBINED: AXES}.items():
        if all(m in preds for m in members):
            yield name, blend(torch.stack([preds[m] for m in members]), [1.0] * len(members))
    for name, (members, raw, norm) in fitted.nnls.items():
        yield name, weighted_sum([preds[m] for m in members], raw)
        yield f"{name}-sum1", weighted_sum([preds[m] for m in members], norm)
    if all(m in preds for m in MEMBERS):
        stack = torch.stack([preds[m] for m in MEMBERS])
        for name, rule in fixed_rules().items():
            if name != "mean":
                yield rule_model(name), rule(stack)
        if fitted.learned is not None:
            yield LEARNED_RULE, fitted.learned(stack)
    for name, k in fitted.scales.items():
        yield name, vivid(preds["baseline"], k)


def _references(manifest: Mapping, data_dir: Path, size: int, split, seed: int, cache: dict) -> dict[str, torch.Tensor]:
    """grey, and constant: the mean ab of the baseline draw the seed's baseline trains on (cached)."""
    name = baseline_set(seed) if baseline_set(seed) in manifest["sets"] else "baseline"
    if name not in cache:
        cache[name] = mean_ab(manifest, data_dir, size, name)
    return {"grey": grey_prediction(split.lightness), "constant": constant_prediction(split.lightness, cache[name])}


def _originals(split, terms: PhotoTerms) -> tuple[dict[str, float], PhotoValues]:
    """The photos' own vividness and believability (0 distance, patchiness 1), and per photo."""
    own = score_set(split.lightness, split.ab, split.ab, split.infos)
    values = PhotoValues(np.zeros(len(own)), np.array([s.colourfulness for s in own]), terms)
    means = {"colourfulness": float(values.colourfulness.mean()), "chroma": float(np.mean([s.chroma for s in own]))}
    return {**means, **pooled_believability(terms, terms)}, values


def evaluate_study(
    manifest: Mapping,
    data_dir: Path,
    study_dir: Path,
    runs: Sequence[Run],
    *,
    device: str = "cpu",
    progress: bool = True,
) -> StudyResults:
    """Score every run, the paper's ensembles, the fitted ones, the rules and the references on the
    validation photos and, when the manifest has them, on the test photos (fits on calibration only).

    Works one (loss, seed) group at a time, so only one group's predictions are held in memory.
    """
    missing = [r for r in runs if not checkpoint_file(study_dir, r).is_file()]
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
    splits = {"validation": load_validation(manifest, data_dir, size)}
    if manifest["sets"].get("test"):
        splits["test"] = load_validation(manifest, data_dir, size, "test")
    cal = load_validation(manifest, data_dir, size, CALIBRATION) if manifest["sets"].get(CALIBRATION) else None
    true_terms = {name: photo_terms(split.ab, split.infos) for name, split in splits.items()}
    rows: dict[str, list[dict]] = {name: [] for name in splits}
    per_photo: dict[str, dict] = {name: {} for name in splits}
    weights, rule_fits, boosts, means = [], [], [], {}
    bar = tqdm(total=len(runs) * len(splits), desc="predicting", unit="model", disable=not progress)
    for (loss, seed), group in _group_runs(runs).items():
        models = {r.model: TrainedColorizer(checkpoint_file(study_dir, r), r.model, device) for r in group}
        cal_preds = {m: c.predict_ab(cal.lightness) for m, c in models.items() if cal is not None and m in ALL_SIX}
        fitted = _fit(cal_preds, cal)
        weights += [
            {"loss": loss, "seed": seed, "fit": name, "models": list(members), "raw": raw.tolist(),
             "normalised": norm.tolist()}
            for name, (members, raw, norm) in fitted.nnls.items()
        ]  # fmt: skip
        boosts.append({"loss": loss, "seed": seed, **fitted.scales})
        if fitted.learned is not None:
            rule_fits.append(
                {"loss": loss, "seed": seed, "models": list(MEMBERS), "weights": fitted.learned.weights.tolist(),
                 "pixels": fitted.learned.pixels.tolist()}
            )  # fmt: skip
        for split_name, split in splits.items():
            preds = {m: c.predict_ab(split.lightness) for m, c in models.items()}
            bar.update(len(preds))
            refs = _references(manifest, data_dir, size, split, seed, means)
            group_rows = []
            for model_name, pred in chain(preds.items(), _derived(preds, fitted), refs.items()):
                summary, values = score_photos(split, pred, true_terms[split_name])
                group_rows.append({"loss": loss, "model": model_name, "seed": seed, **summary})
                per_photo[split_name][(loss, model_name, seed)] = values
            grey_mse = next(r["mse"] for r in group_rows if r["model"] == "grey")
            rows[split_name] += [{**r, "skill": skill(r["mse"], grey_mse)} for r in group_rows]
    bar.close()
    val = splits["validation"]
    results = StudyResults(
        rows=rows["validation"],
        per_photo={k: v.mse for k, v in per_photo["validation"].items()},
        weights=weights,
        originals=_originals(val, true_terms["validation"])[0],
        image_size=size,
        n_validation=len(val.names),
        n_calibration=len(cal.names) if cal is not None else 0,
        states=states,
        rule_fits=rule_fits,
        boosts=boosts,
    )
    if "test" in splits:
        results.test_rows, results.test_photos = rows["test"], per_photo["test"]
        results.test_names = list(splits["test"].names)
        results.test_originals, results.test_original_photos = _originals(splits["test"], true_terms["test"])
    return results
