"""explorer-core.js, the page's arithmetic, under Node: against golden vectors that colorlib's Python
reference (colorlib.explorer.blending and the functions it stands for) writes here, against colorlib's
way of preparing a photo for the networks and of scoring it, and with code for every rule the contract
lists. No browser; Node.js only (skipped without it)."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from skimage.color import deltaE_ciede2000

from colorlib import TRAINED_MODELS
from colorlib.combination_rules import INITIAL_TEMPERATURE, MEAN
from colorlib.explorer.blending import Blend, blend_ab, combine_ab, render, vivid
from colorlib.explorer.bundle import explorer_data
from colorlib.explorer.contract import contract
from colorlib.explorer.own import OwnPhoto
from colorlib.lab import AB_SCALE, lab_lightness, lab_to_rgb, pad_info, resize_and_pad, rgb_to_uint8
from colorlib.scoring.metrics import colourfulness

from .helpers import REPO, fake_evaluation

CORE = REPO / "book" / "_static" / "explorer-core.js"


def run_core(body: str, **inputs):
    """Run `body` under Node with explorer-core.js as `core` and `inputs` (JSON, on stdin) as `input`;
    what it prints is JSON, returned decoded."""
    node = shutil.which("node")
    if not node:
        pytest.skip("Node.js is not installed")
    script = f"const core = require({json.dumps(str(CORE))});\n"
    script += f"const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n{body}"
    run = subprocess.run([node, "-e", script], input=json.dumps(inputs), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def ev():
    return fake_evaluation()


# --- golden vectors from the Python reference ------------------------------------------------------------

GOLDEN = """
const members = input.members.map((m) => Float64Array.from(m)), plane = input.plane, s = input.abScale;
const ws = input.weights.map((raw) => core.normalize(raw));
const lab = new Uint8ClampedArray(4 * input.lab.length);
input.lab.forEach(([L, a, b], i) => core.labToRgb(L, a, b, lab, 4 * i));
const v = input.view;
const view = {height: v.height, width: v.width, L: Float64Array.from(v.L),
              tapsY: core.taps(v.height, v.abHeight), tapsX: core.taps(v.width, v.abWidth)};
const picture = core.render(view, v.abHeight, v.abWidth, Float64Array.from(v.ab), s,
                            new Uint8ClampedArray(4 * v.height * v.width));
