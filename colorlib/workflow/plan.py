"""The workflow's settings and everything the rules derive from them, computed without writing a file.

`workflow/Snakefile` does one thing in Python: ``plan = Plan.from_config(config)``. Everything the rules
read comes from here (the variant and its folder, the study's folder and runs, every training run's spec
and command line, each step's code), so reading the workflow, a dry run too, changes nothing on disk.

:data:`SETTINGS` is the one list of the workflow's settings. `make` hands over exactly the variables
named on its command line (``make book SEED=1`` is ``--config seed=1``), so a setting added here is a
setting of `make` as well, and a misspelt one is refused here in one line.
"""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from .. import TRAINED_MODELS
from ..errors import UserError
from ..fingerprint import code_fingerprint, code_modules
from ..identity import Variant, digest, photos_fingerprint
from ..spec import SplitParams, TrainConfig, option
from ..study.runs import Run, parse_seeds, study_runs

SETTINGS = {  # every setting of the workflow: its default, and what it sets
    "profile": "paper",  # paper | smoke: the sizes of every set and run (PROFILES below)
    "data": "../shared/data/landscapes",  # the photo folder
    "seed": 0,  # the seed of the splits and of training
    "pm_args": "",  # training parameters, papermill style: '-p lr 0.0005 -p precision fp32'
    "threads": 1,  # CPU threads of each training run (part of its identity)
    "gpus": 0,  # GPUs each training run asks a cluster for
    "build": "build",  # the root of the variant folders
    "cache": ".colorlib-cache",  # the photo scan cache
    "jb_flags": "-W --keep-going",  # flags of jupyter-book build
    "study": "auto",  # auto: the beyond page shows the study if it was trained; on: train it (make beyond)
    "beyond_image_size": None,  # the study's working size (profile default; sticks once trained)
    "beyond_iterations": None,  # the study's batches a run (profile default; sticks once trained)
    "beyond_seeds": "0 1 2",  # the study's seeds of the paper's six models
    "beyond_axis_seeds": "0",  # seeds of the a/b axis models (empty: none)
    "beyond_loss2": "l1",  # the second training loss (empty: none)
    "beyond_loss2_seeds": "0",  # seeds of the second loss's runs
    "restored": "",  # make book FROM=archive: the variant the archive restored (these settings must name it)
}
# The settings that define a variant, in the `make` command the book prints to rebuild it.
VARIANT_SETTINGS = ("profile", "seed", "data", "pm_args", "threads")
STUDY_SETTINGS = ("image_size", "iterations", "seeds", "axis_seeds", "loss2", "loss2_seeds")
STUDY_MODES = ("auto", "on")
# The beyond page's two templates, by whether the study is (to be) built; both take the same parameters.
BEYOND_TEMPLATES = {True: "notebooks/beyond.ipynb", False: "notebooks/beyond-not-built.ipynb"}
# The module each step runs (web: the export of the models for the page), with what it imports.
STEP_MODULES = {"data": "colorlib.data", "web": "colorlib.explorer.web", "study_prepare": "colorlib.study.manifest"}


# The two scales of the book: only what differs from the spec's defaults. Training settings can be
# overridden one by one (PM_ARGS), the rest through the Makefile's variables or Snakemake's --config.
# "cluster": what a training run asks of one: its photos decoded at the working size, time for a slow CPU.
PROFILES: dict[str, dict] = {
    "paper": {
        "split": {"test": 300, "calibration": 32},
        "train": {},
        "beyond": {"image_size": 128, "iterations": 2000, "per_axis": 24, "calibration": 32},
        "cluster": {"mem_mb": 4000, "runtime": 120},
    },
    "smoke": {
        "split": {"per_colour": 4, "baseline": 16, "validation": 4, "test": 8, "calibration": 4},
        "train": {"image_size": 64, "iterations": 30},
        "beyond": {"image_size": 64, "iterations": 20, "per_axis": 4, "calibration": 4},
        "cluster": {"mem_mb": 1000, "runtime": 15},
    },
}


