"""Beyond the paper: seed noise, measured vividness, fitted blend weights and the paper's follow-ups.

Klefbom & Mjöberg trained each model once and judged vividness by eye. This package holds the logic of a
larger study that tests their conclusions properly, on a *study manifest* (:mod:`.manifest`): the paper's
sets verbatim, calibration photos for the fitted weights and scales, further baseline draws (one per seed)
and the sets of photos dominated by one half-axis of Lab's colour plane (the follow-up the paper proposes).
The study trains every model over several seeds (and a second loss), and :func:`evaluate_study` scores all
of them, their equal-weight ensembles and ensembles with non-negative least-squares weights fitted on
calibration.

The modules, in the order the study runs: :mod:`.runs`, :mod:`.axes`, :mod:`.manifest`, :mod:`.scoring`,
:mod:`.statistics`, :mod:`.heldout` (the rules on the test photos), :mod:`.report`, :mod:`.plots` and
:mod:`.page` (the beyond page). This namespace re-exports what the notebooks, the tests and the benchmarks use.
"""

from .axes import axis_scores, dominant_axis
from .manifest import StudyParams, format_study_report, make_study_manifest, prepare
from .page import (
    BeyondPage,
    BeyondParameters,
    check_parameters,
    not_built_markdown,
    not_built_page,
    not_built_reason,
    study_status,
)
from .plots import rules_front
from .report import (
    blend_table,
    claims_table,
    heldout_findings,
    mean_std_table,
    per_seed_table,
    rules_table,
    rules_verdict,
    weights_table,
)
from .runs import AXES, BOOSTED, CALIBRATION, LEARNED_RULE, Run, checkpoint_file, parse_seeds, study_runs
from .scoring import StudyResults, evaluate_study, nnls_weights, weighted_sum
from .statistics import check_claims, mean_std, paper_claims, rule_models, rule_verdicts, seed_stats

__all__ = [
    "AXES",
    "BOOSTED",
    "BeyondPage",
    "BeyondParameters",
    "CALIBRATION",
    "LEARNED_RULE",
    "Run",
    "StudyParams",
    "StudyResults",
    "axis_scores",
    "blend_table",
    "check_claims",
    "check_parameters",
    "checkpoint_file",
    "claims_table",
    "dominant_axis",
    "evaluate_study",
    "format_study_report",
    "heldout_findings",
    "make_study_manifest",
    "mean_std",
    "mean_std_table",
    "nnls_weights",
    "not_built_markdown",
    "not_built_page",
    "not_built_reason",
    "paper_claims",
    "parse_seeds",
    "per_seed_table",
    "prepare",
    "rule_models",
    "rule_verdicts",
    "rules_front",
    "rules_table",
    "rules_verdict",
    "seed_stats",
    "study_runs",
    "study_status",
    "weighted_sum",
    "weights_table",
]
