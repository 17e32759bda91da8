"""What the reproduction check shows: the text ``colorlib check`` prints, the front page's verdict,
and the tables and figure of the check's page (notebooks/check.ipynb)."""

from __future__ import annotations

from ..pages.markdown import markdown_table
from .reference_results import References
from .reproduction import Comparison


def _yes(value: object) -> str:
    """A verdict as the tables show it: yes, no, – (none) or its own text."""
    return "yes" if value is True else "no" if value is False else "–" if value is None else str(value)


def numbers_table(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each loss of the build against the band and each reference build."""
    builds = cmp.refs.builds
    header = ["model", "ours", *[b["name"] for b in builds], "paper", "measured band", "runs", "ours in band"]
    rows = []
    for r in cmp.numbers:
        refs = [f"{r.references[b['id']]:.4f}" if b["id"] in r.references else "–" for b in builds]
        band = r.band.fmt() + (" (holds the paper's)" if r.band_holds_paper else "") if r.band else "–"
        paper = f"{r.paper:.4f}" if r.paper is not None else "–"
        runs = str(r.band.runs) if r.band else "–"
        where = r.where() if cmp.comparable else f"({r.where()}; not comparable)"
        rows.append([r.model, f"{r.ours:.4f}", *refs, paper, band, runs, where])
    return header, rows


def claims_table(cmp: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each claim's verdict on the build, each reference build, the paper, the seeds."""
    builds = cmp.refs.builds
    header = ["claim", "ours", *[b["name"] for b in builds], "paper", "study seeds", "the bands"]
    rows = [
        [c.text, _yes(c.ours), *[_yes(c.references.get(b["id"])) for b in builds], _yes(c.paper), c.seeds, c.settled]
        for c in cmp.claims
    ]
    return header, rows


def bands_table(refs: References) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each model's band and what it was measured from."""
    said = {}  # each build and measurement: its id, how many runs, what kind
    for x in [*refs.builds, *refs.spread]:
        n = int(x.get("runs", 1))
        said[x["id"]] = f"{x['id']} ({n} run{'s' if n > 1 else ''}, {x.get('kind', 'reference build')})"
    rows = [
        [m, b.fmt(), f"{b.width / ((b.low + b.high) / 2):.0%}", str(b.runs), "; ".join(said[s] for s in b.sources)]
        for m, b in refs.bands().items()
    ]
    return ["model", "band", "width / middle", "runs", "measured from (all at 256 px)"], rows


def references_table(refs: References) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each reference build and further measurement, with its provenance."""
    provenance = ("name", "processor", "precision", "threads", "torch", "commit")
    rows = [[*(str(b[k]) for k in provenance), b.get("date", "–"), b.get("source", "")] for b in refs.builds]
    rows += [
        [s["id"], s.get("what", ""), "–", "–", "–", s.get("commit", "–"), s.get("date", "–"), s.get("source", "")]
        for s in refs.spread
    ]
    return ["build", "processor / what", "precision", "threads", "torch", "commit", "date", "source"], rows


def report_text(cmp: Comparison) -> str:
    """What ``colorlib check`` prints: the verdict line, its caveats, then the tables (numbers, claims, bands)."""
    head = [f"{cmp.built.folder}: {cmp.summary()}", *[f"  {line}" for line in cmp.lines()[1:]]]
    parts = ["Validation MSE against the measured bands:", "", markdown_table(*numbers_table(cmp))]
    parts += ["Claims:", "", markdown_table(*claims_table(cmp))]
    parts += ["The bands:", "", markdown_table(*bands_table(cmp.refs))]
    return "\n".join(head) + "\n\n" + "\n".join(parts)


def front_page_verdict(cmp: Comparison) -> str:
    """One short paragraph for the book's front page: the verdict, and what it was compared with."""
    names = " and ".join(f"{b['name']} ({b['commit']})" for b in cmp.refs.builds)
    if not cmp.comparable:
        more = len(cmp.blocking) - 1
        differs = cmp.blocking[0] + (f", and {more} other setting{'s' if more > 1 else ''}" if more else "")
        return (
            f"**Reproduction check:** this build is not comparable with the reference builds ({differs}), "
            f"so it gives no verdict; the references ({names}) are paper-scale builds."
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
                label = b["name"] if i == 0 else None
                ax.plot(r.references[b["id"]], i, markers[j % 4], color=f"C{j + 1}", ms=5, zorder=2, label=label)
        colour = "C0" if r.inside else "C3"
        ax.plot(r.ours, i, "o", color=colour, ms=7, zorder=3, label="this build" if i == 0 else None)
    ax.set_yticks(range(len(rows)), [r.model for r in rows])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("validation MSE (log scale); grey bar: the measured band")
    ax.legend(loc="lower right", fontsize="small")
    title = cmp.summary()
    ax.set_title(title if len(title) < 90 else "this build against the measured bands", fontsize="small")
    fig.tight_layout()
    return fig
