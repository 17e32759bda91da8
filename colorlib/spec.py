"""The settings of a run, each declared once with its default, type, range and help.

A training run is a :class:`TrainConfig`, the photo sets a :class:`SplitParams`; from their fields come the
options of `colorlib train` and `colorlib prepare`, the names PM_ARGS may set, the workflow's profiles, the
spec file (``to_json``, read by `colorlib train --spec FILE`) and a checkpoint's record. Every value is
checked when a spec is made, wherever it came from, in one line that names the field. (No ``from __future__
import annotations``: the fields' types are read at run time.)
"""

import json
import math
import numbers
from argparse import ArgumentParser, Namespace
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Self

from .errors import UserError

PRECISIONS = ("auto", "bf16", "fp32")


def setting(default: object, help: str, least: float | None = None, above: float | None = None, **limits) -> Any:
    """A field of a spec: its default, its help and the values it takes (`choices`, `multiple_of`); a field
    with ``identity=False`` does not change a run's result (colorlib.train compares only the others)."""
    return field(default=default, metadata={"help": help, "least": least, "above": above, **limits})


def option(name: str) -> str:
    """The command-line option of a field: per_colour -> --per-colour."""
    return "--" + name.replace("_", "-")


def _check(f, value: object) -> None:
    """UserError, in one line, for a value the field `f` does not take."""
    m, name = f.metadata, f.name
    if f.type is int:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < m["least"]:
            raise UserError(f"{name} must be a whole number >= {m['least']}, got {value!r}")
        if value % m.get("multiple_of", 1):
            raise UserError(f"{name} must be a multiple of {m['multiple_of']}, got {value}")
    elif f.type is float:
        real = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
        bound = m["above"] if m["above"] is not None else m["least"]
        if not real or value < bound or (value == bound and m["above"] is not None):
            said = f"above {bound:g}" if m["above"] is not None else f"of {bound:g} or more"
            raise UserError(f"{name} must be a finite number {said}, got {value!r}")
    elif m.get("choices") and value not in m["choices"]:
        raise UserError(f"{name} must be one of {', '.join(m['choices'])}, got {value!r}")


class Spec:
    """What the spec's classes share: every field checked when one is made, and JSON out and in."""

    def __post_init__(self) -> None:
        for f in fields(self):
            _check(f, getattr(self, f.name))

    @classmethod
    def from_dict(cls, values: Mapping, where: str = "") -> Self:
        """A spec of these values (the defaults for the others); an unknown or missing one is a UserError."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(values) - set(names))
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.name not in values]
        if unknown or missing:
            what = f"unknown setting {unknown[0]!r}" if unknown else f"no {missing[0]}"
            raise UserError(f"{where}{what} (the settings: {', '.join(names)})")
        return cls(**values)

    def to_json(self) -> str:
        """The spec file: every field, as `read_spec` reads it back."""
        return json.dumps(asdict(self), indent=1) + "\n"


def read_spec(path: Path | str) -> dict:
    """The settings of a spec file (a JSON object); a file that is none is a one-line UserError."""
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the spec file {path} ({exc})") from None
    if not isinstance(values, dict):
        raise UserError(f"{path} is not a spec file (a JSON object of settings)")
    return values


@dataclass(frozen=True)
class TrainConfig(Spec):
    """One training run; the paper's is MSE, Adam at 0.001 without weight decay, 2,000 batches of 4."""

    dataset: str = field(metadata={"help": "the set of the manifest to train on"})
    iterations: int = setting(2000, "batches", least=1)
    batch_size: int = setting(4, "photos per batch", least=1)
    lr: float = setting(1e-3, "Adam learning rate", above=0)
    weight_decay: float = setting(0.0, "Adam weight decay", least=0)
    seed: int = setting(0, "seed of the first weights and of the batch order", least=0)
    image_size: int = setting(256, "working size in pixels, a multiple of 8", least=1, multiple_of=8)
    precision: str = setting("auto", "auto (bf16 where the hardware has it), bf16 or fp32", choices=PRECISIONS)
    encoder_weights: str = setting("none", "none, torchvision (downloads) or a state-dict file")
    loss: str = setting("mse", "training loss: mse (the paper's), l1 or huber", choices=("mse", "l1", "huber"))
    # A fixed thread count, not "all cores": the same run on 1 and on 2 threads rounds differently.
    threads: int = setting(1, "CPU threads of the run; part of its identity (another count rounds differently)", 1)
    checkpoint_every: int = setting(250, "batches between checkpoints", least=1, identity=False)

    def model_config(self):
        from .model import ModelConfig

        return ModelConfig(image_size=self.image_size, encoder_weights=self.encoder_weights)

    def identity(self) -> dict:
        """The fields that define the result (checkpoint cadence does not)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("identity", True)}

    def same_run(self, saved_identity: dict) -> bool:
        """Whether a checkpoint's identity is this run; fields added since default to their defaults
        (checkpoints from before `threads` existed were trained by `make -j2` with one thread)."""
        defaults = TrainConfig(dataset=self.dataset).identity()
        return {**defaults, **saved_identity} == self.identity()


@dataclass(frozen=True)
class SplitParams(Spec):
    """Sizes of the paper's sets and the seed of the random draws (colorlib.data.splits)."""

    per_colour: int = setting(24, "photos in each of blue, yellow, green", least=0)
    baseline: int = setting(864, "photos in the baseline set", least=0)
    validation: int = setting(32, "validation photos", least=0)
    seed: int = setting(0, "seed of the random draws", least=0)
    test: int = setting(0, "held-out test photos, drawn after every other set (0: none)", least=0)
    calibration: int = setting(0, "held-out calibration photos (0: none)", least=0)


def add_options(parser: ArgumentParser, spec: type[Spec], skip: tuple[str, ...] = ()) -> None:
    """One option per field of `spec` (its type, help and default); an option not given reads None."""
    for f in fields(spec):
        if f.name not in skip:
            parser.add_argument(option(f.name), type=f.type, help=f"{f.metadata['help']}; default {f.default}")


def given(args: Namespace, spec: type[Spec]) -> dict:
    """The fields of `spec` named on the command line."""
    return {f.name: getattr(args, f.name) for f in fields(spec) if getattr(args, f.name, None) is not None}
