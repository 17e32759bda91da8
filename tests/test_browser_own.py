"""A reader's own photo on the explorer's page, in headless Chromium, on the smoke book served by
`make serve`: the six models run in the page (onnxruntime-web) and must give what `colorlib colorize`
gives, for every model and for the bgy-combined blend, on a colour JPEG, a grayscale JPEG, a PNG with
transparency and a 4000 x 3000 photo; bad files get one clear message and the explorer keeps working;
the photos in colour are scored against their own colours, the grey one says it has nothing to score against.

Tolerance, over the whole photo at its full resolution, against `colorlib colorize --precision fp32`
(the page's arithmetic; colorize's default on a processor with bf16 rounds the networks far more):
mean |ΔRGB| at most 0.25 of a level, at most 1 % of the channels more than one level apart, none
more than 16. The page's weights are stored as float16 (ab within 0.0026 of PyTorch's), it computes
in float64 and converts Lab -> sRGB with scikit-image's formulas where colorlib uses float32 and its
own; the sRGB curve is steep near black, so a channel near 0 in a saturated sky can move by several
levels. Measured (Intel Xeon, 2026-12-05): smoke models mean <= 0.03, max 1; paper models mean
<= 0.041, share above one level <= 0.47 %, max 8 (blue; every other model max 1-2).
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorlib import TRAINED_MODELS
from colorlib.data import load_image
from colorlib.ensemble import load_colorizer
from colorlib.explorer.contract import OWN_NO_TRUTH, OWN_SCORED
from colorlib.explorer.web import RUNTIME_FILES

from .browser import chromium, skip_without_chromium, wait_state
from .helpers import SHARED_DATA, VENV
from .servers import free_port, served

MEAN_LEVELS, SHARE_ABOVE_ONE, MAX_LEVELS = 0.25, 0.01, 16
EXPECTED = "_expected"  # where the test puts colorlib's pictures, in the served folder, for the page to compare


@pytest.fixture(scope="module")
def site(smoke_book, tmp_path_factory):
    """`make serve` on the smoke book (a copy of the repository built by the tests)."""
    skip_without_chromium()
    html = smoke_book / "_build" / "html"
    if not (html / "colorize" / "ort" / "ort.wasm.min.js").is_file():
        pytest.skip("the smoke book was built without onnxruntime-web (no Node.js/npm here)")
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    cmd = ["make", "-C", str(smoke_book), "-o", f"{VENV}/.installed", "serve", f"PORT={port}", f"VENV={VENV}"]
    with served(cmd, port, log):
        yield SimpleNamespace(
            url=f"http://127.0.0.1:{port}/book/generated/explorer.html",
            html=html,
            checkpoints=smoke_book / "build" / "latest" / "checkpoints",
            log=log,
        )


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def page(site, downloads, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile"), downloads=downloads) as driver:
        driver.get(site.url)
        wait_state(driver, "colorlib-explorer", ("ready",))
        yield driver


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    """The four kinds of photo the issue names, made from one real landscape photo."""
    folder = tmp_path_factory.mktemp("photos")
    source = sorted(p for p in SHARED_DATA.glob("*.jpg"))[7]
    with Image.open(source) as im:
        rgb = im.convert("RGB")
    out = {}
    out["colour.jpg"] = folder / "colour.jpg"
    rgb.resize((640, 480), Image.BICUBIC).save(out["colour.jpg"], quality=90)
    out["gray.jpg"] = folder / "gray.jpg"
    rgb.convert("L").resize((360, 300), Image.BICUBIC).save(out["gray.jpg"], quality=90)
    rgba = rgb.resize((320, 256), Image.BICUBIC).convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (256, 1))  # clear on the left, opaque on the right
    rgba.putalpha(Image.fromarray(alpha))
    out["alpha.png"] = folder / "alpha.png"
    rgba.save(out["alpha.png"])
    out["large.jpg"] = folder / "large.jpg"
    rgb.resize((4000, 3000), Image.BICUBIC).save(out["large.jpg"], quality=85)
    return out


# --- driving the page -----------------------------------------------------------------------------------


def _choose(driver, path: Path) -> str:
    """Pick a file with the page's file input; returns the own-photo box's final state."""
    driver.find_element("id", "own-file").send_keys(str(path))
    time.sleep(0.2)
    state = wait_state(driver, "own-photo", ("ready", "error"))
    if state == "ready":
        wait_state(driver, "colorlib-explorer", ("ready",))
    return state


def _set_weights(driver, weights: dict[str, int]) -> None:
    driver.execute_script(
        "for (const [m, v] of Object.entries(arguments[0])) {"
        "  const s = document.getElementById('w-' + m); s.value = String(v);"
        "  s.dispatchEvent(new Event('input', {bubbles: true})); }",
        weights,
    )


def _compare(driver, site, name: str, expected: np.ndarray) -> dict:
    """The page's full-resolution blend against `expected` (uint8 RGB), compared in the page."""
    (site.html / EXPECTED).mkdir(exist_ok=True)
    (site.html / EXPECTED / name).write_bytes(np.ascontiguousarray(expected).tobytes())
    return driver.execute_async_script(
        """
        const [url, done] = [arguments[0], arguments[arguments.length - 1]];
        const blend = document.getElementById('colorlib-explorer').colorlibExplorer.fullBlend();
        fetch(url).then(r => r.arrayBuffer()).then(buf => {
          const want = new Uint8Array(buf), n = blend.width * blend.height;
          if (want.length !== 3 * n) return done({shape: [blend.height, blend.width], error: 'size'});
          let sum = 0, max = 0, over = 0;
          for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) {
            const d = Math.abs(blend.rgba[4 * i + c] - want[3 * i + c]);
            sum += d; if (d > max) max = d; if (d > 1) over++;
          }
          done({shape: [blend.height, blend.width], mean: sum / (3 * n), max: max, over: over / (3 * n)});
        }).catch(e => done({error: String(e)}));
        """,
        f"../../{EXPECTED}/{name}",
    )


