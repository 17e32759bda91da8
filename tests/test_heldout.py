"""The study on the test photos: per-photo believability pools to the set measures, bootstrap
intervals over photos (pooled over seeds, paired with the baseline), and the verdict on the paper's
hope from hand-made results."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colorlib import lab, study
from colorlib.scoring import believability as bel
from colorlib.scoring.intervals import mean_interval
from colorlib.study import heldout
from colorlib.study.scoring import PhotoValues

from .helpers import SCORES, assert_estimates_inside

BINS = (2 * bel.HIST_HALF_BINS + 1) ** 2


def test_per_photo_terms_pool_to_the_set_measures():
    gen = torch.Generator().manual_seed(0)
    true = (torch.rand(5, 2, 16, 16, generator=gen) * 2 - 1) * 0.5
    pred = (torch.rand(5, 2, 16, 16, generator=gen) * 2 - 1) * 0.3
    infos = [lab.pad_info(16, 12, 16), lab.pad_info(16, 16, 16)] * 2 + [lab.pad_info(16, 16, 10)]
    pt, tt = bel.photo_terms(pred, infos), bel.photo_terms(true, infos)
    assert pt.counts.shape == (5, BINS) and pt.counts.sum() == sum(i.inner_height * i.inner_width for i in infos)
    pooled, direct = bel.pooled_believability(pt, tt), bel.believability(pred, true, infos)
    assert pooled == pytest.approx(direct, rel=1e-12)
    # counting a photo twice is scoring a set that holds it twice
    twice = [0, 0, 1, 2, 3, 4]
    again = bel.believability(pred[twice], true[twice], [infos[i] for i in twice])
    assert bel.pooled_believability(pt, tt, np.array([2.0, 1, 1, 1, 1])) == pytest.approx(again, rel=1e-12)
    many = bel.pooled_believability(pt, tt, np.array([[2.0, 1, 1, 1, 1], [1.0, 1, 1, 1, 1]]))
    assert many["hist_distance"][1] == pytest.approx(direct["hist_distance"])


def test_resample_counts_draw_what_the_intervals_module_draws():
    counts = heldout.resample_counts(30, 500, 3)
    assert counts.shape == (500, 30) and np.all(counts.sum(axis=1) == 30)
    values = np.random.default_rng(1).lognormal(0, 1, 30)
    ours = heldout.interval(values.mean(), counts @ values / 30)
    theirs = mean_interval(values, n_boot=500, seed=3)
    assert (ours.low, ours.high) == pytest.approx((theirs.low, theirs.high))


def _terms(rng: np.random.Generator, n: int, chroma_bin: int, energy: float) -> bel.PhotoTerms:
    counts = np.zeros((n, BINS), np.float32)
    counts[:, BINS // 2] = 50  # some grey pixels in every photo
    counts[:, chroma_bin] = rng.integers(20, 80, n)
    return bel.PhotoTerms(counts, energy * rng.uniform(0.8, 1.2, n), rng.uniform(0, 0.05, n))


def fake_test_results(models: dict[str, tuple[float, float]], n_photos: int = 300, seeds=(0, 1, 2)):
    """StudyResults with only test photos: per model (error factor, colourfulness), every photo's
    error = factor × its hardness (shared by all models) × a little noise of its own."""
    rng = np.random.default_rng(0)
    hardness = rng.lognormal(-4.5, 0.8, n_photos)
    originals = PhotoValues(np.zeros(n_photos), rng.normal(45, 10, n_photos), _terms(rng, n_photos, 100, 40.0))
    photos = {}
    for model, (factor, colour) in models.items():
        for s in seeds:
            mse = factor * hardness * rng.uniform(0.9, 1.1, n_photos)
            col = colour + rng.normal(0, 3, n_photos)
            photos[("mse", model, s)] = PhotoValues(mse, col, _terms(rng, n_photos, 120, colour / 2))
    rows = [{"loss": "mse", "model": m, "seed": s, "mse": 0.0} for m in models for s in seeds]
    return study.StudyResults(
        rows, {}, [], {"colourfulness": 45.0}, 64, 4, 4,
        test_photos=photos, test_names=[f"p{i}.jpg" for i in range(n_photos)],
        test_originals={"colourfulness": float(originals.colourfulness.mean())}, test_original_photos=originals,
    )  # fmt: skip


def test_the_verdict_on_a_clearly_better_and_a_clearly_worse_rule():
    results = fake_test_results(
        {
            "baseline": (1.0, 20.0),
            "bgy-combined": (1.2, 18.0),  # close, but less colourful: no
            "bgy-most-saturated": (1.1, 30.0),  # more colourful and close: yes
            "bgy-median": (2.0, 35.0),  # more colourful, far too much error: no
            "grey": (1.3, 0.0),
        }
    )
    stats = {s["model"]: s for s in heldout.rule_intervals(results, n_boot=400)}
    assert list(stats) == ["bgy-combined", "bgy-median", "bgy-most-saturated", "baseline", "grey"]
    best, mean, far = stats["bgy-most-saturated"], stats["bgy-combined"], stats["bgy-median"]
    assert (best["more_colourful"], best["close"], best["both"]) == ("yes", "yes", "yes")
    assert (mean["more_colourful"], mean["close"], mean["both"]) == ("no", "yes", "no")
    assert (far["more_colourful"], far["close"], far["both"]) == ("yes", "no", "no")
    assert best["ratio"].estimate == pytest.approx(1.1, abs=0.02) and best["ratio"].high < 1.2  # paired: tight
    assert best["colour_gain"].estimate == pytest.approx(10.0, abs=0.5)
    assert not stats["grey"]["rule"] and "both" in stats["grey"]  # compared, but not a rule of the verdict
    assert_estimates_inside(*stats.values())
    verdict = heldout.intervals_verdict(list(stats.values()), results.n_test)
    assert verdict.startswith("**Yes** on the 300 test photos") and "bgy-most-saturated is more colourful" in verdict
    no = [s for s in stats.values() if s["model"] != "bgy-most-saturated"]
    assert heldout.intervals_verdict(no, results.n_test).startswith("**No** on the 300 test photos")
    table = heldout.rule_intervals_table(results, list(stats.values()))
    assert "| bgy-most-saturated | 3 |" in table and "yes · yes · **yes**" in table and "| originals |" in table
    assert "no · yes · **no**" in table and "| baseline | 3 |" in table
    lines = study.heldout_findings(results, list(stats.values()))
    assert lines[0].startswith("Combination rules on the 300 test photos, pooled over 3 seeds")
    assert lines[1].startswith("Yes on the 300 test photos") and "**" not in lines[1]


def on_the_line(n_photos: int) -> study.StudyResults:
    """A rule whose error is exactly 1.25 × the baseline's and whose colourfulness is exactly the
    baseline's, over the photos, but not photo by photo."""
    results = fake_test_results({"baseline": (1.0, 20.0)}, n_photos)
    flip = np.where(np.arange(n_photos) % 2, 1.0, -1.0)
    for s in (0, 1, 2):
        base = results.test_photos[("mse", "baseline", s)]
        mse = base.mse.copy()
        mse[1::2] = mse[::2]  # photo pairs of equal error, so the ± below cancels exactly
        results.test_photos[("mse", "baseline", s)] = PhotoValues(mse, base.colourfulness, base.terms)
        rule = PhotoValues(1.25 * mse * (1 + 0.3 * flip), base.colourfulness + 3 * flip, base.terms)
        results.test_photos[("mse", "bgy-chroma-mean", s)] = rule
        results.rows.append({"loss": "mse", "model": "bgy-chroma-mean", "seed": s, "mse": 0.0})
    return results