def _value(text: str) -> object:
    """A papermill -p value: a Python literal (int, float, bool, None) where it parses, else the string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_pm_args(text: str) -> dict[str, object]:
    """'-p lr 0.0005 -p precision fp32' -> {'lr': 0.0005, 'precision': 'fp32'} (one-line error if malformed)."""
    words = shlex.split(text or "")
    if len(words) % 3 or any(flag not in ("-p", "--parameters") for flag in words[::3]):
        raise UserError(f"PM_ARGS must be pairs like '-p lr 0.0005', got {text!r}")
    return {name: _value(value) for name, value in zip(words[1::3], words[2::3], strict=True)}


def make_variant(profile: str, data: str | Path, seed: object, pm_args: object, threads: object = 1) -> Variant:
    """Check the user's settings and return the variant they define (UserError on a mistake)."""
    if profile not in PROFILES:
        raise UserError(f"unknown PROFILE {profile!r}: use {' or '.join(PROFILES)}")
    seed, threads = _whole_number(seed, "SEED", 0), _whole_number(threads, "THREADS", 1)
    folder = Path(os.path.expanduser(str(data))).resolve()
    if not folder.is_dir():
        raise UserError(f"photo folder {data} not found: pass DATA=/path/to/photos")
    overrides = parse_pm_args(str(pm_args))
    settable = [f.name for f in fields(TrainConfig)][1:]  # every setting but the dataset, set for each run
    for name in sorted(set(overrides) - set(settable)):
        said = "cannot be set: the workflow sets it for each run" if name == "dataset" else "is unknown"
        raise UserError(f"PM_ARGS: {name!r} {said}; colorlib train's settings: {', '.join(settable)}")
    train = PROFILES[profile]["train"] | {"seed": seed, "threads": threads} | overrides
    try:  # the checks of `colorlib train`, before any job runs
        train = asdict(TrainConfig(TRAINED_MODELS[0], **train))
    except UserError as exc:
        raise UserError(f"PM_ARGS: {exc}") from None
    split = asdict(SplitParams(**PROFILES[profile]["split"], seed=seed))
    photos = photos_fingerprint(folder)
    if photos.endswith("-0"):
        raise UserError(f"photo folder {data} holds no files: pass DATA=/path/to/photos")
    train.pop("dataset")
    return Variant(profile, str(folder), photos, split, train, code_fingerprint())


def _whole_number(value: object, what: str, least: int | None = None) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise UserError(f"{what} must be a whole number, got {value!r}") from None
    if least is not None and number < least:
        raise UserError(f"{what} must be at least {least}, got {number}")
    return number


@dataclass(frozen=True)
class TrainingRun:
    """One training run, the paper's or the study's: its spec file and the one command that reads it."""

    config: TrainConfig  # made when the plan is: a value it refuses stops the workflow before any job runs
    manifest: Path
    folder: Path  # the variant's or the study's
    name: str

    @property
    def checkpoint(self) -> Path:
        return self.folder / "checkpoints" / f"{self.name}.pt"

    @property
    def log(self) -> Path:
        return self.folder / "logs" / f"{self.name}.txt"

    @property
    def spec(self) -> Path:
        """The run's settings, written by the record rule, read by `colorlib train --spec`."""
        return self.folder / "specs" / f"{self.name}.json"

    def argv(self, photos: str) -> list[str]:
        """`colorlib train` as an argument list (no value passes through a shell): the settings are the spec
        file's; beside it only the paths, which are no part of the run's identity."""
        paths = {"--spec": self.spec, "--manifest": self.manifest, "--data": photos, "--out": self.checkpoint}
        return ["colorlib", "-q", "train", *(word for f, v in paths.items() for word in (f, str(v)))]

    def shown(self, photos: str) -> str:
        """The same command as readers copy it (the workflow shows it for each run, dry runs included)."""
        return f"OMP_NUM_THREADS={self.config.threads} {shlex.join(self.argv(photos))}"

    def run(self, photos: str) -> None:
        """Train with OMP_NUM_THREADS at the run's threads; the log is written whole, or not at all."""
        tmp = self.log.with_name(f"{self.log.name}.tmp")
        with tmp.open("w") as out:
            env = os.environ | {"OMP_NUM_THREADS": str(self.config.threads)}
            subprocess.run(self.argv(photos), stdout=out, env=env, check=True)
        tmp.replace(self.log)


