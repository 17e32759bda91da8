"""Did a build reproduce the paper and our reference builds? Its Table I and claims against the
reference results kept in ``reference_results.toml``.

Each loss of the build's Table I is compared with the *measured band* of that model: the lowest and
highest value that the same settings have given so far, over the reference builds (one per kind of
processor), earlier builds that differed only in floating-point rounding, and the seeds of the
paper-scale study (whose three values lie within mean ± std · 2/√3, the widest those three numbers
can spread). Every band says from how many runs it comes; a band holding the paper's number too is
too wide to tell our result from the paper's, and a claim whose compared losses have overlapping
bands may flip in a rebuild; the check says both. Each claim is compared with each reference build's
verdict. A build with other settings (the smoke profile, another seed, other photos) is not
comparable, and the check says so instead of giving a verdict.

Entry points: :func:`check` (a variant's folder → :class:`Comparison`), :func:`report_text` (what
``colorlib check`` prints), :func:`front_page_verdict` (one paragraph for the book's front page), and
the tables and figure of the check's page (``notebooks/check.ipynb``).
"""

from __future__ import annotations

import csv
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

REFERENCE_FILE = Path(__file__).with_name("reference_results.toml")
REFERENCE_FORMAT = "colorlib-references/1"
HALF_DIGIT = 0.00005  # the reference numbers are printed to 4 digits: each stands for ± half of the last
# Training settings that change only the rounding: a build that differs in them is still compared.
ROUNDING_ONLY = ("threads", "precision")

# The loss comparisons behind each loss claim: (left, right) pairs and the factor, "left < factor × right"
# (≤ for the 25 % "close to"), all pairs at once; the claims of colourfulness have no measured band.
CLAIM_LOSSES: dict[str, tuple[tuple[tuple[str, str], ...], float]] = {
    "by-combined-below-by": ((("by-combined", "by"),), 1.0),
    "bgy-combined-below-bgy": ((("bgy-combined", "bgy"),), 1.0),
    "combined-close-to-baseline": ((("by-combined", "baseline"), ("bgy-combined", "baseline")), 1.25),
    "baseline-above-combined": ((("by-combined", "baseline"), ("bgy-combined", "baseline")), 1.0),
    "combined-below-grey": ((("by-combined", "grey"), ("bgy-combined", "grey")), 1.0),
}


# --- the reference file ------------------------------------------------------------------------------


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
        raise UserError(f"no reference build {build_id!r} in {self.path}; there are {self._ids()}")

    def _ids(self) -> str:
        return ", ".join(b["id"] for b in self.builds)

    def bands(self) -> dict[str, Band]:
        """{model: its measured band}, from every build and measurement that has the model."""
        values: dict[str, list[tuple[float, float]]] = {}
        runs: dict[str, int] = {}
        sources: dict[str, list[str]] = {}

        def add(model: str, low: float, high: float, n: int, source: str) -> None:
            values.setdefault(model, []).append((low, high))
            runs[model] = runs.get(model, 0) + n
            sources.setdefault(model, []).append(source)

        for b in self.builds:
            for m, v in b["table1"].items():
                add(m, v - HALF_DIGIT, v + HALF_DIGIT, 1, b["id"])
        for s in self.spread:
            n = int(s.get("runs", 1))
            for m, v in s.get("table1", {}).items():
                add(m, v - HALF_DIGIT, v + HALF_DIGIT, n, s["id"])
            for m, mean in s.get("mean", {}).items():
                reach = s["std"][m] * (n - 1) / math.sqrt(n) + HALF_DIGIT
                add(m, mean - reach, mean + reach, n, s["id"])
        return {
            m: Band(m, min(lo for lo, _ in v), max(hi for _, hi in v), runs[m], tuple(sources[m]))
            for m, v in values.items()
        }

    def claim_ids(self) -> dict[str, str]:
        """{claim text: id}."""
        return {c["text"]: c["id"] for c in self.claims}


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


# --- a built variant ----------------------------------------------------------------------------------


@dataclass
class BuiltVariant:
    """What the check reads from a built variant's folder."""

    folder: Path
    variant: dict | None  # variant.json
    table1: dict[str, float]  # model -> validation MSE
    claims: list[tuple[str, bool]] | None  # (claim, holds), from pages/claims.md


