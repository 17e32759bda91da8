"""The beyond page: its parameters checked, whether the study they name was built, and everything it shows.

The workflow executes one of two templates into the same page, both with these parameters:
``notebooks/beyond.ipynb`` (:class:`BeyondPage`: every table, figure and finding of the study from one
evaluation, each piece computed in the modules it imports) once the study is built (the plan's
``beyond_page_needs_study``), else ``notebooks/beyond-not-built.ipynb`` (:func:`not_built_page`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from .. import ALL_MODELS
from ..checkpoint import load_checkpoint
from ..data import load_set, manifest_hash, read_manifest
from ..errors import UserError
from ..pages import check_generated_dir, check_profile, resolve_inputs, training_table
from ..pages.markdown import markdown_list, markdown_table
from ..paper.figures import contact_sheet
from .heldout import intervals_verdict, rule_intervals, rule_intervals_table
from .manifest import is_study_manifest
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
from .runs import (
    ALL_COMBINED,
    AXES,
    AXIS_COMBINED,
    AXIS_NAMES,
    MEMBERS,
    SECOND_LOSSES,
    Run,
    checkpoint_file,
    parse_seeds,
    study_runs,
)
from .scoring import evaluate_study
from .statistics import blend_comparison, check_claims, paper_claims


def check_parameters(
    image_size: object, seeds: object, axis_seeds: object, second_loss: object, second_loss_seeds: object
) -> dict:
    """The study's sizes and seeds, checked and parsed; a mistake is a one-line UserError."""
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise UserError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    loss = str(second_loss or "").strip()
    if loss and loss not in SECOND_LOSSES:
        raise UserError(f"second_loss must be one of {', '.join(SECOND_LOSSES)} or empty, got {loss!r}")
    given = {"seeds": seeds, "axis_seeds": axis_seeds, "second_loss_seeds": second_loss_seeds}
    parsed = {name: parse_seeds(value, name) for name, value in given.items()}
    if not parsed["seeds"]:
        raise UserError("seeds must name at least one seed")
    return {"image_size": image_size, "second_loss": loss or None, **parsed}


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
    """Check the study's manifest and checkpoints without scoring anything. A run counts only when its
    checkpoint is complete, of this study manifest and at `image_size`: else studies would silently mix."""
    path = Path(study_dir) / "manifest.json"
    if not path.is_file():
        return StudyStatus(False, {r.name: "missing" for r in runs}, len(runs))
    manifest = read_manifest(path)
    if not is_study_manifest(manifest):
        raise UserError(f"{path} is not a study manifest: make it with `colorlib study prepare`")
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


def not_built_reason(status: StudyStatus) -> str:
    """What keeps the study from being shown, in words ("its manifest has not been made ...")."""
    if not status.manifest_found:
        return "its manifest has not been made and none of its training runs exist"
    if status.stale_manifest:
        return status.stale_manifest
    if not status.problems:
        return f"all {status.total} of its training runs are trained, but this book was built without them"
    reasons: dict[str, list[str]] = defaultdict(list)
    for name, why in status.problems.items():
        reasons[why.split(" (")[0]].append(name)
    listed = "; ".join(
        f"{why}: {', '.join(names[:4])}{', ...' if len(names) > 4 else ''}" for why, names in reasons.items()
    )
    return f"{len(status.problems)} of its {status.total} training runs cannot be used ({listed})"


def not_built_markdown(status: StudyStatus, command: str) -> str:
    """The short page shown when the study has not been run (or not to the end, or is stale)."""
    return (
        f"**This part was not built:** {not_built_reason(status)}. It trains {status.total} models besides the "
        f"paper's six, so the paper-scale book does not wait for it. Build it with\n\n```bash\n{command}\n```\n\n"
        "which trains what is missing (skipping what is done), executes this page again and rebuilds the book."
    )


@dataclass(frozen=True)
class BeyondParameters:
    """The beyond page's notebook parameters, checked (a mistake is a one-line UserError) and parsed."""

    study_dir: Path
    paper_manifest: Path
    generated_dir: Path
    profile: str
    image_size: int
    runs: tuple[Run, ...]
    second_loss: str | None
    build_command: str

    @classmethod
    def check(cls, *, study_dir, paper_manifest, generated_dir, profile, build_command, **study) -> BeyondParameters:
        """The notebook's parameters, by name; `study`: check_parameters's (image_size, the seeds, second_loss)."""
        check_profile("beyond", profile)  # the profiles this page knows: colorlib.pages.PAGE_PROFILES
        folder = check_generated_dir(generated_dir)
        p = check_parameters(**study)
        runs = study_runs(p["seeds"], p["axis_seeds"], p["second_loss"], p["second_loss_seeds"])
        return cls(
            Path(study_dir), Path(paper_manifest), folder, profile, p["image_size"], tuple(runs), p["second_loss"],
            str(build_command),
        )  # fmt: skip

    def status(self) -> StudyStatus:
        return study_status(self.study_dir, self.runs, self.image_size, self.paper_manifest)


def not_built_page(params: BeyondParameters) -> str:
    """The page's Markdown before the study was built (what is missing, the command that builds it), after
    writing the one finding the book's closing note quotes (findings-beyond.md)."""
    write_findings(
        params.generated_dir, [f"The study beyond the paper was not built (`{params.build_command}` builds it)."]
    )
    return not_built_markdown(params.status(), params.build_command)


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
