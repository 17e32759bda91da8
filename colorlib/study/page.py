"""The beyond page (notebooks/beyond.ipynb): every table, figure and finding of the study from one
evaluation (each piece is computed in the modules it imports; this one puts them together). Its
parameters, whether the study was built and the page shown before it was are :mod:`.status`'s.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .. import ALL_MODELS
from ..data import load_set, manifest_hash
from ..errors import UserError
from ..pages import resolve_inputs, training_table
from ..pages.markdown import markdown_list, markdown_table
from ..paper.figures import contact_sheet
from .heldout import intervals_verdict, rule_intervals, rule_intervals_table
from .plots import rules_front_intervals, seed_strip, vividness_errorbars
from .report import (
    axis_table,
    claims_table,
    findings,
    loss_comparison_table,
    mean_std_table,
    per_seed_table,
    write_findings,
)
from .runs import ALL_COMBINED, AXES, AXIS_COMBINED, AXIS_NAMES, MEMBERS
from .scoring import evaluate_study
from .statistics import blend_comparison, check_claims, paper_claims
from .status import BeyondParameters, not_built_reason

VIVID_MODELS = (*ALL_MODELS, "bgy-nnls", AXIS_COMBINED, "grey")
NOISE_MODELS = (*ALL_MODELS, ALL_COMBINED, "bgy-nnls", "all-nnls", "grey", "constant")


class BeyondPage:
    """Every table, figure and finding of the beyond page, from one evaluation of the study."""

    def __init__(
        self, params: BeyondParameters, data_dir: str | Path = "", *, device: str = "cpu", progress: bool = True
    ):
        """The page of the study `params` name; a study not (or not fully) built is a one-line UserError
        that says what is missing and the command that builds it."""
        status = params.status()
        if not status.built:
            raise UserError(f"the study is not built: {not_built_reason(status)}; run `{params.build_command}`")
        self.manifest, self.data_dir = resolve_inputs(params.study_dir / "manifest.json", data_dir)
        self.results = evaluate_study(
            self.manifest, self.data_dir, params.study_dir, params.runs, device=device, progress=progress
        )
        second_loss = params.second_loss
        self.second_loss = second_loss if second_loss and any(r.loss == second_loss for r in params.runs) else None
        self.claims = check_claims(self.results, paper_claims())
        self.blends = blend_comparison(self.results)
        self.test_rules = rule_intervals(self.results)  # empty when the manifest has no test photos
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
            f"{self.results.n_validation} validation and {self.results.n_calibration} calibration photos"
            + (f", and {self.results.n_test} test photos." if self.results.n_test else ".")
        )
        if size < 256:
            text += (
                f" The paper worked at 256 × 256 px: this part runs at {size} px so that its "
                f"{len(self.results.states)} training runs fit in the CPU time we had, so its numbers are not "
                "on the scale of Table I and are compared only with each other. On a GPU, "
                "`make beyond BEYOND_IMAGE_SIZE=256` repeats it at the paper's size."
            )
        return text

    def provenance(self, profile: str) -> str:
        return training_table(self.results.states, profile, manifest_hash(self.manifest))

    def noise_table(self) -> str:
        return mean_std_table(self.results, NOISE_MODELS)

    def per_seed_table(self) -> str:
        return per_seed_table(self.results, NOISE_MODELS)

    def seed_strip(self) -> Figure:
        return seed_strip(self.results, ALL_MODELS)

    def vividness_table(self) -> str:
        return mean_std_table(self.results, VIVID_MODELS, metrics=("colourfulness", "chroma", "mse"))

    def vividness_plot(self) -> Figure:
        return vividness_errorbars(self.results, VIVID_MODELS)

    def test_rules_table(self) -> str:
        if not self.test_rules:
            return "The manifest has no test photos: only the validation table below is available."
        return rule_intervals_table(self.results, self.test_rules)

    def test_rules_plot(self) -> Figure | None:
        return rules_front_intervals(self.results, self.test_rules) if self.test_rules else None

    def test_rules_verdict(self) -> str:
        return intervals_verdict(self.test_rules, self.results.n_test) if self.test_rules else ""

    def axis_sheet(self, axis: str) -> Figure:
        named = load_set(self.manifest, axis, self.data_dir)
        captions = [f"{name}\n{axis} {self.manifest['axis_scores'][name][axis]:.2f}" for name, _ in named]
        title = f"{axis}: the {len(named)} photos most dominated by {AXIS_NAMES[axis]} (caption: {axis} score)"
        return contact_sheet([rgb for _, rgb in named], captions, 8, title)

    def axis_scores_table(self) -> str:
        rep = self.manifest["report"]["study"]
        rows = []
        for axis in AXES:
            means = rep["set_mean_axis_scores"][axis]
            shared = rep["overlap_with_paper_sets"].get(axis, {})
            overlap = ", ".join(f"{n} {k}" for k, n in shared.items() if k in MEMBERS) or "none"
            mean_scores = [f"{means[b]:.3f}" for b in AXES]
            rows.append([axis, AXIS_NAMES[axis], str(rep["axis_eligible"][axis]), *mean_scores, overlap])
        folder = rep["folder_mean_axis_scores"]
        rows.append(["(all candidates)", "", str(rep["axis_candidates"])] + [f"{folder[b]:.3f}" for b in AXES] + [""])
        head = ["set", "colour", "eligible photos", *[f"mean {b}" for b in AXES], "shared with blue/yellow/green"]
        return markdown_table(head, rows, ["---", "---", "---:", "---:", "---:", "---:", "---:", "---"])

    def axis_table(self) -> str:
        return axis_table(self.results, min(self.results.seeds(AXIS_COMBINED) or [0]))

    def loss_table(self) -> str:
        if not self.second_loss:
            return "No second loss was trained (second_loss is empty)."
        return loss_comparison_table(self.results, self.second_loss, min(self.results.seeds("bgy", self.second_loss)))

    def loss_claims_table(self) -> str:
        return claims_table(self.second_claims, show_metric=True) if self.second_claims else ""

    def findings_list(self) -> str:
        """The findings as a Markdown list, as findings-beyond.md holds them."""
        return markdown_list(self.findings())

    def write_files(self, folder: str | Path) -> list[Path]:
        """findings-beyond.md, the findings the book's closing note quotes, into `folder`."""
        return [write_findings(Path(folder), self.findings())]

    def findings(self) -> list[str]:
        return findings(self.results, self.claims, self.blends, self.second_loss, self.second_claims, self.test_rules)
