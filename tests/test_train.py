"""Training: the loss falls, checkpoints carry what made them, interrupted runs resume exactly."""

import json
import math
import os
import signal

import numpy as np
import pytest
import torch

from colorlib import SETS, checkpoint, cli, device
from colorlib import train as T
from colorlib.errors import UserError

from .helpers import train_config


def test_tiny_training_run_lowers_the_loss(tiny):
    manifest, data, tmp = tiny
    res = T.train(train_config(iterations=60, lr=3e-3), manifest, data, tmp / "blue.pt", progress=False)
    assert len(res.losses) == 60
    assert np.mean(res.losses[-10:]) < 0.7 * np.mean(res.losses[:10])


def test_checkpoint_carries_config_manifest_hash_and_version(tiny):
    from colorlib import __version__
    from colorlib.data import manifest_hash

    manifest, data, tmp = tiny
    T.train(train_config(iterations=5), manifest, data, tmp / "c.pt", progress=False)
    state = checkpoint.load_checkpoint(tmp / "c.pt")
    assert state["complete"] and state["step"] == 5
    assert state["train_config"]["lr"] == 1e-3 and state["train_config"]["weight_decay"] == 0.0
    assert state["manifest_hash"] == manifest_hash(manifest)
    assert state["colorlib_version"] == __version__
    model, _ = checkpoint.load_model(tmp / "c.pt")
    assert not model.training


def _ctrl_c_at(monkeypatch, at: int = 25) -> None:
    """Press Ctrl-C in the middle of batch `at` of the next run."""
    calls = {"n": 0}
    real_step = torch.optim.Adam.step

    def flaky_step(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == at:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of a batch
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.Adam, "step", flaky_step)


def _interrupted(manifest, data, out, monkeypatch, at: int = 25) -> None:
    """Train into `out` and press Ctrl-C in the middle of batch `at`: saved, then interrupted."""
    real_step = torch.optim.Adam.step
    _ctrl_c_at(monkeypatch, at)
    with pytest.raises(KeyboardInterrupt):
        T.train(train_config(), manifest, data, out, progress=False)
    monkeypatch.setattr(torch.optim.Adam, "step", real_step)


def test_interrupted_run_resumes_to_the_same_weights(tiny, monkeypatch):
    manifest, data, tmp = tiny
    straight = T.train(train_config(), manifest, data, tmp / "straight.pt", progress=False)

    _interrupted(manifest, data, tmp / "resumed.pt", monkeypatch)
    partial = checkpoint.load_checkpoint(tmp / "resumed.pt")
    assert not partial["complete"] and partial["step"] == 25  # the batch under way was finished
    resumed = T.train(train_config(), manifest, data, tmp / "resumed.pt", progress=False)
    assert resumed.resumed_from == 25
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=1e-4, atol=1e-6)
    a = checkpoint.load_checkpoint(tmp / "straight.pt")["model"]
    b = checkpoint.load_checkpoint(tmp / "resumed.pt")["model"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k


def test_a_run_begun_on_a_gpu_resumes_on_the_cpu(tiny, monkeypatch):
    """A GPU run saves Adam with `capturable` on (its steps are captured as a CUDA graph); resuming it
    on the CPU must use the CPU's optimizer, and reach the same weights as an uninterrupted run."""
    manifest, data, tmp = tiny
    straight = T.train(train_config(), manifest, data, tmp / "straight.pt", progress=False)
    _interrupted(manifest, data, tmp / "gpu.pt", monkeypatch)
    state = checkpoint.load_checkpoint(tmp / "gpu.pt")
    for group in state["optimizer"]["param_groups"]:  # what the GPU path writes
        group["capturable"], group["fused"] = True, None
    checkpoint.save_checkpoint(state, tmp / "gpu.pt")

    resumed = T.train(train_config(), manifest, data, tmp / "gpu.pt", progress=False)
    assert resumed.resumed_from == 25
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=1e-4, atol=1e-6)
    groups = checkpoint.load_checkpoint(tmp / "gpu.pt")["optimizer"]["param_groups"]
    assert not any(g["capturable"] for g in groups)


def test_complete_checkpoint_is_skipped_and_other_settings_refused(tiny):
    manifest, data, tmp = tiny
    out = tmp / "s.pt"
    T.train(train_config(iterations=3), manifest, data, out, progress=False)
    assert T.train(train_config(iterations=3, checkpoint_every=1), manifest, data, out, progress=False).skipped
    with pytest.raises(UserError, match="other settings"):
        T.train(train_config(iterations=4), manifest, data, out, progress=False)
    assert not T.train(train_config(iterations=4), manifest, data, out, force=True, progress=False).skipped


def test_corrupt_and_foreign_checkpoints_are_user_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage")
    with pytest.raises(UserError, match="not a readable checkpoint"):
        checkpoint.load_checkpoint(bad)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(UserError, match="not a colorlib checkpoint"):
        checkpoint.load_checkpoint(foreign)
    with pytest.raises(UserError, match="not found"):
        checkpoint.load_checkpoint(tmp_path / "missing.pt")


