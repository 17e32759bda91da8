"""The data report: what a manifest says about the folder and its sets, as text and as Markdown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from .features import COLOURS


def _skipped_lines(skipped: list[dict], shown: int = 4) -> list[str]:
    """Skipped files grouped by reason category (the text before any parenthesis)."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for item in skipped:
        by_reason[item["reason"].split(" (")[0]].append(item["name"])
    lines = []
    for reason, names in sorted(by_reason.items()):
        more = f", ... (+{len(names) - shown} more)" if len(names) > shown else ""
        lines.append(f"    {reason}: {len(names)} ({', '.join(names[:shown])}{more})")
    return lines


def _scores_text(scores: dict[str, float]) -> str:
    """Colour scores as fixed-width columns."""
    return "  ".join(f"{scores[c]:6.3f}" for c in COLOURS)


def format_report(manifest: dict) -> str:
    """A human-readable data report of a manifest: hygiene counts, set sizes and colour bias."""
    rep, params = manifest["report"], manifest["params"]
    lines = [
        f"Data report for {manifest['data_dir']} (seed {params['seed']})",
        f"  files seen:        {rep['files_seen']}",
        f"  photos read:       {rep['photos_read']}",
        f"  skipped:           {len(rep['skipped'])}",
        *_skipped_lines(rep["skipped"]),
        f"  black-and-white:   {rep['bw_removed']} removed "
        f"(chroma p{params['bw_percentile']:g} < {params['bw_chroma']:g})",
        f"  duplicate groups:  {rep['duplicate_groups']} "
        f"(same bytes or pHash within {params['phash_max_distance']} bits), "
        f"{rep['duplicates_removed']} extra copies removed",
        f"  usable photos:     {rep['usable_photos']}",
        "",
        f"  {'set':<12}{'photos':>7}  {'blue':>6}  {'yellow':>6}  {'green':>6}   (mean scores)",
        f"  {'(folder)':<12}{rep['usable_photos']:>7}  {_scores_text(rep['folder_mean_scores'])}",
    ]
    for name, names in manifest["sets"].items():
        scores = rep["set_mean_scores"][name]
        lines.append(f"  {name:<12}{len(names):>7}  {_scores_text(scores)}")
    return "\n".join(lines)


def selection_rule(manifest: Mapping) -> str:
    """How the manifest's sets were chosen, in words, with the thresholds it records (Markdown)."""
    p = manifest["params"]
    n = {name: len(names) for name, names in manifest["sets"].items()}
    thumb = f"{p['thumb_size']}×{p['thumb_size']}"
    hues = ", ".join(f"{c} {lo:g}–{hi:g}°" for c, (lo, hi) in p["hue_ranges"].items())
    steps = [
        f"**Black-and-white photos out.** A photo is dropped when the {p['bw_percentile']:g}th percentile "
        f"of its pixels' chroma (on a {thumb} thumbnail) is below {p['bw_chroma']:g}.",
        "**One photo per duplicate group.** Identical files, and photos whose perceptual hashes differ in "
        f"at most {p['phash_max_distance']} of 64 bits, form a group; a group gives one photo, to one set.",
        "**Colour scores.** For each photo, the share of its pixels that are clearly coloured (chroma "
        f"above {p['chroma_min']:g}) with a hue in a colour's range: {hues}.",
        "**Colour sets.** A photo competes only for the colour it scores highest on; the blue, yellow "
        f"and green sets take the {p['per_colour']} best scorers of their colour.",
        f"**Random sets.** Validation ({n['validation']} photos) and baseline ({n['baseline']} photos) "
        f"are drawn at random with seed {p['seed']} from the groups the colour sets did not use.",
        f"**Unions.** by is blue + yellow ({n['by']} photos), bgy is blue + green + yellow ({n['bgy']}).",
    ]
    if n.get("test"):
        steps.append(
            f"**Test set.** {n['test']} more photos, drawn at random after every other set (from a random "
            "stream of their own, so no other set depends on it) from the groups no other set uses; only "
            "scored, never trained or fitted on."
        )
    if n.get("calibration"):
        steps.append(
            f"**Calibration set.** {n['calibration']} more photos, drawn the same way after the test set: never "
            "trained on, only used to fit the boosted baseline's scales (and the study's blend weights)."
        )
    return "".join(f"{i}. {step}\n" for i, step in enumerate(steps, start=1))
