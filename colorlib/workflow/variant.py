"""Variants of the reproduction: the parameters that define a build, and the folder they name.

A *variant* is everything that changes a number in the book: the photos, the split sizes and seed,
and the training parameters (working size, batches, batch size, learning rate, precision, threads
per run...), and the code that trains (its fingerprint, :mod:`colorlib.fingerprint`: comments and
docstrings do not count). Each variant lives in its own folder, ``build/<profile>-s<seed>-<key>``, whose key is a
hash of those parameters, so building another seed or learning rate never touches an earlier
variant's checkpoints, and returning to it re-uses them. The workflow (``workflow/Snakefile``) asks
this module for the folder and writes ``variant.json`` into it; the book shows which variant it was
built from (:func:`variant_markdown`).

The photos enter by what the folder holds (every file's relative name and size, read without opening
a file), not by where it is: the same photos copied to another machine, or to a GPU server and back,
are the same variant, and a folder whose photos were added, removed or replaced is a new variant, so
the old one's results stay as they were. (A photo changed in place at the same size is caught when
the photos are loaded, by the content hashes the manifest records.)
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import TRAINED_MODELS
from ..errors import UserError
from ..fingerprint import code_fingerprint
from ..train import TrainConfig

VARIANT_FORMAT = "colorlib-variant/1"

# The two scales of the book. Training parameters can be overridden one by one (PM_ARGS), the rest
# through the Makefile's variables or Snakemake's --config.
PROFILES: dict[str, dict] = {
    "paper": {
        "split": {"per_colour": 24, "baseline": 864, "validation": 32, "test": 300, "calibration": 32},
        "train": {"image_size": 256, "iterations": 2000, "batch_size": 4},
        "beyond": {"image_size": 128, "iterations": 2000, "per_axis": 24, "calibration": 32},
    },
    "smoke": {
        "split": {"per_colour": 4, "baseline": 16, "validation": 4, "test": 8, "calibration": 4},
        "train": {"image_size": 64, "iterations": 30, "batch_size": 4},
        "beyond": {"image_size": 64, "iterations": 20, "per_axis": 4, "calibration": 4},
    },
}
# Parameters of notebooks/train.ipynb that the workflow sets itself: not for PM_ARGS.
WORKFLOW_TRAIN_PARAMS = ("dataset", "manifest", "out_dir", "data_dir", "train_if_missing")


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


def train_notebook_parameters(notebook: Path) -> dict[str, object]:
    """Names and defaults of the `parameters` cell of a notebook (read without executing it)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse("".join(cell["source"]))
            return {
                node.targets[0].id: ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
            }
    raise UserError(f"{notebook} has no cell tagged 'parameters'")


