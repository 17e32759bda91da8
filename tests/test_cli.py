"""The command line: the happy path end to end, and every user mistake as one line + exit 2."""

from __future__ import annotations

import csv as csv_module
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorlib.cli import main

from .conftest import DEEP_BLUE, FOREST, GOLD, GRASS, ORANGE, SKY_BLUE, gray_photo, save_photo, textured


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A folder of 24 synthetic photos, a manifest over it, and six tiny trained models."""
    root = tmp_path_factory.mktemp("cli")
    photos = root / "photos"
    pairs = [(SKY_BLUE, DEEP_BLUE), (GOLD, ORANGE), (GRASS, FOREST)]
    for i in range(24):
        save_photo(photos / f"p{i:02d}.png", textured(100 + i, *pairs[i % 3], size=64))
    save_photo(photos / "bw.png", gray_photo(7, size=64))
    manifest = root / "manifest.json"
    args = ["-q", "prepare", str(photos), "--out", str(manifest), "--per-colour", "2", "--baseline", "4"]
    assert main([*args, "--validation", "3", "--cache", str(root / "cache")]) == 0
    ckpt = root / "ckpt"
    for name in ("blue", "yellow", "green", "by", "bgy", "baseline"):
        train = ["-q", "train", name, "--manifest", str(manifest), "--out", str(ckpt / f"{name}.pt")]
        assert main([*train, "--iterations", "3", "--image-size", "32", "--precision", "fp32"]) == 0
    return root, photos, manifest, ckpt


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "colorlib", *args], capture_output=True, text=True, timeout=300)


def user_error(capsys, *args: str) -> str:
    """The one line that `colorlib ARGS` (run in this process) prints on a user's mistake (exit 2)."""
    capsys.readouterr()
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("colorlib: error: "), err
    return err.strip().removeprefix("colorlib: error: ")


