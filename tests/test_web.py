"""The explorer page's models and runtime (colorlib.explorer.web), checked without a browser; its
arithmetic (explorer-core.js) under Node is tests/test_explorer_core.py, the page itself is tested in
headless Chromium (tests/test_browser.py, tests/test_browser_own.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from colorlib import train as T
from colorlib.checkpoint import load_model
from colorlib.errors import ImageLoadError
from colorlib.explorer.blending import Blend
from colorlib.explorer.html import own_photo_html
from colorlib.explorer.own import OwnPhoto
from colorlib.explorer.web import (
    NO_NODE,
    RUNTIME_FILES,
    copy_runtime,
    export_models,
    fold_batch_norm,
    probe_input,
    web_config,
)
from colorlib.model import ColorNet, ModelConfig

from .helpers import REPO, tiny_folder, train_config


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> Path:
    """Two briefly trained models (blue, yellow) at 32 px, batch norm statistics away from their defaults."""
    tmp = tmp_path_factory.mktemp("web")
    manifest, data, _ = tiny_folder(tmp)
    manifest["sets"]["yellow"] = manifest["sets"]["blue"]
    folder = tmp / "checkpoints"
    for name in ("blue", "yellow"):
        T.train(train_config(dataset=name, iterations=8), manifest, data, folder / f"{name}.pt", progress=False)
    return folder


def test_folding_batch_norm_keeps_the_function():
    torch.manual_seed(0)
    model = ColorNet(ModelConfig(64))
    for m in model.modules():  # statistics and affine terms of a trained network, not the identity
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    folded = fold_batch_norm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # the original is untouched
    x = torch.rand(2, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(folded(x), model(x), atol=1e-5)


@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_exported_models_agree_with_pytorch(checkpoints, tmp_path, storage):
    import onnx
    import onnxruntime as ort

    index_path = export_models(checkpoints, tmp_path / "models", ("blue", "yellow"), storage)
    index = json.loads(index_path.read_text())
    assert index["image_size"] == 32 and index["storage"] == storage
    assert [m["name"] for m in index["models"]] == ["blue", "yellow"]
    limit = {"float16": 2e-3, "float32": 1e-5}[storage]
    for entry in index["models"]:
        path = tmp_path / "models" / entry["file"]
        assert entry["bytes"] == path.stat().st_size and 0 <= entry["max_abs_diff"] <= limit
        proto = onnx.load(str(path))
        ops = {n.op_type for n in proto.graph.node}
        assert "BatchNormalization" not in ops and {"Conv", "Tanh"} <= ops
        kinds = {i.data_type for i in proto.graph.initializer if len(i.dims) > 1}
        assert kinds == {onnx.TensorProto.FLOAT16 if storage == "float16" else onnx.TensorProto.FLOAT}
        # another input than the one the export was checked on
        model, _ = load_model(checkpoints / f"{entry['name']}.pt")
        x = np.random.default_rng(1).random((1, 1, 32, 32), dtype=np.float32)
        got = ort.InferenceSession(str(path)).run(["ab"], {"lightness": x})[0]
        with torch.no_grad():
            assert np.abs(got - model(torch.from_numpy(x)).numpy()).max() <= limit
    assert probe_input(32).shape == (1, 1, 32, 32) and 0 <= probe_input(32).min() <= probe_input(32).max() <= 1


def test_float16_storage_halves_the_files(checkpoints, tmp_path):
    half = json.loads(export_models(checkpoints, tmp_path / "h", ("blue",), "float16").read_text())["models"][0]
    full = json.loads(export_models(checkpoints, tmp_path / "f", ("blue",), "float32").read_text())["models"][0]
    assert 0.45 < half["bytes"] / full["bytes"] < 0.55


def test_published_models_name_no_path_of_the_machine_that_built_them(checkpoints, tmp_path):
    """The exporter notes each node's Python stack trace (this checkout's and the venv's paths): a published
    model must not carry them, so the same checkpoint gives the same file wherever it is exported."""
    export_models(checkpoints, tmp_path / "models", ("blue",))
    data = (tmp_path / "models" / "blue.onnx").read_bytes()
    for path in (Path(__file__).resolve().parent.parent, Path(sys.prefix).resolve(), Path(torch.__file__).parent):
        assert str(path).encode() not in data
    assert b"stack_trace" not in data


def test_runtime_is_copied_or_said_to_be_missing(tmp_path):
    package = tmp_path / "node_modules" / "onnxruntime-web"
    missing = json.loads(copy_runtime(package, tmp_path / "web").read_text())
    assert missing == {"unavailable": NO_NODE}
    (package / "dist").mkdir(parents=True)
    for name in RUNTIME_FILES:
        (package / "dist" / name).write_bytes(name.encode() * 10)
    (package / "package.json").write_text('{"name": "onnxruntime-web", "version": "9.9.9"}')
    index = json.loads(copy_runtime(package, tmp_path / "web").read_text())
    assert index["version"] == "9.9.9" and [f["file"] for f in index["files"]] == list(RUNTIME_FILES)
    assert all((tmp_path / "web" / "ort" / name).read_bytes() == name.encode() * 10 for name in RUNTIME_FILES)


def test_web_config_names_what_the_page_fetches(checkpoints, tmp_path):
    web = tmp_path / "web"
    assert "unavailable" in web_config(web, "../../colorize/")  # nothing exported yet
    export_models(checkpoints, web / "models", ("blue", "yellow"))
    copy_runtime(tmp_path / "no-package", web)
    config = web_config(web, "../../colorize/")
    assert config == {"unavailable": NO_NODE}
    html = own_photo_html(config)
    assert 'data-unavailable="' in html and "Node.js" in html
    package = tmp_path / "pkg"
    (package / "dist").mkdir(parents=True)
    for name in RUNTIME_FILES:
        (package / "dist" / name).write_bytes(b"x" * 100)
    (package / "package.json").write_text('{"version": "1.0.0"}')
    copy_runtime(package, web)
    config = web_config(web, "../../colorize/")
    assert [m["src"] for m in config["models"]] == [
        "../../colorize/models/blue.onnx",
        "../../colorize/models/yellow.onnx",
    ]
    assert config["runtime"]["src"] == "../../colorize/ort/" and config["runtime"]["bytes"] == 300
    assert (config["input"], config["output"], config["image_size"]) == ("lightness", "ab", 32)


# --- a reader's own photo in Python: colorize's way -----------------------------------------------------


def test_own_photo_blend_of_one_model_is_what_colorize_writes(checkpoints):
    from colorlib.ensemble import load_colorizer

    rng = np.random.default_rng(3)
    rgb = np.clip(rng.normal(120, 50, (45, 70, 3)), 0, 255).astype(np.uint8)
    colorizers = [load_colorizer([m], checkpoints) for m in ("blue", "yellow")]
    own = OwnPhoto.from_rgb("p.png", rgb, colorizers)
    for i, c in enumerate(colorizers):
        weights = [1 if j == i else 0 for j in range(2)]
        assert np.array_equal(own.render(Blend(weights)), c.colorize(rgb))
    blend = load_colorizer(["blue", "yellow"], checkpoints, [1, 1]).colorize(rgb)
    assert np.abs(own.render(Blend([1, 1])).astype(int) - blend.astype(int)).max() <= 1
    preview = own.preview(Blend([1, 1]))
    assert preview.rgb.shape == rgb.shape and np.isnan(preview.mse) and preview.colourfulness > 0


def test_own_photo_from_bad_bytes_is_one_line(checkpoints):
    from colorlib.ensemble import load_colorizer

    colorizers = [load_colorizer(["blue"], checkpoints)]
    for data, reason in ((b"", "empty file"), (b"not a photo", "not an image")):
        with pytest.raises(ImageLoadError, match=reason):
            OwnPhoto.from_bytes("x.jpg", data, colorizers)


def test_make_web_without_npm_warns_and_goes_on(tmp_path):
    """Without Node the book still builds: `make web` says what is missing and succeeds."""
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Makefile", "package.json", "package-lock.json"):
        shutil.copy2(REPO / name, root / name)
    bare = tmp_path / "bin"  # a PATH with make's shell and nothing of Node
    bare.mkdir()
    for tool in ("sh", "bash", "test", "["):
        if found := shutil.which(tool):
            (bare / tool).symlink_to(found)
    make = shutil.which("make")
    run = subprocess.run([make, "-C", str(root), "web"], capture_output=True, text=True, env={"PATH": str(bare)})
    assert run.returncode == 0, run.stderr
    assert "npm not found" in run.stderr and "Node.js" in run.stderr
    assert not (root / "node_modules").exists()