def test_checkpoint_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoint.CHECKPOINT_FORMAT, "x": Evil()}, path)
    with pytest.raises(UserError):
        checkpoint.load_checkpoint(path)


def test_unknown_dataset_and_bad_parameters(tiny):
    manifest, data, tmp = tiny
    with pytest.raises(UserError, match="dataset must be one of"):
        T.train(train_config(dataset="purple"), manifest, data, tmp / "x.pt", progress=False)
    with pytest.raises(UserError, match="dataset must be one of"):
        T.train(train_config(dataset="validation"), manifest, data, tmp / "x.pt", progress=False)
    for bad in (dict(iterations=0), dict(batch_size=-1), dict(image_size=30), dict(precision="fp8"), dict(lr=0)):
        with pytest.raises(UserError):
            train_config(**bad)


def test_batch_order_is_seeded_and_covers_every_photo():
    a = T.batch_order(10, 7, 4, seed=3)
    assert a.shape == (7, 4)
    assert np.array_equal(a, T.batch_order(10, 7, 4, seed=3))
    assert not np.array_equal(a, T.batch_order(10, 7, 4, seed=4))
    assert set(a.ravel()[:10]) == set(range(10))  # first epoch sees each photo once


def test_bf16_path_trains_when_cpu_supports_it(tiny):
    if not device.cpu_has_bf16():
        pytest.skip("this CPU has no native bf16")
    manifest, data, tmp = tiny
    res = T.train(train_config(iterations=30, precision="bf16", lr=3e-3), manifest, data, tmp / "bf.pt", progress=False)
    assert checkpoint.load_checkpoint(tmp / "bf.pt")["precision"] == "bf16"
    assert np.mean(res.losses[-5:]) < np.mean(res.losses[:5])


def test_other_losses_train_and_old_checkpoints_stay_valid(tiny):
    manifest, data, tmp = tiny
    res = T.train(train_config(iterations=20, loss="l1", lr=3e-3), manifest, data, tmp / "l1.pt", progress=False)
    assert checkpoint.load_checkpoint(tmp / "l1.pt")["train_config"]["loss"] == "l1"
    assert np.mean(res.losses[-5:]) < np.mean(res.losses[:5])
    with pytest.raises(UserError, match="loss must be one of"):
        train_config(loss="ce")
    # a checkpoint written before the `loss` field existed is the same run as loss="mse"
    saved = train_config().identity()
    saved.pop("loss")
    assert train_config().same_run(saved) and not train_config(loss="l1").same_run(saved)


# --- the trust boundary: values, divergence, interruptions, damaged checkpoints ------------------------


def _cli_train(manifest: dict, data, out, *flags: str) -> int:
    """`colorlib -q train blue` on the tiny set, with its manifest written as `colorlib prepare` would."""
    path = out.parent / "manifest.json"
    path.write_text(json.dumps(manifest | {"sets": {n: manifest["sets"].get(n, []) for n in SETS}}))
    tiny = ["--iterations", "40", "--image-size", "32", "--precision", "fp32", "--checkpoint-every", "10"]
    where = ["--manifest", str(path), "--data", str(data), "--out", str(out)]
    return cli.main(["-q", "train", "blue", *where, *tiny, *flags])


def test_colorlib_train_reads_a_spec_file_and_records_it(tiny, capsys):
    """`colorlib train --spec FILE` (the workflow's command): the file's settings, the checkpoint's record."""
    manifest, data, tmp = tiny
    cfg = T.TrainConfig("blue", iterations=6, image_size=32, precision="fp32", lr=2e-3, loss="l1", checkpoint_every=3)
    (tmp / "blue.json").write_text(cfg.to_json())
    path = tmp / "manifest.json"
    path.write_text(json.dumps(manifest | {"sets": {n: manifest["sets"].get(n, []) for n in SETS}}))
    where = ["--manifest", str(path), "--data", str(data), "--out", str(tmp / "spec.pt")]
    assert cli.main(["-q", "train", "--spec", str(tmp / "blue.json"), *where]) == 0
    assert checkpoint.load_checkpoint(tmp / "spec.pt")["train_config"] == json.loads(cfg.to_json())
    assert cli.main(["-q", "train", "--spec", str(tmp / "blue.json"), *where, "--lr", "0.01"]) == 2  # another run
    assert "other settings" in capsys.readouterr().err
    assert cli.main(["-q", "train", *where]) == 2
    assert capsys.readouterr().err.strip().endswith("name the set to train (DATASET) or a run spec (--spec FILE)")


