"""Tests of colorlib.study (Beyond the paper): the study manifest, axis scores, NNLS weights, seed
statistics and paired claims, the page's "not built" variant, and (opt-in) the beyond-smoke build."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from colorlib import TRAINED_MODELS, study
from colorlib.cli import main as cli_main
from colorlib.data import (
    SplitParams,
    load_set,
    make_manifest,
    manifest_hash,
    read_manifest,
    scan_folder,
    write_manifest,
)
from colorlib.errors import UserError
from colorlib.lab import pad_info
from colorlib.study import scoring as study_scoring
from colorlib.train import TrainConfig, train

from .conftest import DEEP_BLUE, FOREST, GOLD, GRASS, GRAY, ORANGE, SHARED_DATA, SKY_BLUE, save_photo, textured
from .helpers import REPO, VENV, assert_estimates_inside

# Reference colours of the four half-axes (their Lab hue in degrees in the comment).
MAGENTA = (210, 40, 160)  # about -25: +a
RED = (200, 40, 50)  # about 30: +a
CYAN = (20, 170, 180)  # about 200: -a
TEAL = (30, 130, 110)  # about 170: -a
YELLOW = (235, 215, 40)  # about 95: +b
BLUE = (40, 80, 210)  # about 290: -b


def flat(colour, size: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (size, size, 3)).copy()


# --- axis scores ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("colour", "axis"),
    [(MAGENTA, "a+"), (RED, "a+"), (CYAN, "a-"), (TEAL, "a-"), (YELLOW, "b+"), (BLUE, "b-"), (SKY_BLUE, "b-")],
)
def test_axis_scores_pick_the_quadrant(colour, axis):
    scores = study.axis_scores(flat(colour))
    assert scores[axis] == 1.0
    assert sum(scores.values()) == 1.0
    assert study.dominant_axis(scores) == axis


def test_axis_score_is_a_share_of_the_whole_photo_and_grey_counts_for_nothing():
    photo = flat(GRAY, 32)
    photo[:8] = MAGENTA  # a quarter magenta, the rest grey
    scores = study.axis_scores(photo)
    assert scores["a+"] == pytest.approx(0.25)
    assert study.dominant_axis(study.axis_scores(flat(GRAY))) is None
    assert list(scores) == list(study.AXES)  # a stable order: the manifest must not change between runs


# --- the study manifest -----------------------------------------------------------------------------

STUDY_PHOTOS = {
    "blue": (SKY_BLUE, DEEP_BLUE),
    "yellow": (GOLD, ORANGE),
    "green": (GRASS, FOREST),
    "magenta": (MAGENTA, RED),
    "cyan": (CYAN, TEAL),
    "mixed": (SKY_BLUE, GRAY),
}


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory) -> Path:
    """5 photos of each kind, and a re-encoded near duplicate of every mixed photo."""
    folder = tmp_path_factory.mktemp("study") / "photos"
    seed = 100
    for kind, (a, b) in STUDY_PHOTOS.items():
        for i in range(5):
            seed += 1
            save_photo(folder / f"{kind}{i}.jpg", textured(seed, a, b), quality=95)
            if kind == "mixed":
                save_photo(folder / f"zz_{kind}{i}_q30.jpg", textured(seed, a, b), quality=30)
    return folder


@pytest.fixture(scope="module")
def manifests(study_folder, tmp_path_factory) -> tuple[dict, dict, Path]:
    """(paper manifest, study manifest, study folder) for the synthetic photos."""
    out = tmp_path_factory.mktemp("manifests")
    report = scan_folder(study_folder, progress=False)
    paper = make_manifest(
        report, SplitParams(per_colour=2, baseline=4, validation=4, seed=0, test=4), str(study_folder)
    )
    write_manifest(paper, out / "paper.json")
    params = study.StudyParams(calibration=2, baseline=3, baseline_seeds=(1, 2), per_axis=2, seed=0)
    manifest, written = study.prepare(out / "paper.json", None, out / "study" / "manifest.json", params, progress=False)
    assert written
    return paper, manifest, out


def _groups(manifest: dict, set_name: str) -> set[int]:
    return {manifest["photos"][n]["group"] for n in manifest["sets"][set_name]}


def test_study_manifest_keeps_the_paper_sets_verbatim(manifests):
    paper, manifest, _ = manifests
    assert list(manifest["sets"])[: len(paper["sets"])] == list(paper["sets"])
    for name, names in paper["sets"].items():
        assert manifest["sets"][name] == names
    for name, entry in paper["photos"].items():
        assert manifest["photos"][name] == entry
    assert {k: v for k, v in manifest["params"].items() if k != "study"} == paper["params"]
    assert manifest["params"]["study"]["paper_manifest_hash"] == manifest_hash(paper)


def test_new_sets_avoid_validation_and_calibration_avoids_every_training_set(manifests):
    paper, manifest, _ = manifests
    new = [n for n in manifest["sets"] if n not in paper["sets"]]
    assert new == ["calibration", "baseline-1", "baseline-2", "a+", "a-", "b+", "b-", "ab"]
    validation = _groups(manifest, "validation")
    for name in new:
        assert not _groups(manifest, name) & validation, name
    calibration = _groups(manifest, "calibration")
    for name in manifest["sets"]:
        if name not in ("validation", "calibration"):
            assert not _groups(manifest, name) & calibration, name
    for i, a in enumerate(study.AXES):
        for b in study.AXES[i + 1 :]:
            assert not set(manifest["sets"][a]) & set(manifest["sets"][b])
    assert manifest["sets"]["ab"] == [n for a in study.AXES for n in manifest["sets"][a]]
    sizes = {n: len(manifest["sets"][n]) for n in new}
    assert sizes == {"calibration": 2, "baseline-1": 3, "baseline-2": 3, "a+": 2, "a-": 2, "b+": 2, "b-": 2, "ab": 8}
    assert manifest["sets"]["baseline-1"] != manifest["sets"]["baseline-2"]


def test_the_paper_manifests_calibration_is_taken_verbatim_and_is_the_draw_it_replaces(manifests, study_folder):
    """With calibration in the paper manifest the study takes it as it is; drawn from the same stream as
    the study drew it before, it is the same photos, so every set of the study (and its numbers) stays."""
    paper, manifest, _ = manifests
    report = scan_folder(study_folder, progress=False)
    params = SplitParams(per_colour=2, baseline=4, validation=4, seed=0, test=4, calibration=2)
    with_calibration = make_manifest(report, params, str(study_folder))
    assert with_calibration["sets"]["calibration"] == manifest["sets"]["calibration"]
    study_params = study.StudyParams(calibration=3, baseline=3, baseline_seeds=(1, 2), per_axis=2, seed=0)
    taken = study.make_study_manifest(with_calibration, report, study_params)  # its size 3 is not used
    assert taken["sets"] == manifest["sets"] and taken["params"]["study"]["calibration"] == 2
    assert taken["report"]["study"]["overlap_with_paper_sets"]["calibration"] == {}


def test_the_test_photos_share_no_group_with_any_other_set(manifests):
    """The study's own sets (calibration, baseline draws, axis sets) avoid the paper's test photos
    and their duplicate groups too, so scoring the study on them is clean."""
    paper, manifest, _ = manifests
    assert manifest["sets"]["test"] == paper["sets"]["test"] and len(paper["sets"]["test"]) == 4
    test = _groups(manifest, "test")
    for name in manifest["sets"]:
        if name != "test":
            assert not _groups(manifest, name) & test, name


def test_no_duplicate_of_a_validation_photo_enters_a_new_set(manifests, study_folder):
    _, manifest, _ = manifests
    used = {n for name, names in manifest["sets"].items() if name != "validation" for n in names}
    for name in manifest["sets"]["validation"]:
        twin = f"zz_{Path(name).stem}_q30.jpg"
        assert twin not in used  # the re-encode is a near duplicate: same group as the validation photo


def test_axis_sets_take_the_right_photos(manifests):
    _, manifest, _ = manifests
    assert all(n.startswith("magenta") for n in manifest["sets"]["a+"])
    assert all(n.startswith("cyan") for n in manifest["sets"]["a-"])
    assert all(n.startswith(("blue", "mixed")) for n in manifest["sets"]["b-"])
    for axis in study.AXES:
        for name in manifest["sets"][axis]:
            assert study.dominant_axis(manifest["axis_scores"][name]) == axis


def test_study_manifest_is_a_manifest_and_is_deterministic(manifests, study_folder):
    paper, manifest, out = manifests
    path = out / "study" / "manifest.json"
    loaded = read_manifest(path)
    assert len(load_set(loaded, "a+", study_folder)) == 2
    params = study.StudyParams(calibration=2, baseline=3, baseline_seeds=(1, 2), per_axis=2, seed=0)
    before = copy.deepcopy(paper)
    again, written = study.prepare(out / "paper.json", None, path, params, progress=False)
    assert not written and again == manifest
    assert paper == before
    assert "calibration" in study.format_study_report(manifest)


def test_prepare_refuses_mistakes_in_one_line(manifests, tmp_path, capsys):
    _, _, out = manifests
    out_args = ["--out", str(tmp_path / "m.json")]
    assert cli_main(["-q", "study", "prepare", "--paper-manifest", str(tmp_path / "none.json"), *out_args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("colorlib: error:") and "\n" not in err
    args = ["-q", "study", "prepare", "--paper-manifest", str(out / "paper.json"), "--out", str(tmp_path / "m.json"),
            "--calibration", "2", "--baseline", "3"]  # fmt: skip
    assert cli_main([*args, "--per-axis", "50"]) == 2
    assert "lower per_axis" in capsys.readouterr().err
    assert cli_main([*args, "--seeds", "0 x"]) == 2
    study_manifest = str(out / "study" / "manifest.json")
    assert cli_main(["-q", "study", "prepare", "--paper-manifest", study_manifest, *out_args]) == 2
    assert "already a study manifest" in capsys.readouterr().err


# --- runs -------------------------------------------------------------------------------------------


def test_study_runs_and_baseline_draws():
    runs = study.study_runs()
    assert len(runs) == 6 * 3 + 5 + 6
    assert len({r.name for r in runs}) == len(runs)
    by_name = {r.name: r for r in runs}
    assert by_name["baseline-s0-mse"].set_name == "baseline"
    assert by_name["baseline-s2-mse"].set_name == "baseline-2"
    assert by_name["baseline-s0-l1"].set_name == "baseline"
    assert by_name["a+-s0-mse"].set_name == "a+"
    assert study.study_runs((0,), (), None) == [study.Run(m, 0) for m in TRAINED_MODELS]


def test_parse_seeds():
    assert study.parse_seeds("0 1 2") == (0, 1, 2)
    assert study.parse_seeds("0,1") == (0, 1)
    assert study.parse_seeds(0) == (0,)
    assert study.parse_seeds([3, 4]) == (3, 4)
    assert study.parse_seeds("") == ()
    for bad in ("a", "1 1", "-1", 1.5, True):
        with pytest.raises(UserError):
            study.parse_seeds(bad)


def test_check_parameters():
    p = study.check_parameters(128, "0 1 2", "0", "l1", "0")
    assert p == {
        "image_size": 128,
        "second_loss": "l1",
        "seeds": (0, 1, 2),
        "axis_seeds": (0,),
        "second_loss_seeds": (0,),
    }
    assert study.check_parameters(64, 0, "", "", "")["second_loss"] is None
    for args in [
        (100, "0", "0", "l1", "0"),
        (128, "", "0", "l1", "0"),
        (128, "0", "0", "mse", "0"),
        (128, "0", "0", "xe", "0"),
    ]:
        with pytest.raises(UserError):
            study.check_parameters(*args)


def _workflow_dry_run(target: str, *config: str) -> str:
    """The shell commands `snakemake -n -p TARGET` would run at the smoke profile (nothing is run)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(VENV / "bin" / "snakemake"), "-s", str(REPO / "workflow" / "Snakefile"), "-d", str(REPO), "-n", "-p",
               "--nolock", "--cores", "2", target, "--config", "profile=smoke", f"build={tmp}",
               f"data={SHARED_DATA.resolve()}", *config]  # fmt: skip
        env = dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc.stdout


