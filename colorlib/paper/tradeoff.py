"""The boosted baseline as the yardstick of the paper's hope, that averaging colour-biased models gives
colours more vivid than the baseline's, yet believable. Its obvious competitor turns up the baseline's own
colours, clip(k·p, -1, 1), k fitted on the calibration photos (:class:`colorlib.paper.evaluate.Boost`).
Here: every model on the plane of error against colourfulness, the boosted baseline a curve over k; the
claim the hope turns on; and in words what this build's numbers show.
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from .. import ALL_MODELS
from ..scoring.intervals import Interval, mean_interval, paired_difference
from ..scoring.no_skill import CLOSE_TO_BASELINE, REFERENCES
from ..scoring.vividness import K_MAX, photo_colourfulness
from .evaluate import BOOSTED, SAME_ERROR, Evaluation

BOOSTED_CLAIM = "bgy-combined-more-colourful-than-boosted-baseline"  # the claim's stable id


def per_photo(ev: Evaluation) -> tuple[str, dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """(where, per-photo MSE, per-photo colourfulness, the originals' colourfulness) of every model and
    reference: on the test photos when the manifest has them, else on the validation photos."""
    if ev.test_mse and ev.test_colour and ev.test_originals is not None:
        return "test", ev.test_mse, ev.test_colour, ev.test_originals
    mse = {m: np.array([p.mse for p in v]) for m, v in ev.per_photo.items()}
    colour = {m: np.array([p.colourfulness for p in v]) for m, v in ev.per_photo.items()}
    val = ev.validation
    return "validation", mse, colour, photo_colourfulness(val.lightness, val.ab, val.infos)


def data(ev: Evaluation) -> dict:
    """The trade-off as results.json keeps it: where it is measured and on how many photos; each model's
    and reference's mean colourfulness and MSE, each [mean, low, high] with its 95 % bootstrap interval
    over the photos (the boosted rows lie on the curve); the originals' colourfulness; the boosted
    baseline's curve [k, colourfulness, MSE] on the test photos, k rising; and its fitted scales."""
    where, mse, colour, originals = per_photo(ev)
    names = [m for m in (*ALL_MODELS, *REFERENCES) if m in mse and m in colour]
    points = {m: {"colourfulness": mean_interval(colour[m]), "mse": mean_interval(mse[m])} for m in names}
    return {
        "where": where,
        "photos": len(originals),
        "points": {m: {k: [i.estimate, i.low, i.high] for k, i in p.items()} for m, p in points.items()},
        "originals": float(originals.mean()),
        "curve": [[k, float(c.mean()), float(e.mean())] for k, (e, c) in sorted(ev.curve.items())],
        "boost": None if ev.boost is None else asdict(ev.boost),
    }


def marks(trade: dict) -> dict[str, tuple[float, float]]:
    """The fitted scales on the curve: {label: (colourfulness, MSE)}."""
    b, at = trade["boost"], {k: (c, e) for k, c, e in trade["curve"]}
    if b is None or not at:
        return {}
    named = {"k_mse": "k_mse", "k_vivid": "k_vivid", "k_same": f"{SAME_ERROR}'s error"}  # k_mse is never None
    return {f"×{b[k]:.2f} ({why})": at[b[k]] for k, why in named.items() if b[k] is not None}


def figure(trade: dict):
    """Error against colourfulness, every point with its intervals, the boosted baseline as a curve."""
    from .figures import trade_off

    points = {m: (Interval(*p["colourfulness"]), Interval(*p["mse"])) for m, p in trade["points"].items()}
    return trade_off(points, trade["curve"], trade["originals"], marks(trade), trade["where"])


def boosted_claim(ev: Evaluation) -> dict | None:
    """Is bgy-combined more colourful than the baseline boosted to its error? k_same is fitted on the
    calibration photos (the baseline's loss there equals bgy-combined's); on the test photos the claim
    holds when the paired 95 % bootstrap interval of the mean colourfulness difference (bgy-combined
    minus baseline ×k_same) lies wholly above 0. None without calibration or test photos."""
    b = ev.boost
    if b is None or not ev.curve or SAME_ERROR not in ev.test_colour:
        return None
    row = {
        "id": BOOSTED_CLAIM,
        "claim": f"{SAME_ERROR} (the average of the biased models) is more colourful than the baseline boosted "
        "to the same error",
        "paper": "the paper's hope; not checked",
    }
    fit = f"k fitted on {b.n_photos} calibration photos, where {SAME_ERROR}'s loss is {b.same_error:.4f}"
    if b.k_same is None:
        ours = f"no k from k_mse {b.k_mse:.2f} to {K_MAX:g} gives the baseline that loss ({fit}), so no comparison"
        return row | {"ours": ours, "holds": False}
    colour, boosted = ev.test_colour[SAME_ERROR], ev.curve[b.k_same][1]
    diff = paired_difference(colour, boosted)
    ours = (
        f"baseline ×{b.k_same:.2f} ({fit}); on {len(colour)} test photos, loss {ev.test_mse[SAME_ERROR].mean():.4f} "
        f"vs {ev.curve[b.k_same][0].mean():.4f}, colourfulness {colour.mean():.1f} vs {boosted.mean():.1f}, "
        f"paired difference (95 % CI) {diff.fmt(1)}"
    )
    return row | {"ours": ours, "holds": bool(diff.low > 0)}


def colour_at_error(trade: dict, mse: float) -> float | None:
    """The boosted baseline's colourfulness at a given test error, on the curve's rising side (k at
    least k_mse), interpolated; None outside the curve's range."""
    b = trade["boost"]
    rising = [(e, c) for k, c, e in trade["curve"] if b is not None and k >= b["k_mse"]]
    if len(rising) < 2 or not rising[0][0] <= mse <= rising[-1][0]:
        return None
    errors, colours = np.array(rising).T
    return float(np.interp(mse, errors, colours))


def findings(results: dict) -> str:
    """What the trade-off figure shows, in words, from this build's results (the discussion reads it)."""
    trade = results["tradeoff"]
    b, where, points = trade["boost"], trade["where"], trade["points"]
    if b is None or not trade["curve"]:
        return (
            "This build has no calibration or test photos, so the baseline is not boosted and the figure shows the "
            f"models on the {where} photos only."
        )
    mse = {m: p["mse"][0] for m, p in points.items()}
    colour = {m: p["colourfulness"][0] for m, p in points.items()}
    base_e, base_c, n = mse[BOOSTED], colour[BOOSTED], trade["photos"]
    at = {k: (c, e) for k, c, e in trade["curve"]}
    text = [
        f"On the {n} test photos the baseline scores a loss of {base_e:.4f} with colourfulness {base_c:.1f}; the "
        f"original photos' colourfulness is {trade['originals']:.1f}. Turning up its colours by k traces the curve: "
        f"the least-squares scale k_mse = {b['k_mse']:.2f} (fitted on the {b['n_photos']} calibration photos) gives "
        f"a loss of {at[b['k_mse']][1]:.4f} and colourfulness {at[b['k_mse']][0]:.1f}."
    ]
    if b["k_vivid"] is not None:
        c, e = at[b["k_vivid"]]
        paper = "meets" if c > base_c and e <= (1 + CLOSE_TO_BASELINE) * base_e else "misses"
        text.append(
            f"Scaled by k_vivid = {b['k_vivid']:.2f}, as colourful as the calibration photos ({b['originals']:.1f}), "
            f"it reaches colourfulness {c:.1f} at a loss of {e:.4f}, {e / base_e:.2f}× the baseline's: one "
            f"multiplication that {paper} the paper's own criterion (more colourful than the baseline, within "
            f"{CLOSE_TO_BASELINE:.0%} of its error)."
        )
    models = [m for m in ALL_MODELS if m in mse and m != BOOSTED]
    found = {m: colour_at_error(trade, mse[m]) for m in models}
    sides = {
        "less colourful": [m for m, c in found.items() if c is not None and colour[m] <= c],
        "more colourful": [m for m, c in found.items() if c is not None and colour[m] > c],
        "with a loss outside the curve's range": [m for m, c in found.items() if c is None],
    }
    said = [f"{len(names)} {side}" + (f" ({', '.join(names)})" if names else "") for side, names in sides.items()]
    text.append(
        f"Against the baseline boosted to the same loss, of the {len(models)} other models " + ", ".join(said) + "."
    )
    claim = [claim_sentence(c) for c in results["claims"] if c["id"] == BOOSTED_CLAIM]
    return " ".join(text + claim)


def claim_sentence(claim: dict) -> str:
    """The boosted-baseline claim's verdict as a sentence, with its numbers."""
    verdict = "holds" if claim["holds"] else "does not hold"
    return f"The claim the paper's hope turns on, that {claim['claim']}, {verdict}: {claim['ours']}."
