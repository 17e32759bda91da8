"""The six models and their runtime for the book's page, where a reader's own photo is colorized.

- :func:`export_models`: each checkpoint as an ONNX file for onnxruntime-web, batch norm folded into the
  convolutions: L (1, 1, S, S) in [0, 1] -> ab (1, 2, S, S) in [-1, 1]. Weights are stored as float16 and
  cast to float32 as the session starts (half the bytes, computed in float32 as PyTorch does). Each export
  is run by onnxruntime against PyTorch and the largest difference recorded (``models.json``), so the
  page's agreement with ``colorlib colorize`` is measured where it is made.
- :func:`copy_runtime`: onnxruntime-web's wasm files (the npm package ``package-lock.json`` pins), or,
  without Node, a ``runtime.json`` that says so, which the page shows.
- :func:`web_config`: what the page's markup needs to find them (:func:`colorlib.explorer.html.own_photo_html`).

The workflow's rules ``web_models`` and ``web_runtime`` run the first two: ``colorlib web models CHECKPOINTS
OUT`` (OUT/models/) and ``colorlib web runtime PACKAGE OUT`` (OUT/ort/, OUT/runtime.json).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .. import TRAINED_MODELS
from ..checkpoint import checkpoint_path, load_model
from ..errors import UserError
from ..files import atomic_write, atomic_write_text
from ..fingerprint import file_sha256

WEB_MODELS_FORMAT = "colorlib-web-models/1"
INPUT, OUTPUT = "lightness", "ab"
STORAGES = ("float16", "float32")
# onnxruntime-web's wasm build: the script the page loads, the module it imports, its WebAssembly.
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
NO_NODE = (
    "this build had no onnxruntime-web: it needs Node.js and npm when the book is built "
    "(make runs `npm ci`; see the README), then `make book` again"
)


# --- the models -------------------------------------------------------------------------------------


def fold_batch_norm(module: nn.Module) -> nn.Module:
    """A copy of an eval-mode network with every batch norm folded into the convolution before it.

    Sequences fold each (Conv2d, BatchNorm2d) pair; torchvision's residual blocks fold their named
    pairs (conv1/bn1, conv2/bn2, the downsample's). The result computes the same function.
    """
    module = copy.deepcopy(module).eval()

    def walk(m: nn.Module) -> nn.Module:
        if isinstance(m, nn.Sequential):
            children, parts = list(m), []
            for i, child in enumerate(children):
                if isinstance(child, nn.BatchNorm2d) and i > 0 and isinstance(children[i - 1], nn.Conv2d):
                    parts[-1] = fuse_conv_bn_eval(children[i - 1], child)
                else:
                    parts.append(walk(child))
            return nn.Sequential(*parts)
        for conv_name, bn_name in (("conv1", "bn1"), ("conv2", "bn2")):
            conv, bn = getattr(m, conv_name, None), getattr(m, bn_name, None)
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                setattr(m, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(m, bn_name, nn.Identity())
        for name, child in m.named_children():
            setattr(m, name, walk(child))
        return m

    folded = walk(module)
    left = [n for n, m in folded.named_modules() if isinstance(m, nn.BatchNorm2d)]
    if left:
        raise UserError(f"could not fold every batch norm of the network (left: {', '.join(left)})")
    return folded


def _store_float16(model) -> None:
    """Float32 weights stored as float16, each cast back to float32 as the graph starts."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        values = numpy_helper.to_array(init)
        if values.dtype != np.float32 or values.size < 16:  # biases of a few values stay as they are
            continue
        half = numpy_helper.from_array(values.astype(np.float16), f"{init.name}__float16")
        graph.initializer.remove(init)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    for i, node in enumerate(casts):
        graph.node.insert(i, node)


def probe_input(size: int) -> np.ndarray:
    """A fixed L image (1, 1, S, S) in [0, 1] with structure at every scale: the agreement check's input."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size] / size
    smooth = 0.5 + 0.3 * np.sin(6 * x) * np.cos(4 * y)
    return np.clip(smooth + 0.1 * rng.standard_normal((size, size)), 0, 1).astype(np.float32)[None, None]


def export_model(checkpoint: Path, out: Path, storage: str = "float16") -> dict:
    """One checkpoint -> one ONNX file at `out`; returns its entry of models.json."""
    import onnx

    if storage not in STORAGES:
        raise UserError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
    model, state = load_model(checkpoint)
    size = int(state["model_config"]["image_size"])
    folded = fold_batch_norm(model)
    x = torch.from_numpy(probe_input(size))
    # the exporter reports its steps on stdout and warns about what it does not need: kept quiet
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        raw = Path(tmp) / "model.onnx"
        program = torch.onnx.export(
            folded, (x,), input_names=[INPUT], output_names=[OUTPUT], dynamo=True, optimize=True, verbose=False
        )
        program.save(str(raw))
        proto = onnx.load(str(raw))
    for node in proto.graph.node:  # the exporter's notes: each node's stack trace, with this machine's paths
        del node.metadata_props[:]
    if storage == "float16":
        _store_float16(proto)
    proto.doc_string = f"colorlib {state['train_config']['dataset']}: L (1, 1, {size}, {size}) -> ab in [-1, 1]"
    onnx.checker.check_model(proto)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda f: f.write(proto.SerializeToString()))
    with torch.no_grad():
        expected = model(x).numpy()
    return {
        "name": state["train_config"]["dataset"],
        "image_size": size,
        "file": out.name,
        "bytes": out.stat().st_size,
        "sha256": file_sha256(out),
        "max_abs_diff": _agreement(out, x.numpy(), expected),
    }


def _agreement(path: Path, x: np.ndarray, expected: np.ndarray) -> float | None:
    """Largest |ab| difference between onnxruntime (CPU) and PyTorch on `x`; None without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT], {INPUT: x})[0]
    return float(np.abs(got - expected).max())