def _planned_runs(*config: str) -> dict:
    """{run name: its TrainConfig} of every training run the same settings plan (the dry run writes no spec)."""
    from colorlib.workflow.plan import Plan

    given = {"profile": "smoke", "data": str(SHARED_DATA.resolve()), "build": "b"}
    given |= dict(c.split("=", 1) for c in config)
    return {run.name: run.config for run in Plan.from_config(given, root=REPO).training_runs().values()}


needs_workflow = pytest.mark.skipif(
    not (VENV / "bin" / "snakemake").exists() or not SHARED_DATA.is_dir(),
    reason="needs snakemake in the running venv and the shared photos",
)


@pytest.mark.slow
@needs_workflow
def test_workflow_trains_exactly_the_study_runs():
    plan = _workflow_dry_run("beyond_done")
    pairs = re.findall(r"colorlib -q train --spec \S+/specs/(\S+)\.json .*?--out \S+/checkpoints/(\S+)\.pt", plan)
    assert pairs and all(spec == out for spec, out in pairs)  # each run reads its own spec
    runs = _planned_runs()
    trained = [(runs[name].dataset, name, runs[name].seed, runs[name].loss) for name, _ in pairs]
    assert sorted(trained) == sorted((r.set_name, r.name, r.seed, r.loss) for r in study.study_runs())
    assert all((runs[name].image_size, runs[name].iterations) == (64, 20) for name, _ in pairs)
    assert "colorlib study prepare" in plan
    plan = _workflow_dry_run("beyond_done", "beyond_seeds=0 3", "beyond_loss2=", "beyond_axis_seeds=")
    trained = re.findall(r"--out \S+/checkpoints/(\S+)\.pt", plan)
    assert sorted(trained) == sorted(r.name for r in study.study_runs((0, 3), (), None))
    assert "--seeds '0 3'" in plan


