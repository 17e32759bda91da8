"""results.json: what the results page found, as data (Table I's rows, the claims with their stable ids
and verdicts, the trade-off), read by the check and the explorer; and the Markdown the other pages show,
rendered from it (:func:`snippets`), never from the evaluation directly, so a page and the data cannot
disagree. Non-finite numbers are stored as JSON allows: NaN (not measured) as null, an infinite PSNR as
"Infinity".
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import UserError
from ..files import atomic_write_text
from . import RESULTS_FILE, tradeoff
from . import claims as claim_checks
from .evaluate import Evaluation, table_rows, to_markdown

SCHEMA = 1


def results(ev: Evaluation) -> dict:
    """The results of one evaluation as plain data (before JSON's encoding of NaN and infinity)."""
    return {
        "schema": SCHEMA,
        "validation_photos": len(ev.validation.names),
        "table1": table_rows(ev),
        "claims": claim_checks.claims(ev),
        "tradeoff": tradeoff.data(ev),
    }


def _encode(value):
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else "Infinity"
    return value


def dumps(data: dict) -> str:
    return json.dumps(_encode(data), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def loads(text: str) -> dict:
    """The results, Table I's rows as the Markdown views take them: null is NaN (not measured), "Infinity" infinite."""
    data = json.loads(text)
    data["table1"] = [
        {k: math.nan if v is None else math.inf if v == "Infinity" else v for k, v in row.items()}
        for row in data["table1"]
    ]
    return data


def write(folder: Path, data: dict) -> None:
    atomic_write_text(Path(folder) / RESULTS_FILE, dumps(data))


def read(path: str | Path) -> dict:
    """results.json (or the one in a folder); a missing, unreadable or older file is a one-line UserError."""
    path = Path(path)
    path = path / RESULTS_FILE if path.is_dir() else path
    if not path.is_file():
        raise UserError(f"no {path}: build the variant's results page first (make book)")
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    if data.get("schema") != SCHEMA:
        raise UserError(f"{path} is of another colorlib (schema {data.get('schema')!r}): rebuild it (make book)")
    return data


def losses(data: dict) -> dict[str, float]:
    """{row: validation MSE} of Table I, every row (the models, the boosted baseline, the references)."""
    return {r["model"]: r["mse"] for r in data["table1"]}


def k_vivid(data: dict) -> float | None:
    """The baseline's scale fitted to the calibration photos' colourfulness, None without them."""
    boost = data["tradeoff"].get("boost")
    return None if boost is None else boost["k_vivid"]


def snippets(data: dict) -> dict[str, str]:
    """The Markdown the other pages {include}, each rendered from the data: {file name: text}."""
    return {
        "table1.md": to_markdown(data["table1"]),
        "claims.md": claim_checks.claims_markdown(data["claims"]),
        "findings.md": claim_checks.findings(data) + "\n",
        "trade-off.md": tradeoff.findings(data) + "\n",
    }
