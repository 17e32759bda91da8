"""The reproduction check (colorlib.paper.reproduction, `colorlib check`): the reference file, the
measured bands, and the verdict on built variants written as the workflow writes them."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from colorlib.errors import UserError
from colorlib.identity import VARIANT_FORMAT
from colorlib.paper import check_report, results
from colorlib.paper.evaluate import PAPER_TABLE_I
from colorlib.paper.reference_results import REFERENCE_FILE, load_references
from colorlib.paper.reproduction import check

REFS = load_references()


def built_variant(folder: Path, table1: dict[str, float], verdicts: list[bool], **changes) -> Path:
    """A variant folder as the workflow leaves it: variant.json and pages/results.json."""
    settings = copy.deepcopy(REFS.settings)
    info = {"format": VARIANT_FORMAT, "name": folder.name, "data": "photos", "code": "0" * 16, "command": "make book"}
    info |= {k: settings[k] for k in ("profile", "seed", "photos", "split", "train")}
    info["split"] = {**info["split"], "seed": settings["seed"]}  # as colorlib.identity.Variant keeps it
    for key, value in changes.items():
        group, _, name = key.partition("__")
        if name:
            info[group] = {**info[group], name: value}
        else:
            info[group] = value
    (folder / "pages").mkdir(parents=True)
    (folder / "variant.json").write_text(json.dumps(info))
    claims = [
        {"id": c["id"], "claim": c["text"], "paper": "–", "ours": "–", "holds": v}
        for c, v in zip(REFS.claims, verdicts, strict=True)
    ]
    table = [{"model": m, "mse": v} for m, v in table1.items()]
    data = {"schema": results.SCHEMA, "validation_photos": 32, "table1": table, "claims": claims, "tradeoff": {}}
    results.write(folder / "pages", data)
    return folder


def reference(build_id: str) -> tuple[dict[str, float], list[bool]]:
    b = REFS.build(build_id)
    return dict(b["table1"]), [b["claims"][c["id"]] for c in REFS.claims]


# --- the reference file -------------------------------------------------------------------------------


def test_the_reference_file_holds_the_papers_table_and_both_builds():
    assert REFS.paper == pytest.approx(PAPER_TABLE_I, abs=0)  # the same digits as the figures quote
    assert {b["id"] for b in REFS.builds} >= {"xeon-amx", "amd-epyc"}
    for b in REFS.builds:
        assert b["processor"] and b["precision"] and b["torch"] and b["commit"] and b["threads"] >= 1
        assert set(b["claims"]) == {c["id"] for c in REFS.claims}


def test_each_band_spans_every_measurement_behind_it():
    bands = REFS.bands()
    for b in REFS.builds:
        for model, value in b["table1"].items():
            assert bands[model].contains(value)
    study = next(s for s in REFS.spread if s["kind"] == "seeds")
    assert bands["bgy"].runs == 2 + 2 + study["runs"]  # two builds, two rounding variants, three seeds
    # bgy: the Xeon's 0.0192 sets the low end, the study's seeds (0.0280 ± 0.0061 over 3) the high one
    assert bands["bgy"].low == pytest.approx(0.0192 - 0.00005)
    assert bands["bgy"].high == pytest.approx(0.0280 + 0.0061 * 2 / 3**0.5 + 0.00005)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("format = [", "does not parse"),
        ('format = "other/1"', "is not a colorlib-references/1 file"),
        ('format = "colorlib-references/1"\n[paper]\ntable1 = {}', "has no 'settings'"),
    ],
)
def test_a_reference_file_that_does_not_parse_is_one_line(tmp_path, text, said):
    path = tmp_path / "refs.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=said) as info:
        load_references(path)
    assert "\n" not in str(info.value)


def test_a_reference_build_with_a_wrong_verdict_list_is_refused(tmp_path):
    text = REFERENCE_FILE.read_text().replace(
        "claims = [true, true, false, true, false, false, false]", "claims = [true]", 1
    )
    (tmp_path / "refs.toml").write_text(text)
    with pytest.raises(UserError, match=r"build xeon-amx: 'claims' should be 7 true/false verdicts"):
        load_references(tmp_path / "refs.toml")


# --- the verdict ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("build_id", ["xeon-amx", "amd-epyc"])
def test_a_build_with_a_reference_builds_numbers_reproduces_it(tmp_path, build_id):
    table, verdicts = reference(build_id)
    cmp = check(built_variant(tmp_path / "v", table, verdicts))
    name = REFS.build(build_id)["name"]
    assert cmp.comparable and cmp.reproduces(build_id)
    assert cmp.summary().startswith(f"reproduces the reference build ({name}): 7 of 7 claims, 10 of 10 numbers")
    assert "10 of 10 equal to its 4 digits" in cmp.summary()


def test_a_number_outside_its_band_is_named(tmp_path):
    table, verdicts = reference("amd-epyc")
    table["bgy"] = 0.0500
    cmp = check(built_variant(tmp_path / "v", table, verdicts))
    assert not any(cmp.reproduces(b["id"]) for b in REFS.builds)
    assert cmp.summary().startswith("does not reproduce the reference build")
    assert "9 of 10 numbers within the measured band" in cmp.summary()
    assert "outside: bgy 0.0500 above [" in cmp.summary()


def test_another_verdict_on_a_claim_is_named(tmp_path):
    table, verdicts = reference("xeon-amx")
    verdicts[0] = not verdicts[0]
    cmp = check(built_variant(tmp_path / "v", table, verdicts))
    assert "6 of 7 claims" in cmp.summary() and "other verdict: by-combined-below-by" in cmp.summary()


def test_a_band_holding_the_papers_number_is_too_wide_to_decide(tmp_path):
    table, verdicts = reference("xeon-amx")
    cmp = check(built_variant(tmp_path / "v", table, verdicts))
    wide = [r.model for r in cmp.numbers if r.band_holds_paper]
    # the paper's bgy 0.0198 lies in bgy's band, and its by-combined 0.01556 rounds to the Xeon's 0.0156
    assert wide == ["bgy", "by-combined"]
    assert any(line.startswith("too wide to decide: the measured band of bgy, by-combined") for line in cmp.lines())


def test_another_thread_count_is_compared_with_a_caveat(tmp_path):
    table, verdicts = reference("xeon-amx")
    cmp = check(built_variant(tmp_path / "v", table, verdicts, train__threads=2))
    assert cmp.comparable
    assert any("train threads 2 (the references: 1): only rounding" in line for line in cmp.lines())


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"profile": "smoke"}, "profile 'smoke'"),
        ({"photos": "0-10"}, "other photos"),
        ({"train__lr": 0.01}, "train lr"),
    ],
)
def test_a_build_with_other_settings_gets_no_verdict(tmp_path, change, said):
    table, verdicts = reference("xeon-amx")
    cmp = check(built_variant(tmp_path / "v", table, verdicts, **change))
    assert not cmp.comparable and not cmp.reproduces("xeon-amx")
    assert cmp.summary().startswith("is not comparable with the reference builds (") and said in cmp.summary()
    assert "no verdict" in check_report.front_page_verdict(cmp)


def test_a_variant_without_the_runs_the_check_needs_is_one_line(tmp_path):
    with pytest.raises(UserError, match="is not a folder"):
        check(tmp_path / "nothing")
    (tmp_path / "v").mkdir()
    with pytest.raises(UserError, match=r"has no pages/results.json: build the variant first \(make book\)$"):
        check(tmp_path / "v")
    (tmp_path / "v" / "pages").mkdir()
    (tmp_path / "v" / "pages" / "table1.csv").write_text("model,mse\nblue,0.04\n")  # an older build's form
    with pytest.raises(UserError, match=r"results.json: .* built by an older colorlib, which wrote table1.csv"):
        check(tmp_path / "v")
    for text in ("{", '{"schema": 0, "table1": []}'):  # damaged; of another colorlib
        (tmp_path / "v" / "pages" / "results.json").write_text(text)
        with pytest.raises(UserError, match=r"cannot read .*results.json|of another colorlib \(schema 0\)"):
            check(tmp_path / "v")


# --- what it shows ---------------------------------------------------------------------------------------


def test_colorlib_check_prints_the_verdict_first(tmp_path):
    table, verdicts = reference("amd-epyc")
    folder = built_variant(tmp_path / "v", table, verdicts)
    proc = subprocess.run([sys.executable, "-m", "colorlib", "check", str(folder)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first == f"{folder}: " + check(folder).summary()
    assert "| bgy | 0.0297 |" in proc.stdout  # the numbers table, with our bgy against both builds
    missing = subprocess.run([sys.executable, "-m", "colorlib", "check", str(tmp_path / "no")], capture_output=True,
                             text=True)  # fmt: skip
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_strict_check_fails_a_build_that_does_not_reproduce(tmp_path):
    table, verdicts = reference("amd-epyc")
    table["blue"] = 1.0
    folder = built_variant(tmp_path / "v", table, verdicts)
    cmd = [sys.executable, "-m", "colorlib", "check", "--strict", str(folder)]
    assert subprocess.run(cmd, capture_output=True, text=True).returncode == 1


def test_the_band_figure_draws_every_banded_model(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    table, verdicts = reference("amd-epyc")
    cmp = check(built_variant(tmp_path / "v", table, verdicts))
    fig = check_report.band_figure(cmp)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [r.model for r in cmp.numbers if r.band]