@pytest.mark.slow
@needs_workflow
def test_the_beyond_page_is_executed_from_the_template_the_study_calls_for():
    """Before the study is trained (study=auto, nothing trained) the page is the short one; with study=on
    it is the study's own, which also reads the photos. Nothing is stripped from either afterwards."""

    def beyond_pages(plan: str) -> list[str]:
        return [line for line in plan.splitlines() if "papermill " in line and "pages/beyond.ipynb" in line]

    papermill = beyond_pages(_workflow_dry_run("beyond_page"))
    assert len(papermill) == 1 and " notebooks/beyond-not-built.ipynb " in papermill[0]
    assert "-p build_command 'make beyond PROFILE=smoke" in papermill[0] and "data_dir" not in papermill[0]
    plan = _workflow_dry_run("beyond_page", "study=on")
    papermill = beyond_pages(plan)
    assert len(papermill) == 1 and " notebooks/beyond.ipynb " in papermill[0] and " -p data_dir " in papermill[0]
    assert "finalize" not in plan


@pytest.mark.slow
@needs_workflow
def test_every_training_run_has_a_fixed_thread_count():
    """Book and study runs get THREADS threads (1 unless set), whatever the number of cores or jobs; the
    training pages, which only show those runs, ask for runs of that thread count."""
    for threads, target, n_pages in (("1", "beyond_done", 0), ("3", "pipeline", 6)):
        plan = _workflow_dry_run(target, *([] if threads == "1" else [f"threads={threads}"]))  # 1: the default
        commands = [line.split("Shell command:")[-1].strip() for line in plan.splitlines() if "Shell command:" in line]
        runs = [line.split("train: ", 1)[1] for line in plan.splitlines() if " colorlib -q train " in line]
        pages = [c for c in commands if "notebooks/train.ipynb" in c]
        assert len(runs) >= 6 and len(pages) == n_pages, commands
        assert all(c.startswith(f"OMP_NUM_THREADS={threads} ") for c in runs), runs
        planned = _planned_runs(*([] if threads == "1" else [f"threads={threads}"]))
        assert {cfg.threads for cfg in planned.values()} == {int(threads)}  # what each run's spec holds
        assert all(re.search(r" -p spec \S+/specs/\w+\.json ", c) for c in pages), pages