@dataclass(frozen=True)
class Variant:
    """The parameters of one build; `name` is its folder under the build root."""

    profile: str
    data: str  # the photo folder, resolved: where to read them, not part of the identity
    photos: str  # fingerprint of the folder's contents (photos_fingerprint)
    seed: int
    split: dict = field(default_factory=dict)  # per_colour, baseline, validation
    train: dict = field(default_factory=dict)  # every parameter of a training run but its set and paths
    code: str = ""  # the fingerprint of the code training runs (colorlib.fingerprint)

    def identity(self) -> dict:
        identity = {"photos": self.photos, "seed": self.seed, "split": self.split, "train": self.train}
        return identity | ({"code": self.code} if self.code else {})

    @property
    def key(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        return f"{self.profile}-s{self.seed}-{self.key}"

    def to_json(self, command: str = "") -> dict:
        return {"format": VARIANT_FORMAT, "name": self.name, **asdict(self), "command": command}


def make_variant(
    profile: str,
    data: str | Path,
    seed: object = 0,
    pm_args: str = "",
    threads: object = 1,
    notebook: Path = Path("notebooks/train.ipynb"),
    code: str | None = None,
) -> Variant:
    """Check the user's parameters and return the variant they define (UserError on a mistake)."""
    if profile not in PROFILES:
        raise UserError(f"unknown PROFILE {profile!r}: use {' or '.join(PROFILES)}")
    seed, threads = _whole(seed, "SEED", 0), _whole(threads, "THREADS", 1)
    folder = Path(os.path.expanduser(str(data))).resolve()
    if not folder.is_dir():
        raise UserError(f"photo folder {data} not found: pass DATA=/path/to/photos")
    known = train_notebook_parameters(notebook)
    overrides = parse_pm_args(pm_args)
    for name in overrides:
        if name in WORKFLOW_TRAIN_PARAMS:
            raise UserError(f"PM_ARGS cannot set {name!r}: the workflow sets it for each run")
        if name not in known:
            allowed = ", ".join(k for k in known if k not in WORKFLOW_TRAIN_PARAMS)
            raise UserError(f"unknown parameter {name!r} in PM_ARGS; train.ipynb accepts: {allowed}")
    train = {k: v for k, v in known.items() if k not in WORKFLOW_TRAIN_PARAMS and k != "n_preview"}
    train |= PROFILES[profile]["train"] | {"seed": seed, "threads": threads}
    train |= {k: v for k, v in overrides.items() if k != "n_preview"}
    try:
        TrainConfig(TRAINED_MODELS[0], **train)  # the checks of `colorlib train`, before any job runs
    except UserError as exc:
        raise UserError(f"PM_ARGS: {exc}") from None
    photos = photos_fingerprint(folder)
    if photos.endswith("-0"):
        raise UserError(f"photo folder {data} holds no files: pass DATA=/path/to/photos")
    code = code_fingerprint() if code is None else code
    return Variant(profile, str(folder), photos, seed, dict(PROFILES[profile]["split"]), train, code)


def _whole(value: object, what: str, least: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise UserError(f"{what} must be a whole number, got {value!r}") from None
    if number < least:
        raise UserError(f"{what} must be at least {least}, got {number}")
    return number


# --- the photo folder's fingerprint ----------------------------------------------------------------


def folder_listing(folder: Path) -> dict[str, int]:
    """Every visible file under `folder` as relative path -> size in bytes (no file is opened)."""
    folder = Path(folder)
    out = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                path = Path(root) / name
                out[path.relative_to(folder).as_posix()] = path.stat().st_size
    return dict(sorted(out.items()))


def photos_fingerprint(folder: Path) -> str:
    """'<hash>-<number of files>' of the folder's listing: equal for equal contents wherever they are."""
    listing = folder_listing(folder)
    digest = hashlib.sha256(json.dumps(listing, separators=(",", ":")).encode()).hexdigest()[:16]
    return f"{digest}-{len(listing)}"


# --- what the book says about the variant ----------------------------------------------------------


def cpu_name() -> str:
    """The CPU's model name (Linux), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def variant_markdown(info: dict, checkpoints: list[dict]) -> str:
    """The book's account of its variant: parameters, the command, and where the numbers were made.

    `info` is the variant's variant.json; `checkpoints` the metadata of its trained models (device,
    precision, torch version, train_config) as stored in the checkpoints.
    """
    train = info["train"]
    rows = [
        ("variant", f"`{info['name']}`"),
        ("photos", f"`{Path(info['data']).name}/` ({info['split']['per_colour']} per colour, "
                   f"baseline {info['split']['baseline']}, validation {info['split']['validation']}, "
                   f"test {info['split'].get('test', 0)})"),
        ("seed", str(info["seed"])),
    ] + [(k.replace("_", " "), f"`{v}`") for k, v in sorted(train.items()) if k != "seed"]  # fmt: skip
    lines = ["| parameter | value |", "| --- | --- |", *[f"| {k} | {v} |" for k, v in rows]]
    where = sorted(
        {
            f"{c.get('device', '?')} ({c.get('precision', '?')}, "
            f"{c.get('train_config', {}).get('threads', 1)} thread(s) per run, torch {c.get('torch_version', '?')})"
            for c in checkpoints
        }
    )
    if info.get("code"):
        lines.append(f"| code fingerprint | `{info['code']}` |")
    text = "\n".join(lines) + "\n\n"
    text += f"Rebuild exactly this variant with `{info['command']}`. " if info.get("command") else ""
    if where:
        text += (
            f"Its {len(checkpoints)} models were trained on {'; '.join(where)}; the book was built on "
            f"{cpu_name()}. A run's numbers are bit-identical for the same parameters, thread count and "
            "kind of processor however the runs were scheduled; another processor family, thread count or "
            "precision rounds differently and moves the losses by about as much as another seed does "
            "(the *Beyond the paper* part measures that spread).\n"
        )
    code = sorted({(c.get("code_fingerprint") or "not recorded", c.get("code_commit") or "?") for c in checkpoints})
    if code:
        said = "; ".join(f"fingerprint `{f}` at commit `{c}`" for f, c in code)
        text += f"\nThe code that trained them: {said} (each checkpoint records its own).\n"
    return text


def variant_line(info: dict, commit: str = "unknown") -> str:
    """Two sentences for the front page: which variant this book shows, and the commit it was built from."""
    from ..pages.provenance import built_from

    built = f"It was built {built_from(commit)}."
    return (
        f"This book shows variant `{info['name']}` ({info['profile']} profile, seed {info['seed']}, "
        f"{info['train']['image_size']} px, {info['train']['iterations']:,} batches of {info['train']['batch_size']}); "
        "its settings, and the command that rebuilds it, are on the page [Re-running the notebooks](rerun.md). "
        f"{built}\n"
    )


def publish(folder: Path, out: Path, checkout: Path) -> None:
    """The book's variant.md and variant-line.md, and the executed pages in `out` stamped with their source
    and cleared of this machine's paths (colorlib.pages.provenance); `colorlib publish` (the book rule)."""
    from .. import TRAINED_MODELS
    from ..checkpoint import load_checkpoint
    from ..fingerprint import code_commit
    from ..pages.provenance import publish_pages

    folder, out = Path(folder), Path(out)
    if not (folder / "variant.json").is_file():
        raise UserError(f"{folder} holds no variant.json: name a built variant's folder")
    info = json.loads((folder / "variant.json").read_text(encoding="utf-8"))
    paths = [folder / "checkpoints" / f"{m}.pt" for m in TRAINED_MODELS]
    states = [load_checkpoint(p) for p in paths if p.is_file()]
    out.mkdir(parents=True, exist_ok=True)
    commit = code_commit(checkout)
    (out / "variant.md").write_text(variant_markdown(info, states), encoding="utf-8")
    (out / "variant-line.md").write_text(variant_line(info, commit), encoding="utf-8")
    publish_pages(out, checkout, folder, info, commit)