def export_models(
    checkpoints: Path, out_dir: Path, models: Sequence[str] = TRAINED_MODELS, storage: str = "float16"
) -> Path:
    """Every model's ONNX file into `out_dir`, and `out_dir`/models.json describing them; returns that file."""
    out_dir = Path(out_dir)
    entries = [export_model(checkpoint_path(Path(checkpoints), m), out_dir / f"{m}.onnx", storage) for m in models]
    sizes = {e["image_size"] for e in entries}
    index = {
        "format": WEB_MODELS_FORMAT,
        "image_size": sizes.pop() if len(sizes) == 1 else sorted(sizes),
        "input": INPUT,
        "output": OUTPUT,
        "storage": storage,
        "models": entries,
    }
    path = out_dir / "models.json"
    atomic_write_text(path, json.dumps(index, indent=1) + "\n")
    return path


# --- the runtime --------------------------------------------------------------------------------------


def copy_runtime(package: Path, out_dir: Path) -> Path:
    """onnxruntime-web's files the page uses, from its npm package folder, into `out_dir`/ort;
    `out_dir`/runtime.json names them (or says why there are none: the page shows it)."""
    package, out_dir = Path(package), Path(out_dir)
    dist = package / "dist"
    index_path = out_dir / "runtime.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    if not all((dist / f).is_file() for f in RUNTIME_FILES):
        atomic_write_text(index_path, json.dumps({"unavailable": NO_NODE}, indent=1) + "\n")
        return index_path
    target = out_dir / "ort"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    files = []
    for name in RUNTIME_FILES:
        shutil.copyfile(dist / name, target / name)
        files.append({"file": name, "bytes": (target / name).stat().st_size, "sha256": file_sha256(target / name)})
    version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    index = {"package": "onnxruntime-web", "version": version, "files": files}
    atomic_write_text(index_path, json.dumps(index, indent=1) + "\n")
    return index_path


# --- what the page needs --------------------------------------------------------------------------------


def web_config(web_dir: Path, base: str) -> dict:
    """The own-photo part's configuration from `web_dir` (models/ and runtime.json), with URLs under `base`
    (the folder as the page sees it, e.g. ``../../colorize/``); ``unavailable`` says why there is none."""
    web_dir = Path(web_dir)
    runtime_path, models_path = web_dir / "runtime.json", web_dir / "models" / "models.json"
    if not models_path.is_file():
        return {"unavailable": "this build exported no models for the page"}
    models = json.loads(models_path.read_text(encoding="utf-8"))
    runtime = {"unavailable": NO_NODE}
    if runtime_path.is_file():
        runtime = json.loads(runtime_path.read_text(encoding="utf-8"))
    if "unavailable" in runtime:
        return {"unavailable": runtime["unavailable"]}
    sizes = {f["file"]: f["bytes"] for f in runtime["files"]}
    return {
        "models": [
            {"name": m["name"], "src": f"{base}models/{m['file']}", "bytes": m["bytes"]} for m in models["models"]
        ],
        "runtime": {
            "src": f"{base}ort/",
            "script": RUNTIME_FILES[0],
            "wasm": RUNTIME_FILES[2],
            "bytes": sum(sizes.values()),
            "wasm_bytes": sizes[RUNTIME_FILES[2]],
            "version": runtime["version"],
        },
        "image_size": models["image_size"],
        "input": models["input"],
        "output": models["output"],
    }