# --- statistics -------------------------------------------------------------------------------------


def test_mean_std():
    ms = study.mean_std([1.0, 2.0, 3.0])
    assert (ms.mean, ms.std, ms.n) == (2.0, 1.0, 3)
    assert ms.fmt(2) == "2.00 ± 1.00"
    one = study.mean_std([0.5])
    assert math.isnan(one.std) and one.fmt(1) == "0.5"


def fake_results(loss: dict[str, list[float]], n_photos: int = 4) -> study.StudyResults:
    """StudyResults with the given MSE per model and seed (every photo of a seed has that MSE)."""
    rows, per_photo = [], {}
    for model, values in loss.items():
        for seed, value in enumerate(values):
            rows.append({"loss": "mse", "model": model, "seed": seed, "mse": value, "l1": value * 2, "psnr": 30.0,
                         "delta_e": 5.0, "colourfulness": 10.0 + seed, "chroma": 8.0})  # fmt: skip
            per_photo[("mse", model, seed)] = np.full(n_photos, value)
    return study.StudyResults(rows, per_photo, [], {"colourfulness": 30.0, "chroma": 20.0}, 32, n_photos, 2)


def test_paired_claims_hold_seed_by_seed():
    results = fake_results(
        {
            "by": [0.020, 0.020, 0.010],
            "by-combined": [0.015, 0.018, 0.012],  # beats by in seeds 0 and 1 only
            "bgy": [0.020, 0.020, 0.020],
            "bgy-combined": [0.010, 0.010, 0.010],
            "baseline": [0.010, 0.012, 0.007],
        }
    )
    checked = {c["claim"].split(" (")[0]: c for c in study.check_claims(results, study.paper_claims())}
    by = checked["by-combined < by"]
    assert by["holds"] == [True, True, False] and by["held"] == 2 and not by["every_seed"]
    assert by["ratio"].mean == pytest.approx(np.mean([0.75, 0.9, 1.2]))
    assert by["photos"] == pytest.approx(2 / 3)
    assert checked["bgy-combined < bgy"]["every_seed"]
    close = checked["bgy-combined ≤ 1.25 × baseline"]
    assert close["holds"] == [True, True, False]  # 0.010 > 1.25 x 0.007
    table = study.claims_table(study.check_claims(results, study.paper_claims()))
    assert "**no** (2/3)" in table


