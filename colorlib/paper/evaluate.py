"""Table I: every model scored on the validation photos, next to the paper's numbers, with the
trivial references grey and constant (:mod:`colorlib.scoring.no_skill`), the baseline boosted by the scales fitted
on the calibration photos (:mod:`.vividness`) and the believability measures (:mod:`.believability`)
beside the paper's loss."""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import ALL_MODELS, COMBINED_MODELS
from ..checkpoint import checkpoint_path, load_checkpoint
from ..data import load_set, manifest_hash
from ..ensemble import TrainedColorizer, blend, expand_model_names, vivid
from ..errors import UserError
from ..lab import PadInfo, preprocess_batch
from ..pages.markdown import markdown_table
from ..scoring.believability import believability
from ..scoring.intervals import mean_interval
from ..scoring.metrics import METRICS, PhotoScores, original_scores, score_set, summarize
from ..scoring.no_skill import constant_prediction, grey_prediction, mean_ab, skill
from ..scoring.vividness import fit_k_mse, fit_k_same, fit_k_vivid, photo_colourfulness, photo_mse
from . import PAPER_TABLE_I

log = logging.getLogger(__name__)


@dataclass
class ValidationSet:
    names: list[str]
    photos: list[np.ndarray]  # uint8 RGB at their own resolution
    lightness: torch.Tensor  # (N, 1, S, S)
    ab: torch.Tensor  # (N, 2, S, S)
    infos: list[PadInfo]


def load_validation(manifest: dict, data_dir: Path, size: int, set_name: str = "validation") -> ValidationSet:
    """The validation photos, decoded and prepared at the working size."""
    named = load_set(manifest, set_name, data_dir)
    photos = [rgb for _, rgb in named]
    lightness, ab, infos = preprocess_batch(photos, size)
    return ValidationSet([n for n, _ in named], photos, torch.from_numpy(lightness), torch.from_numpy(ab), infos)


def checkpoint_files(checkpoint_dir: Path, models) -> dict[str, Path]:
    """The checkpoint of each trained model the names stand for; a missing one is a UserError."""
    files = {m: checkpoint_path(checkpoint_dir, m) for m in expand_model_names(models)}
    missing = [m for m, path in files.items() if not path.is_file()]
    if missing:
        raise UserError(f"no checkpoint for {', '.join(sorted(missing))} in {checkpoint_dir}; train them first")
    return files


def predict_models(checkpoint_dir: Path, lightness: torch.Tensor, models, device: str) -> dict[str, torch.Tensor]:
    """ab predictions of each named model; combined models are equal-weight blends of members."""
    files = checkpoint_files(checkpoint_dir, models)
    preds = {m: TrainedColorizer(path, m, device).predict_ab(lightness) for m, path in files.items()}
    for m, members in COMBINED_MODELS.items():
        if m in models:
            preds[m] = blend(torch.stack([preds[x] for x in members]), [1.0] * len(members))
    return {m: preds[m] for m in models}


BOOSTED = "baseline"  # the model the boosted rows scale
SAME_ERROR = "bgy-combined"  # the boosted baseline is also compared with this model at the same error
K_CURVE = tuple(np.linspace(0.0, 3.0, 13))  # the scales of the boosted baseline's curve on the test photos


@dataclass(frozen=True)
class Boost:
    """The baseline's scales, fitted on the calibration photos (:mod:`colorlib.scoring.vividness`)."""

    n_photos: int
    originals: float  # the calibration photos' own mean colourfulness: k_vivid's target
    k_mse: float
    k_vivid: float | None  # None: no k up to K_MAX is that colourful
    same_error: float  # SAME_ERROR's mean MSE on the calibration photos: k_same's target
    k_same: float | None  # None: no k from k_mse up to K_MAX has that error

    def rows(self) -> dict[str, float]:
        """Table I's rows of the boosted baseline: label -> k."""
        scales = {"vivid": self.k_vivid, "MSE": self.k_mse}
        return {f"{BOOSTED} ×{k:.2f} ({why})": k for why, k in scales.items() if k is not None}

    def scales(self) -> list[float]:
        """Every k scored on the test photos: the curve's and the fitted ones."""
        return sorted({*K_CURVE, *(k for k in (self.k_mse, self.k_vivid, self.k_same) if k is not None)})


def fit_boost(manifest: dict, data_dir: Path, checkpoint_dir: Path, size: int, device: str = "cpu") -> Boost:
    """k_mse, k_vivid and k_same of the baseline, fitted on the manifest's calibration photos only."""
    cal = load_validation(manifest, data_dir, size, "calibration")
    preds = predict_models(checkpoint_dir, cal.lightness, (BOOSTED, SAME_ERROR), device)
    base = preds[BOOSTED]
    originals = float(photo_colourfulness(cal.lightness, cal.ab, cal.infos).mean())
    same = float(photo_mse(preds[SAME_ERROR], cal.ab, cal.infos).mean())
    return Boost(
        n_photos=len(cal.names),
        originals=originals,
        k_mse=fit_k_mse(base, cal.ab, cal.infos),
        k_vivid=fit_k_vivid(base, cal.lightness, cal.infos, originals),
        same_error=same,
        k_same=fit_k_same(base, cal.ab, cal.infos, same),
    )


