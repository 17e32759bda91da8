"""The reference results a rebuild is compared with: ``reference_results.toml`` read and checked, and
the *measured band* of each model's loss that it implies (colorlib.paper.reproduction compares).

A band is the lowest and highest value the reference settings have given for a model: over the
reference builds (one per kind of processor), the rounding variants, and the paper-scale study's
seeds (three values lie within mean ± std · 2/√3). Every printed number stands for ± half its last
digit. A file that cannot be read, does not parse or lacks a field is a one-line UserError.
"""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

REFERENCE_FILE = Path(__file__).with_name("reference_results.toml")
REFERENCE_FORMAT = "colorlib-references/1"
HALF_DIGIT = 0.00005  # the reference numbers are printed to 4 digits: each stands for ± half of the last


@dataclass(frozen=True)
class Band:
    """The range a model's validation loss has been measured to take under the reference settings."""

    model: str
    low: float
    high: float
    runs: int  # how many runs the range comes from
    sources: tuple[str, ...]  # ids of the builds and measurements behind it
    image_size: int = 256

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def fmt(self) -> str:
        return f"[{self.low:.4f}, {self.high:.4f}]"

    @property
    def width(self) -> float:
        return self.high - self.low


@dataclass
class References:
    """The reference file, read and checked."""

    path: Path
    settings: dict
    paper: dict[str, float]
    claims: list[dict]  # {id, text, paper}
    builds: list[dict]  # {id, name, processor, precision, threads, torch, commit, table1, claims (by id)}
    spread: list[dict]  # further measurements: rounding variants and seeds

    def build(self, build_id: str) -> dict:
        for b in self.builds:
            if b["id"] == build_id:
                return b
        ids = ", ".join(b["id"] for b in self.builds)
        raise UserError(f"no reference build {build_id!r} in {self.path}; there are {ids}")

    def bands(self) -> dict[str, Band]:
        """{model: its measured band}, from every build and measurement that has the model."""
        found: dict[str, list[tuple[float, float, int, str]]] = defaultdict(list)  # model -> (low, high, runs, source)
        for b in self.builds:
            for m, v in b["table1"].items():
                found[m].append((v - HALF_DIGIT, v + HALF_DIGIT, 1, b["id"]))
        for s in self.spread:
            n = int(s.get("runs", 1))
            for m, v in s.get("table1", {}).items():
                found[m].append((v - HALF_DIGIT, v + HALF_DIGIT, n, s["id"]))
            for m, mean in s.get("mean", {}).items():
                reach = s["std"][m] * (n - 1) / math.sqrt(n) + HALF_DIGIT
                found[m].append((mean - reach, mean + reach, n, s["id"]))
        return {
            m: Band(m, min(v[0] for v in vs), max(v[1] for v in vs), sum(v[2] for v in vs), tuple(v[3] for v in vs))
            for m, vs in found.items()
        }


def _need(table: Mapping, key: str, where: str, kind: type | tuple[type, ...]):
    if key not in table:
        raise UserError(f"{where} has no {key!r}")
    value = table[key]
    if not isinstance(value, kind):
        raise UserError(f"{where}: {key!r} should be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _losses(table: Mapping, where: str) -> dict[str, float]:
    out = {}
    for m, v in table.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise UserError(f"{where}: the loss of {m} should be a non-negative number, got {v!r}")
        out[m] = float(v)
    return out


def load_references(path: Path | str | None = None) -> References:
    """The reference file (the package's own by default); a one-line UserError when it cannot be read,
    does not parse or lacks what the check needs."""
    path = Path(path) if path is not None else REFERENCE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UserError(f"cannot read the reference file {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"the reference file {path} does not parse: {exc}") from None
    where = f"the reference file {path}"
    if data.get("format") != REFERENCE_FORMAT:
        raise UserError(f"{where} is not a {REFERENCE_FORMAT} file (format {data.get('format')!r})")
    settings = _need(data, "settings", where, dict)
    paper = _need(data, "paper", where, dict)
    paper_table = _losses(_need(paper, "table1", f"{where} [paper]", dict), f"{where} [paper]")
    claims = _need(data, "claims", where, list)
    for i, c in enumerate(claims):
        for key in ("id", "text"):
            _need(c, key, f"{where} claim {i + 1}", str)
    ids = [c["id"] for c in claims]
    builds = _need(data, "builds", where, list)
    if not builds:
        raise UserError(f"{where} has no reference build")
    out_builds = []
    for i, b in enumerate(builds):
        here = f"{where} build {b.get('id', i + 1)}"
        for key in ("id", "name", "processor", "precision", "commit", "torch"):
            _need(b, key, here, str)
        _need(b, "threads", here, int)
        verdicts = _need(b, "claims", here, list)
        if len(verdicts) != len(ids) or not all(isinstance(v, bool) for v in verdicts):
            raise UserError(f"{here}: 'claims' should be {len(ids)} true/false verdicts, one per claim")
        out_builds.append(
            {
                **b,
                "table1": _losses(_need(b, "table1", here, dict), here),
                "claims": dict(zip(ids, verdicts, strict=True)),
            }
        )
    spread = data.get("spread", [])
    for s in spread:
        here = f"{where} spread {s.get('id', '?')}"
        _need(s, "id", here, str)
        _losses(s.get("table1", {}), here)
        if "mean" in s and set(s["mean"]) - set(s.get("std", {})):
            raise UserError(f"{here}: every 'mean' needs its 'std'")
    return References(path, settings, paper_table, claims, out_builds, spread)