def test_seed_stats_and_tables():
    results = fake_results({"blue": [0.1, 0.3], "baseline": [0.2, 0.2]})
    stats = study.seed_stats(results.rows, "mse")
    assert stats["blue"].mean == pytest.approx(0.2) and stats["blue"].std == pytest.approx(math.sqrt(0.02))
    table = study.mean_std_table(results, ["blue", "baseline", "bgy"])
    assert "| blue | 2 | 0.2000 ± 0.1414 |" in table and "bgy" not in table and "originals" in table
    assert "| blue | 0.1000 | 0.3000 |" in study.per_seed_table(results, ["blue"])


# --- fitted weights ---------------------------------------------------------------------------------


def test_nnls_recovers_known_weights_and_ignores_padding():
    gen = torch.Generator().manual_seed(0)
    preds = [torch.rand(3, 2, 16, 16, generator=gen) * 2 - 1 for _ in range(3)]
    target = 0.5 * preds[0] + 0.3 * preds[1]
    info = pad_info(8, 16, 16)  # the photo fills rows 4..11: the rest is padding
    target[:, :, :4] = 0.9  # garbage in the padding must not matter
    w = study.nnls_weights(preds, target, [info] * 3)
    assert w == pytest.approx([0.5, 0.3, 0.0], abs=1e-6)
    w = study.nnls_weights(preds, 0.8 * preds[0] - 0.4 * preds[2], [pad_info(16, 16, 16)] * 3)
    assert w[2] == 0.0 and w[0] > 0  # a negative weight is not allowed
    blend = study.weighted_sum(preds, [2.0, 0.0, 0.0])
    assert blend.abs().max() <= 1.0  # clipped to the ab range


def test_nnls_survives_identical_members():
    p = torch.linspace(-1, 1, 2 * 8 * 8).view(1, 2, 8, 8)
    w = study.nnls_weights([p, p.clone()], 0.6 * p, [pad_info(8, 8, 8)])
    assert sum(w) == pytest.approx(0.6, abs=1e-4)


# --- the whole study, tiny, in process --------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_study(manifests, study_folder, tmp_path_factory):
    """Every run of a 2-seed study trained for 1 batch at 16 px on the synthetic photos."""
    _, manifest, out = manifests
    study_dir = out / "study"
    runs = study.study_runs((0, 1), (0,), "l1", (0,))
    for r in runs:
        cfg = TrainConfig(
            r.set_name, iterations=1, batch_size=2, seed=r.seed, image_size=16, precision="fp32", loss=r.loss
        )
        train(cfg, manifest, study_folder, study.checkpoint_file(study_dir, r), progress=False)
    return manifest, study_dir, runs


def tiny_parameters(study_dir: Path, folder: Path, image_size: int = 16, **kw) -> study.BeyondParameters:
    """The beyond page's parameters for tiny_study's runs, as the notebook passes them."""
    given = dict(study_dir=study_dir, paper_manifest=study_dir / "no-paper.json", generated_dir=folder,
                 profile="custom", image_size=image_size, seeds="0 1", axis_seeds="0", second_loss="l1",
                 second_loss_seeds="0", build_command="make beyond")  # fmt: skip
    return study.BeyondParameters.check(**(given | kw))


def test_status_counts_missing_and_stale_runs(tiny_study, study_folder, tmp_path):
    manifest, study_dir, runs = tiny_study
    assert study.study_status(study_dir, runs, 16).built
    assert tiny_parameters(study_dir, tmp_path).runs == tuple(runs)
    said = study.not_built_reason(tiny_parameters(study_dir, tmp_path).status())
    assert said == f"all {len(runs)} of its training runs are trained, but this book was built without them"
    wrong_size = tiny_parameters(study_dir, tmp_path, 32)
    refused = rf"the study is not built: {len(runs)} of its {len(runs)} training runs cannot be used \(trained at 16 px"
    with pytest.raises(UserError, match=refused + r".*\); run `make beyond`$"):
        study.BeyondPage(wrong_size, study_folder, progress=False)
    mistakes = [({"profile": "paper"}, "unknown profile 'paper'"), ({"generated_dir": " "}, "generated_dir")]
    for mistake, message in mistakes:
        with pytest.raises(UserError, match=message):
            tiny_parameters(study_dir, tmp_path, **mistake)
    status = study.study_status(study_dir, runs, 32)
    assert not status.built and set(status.problems.values()) == {"trained at 16 px, not 32 px"}
    more = runs + [study.Run("blue", 5)]
    status = study.study_status(study_dir, more, 16)
    assert status.problems == {"blue-s5-mse": "missing"}
    assert "1 of its 24 training runs" in study.not_built_markdown(status, "make beyond")
    empty = study.study_status(tmp_path, runs, 16)
    assert not empty.manifest_found and "make beyond" in study.not_built_markdown(empty, "make beyond")


