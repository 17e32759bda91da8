"""Did a build reproduce the paper and our reference builds? Its Table I and claims against the
reference results kept in ``reference_results.toml`` (read by :mod:`colorlib.paper.reference_results`).

Each loss of the build's Table I is compared with the *measured band* of that model; a band holding the
paper's number too is too wide to tell our result from the paper's, and a claim whose compared losses
have overlapping bands may flip in a rebuild; the check says both. Each claim is compared with each
reference build's verdict. A build with other settings (the smoke profile, another seed, other photos)
is not comparable, and the check says so instead of giving a verdict.

Entry point: :func:`check` (a variant's folder → :class:`Comparison`); what the check prints and draws
(``colorlib check``, the front page's verdict, ``notebooks/check.ipynb``) is :mod:`colorlib.paper.check_report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..identity import read_variant
from ..spec import TrainConfig
from . import RESULTS_FILE, results
from .claims import CLAIM_LOSSES
from .reference_results import Band, References, load_references

# Training settings that change only the rounding: a build that differs in them is still compared.
ROUNDING_ONLY = ("threads", "precision")


@dataclass
class BuiltVariant:
    """What the check reads from a built variant's folder."""

    folder: Path
    variant: dict | None  # variant.json, as colorlib.identity.read_variant reads it
    table1: dict[str, float]  # row -> validation MSE, from pages/results.json
    claims: list[dict]  # {id, claim, holds, ...}, from pages/results.json