console.log(JSON.stringify({
  codes: Object.keys(core.RULES),
  blend: ws.map((w) => Array.from(core.blendMean(members, w, 2 * plane))),
  rules: input.rules.map(([raw, name, t]) => Array.from(core.combine(members, raw, name, plane, t, s))),
  vivid: input.ks.map((k) => Array.from(core.vivid(Float64Array.from(input.ab), k))),
  mse: ws.map((w) => input.ks.map((k) => core.mse(input.stats, w, k))),
  clip: ws.map((w) => input.ks.map((k) => core.mayClip(input.stats, w, k))),
  rgb: Array.from(lab).filter((_, i) => i % 4 !== 3),
  picture: Array.from(picture).filter((_, i) => i % 4 !== 3),
  colourfulness: core.colourfulness(picture),
  deltaE: input.pairs.map((p) => core.deltaE2000(...p)),
}));
"""

# CIEDE2000: Sharma's published pairs (hue wrap-around, grey, near-grey), then random ones
SHARMA = [
    (50, 2.6772, -79.7751, 50, 0, -82.7485), (50, -1, 2, 50, 0, 0), (50, 2.49, -0.001, 50, -2.49, 0.0009),
    (50, 2.5, 0, 50, 0, -2.5), (50, 2.5, 0, 73, 25, -18), (50, 0, 0, 50, -1, 2),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387),
    (22.7233, 20.0904, -46.694, 23.0331, 14.973, -42.5619), (2.0776, 0.0795, -1.135, 0.9033, -0.0636, -0.5514),
    (50, 0, 0, 50, 0, 0), (50, 0, 0, 60, 0, 0),
]  # fmt: skip


def test_core_gives_the_python_references_golden_vectors(ev):
    """The blend, every rule the contract lists (softmax at several temperatures), the vividness step, the
    exact MSE at k and whether clipping can bite, Lab -> sRGB bytes, a whole picture, its colourfulness and
    CIEDE2000: written by the Python reference, computed by explorer-core.js, held to the same numbers (to
    the bit where the page runs the same loops in the same order)."""
    data = explorer_data(ev, ab_size=32)
    photo, rng = data.photos[0], np.random.default_rng(7)
    members = photo.members_ab
    weights = [[100, 100, 100, 0, 0, 0], [3, 0, 7, 1, 0, 20], [0, 0, 0, 0, 0, 5]]
    ks = [0.0, 0.35, 1.0, 1.5, 2.2, 3.0]
    offered = [r for r in contract()["rules"] if not r["uses_weights"]]
    rules = [
        (raw, r["name"], t)
        for raw in weights[:2]
        for r in offered
        for t in ((0.0, 1.0, 3.0, 10.0, math.inf) if r["uses_temperature"] else (INITIAL_TEMPERATURE,))
    ]
    ab = rng.uniform(-1, 1, 400)
    lab = np.column_stack([rng.uniform(0, 100, 3000), rng.uniform(-128, 127, (3000, 2))])
    lab[:4] = [(0, 0, 0), (100, 0, 0), (50, 127, -128), (3, -128, 127)]  # black, white, far out of gamut
    pairs = np.vstack([np.asarray(SHARMA, float), rng.uniform([0, -128, -128] * 2, [100, 127, 127] * 2, (300, 6))])
    blend = blend_ab(members, weights[1])
    height, width = photo.view_shape
    stats = {"gram": photo.stats.gram, "cross": photo.stats.cross, "energy": photo.stats.energy}
    page = run_core(
        GOLDEN,
        members=[m.ravel().tolist() for m in members],
        plane=int(members[0, 0].size),
        abScale=AB_SCALE,
        weights=weights,
        rules=[(raw, name, None if math.isinf(t) else t) for raw, name, t in rules],
        ks=ks,
        ab=ab.tolist(),
        stats=stats | {"peak": photo.stats.peak},
        lab=lab.tolist(),
        pairs=pairs.tolist(),
        view={"height": height, "width": width, "L": photo.lightness.ravel().tolist(), "ab": blend.ravel().tolist()}
        | {"abHeight": members.shape[2], "abWidth": members.shape[3]},
    )
    assert sorted(page["codes"]) == sorted(r["name"] for r in offered)  # code for every rule, and no other
    assert page["blend"] == [blend_ab(members, w).ravel().tolist() for w in weights]
    for (raw, name, t), got in zip(rules, page["rules"], strict=True):
        # the median is float32 in colorlib.combination_rules (numpy's), the page's float64
        np.testing.assert_allclose(got, combine_ab(members, raw, name, t).ravel(), rtol=0, atol=1e-7, err_msg=name)
    assert page["vivid"] == [vivid(ab, k).tolist() for k in ks]
    assert page["mse"] == [[photo.stats.mse(w, k) for k in ks] for w in weights]
    assert page["clip"] == [[photo.stats.may_clip(w, k) for k in ks] for w in weights]
    assert any(map(any, page["clip"])) and not any(row[2] for row in page["clip"])  # k = 1: never
    assert page["rgb"] == rgb_to_uint8(lab_to_rgb(lab)).ravel().tolist()  # scikit-image's float64, to the byte
    picture = np.asarray(page["picture"], np.uint8).reshape(height, width, 3)
    reference = render(photo.lightness, blend)  # colorlib's fast float32 conversion: a rare pixel one level off
    assert np.abs(picture.astype(int) - reference).max() <= 1 and np.mean(picture != reference) < 1e-3
    assert page["colourfulness"] == pytest.approx(colourfulness(picture), rel=1e-12)
    np.testing.assert_allclose(page["deltaE"], deltaE_ciede2000(pairs[:, :3], pairs[:, 3:]), rtol=1e-12, atol=1e-12)
    assert page["deltaE"][0] == pytest.approx(2.0425, abs=1e-4)  # Sharma's first pair, as published


# --- a reader's photo: colorlib's way in, and scored as colorlib scores ---------------------------------


@pytest.mark.parametrize(
    "height, width, size",
    [(300, 300, 256), (768, 1024, 256), (37, 500, 256), (200, 90, 64), (1000, 60, 256), (12, 10, 64)],
)
def test_core_prepares_the_networks_input_exactly_as_colorlib(tmp_path, height, width, size):
    """Pillow's bicubic resize (to the bit, both pass orders), pad_info's placement and lab_lightness."""
    rng = np.random.default_rng(height * width)
    rgb = np.asarray(Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)))
    rgba = np.concatenate([rgb, np.full((height, width, 1), 255, np.uint8)], axis=-1)
    (tmp_path / "in.bin").write_bytes(rgba.tobytes())
    info = run_core(
        """
        const fs = require('fs');
        const rgba = new Uint8Array(fs.readFileSync(input.dir + '/in.bin'));
        const r = core.workingInput(rgba, input.width, input.height, input.size, 100.0);
        const inner = core.resizeBicubic(rgba, input.width, input.height, r.info.innerWidth, r.info.innerHeight);
        fs.writeFileSync(input.dir + '/x.bin', Buffer.from(r.input.buffer));
        fs.writeFileSync(input.dir + '/inner.bin', Buffer.from(inner.buffer));
        const L = core.lightness(rgba, input.height * input.width);
        fs.writeFileSync(input.dir + '/L.bin', Buffer.from(L.buffer));
        console.log(JSON.stringify(r.info));
        """,
        dir=str(tmp_path),
        width=width,
        height=height,
        size=size,
    )
    square, expected = resize_and_pad(rgb, size)
    assert info["top"] == expected.top and info["left"] == expected.left
    assert (info["innerHeight"], info["innerWidth"]) == (expected.inner_height, expected.inner_width)
    assert pad_info(height, width, size) == expected
    inner = np.frombuffer((tmp_path / "inner.bin").read_bytes(), np.uint8).reshape(*square[expected.box].shape[:2], 4)
    assert np.array_equal(inner[..., :3], square[expected.box])
    x = np.frombuffer((tmp_path / "x.bin").read_bytes(), np.float32)
    assert np.array_equal(x, (lab_lightness(square) / 100).astype(np.float32).ravel())
    lightness = np.frombuffer((tmp_path / "L.bin").read_bytes(), np.float32)
    assert np.array_equal(lightness, lab_lightness(rgb).astype(np.float32).ravel())


def test_core_rounds_linear_light_to_the_byte_the_formula_gives():
    """The table of thresholds gives, for every value tried, the byte sRGB's formula rounds to."""
    result = run_core(
        """
        let bad = 0, n = 0;
        for (let i = -100; i <= 1100000; i++) {
          const v = i / 1000000;
          n++;
          if (core.toByte(v) !== core.byteOfLinear(v)) bad++;
        }
        for (let k = 0; k < 200000; k++) {
          const v = Math.random();
          n++;
          if (core.toByte(v) !== core.byteOfLinear(v)) bad++;
        }
        console.log(JSON.stringify({bad, n}));
        """
    )
    assert result["n"] > 1_000_000 and result["bad"] == 0