def test_the_page_from_a_tiny_study(tiny_study, study_folder, tmp_path):
    manifest, study_dir, runs = tiny_study
    page = study.BeyondPage(tiny_parameters(study_dir, tmp_path), study_folder, progress=False)
    r = page.results
    assert r.image_size == 16 and r.n_validation == 4 and r.n_calibration == 2
    models = {row["model"] for row in r.rows if row["loss"] == "mse"}
    assert {
        "by-combined",
        "bgy-combined",
        "all-combined",
        "bgy-nnls",
        "bgy-nnls-sum1",
        "all-nnls",
        "ab-combined",
    } <= models
    assert r.seeds("bgy-nnls") == [0, 1] and r.seeds("ab-combined") == [0]
    for w in r.weights:
        assert all(v >= 0 for v in w["raw"]) and sum(w["normalised"]) == pytest.approx(1.0)
    assert "±" in page.noise_table()
    assert "holds in every seed" in study.claims_table(page.claims)
    assert "bgy-nnls" in study.weights_table(page.results) and "bgy-combined" in study.blend_table(page.blends)
    assert "ab-combined" in page.axis_table() and "magenta" in page.axis_scores_table()
    assert "l1-trained" in page.loss_table() and "L1" in page.loss_claims_table()
    assert "16 × 16 px" in page.scale_note() and "256" in page.scale_note()
    for fig in (page.seed_strip(), page.vividness_plot(), page.axis_sheet("a+")):
        assert fig.axes
    lines = page.findings()
    assert len(lines) >= 6 and all("\n" not in line for line in lines)
    assert any(line.startswith("NNLS weights") for line in lines)
    assert any(line.startswith("Trained with L1") for line in lines)
    assert page.write_files(tmp_path / "generated") == [tmp_path / "generated" / "findings-beyond.md"]
    written = (tmp_path / "generated" / "findings-beyond.md").read_text()
    assert written == page.findings_list() and written.count("\n- ") == len(lines) - 1
    # the references, the rules, their believability and the verdict
    rules = study.rule_models(r)
    combining = [m for m in rules if m not in study.BOOSTED]  # the boosted baseline is a contender, not a rule
    assert combining[0] == "bgy-combined" and combining[-1] == study.LEARNED_RULE and len(combining) == 9
    assert rules[: len(combining)] == combining and set(rules[len(combining) :]) <= set(study.BOOSTED)
    assert [b["seed"] for b in r.boosts if b["loss"] == "mse"] == [0, 1]
    for b in r.boosts:  # each scale fitted where it exists, and its model scored with it
        assert all(r.value(m, b["seed"], "mse", b["loss"]) >= 0 for m in study.BOOSTED if m in b)
    for seed in (0, 1):
        assert r.value("grey", seed, "skill") == 0.0 and r.value("grey", seed, "colourfulness") < 0.01
        assert r.value("grey", seed, "patchiness") == 0.0 and r.value("constant", seed, "patchiness") == 0.0
        chroma = [r.value(m, seed, "chroma") for m in ("bgy-combined", "bgy-chroma-mean", "bgy-most-saturated")]
        assert chroma == sorted(chroma)  # |mean| <= mean chroma <= the largest chroma, pixel by pixel
    assert r.originals["hist_distance"] == 0.0 and r.originals["patchiness"] == 1.0
    assert [f["seed"] for f in r.rule_fits if f["loss"] == "mse"] == [0, 1]
    for f in r.rule_fits:
        assert np.allclose(np.sum(f["weights"], axis=1), 1.0) and np.min(f["weights"]) >= 0
    table = study.rules_table(page.results)
    assert "bgy-most-saturated" in table and "| grey |" in table and "| originals |" in table

    # the verdict expected, worked out here from the table's own numbers, seed by seed
    def wins(m: str) -> bool:
        return all(
            r.value(m, seed, "colourfulness") > r.value("baseline", seed, "colourfulness")
            and r.value(m, seed, "mse") <= 1.25 * r.value("baseline", seed, "mse")
            for seed in (0, 1)
        )

    winners = [m for m in combining if wins(m)]
    verdict = study.rules_verdict(page.results)
    assert verdict.startswith("**Yes**" if winners else "**No**"), (winners, verdict)
    assert all(m in verdict.split(" is ")[0].split(" are ")[0] for m in winners)
    assert study.rules_front(page.results).axes
    assert any(line.startswith("Combination rules") for line in lines)
    assert any(line.startswith("Predicting no colour at all") for line in lines)
    # the same on the test photos, per photo, with intervals
    assert r.test_names == manifest["sets"]["test"] and r.n_test == 4
    assert {(x["loss"], x["model"], x["seed"]) for x in r.test_rows} == {
        (x["loss"], x["model"], x["seed"]) for x in r.rows
    }
    assert set(r.test_photos) == set(r.per_photo)
    for key, values in r.test_photos.items():
        assert len(values.mse) == len(values.colourfulness) == len(values.terms.energy) == 4
        row = next(x for x in r.test_rows if (x["loss"], x["model"], x["seed"]) == key)
        assert row["mse"] == pytest.approx(values.mse.mean()) and row["colourfulness"] == pytest.approx(
            values.colourfulness.mean()
        )
    assert r.value("grey", 0, "mse") != next(x["mse"] for x in r.test_rows if x["model"] == "grey" and x["seed"] == 0)
    stats = {s["model"]: s for s in page.test_rules}
    assert set(stats) == {*rules, "baseline", "grey", "constant"}
    fitted = {m: [b["seed"] for b in r.boosts if b["loss"] == "mse" and m in b] for m in study.BOOSTED}
    for s in stats.values():
        assert s["seeds"] == fitted.get(s["model"], [0, 1])  # a scale no k up to K_MAX gives is left out
        assert_estimates_inside(s)
        assert (s["model"] == "baseline") == ("ratio" not in s)
    test_table = page.test_rules_table()
    assert "| bgy-hue-bands | 2 |" in test_table and "| originals |" in test_table and "[" in test_table
    # the verdict expected from the intervals' own calls: yes if a rule is shown both, no if every rule is
    # shown not both, else not settled
    calls = [s["both"] for s in page.test_rules if s["model"] in combining and "both" in s]
    expected = "**Yes**" if "yes" in calls else "**No**" if set(calls) == {"no"} else "**Not settled**"
    assert calls and page.test_rules_verdict().startswith(f"{expected} on the 4 test photos"), calls
    assert page.test_rules_plot().axes
    assert any(line.startswith("Combination rules on the 4 test photos") for line in lines)