def read_build(folder: Path | str) -> BuiltVariant:
    """The Table I, claims (pages/results.json) and variant.json of a built variant (``build/<variant>`` or its
    pages folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give a built variant's folder, e.g. build/latest")
    root, pages = (folder.parent, folder) if (folder / RESULTS_FILE).is_file() else (folder, folder / "pages")
    if not (pages / RESULTS_FILE).is_file():
        older = " (it was built by an older colorlib, which wrote table1.csv: rebuild it)"
        older = older if (pages / "table1.csv").is_file() else ""
        raise UserError(f"{folder} has no pages/{RESULTS_FILE}: build the variant first (make book){older}")
    data = results.read(pages / RESULTS_FILE)
    variant = read_variant(root).to_json() if (root / "variant.json").is_file() else None
    return BuiltVariant(folder, variant, results.losses(data), data["claims"])


def differences(variant: dict | None, settings: Mapping) -> tuple[list[str], list[str]]:
    """(what keeps a build from being compared with the references, what differs only in rounding)."""
    if variant is None:
        return ["no variant.json, so its settings are unknown"], []
    blocking, rounding = [], []
    for key in ("profile", "seed", "photos"):
        if key in settings and variant.get(key) != settings[key]:
            said = f"{key} {variant.get(key)!r} (the references: {settings[key]!r})"
            blocking.append("other photos" if key == "photos" else said)
    for group in ("split", "train"):
        ours = variant.get(group, {})
        for key, ref in settings.get(group, {}).items():
            if ours.get(key) != ref:
                text = f"{group} {key} {ours.get(key)!r} (the references: {ref!r})"
                (rounding if key in ROUNDING_ONLY else blocking).append(text)
    # training parameters the references did not record are compared with training's defaults
    train, defaults = variant.get("train", {}), TrainConfig(dataset="baseline")
    for key in sorted(set(train) - set(settings.get("train", {}))):
        if train[key] != getattr(defaults, key, None):
            blocking.append(f"train {key} {train[key]!r} (the references: {getattr(defaults, key, None)!r})")
    return blocking, rounding


@dataclass
class NumberRow:
    model: str
    ours: float
    band: Band | None
    references: dict[str, float]  # build id -> its number
    paper: float | None

    @property
    def inside(self) -> bool | None:
        return None if self.band is None else self.band.contains(self.ours)

    @property
    def band_holds_paper(self) -> bool:
        return self.band is not None and self.paper is not None and self.band.contains(self.paper)

    def where(self) -> str:
        if self.band is None:
            return "no band measured"
        if self.inside:
            return "inside"
        return "above" if self.ours > self.band.high else "below"


@dataclass
class ClaimRow:
    id: str | None
    text: str
    ours: bool | None
    references: dict[str, bool]
    paper: object  # True / False / "not checked"
    seeds: str  # how often it held over the study's seeds, where known
    settled: str  # what the measured bands say about the claim


@dataclass
class Comparison:
    built: BuiltVariant
    refs: References
    blocking: list[str]
    rounding: list[str]
    numbers: list[NumberRow] = field(default_factory=list)
    claims: list[ClaimRow] = field(default_factory=list)

    @property
    def comparable(self) -> bool:
        return not self.blocking

    def counts(self, build_id: str) -> dict:
        """For one reference build: numbers within the band, claims with its verdict, equal digits."""
        b = self.refs.build(build_id)
        rows = [r for r in self.numbers if r.model in b["table1"] and r.band is not None]
        claims = [c for c in self.claims if c.id in b["claims"] and c.ours is not None]
        return {
            "numbers": len(rows),
            "inside": [r for r in rows if r.inside],
            "outside": [r for r in rows if not r.inside],
            "claims": len(claims),
            "same": [c for c in claims if c.ours == b["claims"][c.id]],
            "other": [c for c in claims if c.ours != b["claims"][c.id]],
            "equal_digits": sum(f"{r.ours:.4f}" == f"{b['table1'][r.model]:.4f}" for r in rows),
            "missing_claims": len(b["claims"]) - len(claims),
        }

    def reproduces(self, build_id: str) -> bool:
        c = self.counts(build_id)
        return self.comparable and not c["outside"] and not c["other"] and not c["missing_claims"] and c["numbers"] > 0

    def summary_for(self, build_id: str) -> str:
        b, c = self.refs.build(build_id), self.counts(build_id)
        verb = "reproduces" if self.reproduces(build_id) else "does not reproduce"
        text = (
            f"{verb} the reference build ({b['name']}): {len(c['same'])} of {c['claims']} claims, "
            f"{len(c['inside'])} of {c['numbers']} numbers within the measured band"
        )
        extra = []
        if c["other"]:
            extra.append("other verdict: " + "; ".join(x.id or x.text for x in c["other"]))
        if c["outside"]:
            extra.append(
                "outside: " + "; ".join(f"{r.model} {r.ours:.4f} {r.where()} {r.band.fmt()}" for r in c["outside"])
            )
        if c["missing_claims"]:
            extra.append(f"{c['missing_claims']} claims not on the build's claims page")
        extra.append(f"{c['equal_digits']} of {c['numbers']} equal to its 4 digits")
        return text + " (" + "; ".join(extra) + ")"

    def closest(self) -> str:
        """The reference build whose numbers the build matches best (equal digits, then claims)."""
        return max(
            (b["id"] for b in self.refs.builds),
            key=lambda i: (self.counts(i)["equal_digits"], len(self.counts(i)["same"])),
        )

    def summary(self) -> str:
        """One line: the verdict."""
        if not self.comparable:
            return "is not comparable with the reference builds (" + "; ".join(self.blocking) + "): no verdict"
        good = [b["id"] for b in self.refs.builds if self.reproduces(b["id"])]
        first = self.closest() if not good else max(good, key=lambda i: self.counts(i)["equal_digits"])
        return self.summary_for(first)

    def lines(self) -> list[str]:
        """The verdict against every reference build, the closest first, and the caveats."""
        if not self.comparable:
            return [self.summary()]
        order = sorted(self.refs.builds, key=lambda b: b["id"] != self.closest())
        out = [self.summary_for(b["id"]) for b in order]
        rounding = "; ".join(self.rounding)
        wide = ", ".join(r.model for r in self.numbers if r.band_holds_paper)
        open_claims = ", ".join(c.id for c in self.claims if c.settled.startswith("bands overlap"))
        if rounding:
            out.append(
                f"differs from the references in {rounding}: only rounding, but the band was not measured for it"
            )
        if wide:
            out.append(
                f"too wide to decide: the measured band of {wide} holds the paper's number too, "
                "so these cannot tell our result from the paper's"
            )
        if open_claims:
            out.append(f"the measured bands overlap for {open_claims}: a rebuild may flip these verdicts")
        return out


def _settled(claim_id: str | None, bands: Mapping[str, Band]) -> str:
    if claim_id not in CLAIM_LOSSES:
        return "no band measured (colourfulness)" if claim_id else "no reference"
    pairs, factor = CLAIM_LOSSES[claim_id]
    missing = sorted({m for pair in pairs for m in pair if m not in bands})
    if missing:
        return "no band for " + ", ".join(missing)
    if all(bands[left].high < factor * bands[right].low for left, right in pairs):
        return "holds at every value in the bands"
    if any(bands[left].low > factor * bands[right].high for left, right in pairs):
        return "fails at every value in the bands"
    return "bands overlap: the measured spread can flip it"


def _seeds(claim_id: str | None, refs: References) -> str:
    for s in refs.spread:
        if s.get("kind") == "seeds" and claim_id in s.get("claims", {}):
            return f"{s['claims'][claim_id]}/{s['runs']} seeds ({s['image_size']} px)"
    return "–"


def compare(built: BuiltVariant, refs: References) -> Comparison:
    """The build's numbers against the bands and its claims against each reference build's verdicts."""
    cmp = Comparison(built, refs, *differences(built.variant, refs.settings))
    bands = refs.bands()
    for m in built.table1:
        if m in bands or m in refs.paper:
            builds = {b["id"]: b["table1"][m] for b in refs.builds if m in b["table1"]}
            cmp.numbers.append(NumberRow(m, built.table1[m], bands.get(m), builds, refs.paper.get(m)))

    def claim_row(cid: str | None, text: str, holds: bool | None, paper: object) -> ClaimRow:
        verdicts = {b["id"]: b["claims"][cid] for b in refs.builds if cid in b["claims"]}
        return ClaimRow(cid, text, holds, verdicts, paper, _seeds(cid, refs), _settled(cid, bands))

    by_id = {c["id"]: c for c in refs.claims}
    for c in built.claims:
        cid = c["id"] if c["id"] in by_id else None
        cmp.claims.append(claim_row(cid, c["claim"], c["holds"], by_id[cid]["paper"] if cid else "–"))
    ours = {c["id"] for c in built.claims}  # then the claims of the references the build's page does not have
    cmp.claims += [claim_row(c["id"], c["text"], None, c.get("paper", "–")) for c in refs.claims if c["id"] not in ours]
    return cmp


def check(folder: Path | str, references: Path | str | None = None) -> Comparison:
    """Compare a built variant's folder with the reference file (the package's by default)."""
    refs = load_references(references)
    return compare(read_build(folder), refs)