def _only(model: str) -> dict[str, int]:
    return {m: (100 if m == model else 0) for m in TRAINED_MODELS}


# --- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["colour.jpg", "gray.jpg", "alpha.png", "large.jpg"])
def test_each_model_and_the_blend_agree_with_colorize(page, site, photos, kind):
    path = photos[kind]
    assert _choose(page, path) == "ready", page.find_element("id", "own-status").text
    rgb = load_image(path)
    h, w = rgb.shape[:2]
    label = page.execute_script("const s = document.getElementById('photo-select'); return s.selectedOptions[0].text")
    assert label == f"your photo: {kind} ({w}×{h})"
    scored = page.find_element("id", "score-note").text  # a photo in colour is its own truth
    if kind == "gray.jpg":
        assert scored == OWN_NO_TRUTH and page.find_element("id", "mse-readout").text == "–"
    else:
        assert scored == OWN_SCORED and float(page.find_element("id", "delta-e-readout").text) > 0
    cases = [(m, [m], _only(m)) for m in TRAINED_MODELS]
    cases.append(("bgy-combined", ["bgy-combined"], None))
    for name, models, weights in cases:
        if weights is None:
            page.find_element("css selector", 'button[data-preset="bgy-combined"]').click()
        else:
            _set_weights(page, weights)
        expected = load_colorizer(models, site.checkpoints).colorize(rgb)
        got = _compare(page, site, f"{kind}.{name}.rgb", expected)
        assert got.get("shape") == [h, w], got
        close = got["mean"] <= MEAN_LEVELS and got["over"] <= SHARE_ABOVE_ONE and got["max"] <= MAX_LEVELS
        assert close, f"{kind}, {name}: {got}"


def test_the_saved_png_is_the_blend_at_full_resolution(page, site, photos, downloads):
    assert _choose(page, photos["colour.jpg"]) == "ready"
    page.find_element("css selector", 'button[data-preset="by-combined"]').click()
    for old in downloads.glob("*"):
        old.unlink()
    page.find_element("id", "own-save").click()
    deadline = time.monotonic() + 60
    while not (saved := [p for p in downloads.glob("*.png")]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p.name for p in saved] == ["colour.blend.png"]
    png = np.asarray(Image.open(saved[0]).convert("RGB"))
    expected = load_colorizer(["by-combined"], site.checkpoints).colorize(load_image(photos["colour.jpg"]))
    assert png.shape == expected.shape
    diff = np.abs(png.astype(int) - expected.astype(int))
    assert diff.mean() <= MEAN_LEVELS and (diff > 1).mean() <= SHARE_ABOVE_ONE and diff.max() <= MAX_LEVELS