def assert_user_error(proc: subprocess.CompletedProcess, needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("colorlib: error:") and needle in last, proc.stderr


def test_prepare_prints_a_data_report(workspace, capsys):
    root, photos, manifest, _ = workspace
    assert (
        main(
            [
                "-q",
                "prepare",
                str(photos),
                "--out",
                str(manifest),
                "--per-colour",
                "2",
                "--baseline",
                "4",
                "--validation",
                "3",
                "--cache",
                str(root / "cache"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "black-and-white" in out and "validation" in out and "(unchanged)" in out


def test_colorize_writes_png_at_input_resolution(workspace, tmp_path):
    _, _, _, ckpt = workspace
    photo = save_photo(tmp_path / "odd size.jpg", textured(5, SKY_BLUE, GRASS, size=96)[:, :77])
    proc = run_cli(
        "colorize",
        str(photo),
        "--models",
        "blue",
        "yellow",
        "--weights",
        "1",
        "3",
        "--checkpoints",
        str(ckpt),
        "--out-dir",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 0, proc.stderr
    (out,) = (tmp_path / "out").glob("*.png")
    assert Image.open(out).size == (77, 96)


def test_evaluate_writes_table(workspace, tmp_path):
    root, photos, manifest, ckpt = workspace
    md, csv = tmp_path / "t.md", tmp_path / "t.csv"
    assert (
        main(
            [
                "-q",
                "evaluate",
                "--manifest",
                str(manifest),
                "--checkpoints",
                str(ckpt),
                "--markdown",
                str(md),
                "--csv",
                str(csv),
            ]
        )
        == 0
    )
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("model,mse,paper_loss")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "blue",
        "yellow",
        "green",
        "by",
        "bgy",
        "baseline",
        "by-combined",
        "bgy-combined",
        "grey",
        "constant",
        "originals",
    ]
    assert "| by-combined |" in md.read_text()
    rows = {r["model"]: r for r in csv_module.DictReader(lines)}
    assert float(rows["grey"]["skill"]) == 0.0  # grey's skill against itself, by definition
    assert float(rows["grey"]["colourfulness"]) < 0.01 and float(rows["grey"]["patchiness"]) == 0.0
    assert float(rows["originals"]["hist_distance"]) == 0.0 and float(rows["originals"]["patchiness"]) == 1.0
    assert float(rows["constant"]["patchiness"]) == 0.0  # one colour everywhere: no colour edges


def test_missing_and_empty_folders(tmp_path):
    assert_user_error(run_cli("prepare", str(tmp_path / "nope"), "--out", str(tmp_path / "m.json")), "nope")
    (tmp_path / "empty").mkdir()
    assert_user_error(run_cli("prepare", str(tmp_path / "empty"), "--out", str(tmp_path / "m.json")), "empty")


def test_unknown_dataset_and_model_names(workspace, tmp_path):
    _, _, manifest, ckpt = workspace
    assert_user_error(run_cli("train", "purple", "--manifest", str(manifest)), "dataset must be one of")
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    assert_user_error(
        run_cli("colorize", str(photo), "--models", "purple", "--checkpoints", str(ckpt)), "unknown model"
    )


@pytest.mark.parametrize(
    "weights, needle",
    [(["1"], "expected 2 weights"), (["1", "-1"], "non-negative"), (["0", "0"], "all be zero")],
)
def test_bad_weights(workspace, tmp_path, weights, needle):
    _, _, _, ckpt = workspace
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    proc = run_cli(
        "colorize", str(photo), "--models", "blue", "green", "--weights", *weights, "--checkpoints", str(ckpt)
    )
    assert_user_error(proc, needle)


def test_checkpoint_that_does_not_match(workspace, tmp_path):
    _, _, manifest, ckpt = workspace
    # same output path, other settings: refused without --force, nothing overwritten
    before = (ckpt / "blue.pt").read_bytes()
    proc = run_cli(
        "train",
        "blue",
        "--manifest",
        str(manifest),
        "--out",
        str(ckpt / "blue.pt"),
        "--iterations",
        "4",
        "--image-size",
        "32",
    )
    assert_user_error(proc, "other settings")
    assert (ckpt / "blue.pt").read_bytes() == before
    bad = tmp_path / "ck"
    bad.mkdir()
    (bad / "blue.pt").write_bytes(b"corrupt")
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    assert_user_error(run_cli("colorize", str(photo), "--models", "blue", "--checkpoints", str(bad)), "not a readable")


def test_non_image_file_is_reported_and_others_still_colorized(workspace, tmp_path):
    _, _, _, ckpt = workspace
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    good = save_photo(tmp_path / "good.png", textured(2, SKY_BLUE, GOLD, size=48))
    proc = run_cli(
        "colorize",
        str(text),
        str(good),
        "--models",
        "green",
        "--checkpoints",
        str(ckpt),
        "--out-dir",
        str(tmp_path / "out"),
    )
    assert_user_error(proc, "could not be read")
    assert "notes.jpg" in proc.stderr
    assert (tmp_path / "out" / "good.green.png").is_file()


def test_bad_numbers_are_one_line_errors(tmp_path):
    assert_user_error(run_cli("train", "blue", "--iterations", "0"), "iterations must be a whole number >= 1, got 0")
    assert_user_error(run_cli("prepare", str(tmp_path), "--per-colour", "-1"), "per_colour must be a whole number >= 0")
    proc = run_cli("train", "blue", "--iterations", "2.5")  # not a whole number: argparse's own error
    assert proc.returncode == 2 and "invalid int value" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_manifest(tmp_path):
    assert_user_error(run_cli("train", "blue", "--manifest", str(tmp_path / "none.json")), "none.json")


def test_help_for_every_command():
    for args in (["--help"], *([cmd, "--help"] for cmd in ("prepare", "train", "evaluate", "colorize", "fetch"))):
        proc = run_cli(*args)  # `python -m colorlib`, as `colorlib`
        assert proc.returncode == 0 and "usage: colorlib" in proc.stdout


def test_colorized_photo_keeps_lightness(workspace, tmp_path):
    from colorlib.lab import rgb_to_lab

    _, _, _, ckpt = workspace
    rgb = textured(9, GRASS, SKY_BLUE, size=80)
    photo = save_photo(tmp_path / "p.png", rgb)
    assert (
        run_cli(
            "colorize", str(photo), "--models", "baseline", "--checkpoints", str(ckpt), "--out-dir", str(tmp_path)
        ).returncode
        == 0
    )
    out = np.asarray(Image.open(tmp_path / "p.baseline.png"))
    assert np.median(np.abs(rgb_to_lab(out)[..., 0] - rgb_to_lab(rgb)[..., 0])) < 1.0


def test_colorize_gives_each_photo_its_own_output_and_never_overwrites(workspace, tmp_path, capsys):
    _, _, _, ckpt = workspace
    photos = [
        save_photo(tmp_path / "a" / "p.jpg", textured(3, GOLD, GRASS, size=40)),
        save_photo(tmp_path / "b" / "p.jpg", textured(4, GOLD, GRASS, size=48)),
        save_photo(tmp_path / "a" / "p.png", textured(5, GOLD, GRASS, size=56)),
    ]
    out = tmp_path / "out"
    args = ["-q", "colorize", *map(str, photos), "--models", "green", "--checkpoints", str(ckpt), "--out-dir", str(out)]
    assert main(args) == 0
    sizes = {p.name: Image.open(p).size for p in out.glob("*.png")}
    assert sizes == {"p.green.png": (40, 40), "p-2.green.png": (48, 48), "p-3.green.png": (56, 56)}
    before = {p: p.read_bytes() for p in out.iterdir()}
    assert user_error(capsys, *args) == (
        f"{out / 'p.green.png'} already exists (4 of 4 outputs do): pass --overwrite to replace files, "
        "or choose another --out-dir"
    )
    assert {p: p.read_bytes() for p in out.iterdir()} == before
    assert main([*args, "--overwrite"]) == 0


def test_output_paths_that_cannot_be_written(workspace, tmp_path, capsys):
    _, photos, manifest, ckpt = workspace
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    file = tmp_path / "file"
    file.write_text("mine")
    assert user_error(
        capsys, "colorize", str(photo), "--models", "blue", "--checkpoints", str(ckpt), "--out-dir", str(file)
    ) == (f"--out-dir {file} is a file, not a folder: name a folder for the colorized photos")
    evaluate = ["evaluate", "--manifest", str(manifest), "--checkpoints", str(ckpt)]
    assert user_error(capsys, *evaluate, "--markdown", str(tmp_path)) == (
        f"--markdown {tmp_path} is a folder: name the file to write"
    )
    assert user_error(capsys, *evaluate, "--csv", str(file / "t.csv")) == (
        f"--csv {file / 't.csv'} cannot be written: {file} is a file, not a folder"
    )
    assert user_error(capsys, "prepare", str(photos), "--out", str(tmp_path)) == (
        f"--out {tmp_path} is a folder: name the file to write"
    )
    assert file.read_text() == "mine"


def test_too_small_folder_says_why_on_the_last_line(workspace, tmp_path):
    _, photos, _, _ = workspace
    proc = run_cli("prepare", str(photos), "--out", str(tmp_path / "m.json"), "--cache", str(tmp_path / "cache"))
    assert_user_error(proc, f"{photos} has 24 usable photos, but the sets need at least 968: add photos")
    assert "PROFILE=smoke" in proc.stderr and "per_colour" not in proc.stderr  # advice that works for make too
    assert not (tmp_path / "m.json").exists()


def test_evaluate_refuses_checkpoints_of_another_manifest(workspace, tmp_path, capsys, caplog):
    root, photos, manifest, ckpt = workspace
    other = tmp_path / "other.json"
    prepare = ["-q", "prepare", str(photos), "--out", str(other), "--per-colour", "2", "--baseline", "4"]
    assert main([*prepare, "--validation", "3", "--seed", "1", "--cache", str(root / "cache")]) == 0
    evaluate = [
        "-q",
        "evaluate",
        "--manifest",
        str(other),
        "--checkpoints",
        str(ckpt),
        "--models",
        "blue",
        "by-combined",
    ]
    assert user_error(capsys, *evaluate).startswith(f"blue, yellow in {ckpt} trained on another manifest")
    assert main([*evaluate, "--allow-other-manifest"]) == 0
    assert "| by-combined |" in capsys.readouterr().out
    assert "WARNING: blue, yellow trained on another manifest" in caplog.text


def colorize_args(ckpt, out, *photos, models=("by-combined",)):
    """`colorlib -q colorize` of photos into out, in fp32 (the same numbers as the Python API's default)."""
    return ["-q", "colorize", *map(str, photos), "--models", *models, "--checkpoints", str(ckpt), "--out-dir", str(out)]


def picture(rgb, ab, size=32):
    """The colorized picture of rgb from a predicted ab map at the networks' working size (colorize's way)."""
    from colorlib.lab import postprocess, preprocess_lightness_batch

    _, (info,) = preprocess_lightness_batch([rgb], size)
    return postprocess(rgb, np.asarray(ab), info)


def test_colorize_a_folder_keeps_every_photo_and_records_how(workspace, tmp_path, capsys):
    import json

    from colorlib.fingerprint import file_sha256

    _, _, _, ckpt = workspace
    folder = tmp_path / "photos"
    sizes = {"a/p.jpg": 40, "b/p.jpg": 48, "p.jpg": 56, "p.png": 64}
    for i, (name, size) in enumerate(sizes.items()):
        save_photo(folder / name, textured(i, GOLD, SKY_BLUE, size=size))
    save_photo(folder / ".hidden.png", textured(9, GOLD, GRASS, size=32))
    out = tmp_path / "out"
    args = [*colorize_args(ckpt, out, folder), "--precision", "fp32", "--vividness", "1.5", "--weights", "2"]
    assert main(args) == 0
    made = {p.relative_to(out).as_posix(): Image.open(p).size[0] for p in out.rglob("*.png")}
    assert made == {
        "a/p.by-combined.png": 40,
        "b/p.by-combined.png": 48,
        "p.by-combined.png": 56,
        "p-2.by-combined.png": 64,
    }
    record = json.loads((out / "colorize.json").read_text())
    assert record["vividness"] == 1.5 and record["rule"] == "mean" and record["temperature"] is None
    assert record["models"] == ["by-combined"] and record["weights"] == [2.0] and record["weights_normalised"] == [1.0]
    assert record["precision"] == "fp32" and record["device"] == "cpu" and record["commit"]
    assert [(m["model"], m["weight"], m["sha256"]) for m in record["members"]] == [
        (name, 0.5, file_sha256(ckpt / f"{name}.pt")) for name in ("blue", "yellow")
    ]
    assert {o["input"]: o["output"] for o in record["outputs"]} == {
        str(folder / "a/p.jpg"): "a/p.by-combined.png",
        str(folder / "b/p.jpg"): "b/p.by-combined.png",
        str(folder / "p.jpg"): "p.by-combined.png",
        str(folder / "p.png"): "p-2.by-combined.png",
    }
    # another photo into the same folder: the record would be replaced, so it is refused like a picture
    other = save_photo(tmp_path / "q.png", textured(5, GOLD, GRASS, size=40))
    assert user_error(capsys, *colorize_args(ckpt, out, other)) == (
        f"{out / 'colorize.json'} already exists (1 of 2 outputs do): pass --overwrite to replace files, "
        "or choose another --out-dir"
    )
    assert json.loads((out / "colorize.json").read_text()) == record


def test_vividness_scales_the_blend_and_clips(workspace, tmp_path):
    import torch

    from colorlib.ensemble import load_colorizer
    from colorlib.lab import preprocess_lightness_batch

    _, _, _, ckpt = workspace
    rgb = textured(11, GOLD, SKY_BLUE, size=48)
    photo = save_photo(tmp_path / "v.png", rgb)
    models = ("blue", "yellow")
    args = [*colorize_args(ckpt, tmp_path / "out", photo, models=models), "--weights", "1", "3", "--precision", "fp32"]
    assert main([*args, "--vividness", "1.5"]) == 0
    lightness, _ = preprocess_lightness_batch([rgb], 32)
    ab = load_colorizer(models, ckpt, [1, 3]).predict_ab(torch.from_numpy(lightness))[0]
    got = np.asarray(Image.open(tmp_path / "out" / "v.blue+yellow.png"))
    np.testing.assert_array_equal(got, picture(rgb, (ab * 1.5).clamp(-1, 1)))
    assert not np.array_equal(got, picture(rgb, ab))


@pytest.mark.parametrize("k", ["-1", "4", "nan"])
def test_vividness_out_of_range_is_one_line(workspace, tmp_path, capsys, k):
    _, _, _, ckpt = workspace
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    assert user_error(capsys, *colorize_args(ckpt, tmp_path / "out", photo), "--vividness", k) == (
        f"the vividness must be a number from 0 to 3 (1: the blend itself), got {float(k):g}"
    )
    assert not (tmp_path / "out").exists()


def test_rule_most_saturated_is_the_rule_on_the_members(workspace, tmp_path):
    import torch

    from colorlib import combination_rules as rules
    from colorlib.ensemble import TrainedColorizer
    from colorlib.lab import preprocess_lightness_batch

    _, _, _, ckpt = workspace
    rgb = textured(12, GOLD, SKY_BLUE, size=48)
    photo = save_photo(tmp_path / "r.png", rgb)
    args = [*colorize_args(ckpt, tmp_path, photo, models=["bgy-combined"]), "--precision", "fp32"]
    assert main([*args, "--out-dir", str(tmp_path / "mean")]) == 0
    assert main([*args, "--out-dir", str(tmp_path / "sat"), "--rule", "most-saturated"]) == 0
    lightness = torch.from_numpy(preprocess_lightness_batch([rgb], 32)[0])
    stack = torch.stack([TrainedColorizer(ckpt / f"{m}.pt").predict_ab(lightness) for m in ("blue", "green", "yellow")])
    got = np.asarray(Image.open(tmp_path / "sat" / "r.bgy-combined.png"))
    np.testing.assert_array_equal(got, picture(rgb, rules.most_saturated(stack)[0]))
    assert not np.array_equal(got, np.asarray(Image.open(tmp_path / "mean" / "r.bgy-combined.png")))


def test_unknown_rule_and_stray_temperature_are_one_line(workspace, tmp_path, capsys):
    from colorlib.combination_rules import RULES

    _, _, _, ckpt = workspace
    photo = save_photo(tmp_path / "x.png", textured(1, GOLD, GRASS, size=40))
    args = colorize_args(ckpt, tmp_path / "out", photo)
    assert user_error(capsys, *args, "--rule", "purple") == f"unknown rule 'purple'; choose from: {', '.join(RULES)}"
    assert user_error(capsys, *args, "--temperature", "3") == (
        "--temperature applies to --rule softmax only, not to mean"
    )
    assert user_error(capsys, *args, "--rule", "softmax", "--temperature", "-1") == (
        "the temperature must be 0 or more (inf: the plain mean), got -1"
    )
    assert not (tmp_path / "out").exists()