def test_the_fits_never_read_validation_or_test_colours(tiny_study, study_folder, monkeypatch):
    """Swap the validation and the test photos for others: their scores change, the learned rule's
    and the NNLS weights do not; and both fits are handed the calibration photos only."""
    manifest, study_dir, runs = tiny_study
    mse_runs = [r for r in runs if r.loss == "mse" and r.seed == 0 and r.model in TRAINED_MODELS]
    seen = []
    original_fit, original_nnls = study_scoring.fit_hue_bands, study_scoring.nnls_weights

    def spy(stack, target, infos):
        seen.append(("rule", len(infos)))
        return original_fit(stack, target, infos)

    def spy_nnls(preds, target, infos):
        seen.append(("nnls", len(infos)))
        return original_nnls(preds, target, infos)

    monkeypatch.setattr(study_scoring, "fit_hue_bands", spy)
    monkeypatch.setattr(study_scoring, "nnls_weights", spy_nnls)
    first = study.evaluate_study(manifest, study_folder, study_dir, mse_runs, progress=False)
    other = copy.deepcopy(manifest)
    other["sets"]["validation"] = other["sets"]["yellow"]
    other["sets"]["test"] = other["sets"]["blue"]
    second = study.evaluate_study(other, study_folder, study_dir, mse_runs, progress=False)
    assert first.value("bgy-combined", 0) != second.value("bgy-combined", 0)  # other photos scored

    def test_mse(results, model):
        return next(x["mse"] for x in results.test_rows if x["model"] == model)

    assert test_mse(first, study.LEARNED_RULE) != test_mse(second, study.LEARNED_RULE)
    assert second.test_names == manifest["sets"]["blue"]
    assert first.rule_fits[0]["weights"] == second.rule_fits[0]["weights"]
    assert [w["raw"] for w in first.weights] == [w["raw"] for w in second.weights]
    n_cal = len(manifest["sets"][study.CALIBRATION])
    assert {n for _, n in seen} == {n_cal} and [k for k, _ in seen].count("rule") == 2  # once per evaluation
    assert {k for k, _ in seen} == {"rule", "nnls"}  # both fits were watched


