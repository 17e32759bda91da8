"""The beyond page: whether the study was built, the short page shown when it was not, the checked
notebook parameters, and every table, figure and finding of the page from one evaluation (each
piece is computed in the modules it imports; this one puts them together).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from .. import ALL_MODELS
from ..checkpoint import load_checkpoint
from ..data import load_set, manifest_hash, read_manifest
from ..errors import UserError
from ..pages import provenance
from ..pages.markdown import markdown_table
from ..paper.figures import contact_sheet
from .heldout import intervals_verdict, rule_intervals, rule_intervals_table
from .manifest import is_study_manifest
from .plots import axis_caption, rules_front, rules_front_intervals, seed_strip, vividness_errorbars
from .report import (
    axis_table,
    blend_table,
    claims_table,
    findings,
    loss_comparison_table,
    mean_std_table,
    per_seed_table,
    rules_table,
    rules_verdict,
    weights_table,
)
from .runs import (
    ALL_COMBINED,
    AXES,
    AXIS_COMBINED,
    AXIS_NAMES,
    MEMBERS,
    NOT_BUILT_KEY,
    SECOND_LOSSES,
    STUDY_TAG,
    Run,
    checkpoint_file,
    parse_seeds,
)
from .scoring import evaluate_study
from .statistics import blend_comparison, check_claims, paper_claims


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
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8 or image_size % 8:
        raise UserError(f"image_size must be a positive multiple of 8, got {image_size!r}")
    loss = str(second_loss or "").strip()
    if loss and loss not in SECOND_LOSSES:
        raise UserError(f"second_loss must be one of {', '.join(SECOND_LOSSES)} or empty, got {loss!r}")
    parsed = {
        "seeds": parse_seeds(seeds, "seeds"),
        "axis_seeds": parse_seeds(axis_seeds, "axis_seeds"),
        "second_loss_seeds": parse_seeds(second_loss_seeds, "second_loss_seeds"),
    }
    if not parsed["seeds"]:
        raise UserError("seeds must name at least one seed")
    return {"image_size": image_size, "second_loss": loss or None, **parsed}


VIVID_MODELS = (*ALL_MODELS, "bgy-nnls", AXIS_COMBINED, "grey")
NOISE_MODELS = (*ALL_MODELS, ALL_COMBINED, "bgy-nnls", "all-nnls", "grey", "constant")


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

    def device_note(self) -> str:
        return ", " + "/".join(sorted({s["device"] for s in self.results.states.values()}))

    def provenance(self, profile: str) -> str:
        return provenance(self.results.states, profile, manifest_hash(self.manifest))

    def noise_table(self) -> str:
        return mean_std_table(self.results, NOISE_MODELS)

    def per_seed_table(self) -> str:
        return per_seed_table(self.results, NOISE_MODELS)

    def seed_strip(self) -> Figure:
        return seed_strip(self.results, ALL_MODELS)

    def claims_table(self) -> str:
        return claims_table(self.claims)

    def vividness_table(self) -> str:
        return mean_std_table(self.results, VIVID_MODELS, metrics=("colourfulness", "chroma", "mse"))

    def vividness_plot(self) -> Figure:
        return vividness_errorbars(self.results, VIVID_MODELS)

    def weights_table(self) -> str:
        return weights_table(self.results)

    def rules_table(self) -> str:
        return rules_table(self.results)

    def rules_plot(self) -> Figure:
        return rules_front(self.results)

    def rules_verdict(self) -> str:
        return rules_verdict(self.results)

    def test_rules_table(self) -> str:
        if not self.test_rules:
            return "The manifest has no test photos: only the validation table below is available."
        return rule_intervals_table(self.results, self.test_rules)

    def test_rules_plot(self) -> Figure | None:
        return rules_front_intervals(self.results, self.test_rules) if self.test_rules else None

    def test_rules_verdict(self) -> str:
        return intervals_verdict(self.test_rules, self.results.n_test) if self.test_rules else ""

    def blend_table(self) -> str:
        return blend_table(self.blends)

    def axis_sheet(self, axis: str) -> Figure:
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
        return markdown_table(head, rows, ["---", "---", "---:", "---:", "---:", "---:", "---:", "---"])

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
            self.results,
            self.claims,
            self.blends,
            self.second_loss,
            self.second_claims,
            self.device_note(),
            self.test_rules,
        )