def test_a_rule_on_the_line_is_not_settled_and_intervals_shrink_with_more_photos():
    few = {s["model"]: s for s in heldout.rule_intervals(on_the_line(30), n_boot=400)}
    many = {s["model"]: s for s in heldout.rule_intervals(on_the_line(1200), n_boot=400)}
    rule = many["bgy-chroma-mean"]
    assert rule["ratio"].estimate == pytest.approx(1.25) and rule["colour_gain"].estimate == pytest.approx(0.0)
    assert (rule["more_colourful"], rule["close"], rule["both"]) == ("open", "open", "open")
    verdict = heldout.intervals_verdict([rule], 1200)
    assert verdict.startswith("**Not settled**") and "for bgy-chroma-mean these photos cannot rule it out" in verdict
    assert_estimates_inside(few["bgy-chroma-mean"], rule, many["baseline"])
    for key in SCORES:
        wide = few["bgy-chroma-mean"][key].high - few["bgy-chroma-mean"][key].low
        narrow = rule[key].high - rule[key].low
        assert narrow < wide / 2 or wide == narrow == 0, key  # 40 times the photos: about a sixth of the width


def test_no_test_photos_no_test_table():
    results = study.StudyResults([], {}, [], {}, 64, 4, 4)
    assert results.n_test == 0 and heldout.rule_intervals(results) == []
    assert study.heldout_findings(results, []) == []