def test_rules_table_and_verdict_from_known_numbers():
    results = fake_results(
        {
            "baseline": [0.010, 0.010],
            "bgy-combined": [0.012, 0.012],  # close, but colourfulness 10 + seed as the baseline's: not more
            "bgy-chroma-mean": [0.012, 0.0124],
            "grey": [0.016, 0.016],
        }
    )
    for row in results.rows:
        row |= {"skill": 0.0, "hist_distance": 0.5, "patchiness": 0.5, "hue_jumps": 0.01}
        if row["model"] == "bgy-chroma-mean":
            row["colourfulness"] = 30.0
    results.originals |= {"hist_distance": 0.0, "patchiness": 1.0, "hue_jumps": 0.02}
    verdicts = {v["model"]: v for v in study.rule_verdicts(results)}
    assert verdicts["bgy-chroma-mean"]["both"] and not verdicts["bgy-combined"]["both"]
    assert verdicts["bgy-combined"]["close"] == 2 and verdicts["bgy-combined"]["more_colourful"] == 0
    assert study.rules_verdict(results).startswith("**Yes**: bgy-chroma-mean")
    results.rows = [r | {"mse": 0.02} if r["model"] == "bgy-chroma-mean" else r for r in results.rows]
    assert study.rules_verdict(results).startswith("**No**")
    table = study.rules_table(results)
    assert "| bgy-chroma-mean | 2 |" in table and "| originals |" in table


# --- the notebook -----------------------------------------------------------------------------------


def parameters_cell(name: str) -> dict[str, object]:
    """A template's parameters and their defaults, read from its `parameters` cell."""
    import ast

    nb = nbformat.read(str(REPO / "notebooks" / name), 4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell.source).body}


def test_the_beyond_templates_hold_no_guards_and_take_the_same_parameters():
    """The page is either the study's (notebooks/beyond.ipynb, no cell guarded or stripped afterwards) or
    the one shown before it was built; the workflow passes both the same parameters, with the same defaults."""
    nb = nbformat.read(str(REPO / "notebooks" / "beyond.ipynb"), 4)
    assert "parameters" in nb.cells[1].metadata["tags"]
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "if built" not in code and "status" not in code
    assert not any("study" in c.metadata.get("tags", []) for c in nb.cells)
    full, short = parameters_cell("beyond.ipynb"), parameters_cell("beyond-not-built.ipynb")
    assert short == {k: v for k, v in full.items() if k != "data_dir"}  # the photos: only the study's page reads them


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "papermill").exists(), reason="papermill is not installed here")
def test_the_not_built_page_says_what_is_missing_and_the_study_page_refuses_in_one_line(tmp_path):
    def run(template: str) -> subprocess.CompletedProcess:
        cmd = [str(VENV / "bin" / "papermill"), str(REPO / "notebooks" / template), str(tmp_path / template),
               "--cwd", str(tmp_path), "-p", "study_dir", str(tmp_path / "no-study"),
               "-p", "generated_dir", str(tmp_path / "gen"),
               "-p", "build_command", "make beyond PROFILE=smoke"]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

    proc = run("beyond-not-built.ipynb")
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(str(tmp_path / "beyond-not-built.ipynb"), 4)
    assert nb.cells[0].source.startswith("# Beyond the paper")
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "This part was not built" in text and "its manifest has not been made" in text
    assert "make beyond PROFILE=smoke" in text
    assert "not built" in (tmp_path / "gen" / "findings-beyond.md").read_text()
    proc = run("beyond.ipynb")  # executed without the study it shows: it stops, saying what to run
    assert proc.returncode != 0
    said = "UserError: the study is not built: its manifest has not been made and none of its training runs exist; "
    assert said + "run `make beyond PROFILE=smoke`" in proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.skipif(not (VENV / "bin" / "papermill").exists(), reason="papermill is not installed here")
def test_notebook_rejects_bad_parameters_in_one_line(tmp_path):
    cmd = [str(VENV / "bin" / "papermill"), str(REPO / "notebooks" / "beyond.ipynb"), str(tmp_path / "o.ipynb"),
           "--cwd", str(tmp_path), "-p", "seeds", "zero"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "seeds must be whole numbers" in proc.stdout + proc.stderr


# --- the beyond-smoke profile end to end (opt-in: several minutes on two cores) ----------------------


@pytest.mark.skipif(
    os.environ.get("COLORLIB_BEYOND_SMOKE") != "1",
    reason="set COLORLIB_BEYOND_SMOKE=1 to build the beyond-smoke study (minutes)",
)
@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the shared landscape photos are not here")
def test_beyond_smoke_builds_the_part(tmp_path):
    from .conftest import copy_repo, make

    root = copy_repo(tmp_path / "repo")
    proc = make(root, "beyond")
    assert len(list(root.glob("build/latest/beyond-*/checkpoints/*.pt"))) == len(study.study_runs())
    again = make(root, "beyond", "SNAKE_ARGS=-n")
    assert "colorlib -q train" not in again.stdout and "Nothing to be done" in again.stdout, proc.stdout[-2000:]
    html = (root / "_build/html/book/generated/beyond.html").read_text()
    assert "Table I over seeds" in html and "<table" in html and "This part was not built" not in html
    findings = (root / "build/latest/pages/findings-beyond.md").read_text().splitlines()
    assert len(findings) >= 5