@pytest.mark.parametrize("lr", ["inf", "nan", "-1"])
def test_the_cli_refuses_a_non_finite_or_negative_lr_in_one_line(tiny, lr, capsys):
    manifest, data, tmp = tiny
    assert _cli_train(manifest, data, tmp / "lr.pt", "--lr", lr) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"colorlib: error: lr must be a finite number above 0, got {float(lr)!r}"
    assert not (tmp / "lr.pt").exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (dict(lr=math.inf), "lr must be a finite number above 0, got inf"),
        (dict(lr="0.1"), "lr must be a finite number above 0, got '0.1'"),
        (dict(weight_decay=-1e-4), "weight_decay must be a finite number of 0 or more"),
        (dict(iterations=2.5), "iterations must be a whole number >= 1, got 2.5"),
        (dict(batch_size=True), "batch_size must be a whole number >= 1, got True"),
        (dict(seed=-1), "seed must be a whole number >= 0, got -1"),
        (dict(threads="2; id"), "threads must be a whole number >= 1"),
    ],
)
def test_train_config_refuses_wrong_types_and_ranges(bad, message):
    with pytest.raises(UserError) as err:
        train_config(**bad)
    assert str(err.value).startswith(message)


def _nan_loss_at(monkeypatch, k: int) -> None:
    real, calls = T.LOSSES["mse"], {"n": 0}

    def loss(pred, target):
        calls["n"] += 1
        return real(pred, target) * (math.nan if calls["n"] == k else 1.0)

    monkeypatch.setitem(T.LOSSES, "mse", loss)


def _nan_weights_after(monkeypatch, k: int) -> None:
    real, calls = torch.optim.Adam.step, {"n": 0}

    def step(self, *a, **kw):
        calls["n"] += 1
        out = real(self, *a, **kw)
        if calls["n"] == k:
            with torch.no_grad():
                self.param_groups[0]["params"][0].fill_(math.nan)
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", step)


@pytest.mark.parametrize(
    ("inject", "message", "saved"),
    [
        (lambda mp: _nan_loss_at(mp, 15), "training blue: the loss became nan at batch 15 of 40; stopped", 10),
        (lambda mp: _nan_weights_after(mp, 40), "training blue: the weights became non-finite by batch 40 of 40", 30),
    ],
)
def test_a_run_that_turns_non_finite_stops_and_never_saves_it(tiny, monkeypatch, inject, message, saved):
    """The last good checkpoint stays (finite weights, not complete); nothing non-finite is ever written."""
    manifest, data, tmp = tiny
    inject(monkeypatch)
    with pytest.raises(UserError, match=message):
        T.train(train_config(), manifest, data, tmp / "nan.pt", progress=False)
    state = checkpoint.load_checkpoint(tmp / "nan.pt")
    assert not state["complete"] and state["step"] == saved and all(map(math.isfinite, state["losses"]))
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())


def test_ctrl_c_in_colorlib_train_saves_and_exits_130(tiny, monkeypatch, capsys):
    manifest, data, tmp = tiny
    _ctrl_c_at(monkeypatch, 25)
    assert _cli_train(manifest, data, tmp / "c.pt") == 130
    assert "colorlib: interrupted" in capsys.readouterr().err
    state = checkpoint.load_checkpoint(tmp / "c.pt")
    assert state["step"] == 25 and not state["complete"]


def test_a_stale_temporary_file_of_a_killed_save_is_removed_on_the_next_start(tiny):
    manifest, data, tmp = tiny
    (tmp / "ckpt").mkdir()
    stale, fresh = tmp / "ckpt" / ".s.pt.a1b2c3d4.tmp", tmp / "ckpt" / ".s.pt.e5f6g7h8.tmp"
    others = [tmp / "ckpt" / ".s.pt.keep.tmp", tmp / "ckpt" / ".other.pt.a1b2c3d4.tmp", fresh]
    for path in [stale, *others]:
        path.write_bytes(b"half a checkpoint")
        if path != fresh:
            os.utime(path, (0, 0))  # long before this process started
    T.train(train_config(iterations=2), manifest, data, tmp / "ckpt" / "s.pt", progress=False)
    assert not stale.exists() and all(p.exists() for p in others)  # only the writer's own pattern, only old


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s["model_config"].update(colour="blue"), "unknown model_config key 'colour'"),
        (lambda s: s.pop("model"), "no model entry"),
        (lambda s: s.update(model_config=[64]), "no model_config entry"),
    ],
)
def test_a_damaged_checkpoint_is_one_line_and_never_already_trained(tiny, damage, message):
    manifest, data, tmp = tiny
    out = tmp / "d.pt"
    T.train(train_config(iterations=2), manifest, data, out, progress=False)
    state = checkpoint.load_checkpoint(out)
    damage(state)
    checkpoint.save_checkpoint(state, out)
    with pytest.raises(UserError, match=message):
        checkpoint.load_model(out)
    with pytest.raises(UserError, match=message):  # never "already trained"
        T.train(train_config(iterations=2), manifest, data, out)
