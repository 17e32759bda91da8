"""The vividness slider on the explorer's page, in headless Chromium, on the smoke book served by
`make serve`: at k = 1.5 the page's blend, picture and readouts are colorlib's (the tolerances of
tests/test_browser.py: the combined map within 1e-6, the picture within 2 levels, the mean's readouts
the same text, other rules' to the last digit shown); the note says when clipping makes the MSE
approximate; a reader's photo in colour is scored against its own colours and a grey one says there is
nothing to score against (tolerances of tests/test_browser_own.py for the picture; the page's models
are float16 ONNX, so its scores are held to colorlib's within what that rounding moves them).
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorlib import TRAINED_MODELS
from colorlib.combination_rules import MEAN, TEMPERATURES
from colorlib.data import load_image
from colorlib.ensemble import load_colorizer
from colorlib.explorer.blending import Blend, blend_ab, combine_ab, vivid
from colorlib.explorer.bundle import from_bundle
from colorlib.explorer.contract import (
    APPROXIMATE_MESSAGE,
    OWN_NO_TRUTH,
    OWN_SCORED,
    VIVIDNESS_MAX,
    format_colourfulness,
    format_mse,
)
from colorlib.explorer.own import OwnPhoto

from .browser import chromium, skip_without_chromium, wait_state
from .helpers import SHARED_DATA, VENV
from .servers import free_port, served

PAGE = Path("book") / "generated" / "explorer.html"
DATA_TAG = re.compile(r'<script type="application/json" class="colorlib-explorer-data">(.*?)</script>', re.S)
K = 1.5
BASE64 = """
function base64(d) {
  let s = '';
  for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
  return btoa(s);
}
"""


@pytest.fixture(scope="module")
def site(smoke_book, tmp_path_factory):
    """`make serve` on the smoke book."""
    skip_without_chromium()
    html = smoke_book / "_build" / "html"
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    cmd = ["make", "-C", str(smoke_book), "-o", f"{VENV}/.installed", "serve", f"PORT={port}", f"VENV={VENV}"]
    with served(cmd, port, log):
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{port}/{PAGE.as_posix()}",
            html=html,
            checkpoints=smoke_book / "build" / "latest" / "checkpoints",
            runtime=(html / "colorize" / "ort" / "ort.wasm.min.js").is_file(),
        )


@pytest.fixture(scope="module")
def data(site):
    """The page's own data, decoded by colorlib: the reference for every number it shows."""
    found = DATA_TAG.search((site.html / PAGE).read_text(encoding="utf-8"))
    assert found, "the explorer page holds no inline data"
    return from_bundle(json.loads(found.group(1).replace("<\\/", "</")))


