"""What the beyond page is executed with: its parameters checked, whether the study they name was built,
and the short page shown in its place before it was.

The workflow executes one of two templates into the same page, both with these parameters:
``notebooks/beyond.ipynb`` (:class:`colorlib.study.page.BeyondPage`) once the study is built (the plan's
``beyond_page_needs_study``), else ``notebooks/beyond-not-built.ipynb`` (:func:`not_built_page`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checkpoint import load_checkpoint
from ..data import manifest_hash, read_manifest
from ..errors import UserError
from ..pages import check_generated_dir, check_profile
from .manifest import is_study_manifest
from .report import write_findings
from .runs import SECOND_LOSSES, Run, checkpoint_file, parse_seeds, study_runs


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
    def check(
        cls,
        *,
        study_dir: str | Path,
        paper_manifest: str | Path,
        generated_dir: str | Path,
        profile: str,
        image_size: object,
        seeds: object,
        axis_seeds: object,
        second_loss: object,
        second_loss_seeds: object,
        build_command: str,
    ) -> BeyondParameters:
        check_profile("beyond", profile)  # the profiles this page knows: colorlib.pages.PAGE_PROFILES
        folder = check_generated_dir(generated_dir)
        p = check_parameters(image_size, seeds, axis_seeds, second_loss, second_loss_seeds)
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
