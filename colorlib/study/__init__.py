"""Beyond the paper: seed noise, measured vividness, fitted blend weights and the paper's follow-ups.

Klefbom & Mjöberg trained each model once and judged vividness by eye. This module holds the logic
of a larger study that tests their conclusions properly, on a *study manifest* that extends the
paper's manifest:

- the paper's sets and validation photos, verbatim (so the paper's comparisons are repeated as is);
- ``calibration``: photos for fitting blend weights and the boosted baseline's scales, disjoint from
  validation and every training set (the paper manifest's own calibration set where it has one);
- ``baseline-1``, ``baseline-2``, ...: further random draws of the baseline's size, one per seed;
- ``a+``, ``a-``, ``b+``, ``b-``: photos dominated by one half-axis of Lab's colour plane (magenta/red,
  green/cyan, yellow, blue; the follow-up the paper proposes) and ``ab``, their union.

Every new set avoids the validation and test photos and their duplicate groups. The study then trains every
model over several seeds (and a second loss), and :func:`evaluate_study` scores all of them, their
equal-weight ensembles and ensembles with non-negative least-squares weights fitted on calibration.
``colorlib study prepare ...`` writes the study manifest (:mod:`.manifest`).

The modules, in the order the study runs: :mod:`.runs` (names, runs, checkpoint files),
:mod:`.axes` (axis scores), :mod:`.manifest` (the study manifest), :mod:`.scoring` (predictions,
NNLS blends, scores), :mod:`.statistics` (over seeds, claims), :mod:`.heldout` (the rules on the
test photos, with intervals), :mod:`.report` (tables, findings),
:mod:`.plots` (figures), :mod:`.status` (the beyond page's parameters, whether the study was built,
the page shown before it was) and :mod:`.page` (the beyond page). This namespace re-exports what the
notebooks, the tests and the benchmarks use.
"""

from .axes import axis_scores, dominant_axis, score_axes
from .heldout import intervals_verdict, resample_counts, rule_intervals, rule_intervals_table
from .manifest import StudyParams, format_study_report, is_study_manifest, make_study_manifest, prepare
from .page import NOISE_MODELS, VIVID_MODELS, BeyondPage
from .plots import axis_caption, rules_front, rules_front_intervals, seed_strip, vividness_errorbars
from .report import (
    axis_table,
    blend_table,
    claims_table,
    findings,
    heldout_findings,
    loss_comparison_table,
    mean_std_table,
    per_seed_table,
    rules_table,
    rules_verdict,
    weights_table,
    write_findings,
)
from .runs import (
    ALL_COMBINED,
    ALL_SIX,
    AXES,
    AXIS_COMBINED,
    AXIS_MODELS,
    AXIS_NAMES,
    AXIS_POOLED,
    AXIS_QUADRANTS,
    BOOSTED,
    CALIBRATION,
    FITTED,
    LEARNED_RULE,
    MEMBERS,
    METRIC_LABELS,
    RULE_METRICS,
    STUDY_FORMAT,
    STUDY_METRICS,
    Run,
    baseline_set,
    checkpoint_file,
    missing_runs,
    parse_seeds,
    rule_model,
    study_runs,
    temperature_curve,
)
from .scoring import (
    PhotoValues,
    StudyResults,
    evaluate_study,
    mean_abs_error,
    nnls_weights,
    score_predictions,
    weighted_sum,
)
from .statistics import (
    Claim,
    MeanStd,
    blend_comparison,
    check_claims,
    mean_std,
    paper_claims,
    rule_models,
    rule_verdicts,
    seed_stats,
)
from .status import (
    BeyondParameters,
    StudyStatus,
    check_parameters,
    not_built_markdown,
    not_built_page,
    not_built_reason,
    study_status,
)

__all__ = [
    "ALL_COMBINED",
    "ALL_SIX",
    "AXES",
    "AXIS_COMBINED",
    "AXIS_MODELS",
    "AXIS_NAMES",
    "AXIS_POOLED",
    "AXIS_QUADRANTS",
    "BeyondPage",
    "BeyondParameters",
    "BOOSTED",
    "CALIBRATION",
    "Claim",
    "FITTED",
    "MEMBERS",
    "METRIC_LABELS",
    "MeanStd",
    "NOISE_MODELS",
    "LEARNED_RULE",
    "RULE_METRICS",
    "Run",
    "STUDY_FORMAT",
    "STUDY_METRICS",
    "StudyParams",
    "StudyResults",
    "StudyStatus",
    "VIVID_MODELS",
    "axis_caption",
    "axis_scores",
    "axis_table",
    "baseline_set",
    "blend_comparison",
    "blend_table",
    "check_claims",
    "check_parameters",
    "checkpoint_file",
    "claims_table",
    "dominant_axis",
    "evaluate_study",
    "findings",
    "format_study_report",
    "is_study_manifest",
    "loss_comparison_table",
    "make_study_manifest",
    "mean_abs_error",
    "mean_std",
    "mean_std_table",
    "missing_runs",
    "nnls_weights",
    "not_built_markdown",
    "not_built_page",
    "not_built_reason",
    "paper_claims",
    "PhotoValues",
    "intervals_verdict",
    "resample_counts",
    "rule_intervals",
    "rule_intervals_table",
    "rules_front_intervals",
    "heldout_findings",
    "parse_seeds",
    "per_seed_table",
    "rule_model",
    "rule_models",
    "rule_verdicts",
    "rules_front",
    "rules_table",
    "rules_verdict",
    "prepare",
    "score_axes",
    "score_predictions",
    "seed_stats",
    "seed_strip",
    "study_runs",
    "study_status",
    "temperature_curve",
    "vividness_errorbars",
    "weighted_sum",
    "weights_table",
    "write_findings",
]
