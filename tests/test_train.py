"""Training: the loss falls, checkpoints carry what made them, interrupted runs resume exactly."""

import os
import signal

import numpy as np
import pytest
import torch

from colorlib import checkpoint, device
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


def _interrupted(manifest, data, out, monkeypatch, at: int = 25) -> None:
    """Train into `out` and press Ctrl-C in the middle of batch `at`."""
    calls = {"n": 0}
    real_step = torch.optim.Adam.step

    def flaky_step(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == at:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C in the middle of a batch
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.Adam, "step", flaky_step)
    with pytest.raises(UserError, match="resume"):
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