def test_core_scores_a_photo_in_colour_as_colorlib_does(ev, tmp_path):
    """The photo's own colours (core.ownTruth), in_colour, and the MSE and mean ΔE2000 of a blend against them."""
    rgb = ev.validation.photos[2]
    h, w = rgb.shape[:2]
    members = np.tanh(np.random.default_rng(0).normal(0, 0.3, (len(TRAINED_MODELS), 2, 8, 8)))
    own = OwnPhoto("mine.jpg", rgb, pad_info(h, w, 64), members.repeat(8, axis=2).repeat(8, axis=3).astype(np.float32))
    rgba = np.concatenate([rgb, np.full((h, w, 1), 255, np.uint8)], axis=-1)
    (tmp_path / "in.bin").write_bytes(rgba.tobytes())
    weights, k = [1, 0, 1, 0, 0, 2], 1.5
    pred = own.combined_ab(Blend(weights, MEAN, 1.0, k))[(slice(None), *own.info.box)]
    got = run_core(
        """
        const rgba = new Uint8Array(require('fs').readFileSync(input.file));
        const prepared = core.workingInput(rgba, input.width, input.height, 64, 100.0);
        const truth = core.ownTruth(prepared, 100.0, 128.0), n = truth.L.length, pred = Float64Array.from(input.pred);
        console.log(JSON.stringify({L: Array.from(truth.L), ab: Array.from(truth.ab),
          colour: core.inColour(truth.ab, n, 128.0, input.own),
          grey: core.inColour(new Float64Array(2 * n), n, 128.0, input.own),
          mse: core.mapsMse(pred, truth.ab), deltaE: core.meanDeltaE(truth.L, pred, truth.ab, 128.0)}));
        """,
        file=str(tmp_path / "in.bin"),
        width=w,
        height=h,
        pred=pred.astype(np.float64).ravel().tolist(),
        own=contract()["own"],
    )
    lightness, ab = own.truth
    box = (slice(None), *own.info.box)
    assert np.array_equal(np.asarray(got["ab"]), ab[box].astype(np.float64).ravel())
    assert np.array_equal(np.asarray(got["L"]), (lightness[box][0] * 100.0).astype(np.float64).ravel())
    assert got["colour"] == own.in_colour is True and got["grey"] is False
    score = own.score(Blend(weights, MEAN, 1.0, k))
    assert got["mse"] == pytest.approx(score.mse, rel=1e-12)
    assert got["deltaE"] == pytest.approx(score.delta_e, rel=1e-5)  # scikit-image computes float32 Lab in float32