@dataclass(frozen=True)
class Plan:
    """Everything the rules need, from the --config values."""

    given: dict  # the settings named on the command line
    settings: dict  # every setting, defaults filled in
    variant: Variant
    folder: Path  # build/<variant>
    study: dict  # the study's parameters (strings, as the notebook receives them)
    study_split: dict
    study_folder: Path
    study_runs: list[Run] = field(default_factory=list)
    study_seeds: tuple[int, ...] = ()  # the baseline draws the study's manifest holds
    root: Path = Path(".")  # the checkout the workflow runs in

    @classmethod
    def from_config(cls, config: dict, root: Path | str = ".") -> Plan:
        unknown = sorted(set(config) - set(SETTINGS))
        if unknown:
            raise UserError(f"unknown parameter {unknown[0]!r}; known: {', '.join(sorted(SETTINGS))}")
        # Snakemake reads `name=` as None: the default, except for the study's lists, where empty means none.
        given = {k: v for k, v in config.items() if v is not None and v != ""}
        settings = {name: given.get(name, default) for name, default in SETTINGS.items()}
        if str(settings["study"]) not in STUDY_MODES:
            raise UserError(f"study must be {' or '.join(STUDY_MODES)}, got {settings['study']!r}")
        _whole_number(settings["gpus"], "GPUS")
        # The rules' shell commands name the build folder (and every path under it) and JB_FLAGS as they are
        build = str(settings["build"])
        if not build or shlex.quote(build) != build:
            raise UserError(f"BUILD must be a plain path (letters, digits and @%+=:,./-_ only), got {build!r}")
        try:
            settings["jb_flags"] = shlex.join(shlex.split(str(settings["jb_flags"])))
        except ValueError as exc:
            raise UserError(f"JB_FLAGS: {exc}, in {settings['jb_flags']!r}") from None
        variant = make_variant(**{k: settings[k] for k in VARIANT_SETTINGS})
        folder = Path(str(settings["build"])) / variant.name
        if settings["restored"] and settings["restored"] != variant.name:
            raise UserError(
                f"the archive holds variant {settings['restored']}, but these settings make {variant.name}: "
                "give the settings of the archive's command (colorlib archive show ARCHIVE)"
            )
        profile = PROFILES[variant.profile]
        study = {k: profile["beyond"].get(k, SETTINGS[f"beyond_{k}"]) for k in STUDY_SETTINGS}  # sizes: the profile's
        last = folder / "beyond-last.json"  # the study last trained here: its size sticks unless one is named
        if last.is_file():
            study |= json.loads(last.read_text(encoding="utf-8"))
        study |= {k: config[f"beyond_{k}"] for k in STUDY_SETTINGS if f"beyond_{k}" in config}
        study = {k: "" if v is None else str(v) for k, v in study.items()}
        seeds = {k: parse_seeds(study[k], f"BEYOND_{k.upper()}") for k in ("seeds", "axis_seeds", "loss2_seeds")}
        for k in ("image_size", "iterations"):
            if not study[k].isdigit() or int(study[k]) < 1:
                raise UserError(f"BEYOND_{k.upper()} must be a positive whole number, got {study[k]!r}")
        runs = study_runs(seeds["seeds"], seeds["axis_seeds"], study["loss2"] or None, seeds["loss2_seeds"])
        split = profile["beyond"] | {"baseline": variant.split["baseline"]}
        threads = int(variant.train["threads"])
        study_folder = folder / f"beyond-{study['image_size']}px-{digest([study, split, threads])}"  # its key
        draws = set(seeds["seeds"]) | (set(seeds["loss2_seeds"]) if study["loss2"] else set())
        plan = cls(given, settings, variant, folder, study, split, study_folder, runs, tuple(sorted(draws)), Path(root))
        try:  # every run's TrainConfig checks its values now, before any job runs (the paper's: make_variant)
            plan.training_runs()
        except UserError as exc:
            raise UserError(f"BEYOND_*: {exc}") from None
        return plan

    @property
    def pages(self) -> Path:
        return self.folder / "pages"

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def web(self) -> Path:
        """The explorer page's models and runtime; the book publishes it as colorize/ at its root."""
        return self.pages / "web" / "colorize"

    def web_runtime_inputs(self) -> list[str]:
        """What the runtime is copied from, where `npm ci` installed it (its appearance reruns the copy)."""
        installed = self.root / "node_modules" / "onnxruntime-web" / "package.json"
        return ["package-lock.json"] + ([str(installed.relative_to(self.root))] if installed.is_file() else [])

    def book_pages(self) -> list[str]:
        pages = ("data", "results", "check", "explorer", "beyond", *(f"train-{m}" for m in TRAINED_MODELS))
        return [str(self.pages / f"{n}.ipynb") for n in pages]

    def training_runs(self) -> dict[str, TrainingRun]:
        """Every training run the workflow knows, by its log file (the training rule's output)."""
        t = self.variant.train
        runs = [TrainingRun(TrainConfig(m, **t), self.manifest, self.folder, m) for m in TRAINED_MODELS]
        study = {"image_size": int(self.study["image_size"]), "iterations": int(self.study["iterations"])}
        for r in self.study_runs:
            cfg = TrainConfig(r.set_name, **t | study | {"seed": r.seed, "loss": r.loss})
            runs.append(TrainingRun(cfg, self.study_folder / "manifest.json", self.study_folder, r.name))
        return {str(run.log): run for run in runs}

    def paper_logs(self) -> list[str]:
        return [str(self.folder / "logs" / f"{m}.txt") for m in TRAINED_MODELS]

    def study_logs(self) -> list[str]:
        return [str(self.study_folder / "logs" / f"{r.name}.txt") for r in self.study_runs]

    def run_resources(self) -> dict:
        """What a training run asks of a cluster: the GPUS setting, and the profile's memory and time."""
        return {"gpu": int(str(self.settings["gpus"])), **PROFILES[self.variant.profile]["cluster"]}

    @property
    def study_done(self) -> Path:
        return self.study_folder / "study.done"

    def beyond_page_needs_study(self) -> bool:
        """`study=on` (make beyond) trains the study; `auto` shows it when it has been trained."""
        return self.settings["study"] == "on" or self.study_done.is_file()

    def beyond_template(self) -> str:
        """The notebook the beyond page is executed from: the study's tables and figures when the page
        needs the study, else the short page that says what is missing and the command that builds it."""
        return BEYOND_TEMPLATES[self.beyond_page_needs_study()]

    def code(self, step: str) -> list[str]:
        """The package files a step runs: a change to one reruns the step (training lists none: the code's
        fingerprint is part of the variant's key, workflow/rules/train.smk)."""
        package = self.root / "colorlib"
        if step == "pages":
            files = set(package.rglob("*.py"))
        elif step in STEP_MODULES:
            files = set(code_modules(self.root, STEP_MODULES[step]).values())
        else:
            raise ValueError(f"no step {step!r}")
        if step == "study_prepare":  # and the command line that calls what draws the study's sets
            files.add(package / "build_commands.py")
        return sorted(p.relative_to(self.root).as_posix() for p in files)

    def make_command(self, target: str) -> str:
        """The `make` command that rebuilds this variant (the settings given, no defaults)."""
        given = [(k, self.given[k]) for k in VARIANT_SETTINGS if k in self.given]
        return " ".join([f"make {target}", *(f"{k.upper()}={shlex.quote(str(v))}" for k, v in given)])

    def records(self) -> dict[str, str]:
        """What the record rule writes, by path: variant.json (with the command that rebuilds it), each run's spec."""
        variant = replace(self.variant, command=self.make_command("book")).to_json()
        specs = {str(run.spec): run.config.to_json() for run in self.training_runs().values()}
        return {str(self.folder / "variant.json"): json.dumps(variant, indent=1) + "\n", **specs}

    def prepare_options(self) -> list[str]:
        """The split's sizes and seed as `colorlib prepare` options: one per field of the spec."""
        return [word for k, v in self.variant.split.items() for word in (option(k), str(v))]