@dataclass
class Evaluation:
    validation: ValidationSet
    predictions: dict[str, torch.Tensor]
    per_photo: dict[str, list[PhotoScores]]
    summary: dict[str, dict[str, float]]
    originals: dict[str, float]
    test_mse: dict[str, np.ndarray] = field(default_factory=dict)  # per-photo MSE on the test set, if any
    test_colour: dict[str, np.ndarray] = field(default_factory=dict)  # per-photo colourfulness, the same
    test_originals: np.ndarray | None = None  # the test photos' own colourfulness
    boost: Boost | None = None  # the baseline's fitted scales, when the manifest has calibration photos
    curve: dict[float, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # k -> test (MSE, colour)


def reference_predictions(lightness: torch.Tensor, constant_ab: np.ndarray) -> dict:
    """grey (ab = 0) and constant (the baseline's training photos' mean ab) for a batch of L."""
    return {"grey": grey_prediction(lightness), "constant": constant_prediction(lightness, constant_ab)}


TEST_CHUNK = 32  # test photos predicted at once (a few hundred photos do not fit in memory at once)


def score_test(
    ev: Evaluation, manifest: dict, data_dir: Path, checkpoint_dir: Path, models, size: int, constant_ab, device: str
) -> None:
    """Fill in `ev`'s test fields: per-photo MSE and colourfulness of every model (and the references, given
    constant_ab) on the test set, the photos' own colourfulness, and (given ev.boost) the boosted baseline's
    curve, its (MSE, colourfulness) at every k of ev.boost.scales()."""
    boosted = ev.boost
    named = load_set(manifest, "test", data_dir)
    ks = boosted.scales() if boosted is not None else []
    mse, colour = defaultdict(list), defaultdict(list)
    originals: list[float] = []
    for start in range(0, len(named), TEST_CHUNK):
        lightness, ab, infos = preprocess_batch([rgb for _, rgb in named[start : start + TEST_CHUNK]], size)
        light, true = torch.from_numpy(lightness), torch.from_numpy(ab)
        preds: dict = predict_models(checkpoint_dir, light, models, device)
        if constant_ab is not None:
            preds.update(reference_predictions(light, constant_ab))
        preds.update({k: vivid(preds[BOOSTED], k) for k in ks})
        for m, p in preds.items():
            mse[m] += list(photo_mse(p, true, infos))
            colour[m] += list(photo_colourfulness(light, p, infos))
        originals += list(photo_colourfulness(light, true, infos))
    curve = {k: (np.array(mse.pop(k)), np.array(colour.pop(k))) for k in ks}
    for label, k in (boosted.rows() if boosted is not None else {}).items():
        mse[label], colour[label] = curve[k]
    ev.test_mse, ev.test_colour = ({m: np.array(v) for m, v in d.items()} for d in (mse, colour))
    ev.test_originals, ev.curve = np.array(originals), curve


def evaluate(
    manifest: dict,
    data_dir: Path,
    checkpoint_dir: Path,
    models=ALL_MODELS,
    device: str = "cpu",
    references: bool = True,
    test: bool = True,
    other_manifest: bool = False,
) -> Evaluation:
    """Score every model (and, unless told not to, grey and constant) on the validation set, and on
    the test set when the manifest has one and `test` is on (the explorer needs validation only).
    With the references and calibration photos, the baseline boosted by its scales fitted there gets rows
    too (:class:`Boost`); with grey, every row its skill, 1 − MSE / MSE(grey). Checkpoints trained on
    another manifest are refused unless other_manifest (:func:`checked_image_size`).
    """
    size = checked_image_size(manifest, checkpoint_dir, models, other_manifest)
    val = load_validation(manifest, data_dir, size)
    preds = predict_models(checkpoint_dir, val.lightness, models, device)
    fitted = None
    if references and manifest["sets"].get("calibration") and {BOOSTED, SAME_ERROR} <= set(models):
        fitted = fit_boost(manifest, data_dir, checkpoint_dir, size, device)
        preds.update({label: vivid(preds[BOOSTED], k) for label, k in fitted.rows().items()})
    constant_ab = mean_ab(manifest, data_dir, size) if references else None
    if references:
        preds.update(reference_predictions(val.lightness, constant_ab))
    ev = score_predictions(val, preds)
    ev.boost = fitted
    if test and manifest["sets"].get("test"):
        score_test(ev, manifest, data_dir, checkpoint_dir, models, size, constant_ab, device)
    return ev


def score_predictions(val: ValidationSet, preds: dict[str, torch.Tensor]) -> Evaluation:
    """Every prediction scored on the validation set (each row's skill when grey is among them)."""
    per_photo = {m: score_set(val.lightness, p, val.ab, val.infos) for m, p in preds.items()}
    summary = {m: {**summarize(s), **believability(preds[m], val.ab, val.infos)} for m, s in per_photo.items()}
    if "grey" in summary:
        for s in summary.values():
            s["skill"] = skill(s["mse"], summary["grey"]["mse"])
    originals = {**original_scores(val.lightness, val.ab, val.infos), **believability(val.ab, val.ab, val.infos)}
    return Evaluation(val, preds, per_photo, summary, originals)


def checked_image_size(manifest: dict, checkpoint_dir: Path, models, other_manifest: bool = False) -> int:
    """The models' working size, refusing checkpoints trained on another manifest than the one scored:
    their training photos may be among those scored (a leak no score would show; a checkpoint records only
    its manifest's hash), so that is a UserError, or with other_manifest a loud warning."""
    digest, sizes, other = manifest_hash(manifest), [], []
    for m, path in checkpoint_files(checkpoint_dir, models).items():
        state = load_checkpoint(path)
        sizes.append(int(state["model_config"]["image_size"]))
        if state.get("manifest_hash") != digest:
            other.append(m)
    if other and not other_manifest:
        raise UserError(
            f"{', '.join(other)} in {checkpoint_dir} trained on another manifest: their training photos may be among "
            "those scored; score them with their own manifest (or pass colorlib evaluate --allow-other-manifest)"
        )
    if other:
        log.warning("WARNING: %s trained on another manifest: their training photos may be scored", ", ".join(other))
    return sizes[0]


def table_rows(ev: Evaluation) -> list[dict]:
    """One row per model: our loss, the paper's loss, and the extra metrics."""
    rows = []
    for m, s in ev.summary.items():
        row = {"model": m, "paper_loss": PAPER_TABLE_I.get(m, math.nan), **{k: s.get(k, math.nan) for k in EXTRA}}
        row["mse_ci"] = _interval([p.mse for p in ev.per_photo.get(m, [])])
        row["test_mse"] = _interval(ev.test_mse.get(m, []), with_mean=True)
        rows.append(row)
    perfect = {"mse": 0.0, "psnr": math.inf, "delta_e": 0.0, "skill": 1.0}
    originals = {k: v for k, v in ev.originals.items() if k in EXTRA}
    unscored = {"model": "originals", "paper_loss": math.nan, **dict.fromkeys(EXTRA, math.nan)}
    return [*rows, unscored | perfect | originals | {"mse_ci": "–", "test_mse": "–"}]


def _interval(values, with_mean: bool = False) -> str:
    """The 95 % bootstrap interval over photos of a mean (after the mean itself if asked), as text."""
    if len(values) == 0:
        return "–"
    ci = mean_interval(np.asarray(values))
    return ci.fmt() if with_mean else f"[{ci.low:.4f}, {ci.high:.4f}]"


# Table I's scores besides the paper's loss: ours, the skill against grey, and the believability measures.
EXTRA = (*METRICS, "skill", "hist_distance", "patchiness")


COLUMNS = {
    "model": "model",
    "mse": "loss (ours, MSE)",
    "paper_loss": "loss (paper)",
    "mse_ci": "95 % CI",
    "test_mse": "test loss, 95 % CI",
    "skill": "skill vs grey",
    "psnr": "PSNR dB",
    "delta_e": "ΔE2000",
    "colourfulness": "colourfulness",
    "chroma": "mean chroma",
    "hist_distance": "colour distance",
    "patchiness": "patchiness",
}


def _fmt(key: str, value) -> str:
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞"
    return f"{value:.4f}" if key in ("mse", "paper_loss") else f"{value:.2f}"


def to_markdown(rows: list[dict], keys: tuple[str, ...] = tuple(COLUMNS)) -> str:
    """Table I (its columns `keys`) as a Markdown table (the model column left-aligned, the numbers right-aligned)."""
    return markdown_table([COLUMNS[k] for k in keys], [[_fmt(k, r[k]) for k in keys] for r in rows])


def loss_markdown(rows: list[dict]) -> str:
    """Table I as the results page shows it first: the paper's quantity, our validation loss with its
    interval beside the paper's, and the test loss with its interval (four columns, one line a row)."""

    def ours(r: dict) -> str:
        return _fmt("mse", r["mse"]) + ("" if r["mse_ci"] == "–" else f" {r['mse_ci']}")

    body = [[r["model"], ours(r), _fmt("paper_loss", r["paper_loss"]), r["test_mse"]] for r in rows]
    return markdown_table(["model", "loss (ours, MSE), 95 % CI", "loss (paper)", COLUMNS["test_mse"]], body)


MEASURES = ("skill", "psnr", "delta_e", "colourfulness", "chroma", "hist_distance", "patchiness")


def measures_markdown(rows: list[dict]) -> str:
    """Table I's other measures (skill, fidelity, vividness, believability) in a table of their own."""
    return to_markdown(rows, ("model", *MEASURES))


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
