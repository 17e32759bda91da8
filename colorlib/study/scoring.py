"""Scoring the study: every run's validation predictions, the equal-weight ensembles and the ones
with non-negative least-squares weights fitted on calibration, the combination rules of
:mod:`colorlib.rules` over blue, yellow and green (the learned one fitted on calibration), and the
references grey and constant, scored one (loss, seed) at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import nnls
from tqdm.auto import tqdm

from .. import COMBINED_MODELS
from ..believability import believability
from ..checkpoint import load_checkpoint
from ..ensemble import TrainedColorizer, blend, normalize_weights
from ..errors import UserError
from ..evaluate import load_validation
from ..lab import PadInfo, unpad
from ..metrics import PhotoScores, original_scores, score_set, summarize
from ..references import constant_prediction, grey_prediction, mean_ab, skill
from ..rules import fit_hue_bands, fixed_rules
from .runs import (
    ALL_COMBINED,
    ALL_SIX,
    AXES,
    AXIS_COMBINED,
    CALIBRATION,
    FITTED,
    LEARNED_RULE,
    MEMBERS,
    Run,
    baseline_set,
    checkpoint_file,
    missing_runs,
    rule_model,
)


def mean_abs_error(pred: np.ndarray, target: np.ndarray, info: PadInfo) -> float:
    """L1 of normalised ab over the photo's area (padding excluded): the second loss, as a metric."""
    p = unpad(np.asarray(pred).transpose(1, 2, 0), info)
    t = unpad(np.asarray(target).transpose(1, 2, 0), info)
    return float(np.mean(np.abs(p.astype(np.float64) - t)))


def score_predictions(split, pred: torch.Tensor) -> tuple[dict[str, float], np.ndarray]:
    """(mean scores incl. "l1" and believability, per-photo MSE) of a prediction of a split
    (evaluate.ValidationSet)."""
    per_photo: list[PhotoScores] = score_set(split.lightness, pred, split.ab, split.infos)
    summary = {**summarize(per_photo), **believability(pred, split.ab, split.infos)}
    summary["l1"] = float(
        np.mean([mean_abs_error(pred[i].numpy(), split.ab[i].numpy(), info) for i, info in enumerate(split.infos)])
    )
    return summary, np.array([s.mse for s in per_photo])


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
    originals: dict[str, float]  # vividness and believability of the validation photos themselves
    image_size: int
    n_validation: int
    n_calibration: int
    states: dict[str, dict] = field(default_factory=dict)  # run name -> checkpoint metadata (no weights)
    rule_fits: list[dict] = field(default_factory=list)  # {"loss", "seed", "models", "weights", "pixels"}

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
            out[name] = blend(torch.stack([val_preds[m] for m in members]), [1.0] * len(members))
    for name, members in FITTED.items():
        if cal is None or not all(m in val_preds and m in cal_preds for m in members):
            continue
        raw = nnls_weights([cal_preds[m] for m in members], cal.ab, cal.infos)
        norm = normalize_weights(raw) if raw.sum() > 0 else np.full(len(members), 1.0 / len(members))
        fits.append({"fit": name, "models": list(members), "raw": raw.tolist(), "normalised": norm.tolist()})
        out[name] = weighted_sum([val_preds[m] for m in members], raw)
        out[f"{name}-sum1"] = weighted_sum([val_preds[m] for m in members], norm)
    return out


def _rules(
    val_preds: Mapping[str, torch.Tensor], cal_preds: Mapping[str, torch.Tensor], cal, fits: list[dict]
) -> dict[str, torch.Tensor]:
    """Every combination rule over blue, yellow and green (validation preds); the learned rule is
    fitted on the calibration photos' predictions and colours, the only data it is given."""
    if not all(m in val_preds for m in MEMBERS):
        return {}
    stack = torch.stack([val_preds[m] for m in MEMBERS])
    out = {rule_model(name): rule(stack) for name, rule in fixed_rules().items() if name != "mean"}
    if cal is not None and all(m in cal_preds for m in MEMBERS):
        learned = fit_hue_bands(torch.stack([cal_preds[m] for m in MEMBERS]), cal.ab, cal.infos)
        fits.append({"models": list(MEMBERS), "weights": learned.weights.tolist(), "pixels": learned.pixels.tolist()})
        out[LEARNED_RULE] = learned(stack)
    return out


def _references(manifest: Mapping, data_dir: Path, size: int, val, seed: int, cache: dict) -> dict[str, torch.Tensor]:
    """grey, and constant: the mean ab of the baseline draw the seed's baseline trains on (cached)."""
    name = baseline_set(seed) if baseline_set(seed) in manifest["sets"] else "baseline"
    if name not in cache:
        cache[name] = mean_ab(manifest, data_dir, size, name)
    return {"grey": grey_prediction(val.lightness), "constant": constant_prediction(val.lightness, cache[name])}


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
    rows, per_photo, weights, rule_fits, means = [], {}, [], [], {}
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
        learned: list[dict] = []
        preds = {
            **val_preds,
            **_ensembles(val_preds, cal_preds, cal, fits),
            **_rules(val_preds, cal_preds, cal, learned),
        }
        preds |= _references(manifest, data_dir, size, val, seed, means)
        weights += [{"loss": loss, "seed": seed, **f} for f in fits]
        rule_fits += [{"loss": loss, "seed": seed, **f} for f in learned]
        group_rows = []
        for model_name, pred in preds.items():
            summary, photo_mse = score_predictions(val, pred)
            group_rows.append({"loss": loss, "model": model_name, "seed": seed, **summary})
            per_photo[(loss, model_name, seed)] = photo_mse
        grey_mse = next(r["mse"] for r in group_rows if r["model"] == "grey")
        rows += [{**r, "skill": skill(r["mse"], grey_mse)} for r in group_rows]
    bar.close()
    return StudyResults(
        rows=rows,
        per_photo=per_photo,
        weights=weights,
        originals={**original_scores(val.lightness, val.ab, val.infos), **believability(val.ab, val.ab, val.infos)},
        image_size=size,
        n_validation=len(val.names),
        n_calibration=len(cal.names) if cal is not None else 0,
        states=states,
        rule_fits=rule_fits,
    )