@pytest.fixture(scope="module")
def page(site, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        driver.get(site.url)
        wait_state(driver, "colorlib-explorer", ("ready",))
        yield driver


# --- driving and reading the page ---------------------------------------------------------------------


def _input(driver, ident: str, value) -> None:
    """Move a range input as a drag ends (its value, then an 'input' event), and wait for the page."""
    driver.execute_script(
        "const s = document.getElementById(arguments[0]); s.value = String(arguments[1]);"
        "s.dispatchEvent(new Event('input', {bubbles: true}));",
        ident,
        value,
    )
    wait_state(driver, "colorlib-explorer", ("ready",))


def _text(driver, ident: str) -> str:
    return driver.execute_script("return document.getElementById(arguments[0]).textContent", ident)


def _controls(driver, data) -> tuple[list[int], str, float, float]:
    """The page's weights, rule, temperature and vividness."""
    raw, rule, t, k = driver.execute_script(
        "const g = (i) => document.getElementById(i).value;"
        "return [arguments[0].map((m) => g('w-' + m)), g('rule-select'), g('temperature'), g('vividness')]",
        data.models,
    )
    return [int(x) for x in raw], rule, TEMPERATURES[int(t)], float(k)


def _canvas(driver, role: str) -> np.ndarray:
    w, h, b64 = driver.execute_script(
        BASE64 + "const c = document.querySelector('canvas[data-role=\"' + arguments[0] + '\"]');"
        "return [c.width, c.height, base64(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];",
        role,
    )
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(h, w, 4)[..., :3]


def _explorer_bytes(driver, expression: str) -> bytes:
    """The bytes of a typed array the page's explorer holds (`e` is the explorer)."""
    return base64.b64decode(
        driver.execute_script(
            BASE64 + f"const e = document.getElementById('colorlib-explorer').colorlibExplorer; const a = {expression};"
            "return base64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));"
        )
    )


def _check_matches_python(driver, data) -> np.ndarray:
    """The page's combined map, picture and readouts are colorlib's for its weights, rule, T and k."""
    weights, rule, t, k = _controls(driver, data)
    photo = data.photos[int(driver.find_element("id", "photo-select").get_attribute("value"))]
    combined = blend_ab(photo.members_ab, weights) if rule == MEAN else combine_ab(photo.members_ab, weights, rule, t)
    reference = vivid(combined, k)
    page_ab = np.frombuffer(_explorer_bytes(driver, "e.lastAb"), "<f8")
    gap = np.abs(page_ab - reference.ravel()).max()
    assert gap <= 1e-6, f"the page's map at k = {k} differs from colorlib's by {gap}"
    expected = photo.preview(Blend(weights, rule, t, k))
    shown = _canvas(driver, "blend")
    assert shown.shape == expected.rgb.shape
    diff = np.abs(shown.astype(int) - expected.rgb.astype(int)).max()
    assert diff <= 2, f"the page's picture differs from colorlib's by {diff} levels at k = {k} ({rule})"
    texts = [_text(driver, i) for i in ("mse-readout", "mse-all-readout", "colourfulness-readout")]
    numbers = [expected.mse, data.mean_mse(Blend(weights, rule, t, k)), expected.colourfulness]
    if rule == MEAN:
        assert texts == [format_mse(numbers[0]), format_mse(numbers[1]), format_colourfulness(numbers[2])]
    else:
        gaps = np.abs(np.array([float(x) for x in texts]) - numbers)
        assert np.all(gaps <= [1e-4, 1e-4, 1e-2]), f"page shows {texts}, colorlib says {numbers} ({rule}, k = {k})"
    approximate = rule == MEAN and data.may_clip(weights, k)
    assert _text(driver, "score-note") == (APPROXIMATE_MESSAGE if approximate else "")
    assert _text(driver, "vividness-value") == f"{k:.2f}"
    return shown


# --- the stored photos -----------------------------------------------------------------------------------


def test_at_k_1_5_the_page_is_the_python_blend(page, data):
    before = _check_matches_python(page, data)  # k = 1: today's blend
    _input(page, "vividness", K)
    after = _check_matches_python(page, data)
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 0.5, "k = 1.5 changed nothing"
    assert page.find_element("css selector", 'button[data-preset="bgy-combined"]').get_attribute("aria-pressed") == (
        "false"
    )  # the preset is k = 1
    _input(page, "w-baseline", 40)
    _check_matches_python(page, data)
    from selenium.webdriver.support.ui import Select

    Select(page.find_element("id", "rule-select")).select_by_value("median")
    wait_state(page, "colorlib-explorer", ("ready",))
    _check_matches_python(page, data)
    Select(page.find_element("id", "rule-select")).select_by_value(MEAN)
    wait_state(page, "colorlib-explorer", ("ready",))
    if len(data.photos) > 1:
        Select(page.find_element("id", "photo-select")).select_by_index(1)
        wait_state(page, "colorlib-explorer", ("ready",))
        _check_matches_python(page, data)


def test_the_ends_of_the_slider_and_the_note(page, data):
    _input(page, "vividness", 0)
    shown = _check_matches_python(page, data)
    assert np.abs(shown.astype(int) - _canvas(page, "gray").astype(int)).max() <= 1  # k = 0: no colour
    _input(page, "vividness", VIVIDNESS_MAX)
    weights, *_ = _controls(page, data)
    assert data.may_clip(weights, VIVIDNESS_MAX), "the smoke models never reach the clipping at k = 3"
    _check_matches_python(page, data)  # the note is there (and the readouts are the unclipped formula's)
    page.find_element("css selector", 'button[data-preset="bgy-combined"]').click()
    wait_state(page, "colorlib-explorer", ("ready",))
    assert _controls(page, data)[3] == 1.0 and _text(page, "score-note") == ""  # a preset sets its k
    _check_matches_python(page, data)


# --- a reader's photo ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    source = sorted(SHARED_DATA.glob("*.jpg"))[7]
    with Image.open(source) as im:
        rgb = im.convert("RGB").resize((320, 240), Image.BICUBIC)
    rgb.save(folder / "colour.png")
    rgb.convert("L").save(folder / "grey.png")
    return {"colour": folder / "colour.png", "grey": folder / "grey.png"}


def _choose(driver, path: Path) -> None:
    driver.find_element("id", "own-file").send_keys(str(path))
    time.sleep(0.2)
    assert wait_state(driver, "own-photo", ("ready", "error")) == "ready", _text(driver, "own-status")
    wait_state(driver, "colorlib-explorer", ("ready",))


def test_a_photo_in_colour_is_scored_against_its_own_colours(page, site, data, photos):
    if not site.runtime:
        pytest.skip("the smoke book was built without onnxruntime-web (no Node.js/npm here)")
    colorizers = [load_colorizer([m], site.checkpoints) for m in TRAINED_MODELS]
    own = OwnPhoto.from_rgb("colour.png", load_image(photos["colour"]), colorizers)
    _choose(page, photos["colour"])
    _input(page, "vividness", K)
    weights, rule, t, k = _controls(page, data)
    assert k == K
    score = own.score(Blend(weights, rule, t, k))
    assert _text(page, "score-note").endswith(OWN_SCORED)
    assert not page.find_element("id", "delta-e-box").get_attribute("hidden")
    mse, delta_e = float(_text(page, "mse-readout")), float(_text(page, "delta-e-readout"))
    # float16 weights move each ab value by up to 0.0026: the scores move by far less than that
    assert abs(mse - score.mse) <= 5e-4 and abs(delta_e - score.delta_e) <= 0.15, (mse, delta_e, score)
    picture = np.frombuffer(_explorer_bytes(page, "e.fullBlend().rgba"), np.uint8).reshape(240, 320, 4)[..., :3]
    diff = np.abs(picture.astype(int) - own.render(Blend(weights, rule, t, k)).astype(int))
    assert diff.mean() <= 0.25 and (diff > 1).mean() <= 0.01 and diff.max() <= 16  # test_browser_own's tolerance

    _choose(page, photos["grey"])
    assert _text(page, "score-note").endswith(OWN_NO_TRUTH) and _text(page, "mse-readout") == "–"
    assert page.find_element("id", "delta-e-box").get_attribute("hidden")
