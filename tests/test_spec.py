"""One run spec (colorlib.spec): each setting declared once, and everything else derived from it: the
command line's options, the names PM_ARGS may set, the workflow's profiles and prepare command, the spec
files; and one hash (colorlib.identity.digest) for every key."""

from __future__ import annotations

import ast
import json
from dataclasses import asdict, fields, make_dataclass

import pytest

from colorlib import cli
from colorlib.errors import UserError
from colorlib.spec import SplitParams, TrainConfig, option, read_spec, setting
from colorlib.workflow import plan as workflow_plan
from colorlib.workflow.plan import PROFILES, Plan, make_variant

from .helpers import REPO


def help_of(command: str) -> str:
    """The help of `colorlib COMMAND`, on one line."""
    parser = cli.build_parser()
    return " ".join(parser._subparsers._group_actions[0].choices[command].format_help().split())


def test_the_options_are_the_specs_fields():
    train, prepare = help_of("train"), help_of("prepare")
    for f in fields(TrainConfig)[1:]:  # the dataset is the positional argument
        assert f"{option(f.name)} " in train and f"default {f.default}" in train
    for f in fields(SplitParams):
        assert f"{option(f.name)} " in prepare
    assert "Adam learning rate; default 0.001" in train


def test_a_field_added_to_the_spec_is_an_option_and_a_pm_args_name(split_folder, monkeypatch):
    extra = setting(0, "warm-up batches at a lower rate", least=0)
    grown = make_dataclass("TrainConfig", [("warmup", int, extra)], bases=(TrainConfig,), frozen=True)
    monkeypatch.setattr(cli, "TrainConfig", grown)
    monkeypatch.setattr(workflow_plan, "TrainConfig", grown)
    assert "--warmup WARMUP" in help_of("train") and "warm-up batches at a lower rate; default 0" in help_of("train")
    assert make_variant("smoke", split_folder, 0, "-p warmup 5").train["warmup"] == 5
    with pytest.raises(UserError, match=r"PM_ARGS: warmup must be a whole number >= 0, got -1"):
        make_variant("smoke", split_folder, 0, "-p warmup -1")


def test_a_spec_file_round_trips(tmp_path):
    cfg = TrainConfig("green", lr=5e-4, loss="l1", image_size=64, threads=2)
    path = tmp_path / "green.json"
    path.write_text(cfg.to_json())
    assert TrainConfig.from_dict(read_spec(path)) == cfg and read_spec(path) == asdict(cfg)
    assert SplitParams.from_dict(json.loads(SplitParams(test=8).to_json())) == SplitParams(test=8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"dataset": "blue", "lx": 1}', "unknown setting 'lx' (the settings: dataset, iterations,"),
        ('{"lr": 0.001}', "no dataset (the settings: dataset,"),
        ('{"dataset": "blue", "lr": 0}', "lr must be a finite number above 0, got 0"),
        ("[1, 2]", "is not a spec file"),
        ("{", "cannot read the spec file"),
    ],
)
def test_a_bad_spec_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "spec.json"
    path.write_text(text)
    with pytest.raises(UserError) as err:
        TrainConfig.from_dict(read_spec(path), f"{path}: ")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_profiles_hold_only_what_differs_from_the_defaults(split_folder):
    defaults = {"split": asdict(SplitParams()), "train": asdict(TrainConfig("blue"))}
    for profile in PROFILES.values():
        for group in ("split", "train"):
            assert all(defaults[group][k] != v for k, v in profile[group].items()), profile[group]
    plan = Plan.from_config({"profile": "paper", "data": str(split_folder), "build": "b"}, root=REPO)
    words = plan.prepare_options()  # the prepare rule's options: one per field of SplitParams
    assert words[::2] == [option(f.name) for f in fields(SplitParams)]
    assert dict(zip(words[::2], words[1::2], strict=True))["--calibration"] == "32"


def test_the_train_notebook_names_only_spec_fields_and_keeps_no_defaults():
    """The parameters cell is papermill's; the defaults are the spec's (None there means the spec's)."""
    notebook = json.loads((REPO / "notebooks" / "train.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", []))
    values = {n.targets[0].id: n.value for n in ast.parse("".join(cell["source"])).body}
    settings = set(values) - {"spec", "data_dir", "manifest", "out_dir", "n_preview", "train_if_missing"}
    assert settings and settings <= {f.name for f in fields(TrainConfig)}
    assert all(ast.literal_eval(values[k]) is None for k in settings - {"dataset"})


def test_one_hash_function_of_one_length():
    """Every key (variant, study, code, photos) is colorlib.identity.digest: nothing else cuts a hash short."""
    cut = [p.relative_to(REPO) for p in (REPO / "colorlib").rglob("*.py") if "hexdigest()[:" in p.read_text()]
    assert [p.as_posix() for p in cut] == ["colorlib/identity.py"]