def _pages(folder: Path) -> tuple[Path, Path]:
    """(the variant's folder, its pages folder), given either."""
    if (folder / "pages" / "table1.csv").is_file() or not (folder / "table1.csv").is_file():
        return folder, folder / "pages"
    return folder.parent, folder


def read_table1(path: Path) -> dict[str, float]:
    """{model: mse} of a Table I CSV (colorlib.paper.evaluate.to_csv)."""
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    if not rows or "model" not in rows[0] or "mse" not in rows[0]:
        raise UserError(f"{path} is not a Table I CSV (it needs the columns model and mse)")
    out = {}
    for r in rows:
        try:
            out[r["model"]] = float(r["mse"])
        except (TypeError, ValueError):
            raise UserError(f"{path}: the mse of {r.get('model')!r} is not a number: {r.get('mse')!r}") from None
    return out


def read_claims(path: Path) -> list[tuple[str, bool]]:
    """[(claim, holds)] of a claims page (colorlib.paper.claims.claims_markdown)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) >= 2 and cells[-1] in ("yes", "no"):
            out.append((cells[0], cells[-1] == "yes"))
    if not out:
        raise UserError(f"{path} holds no claims table")
    return out


def read_variant(folder: Path | str) -> BuiltVariant:
    """The Table I, claims and variant.json of a built variant (``build/<variant>`` or its pages)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: give a built variant's folder, e.g. build/latest")
    root, pages = _pages(folder)
    table = pages / "table1.csv"
    if not table.is_file():
        raise UserError(f"{folder} has no pages/table1.csv: build the variant first (make book)")
    variant = None
    if (root / "variant.json").is_file():
        try:
            variant = json.loads((root / "variant.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read {root / 'variant.json'}: {exc}") from None
    claims = read_claims(pages / "claims.md") if (pages / "claims.md").is_file() else None
    return BuiltVariant(folder, variant, read_table1(table), claims)


def differences(variant: dict | None, settings: Mapping) -> tuple[list[str], list[str]]:
    """(what keeps a build from being compared with the references, what differs only in rounding)."""
    if variant is None:
        return ["no variant.json, so its settings are unknown"], []
    blocking, rounding = [], []
    for key in ("profile", "seed", "photos"):
        if key in settings and variant.get(key) != settings[key]:
            what = (
                "other photos" if key == "photos" else f"{key} {variant.get(key)!r} (the references: {settings[key]!r})"
            )
            blocking.append(what)
    for group in ("split", "train"):
        ours = variant.get(group, {})
        for key, ref in settings.get(group, {}).items():
            if ours.get(key) != ref:
                text = f"{group} {key} {ours.get(key)!r} (the references: {ref!r})"
                (rounding if key in ROUNDING_ONLY else blocking).append(text)
        for key in sorted(set(ours) - set(settings.get(group, {}))):
            # parameters the references did not record are compared with training's defaults
            from ..train import TrainConfig

            default = getattr(TrainConfig(dataset="baseline"), key, None) if group == "train" else None
            if group == "train" and ours[key] != default:
                blocking.append(f"train {key} {ours[key]!r} (the references: {default!r})")
    return blocking, rounding


# --- the comparison ----------------------------------------------------------------------------------


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
            return "not comparable with the reference builds (" + "; ".join(self.blocking) + "): no verdict"
        good = [b["id"] for b in self.refs.builds if self.reproduces(b["id"])]
        first = self.closest() if not good else max(good, key=lambda i: self.counts(i)["equal_digits"])
        return self.summary_for(first)

    def lines(self) -> list[str]:
        """The verdict against every reference build, the closest first, and the caveats."""
        if not self.comparable:
            return [self.summary()]
        order = sorted(self.refs.builds, key=lambda b: b["id"] != self.closest())
        out = [self.summary_for(b["id"]) for b in order]
        if self.rounding:
            out.append(
                "differs from the references in "
                + "; ".join(self.rounding)
                + ": only rounding, but the band was not measured for it"
            )
        wide = [r.model for r in self.numbers if r.band_holds_paper]
        if wide:
            out.append(
                "too wide to decide: the measured band of " + ", ".join(wide) + " holds the paper's number too, "
                "so these cannot tell our result from the paper's"
            )
        open_claims = [c.id for c in self.claims if c.settled.startswith("bands overlap")]
        if open_claims:
            out.append(
                "the measured bands overlap for " + ", ".join(open_claims) + ": a rebuild may flip these verdicts"
            )
        return out


def _settled(claim_id: str | None, bands: Mapping[str, Band]) -> str:
    if claim_id not in CLAIM_LOSSES:
        return "no band measured (colourfulness)" if claim_id else "no reference"
    pairs, factor = CLAIM_LOSSES[claim_id]
    always, never, missing = True, False, []
    for left, right in pairs:
        if left not in bands or right not in bands:
            missing += [m for m in (left, right) if m not in bands]
            always = False
            continue
        a, b = bands[left], bands[right]
        always &= a.high < factor * b.low
        never |= a.low > factor * b.high
    if claim_id == "baseline-above-combined":
        # "baseline > each combined" is "combined < 1 × baseline" for both: the same test
        pass
    if missing:
        return "no band for " + ", ".join(sorted(set(missing)))
    if always:
        return "holds at every value in the bands"
    if never:
        return "fails at every value in the bands"
    return "bands overlap: the measured spread can flip it"


def _seeds(claim_id: str | None, refs: References) -> str:
    for s in refs.spread:
        if s.get("kind") == "seeds" and claim_id in s.get("claims", {}):
            return f"{s['claims'][claim_id]}/{s['runs']} seeds ({s['image_size']} px)"
    return "–"


def compare(built: BuiltVariant, refs: References) -> Comparison:
    """The build's numbers against the bands and its claims against each reference build's verdicts."""
    blocking, rounding = differences(built.variant, refs.settings)
    cmp = Comparison(built, refs, blocking, rounding)
    bands = refs.bands()
    models = [m for m in built.table1 if m in bands or m in refs.paper]
    for m in models:
        cmp.numbers.append(
            NumberRow(
                m,
                built.table1[m],
                bands.get(m),
                {b["id"]: b["table1"][m] for b in refs.builds if m in b["table1"]},
                refs.paper.get(m),
            )
        )
    ids = refs.claim_ids()
    by_id = {c["id"]: c for c in refs.claims}
    ours = {ids.get(text, text): holds for text, holds in (built.claims or [])}
    seen = []
    for text, holds in built.claims or []:
        cid = ids.get(text)
        seen.append(cid)
        cmp.claims.append(
            ClaimRow(
                cid,
                text,
                holds,
                {b["id"]: b["claims"][cid] for b in refs.builds if cid in b["claims"]},
                by_id[cid]["paper"] if cid else "–",
                _seeds(cid, refs),
                _settled(cid, bands),
            )
        )
    for c in refs.claims:  # claims of the references the build's page does not have
        if c["id"] not in seen:
            cmp.claims.append(
                ClaimRow(
                    c["id"],
                    c["text"],
                    ours.get(c["id"]),
                    {b["id"]: b["claims"][c["id"]] for b in refs.builds},
                    c.get("paper", "–"),
                    _seeds(c["id"], refs),
                    _settled(c["id"], bands),
                )
            )
    return cmp


def check(folder: Path | str, references: Path | str | None = None) -> Comparison:
    """Compare a built variant's folder with the reference file (the package's by default)."""
    refs = load_references(references)
    return compare(read_variant(folder), refs)


# --- what the check shows ------------------------------------------------------------------------------


def _yes(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "–" if value is None else str(value)


def numbers_table(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each loss of the build against the band and each reference build."""
    builds = cmp.refs.builds
    header = ["model", "ours", *[b["name"] for b in builds], "paper", "measured band", "runs", "ours in band"]
    rows = []
    for r in cmp.numbers:
        refs = [f"{r.references[b['id']]:.4f}" if b["id"] in r.references else "–" for b in builds]
        band = r.band.fmt() + (" (holds the paper's)" if r.band_holds_paper else "") if r.band else "–"
        rows.append(
            [
                r.model,
                f"{r.ours:.4f}",
                *refs,
                f"{r.paper:.4f}" if r.paper is not None else "–",
                band,
                str(r.band.runs) if r.band else "–",
                r.where() if cmp.comparable else f"({r.where()}; not comparable)",
            ]
        )
    return header, rows


def claims_table(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each claim's verdict on the build, each reference build, the paper, the seeds."""
    builds = cmp.refs.builds
    header = ["claim", "ours", *[b["name"] for b in builds], "paper", "study seeds", "the bands"]
    rows = []
    for c in cmp.claims:
        rows.append(
            [
                c.text,
                _yes(c.ours),
                *[_yes(c.references.get(b["id"])) for b in builds],
                _yes(c.paper),
                c.seeds,
                c.settled,
            ]
        )
    return header, rows


def bands_table(refs: References) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each model's band and what it was measured from."""
    what = {x["id"]: x for x in [*refs.builds, *refs.spread]}
    rows = []
    for m, b in refs.bands().items():
        parts = []
        for sid in b.sources:
            x = what[sid]
            n = int(x.get("runs", 1))
            parts.append(f"{sid} ({n} run{'s' if n > 1 else ''}, {x.get('kind', 'reference build')})")
        rows.append([m, b.fmt(), f"{b.width / ((b.low + b.high) / 2):.0%}", str(b.runs), "; ".join(parts)])
    return ["model", "band", "width / middle", "runs", "measured from (all at 256 px)"], rows


def references_table(refs: References) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each reference build and further measurement, with its provenance."""
    rows = [
        [
            b["name"],
            b["processor"],
            b["precision"],
            str(b["threads"]),
            b["torch"],
            b["commit"],
            b.get("date", "–"),
            b.get("source", ""),
        ]
        for b in refs.builds
    ]
    rows += [
        [s["id"], s.get("what", ""), "–", "–", "–", s.get("commit", "–"), s.get("date", "–"), s.get("source", "")]
        for s in refs.spread
    ]
    return ["build", "processor / what", "precision", "threads", "torch", "commit", "date", "source"], rows


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    from ..pages.markdown import markdown_table

    return markdown_table(list(header), [list(r) for r in rows])


def report_markdown(cmp: Comparison) -> str:
    """The whole comparison as Markdown: verdict lines, numbers, claims, bands."""
    parts = ["\n".join(f"- {line}" for line in cmp.lines()), ""]
    parts += ["Validation MSE against the measured bands:", "", _markdown(*numbers_table(cmp))]
    parts += ["Claims:", "", _markdown(*claims_table(cmp))]
    parts += ["The bands:", "", _markdown(*bands_table(cmp.refs))]
    return "\n".join(parts)


def report_text(cmp: Comparison) -> str:
    """What ``colorlib check`` prints: the verdict first, then the tables."""
    head = [
        f"{cmp.built.folder}: {cmp.summary()}",
        *[f"  {line}" for line in cmp.lines()[1 if cmp.comparable else 1 :]],
    ]
    return "\n".join(head) + "\n\n" + report_markdown(cmp)


def front_page_verdict(folder: Path | str, references: Path | str | None = None) -> str:
    """One short paragraph for the book's front page: the verdict, and what it was compared with."""
    cmp = check(folder, references)
    names = " and ".join(f"{b['name']} ({b['commit']})" for b in cmp.refs.builds)
    if not cmp.comparable:
        return (
            f"**Reproduction check:** this build is not comparable with the reference builds "
            f"({'; '.join(cmp.blocking)}), so it gives no verdict; the references ({names}) are paper-scale builds."
        )
    return f"**Reproduction check:** this build {cmp.summary()}. Compared with the reference builds {names}."


def band_figure(cmp: Comparison):
    """Each model's measured band (bar), the reference builds' and the paper's numbers, and ours."""
    import matplotlib.pyplot as plt

    rows = [r for r in cmp.numbers if r.band is not None]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    markers = ["s", "D", "^", "v"]
    for i, r in enumerate(rows):
        ax.plot([r.band.low, r.band.high], [i, i], color="0.75", linewidth=8, solid_capstyle="butt", zorder=1)
        for j, b in enumerate(cmp.refs.builds):
            if b["id"] in r.references:
                ax.plot(
                    r.references[b["id"]],
                    i,
                    markers[j % 4],
                    color=f"C{j + 1}",
                    ms=5,
                    zorder=2,
                    label=b["name"] if i == 0 else None,
                )
        colour = "C0" if r.inside else "C3"
        ax.plot(r.ours, i, "o", color=colour, ms=7, zorder=3, label="this build" if i == 0 else None)
    ax.set_yticks(range(len(rows)), [r.model for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("validation MSE (log scale); grey bar: the measured band")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(
        cmp.summary() if len(cmp.summary()) < 90 else "this build against the measured bands", fontsize="small"
    )
    fig.tight_layout()
    return fig