def test_a_dropped_photo_is_colorized_too(page, site, photos):
    """Drag and drop: a File in a DataTransfer, dropped on the box."""
    (site.html / EXPECTED).mkdir(exist_ok=True)
    (site.html / EXPECTED / "dropped.jpg").write_bytes(photos["gray.jpg"].read_bytes())
    page.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch('../../_expected/dropped.jpg').then(r => r.blob()).then(blob => {
          const dt = new DataTransfer();
          dt.items.add(new File([blob], 'dropped.jpg', {type: 'image/jpeg'}));
          const box = document.getElementById('own-photo');
          box.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
          box.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
          done();
        });
        """
    )
    time.sleep(0.2)
    assert wait_state(page, "own-photo", ("ready", "error")) == "ready"
    wait_state(page, "colorlib-explorer", ("ready",))
    label = page.execute_script("const s = document.getElementById('photo-select'); return s.selectedOptions[0].text")
    assert label.startswith("your photo: dropped.jpg")


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("notes.jpg", b"this is not a photo\n", "notes.jpg: not an image (format not recognised)"),
        ("empty.png", b"", "empty.png: empty file"),
        ("huge.png", None, "huge.png: too large (10000x10000 pixels, the limit is 40,000,000)"),
    ],
)
def test_bad_files_get_one_message_and_the_explorer_keeps_working(page, photos, tmp_path, name, content, reason):
    path = tmp_path / name
    if content is None:  # 100 megapixels: refused from the header, before any pixel is decoded
        Image.new("L", (10000, 10000)).save(path, optimize=False, compress_level=1)
    else:
        path.write_bytes(content)
    before = page.execute_script("return document.getElementById('photo-select').value")
    assert _choose(page, path) == "error"
    status = page.find_element("id", "own-status")
    assert status.text == reason and "cx-own-error" in status.get_attribute("class")
    assert page.execute_script("return document.getElementById('photo-select').value") == before
    # the explorer itself goes on: a validation photo, a slider, its readouts
    page.execute_script(
        "const s = document.getElementById('photo-select'); s.value = '0'; s.dispatchEvent(new Event('change'))"
    )
    wait_state(page, "colorlib-explorer", ("ready",))
    renders = int(page.execute_script("return document.getElementById('colorlib-explorer').dataset.renders"))
    _set_weights(page, {"baseline": 60})
    wait_state(page, "colorlib-explorer", ("ready",))
    assert int(page.execute_script("return document.getElementById('colorlib-explorer').dataset.renders")) > renders
    assert page.find_element("id", "mse-readout").text not in ("", "–")


def test_opened_from_a_file_the_page_says_to_serve_it(site, tmp_path):
    with chromium(tmp_path / "profile") as driver:
        driver.get((site.html / "book" / "generated" / "explorer.html").as_uri())
        wait_state(driver, "colorlib-explorer", ("ready",))
        assert "make serve" in driver.find_element("id", "own-status").text
        assert driver.find_element("id", "own-file").get_attribute("disabled") is not None


def test_the_page_shows_what_it_fetches(site):
    """The models and runtime the page fetches are the ones the book publishes, each at the size it says."""
    import html as html_lib
    import json
    import re

    text = (site.html / "book" / "generated" / "explorer.html").read_text(encoding="utf-8")
    config = json.loads(html_lib.unescape(re.search(r'data-web="([^"]*)"', text).group(1)))
    page_dir = site.html / "book" / "generated"
    for m in config["models"]:
        assert (page_dir / m["src"]).resolve().stat().st_size == m["bytes"]
    assert [m["name"] for m in config["models"]] == list(TRAINED_MODELS)
    runtime = (page_dir / config["runtime"]["src"]).resolve()
    sizes = sum((runtime / f).stat().st_size for f in RUNTIME_FILES)  # the files the page loads
    assert sizes == config["runtime"]["bytes"]
