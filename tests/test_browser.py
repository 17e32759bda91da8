"""The book's static explorer in a real browser (headless Chromium): it must match colorlib.

The page under test is a tiny book built here with ``jupyter-book build``, configured like the
project's, from a notebook whose output is the explorer for a real Evaluation of synthetic photos
(or, to check another page by hand, the page named by $COLORLIB_EXPLORER_PAGE). The Python reference
is always computed from the data inside the page itself. A reader's own photo, which needs trained
models and the runtime, is tested on the served smoke book (tests/test_browser_own.py); so is every
page of it here: no console error, no other host, its formulas typeset.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from colorlib.combination_rules import MEAN, RULES, SOFTMAX, TEMPERATURES
from colorlib.explorer.blending import Blend, blend_ab, combine_ab
from colorlib.explorer.bundle import from_bundle, to_bundle
from colorlib.explorer.contract import (
    BLANK,
    ZERO_MESSAGE,
    format_colourfulness,
    format_mse,
    format_temperature,
    rule_note,
)
from colorlib.explorer.html import explorer_html
from colorlib.explorer.web import NO_NODE

from .browser import chromium, console_errors_and_requests, served_folder, skip_without_chromium
from .helpers import REPO, fake_evaluation

MARKER = 'id="colorlib-explorer"'
DATA_TAG = re.compile(r'<script type="application/json" class="colorlib-explorer-data">(.*?)</script>', re.S)


# --- the page ------------------------------------------------------------------------------------


STATIC = ("explorer-core.js", "explorer.js", "explorer-own.js", "explorer.css")


def _tiny_book(folder: Path) -> Path:
    """A one-page book configured like the project's: the explorer as a notebook's HTML output."""
    import nbformat

    from colorlib.explorer.bundle import explorer_data

    ev = fake_evaluation(n=3, size=256, shapes=[(300, 300), (240, 320), (320, 200)])
    bundle = to_bundle(explorer_data(ev, ab_size=128))
    static = folder / "book" / "_static"
    static.mkdir(parents=True)
    for name in STATIC:
        shutil.copy(REPO / "book" / "_static" / name, static / name)
    (folder / "_config.yml").write_text(
        textwrap.dedent(
            """\
            title: explorer test
            execute:
              execute_notebooks: "off"
            only_build_toc_files: true
            sphinx:
              config:
                html_static_path: ["book/_static"]
                html_js_files: ["explorer-core.js", "explorer.js", "explorer-own.js"]
                html_css_files: ["explorer.css"]
            """
        )
    )
    (folder / "_toc.yml").write_text("format: jb-book\nroot: explorer\n")
    nb = nbformat.v4.new_notebook()
    # as a book built without Node shows it: the own-photo part says what it needs
    page = explorer_html(bundle, web={"unavailable": NO_NODE})
    cell = nbformat.v4.new_code_cell("HTML(explorer_html(bundle, web=web))")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": page, "text/plain": "<HTML>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Explorer"), cell]
    nbformat.write(nb, folder / "explorer.ipynb")
    jb = Path(sys.executable).with_name("jupyter-book")
    if not jb.exists():
        pytest.skip("jupyter-book is not installed, cannot build a test book")
    run = subprocess.run(
        [str(jb), "build", str(folder), "--builder", "html"], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    page = folder / "_build" / "html" / "explorer.html"
    assert page.is_file() and MARKER in page.read_text(encoding="utf-8")
    return page


@pytest.fixture(scope="module")
def explorer_page(tmp_path_factory) -> Path:
    skip_without_chromium()
    if os.environ.get("COLORLIB_EXPLORER_PAGE"):
        page = Path(os.environ["COLORLIB_EXPLORER_PAGE"])
        if not page.is_file():
            pytest.skip(f"COLORLIB_EXPLORER_PAGE={page} does not exist")
        return page
    return _tiny_book(tmp_path_factory.mktemp("book"))


@pytest.fixture(scope="module")
def data(explorer_page):
    """The page's own data, decoded by colorlib."""
    text = explorer_page.read_text(encoding="utf-8")
    found = DATA_TAG.search(text)
    if found:
        return from_bundle(json.loads(found.group(1).replace("<\\/", "</")))
    src = re.search(r'id="colorlib-explorer"[^>]*data-src="([^"]+)"', text)
    assert src, "the explorer page holds neither inline data nor a data-src"
    return from_bundle(json.loads((explorer_page.parent / src.group(1)).read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def browser(explorer_page, tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        driver.get(explorer_page.as_uri())
        _wait_ready(driver)
        yield driver


# --- helpers -------------------------------------------------------------------------------------


def _wait_ready(driver, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d):
        state = d.execute_script("return document.getElementById('colorlib-explorer').dataset.state")
        if state == "error":
            raise AssertionError(d.find_element("id", "explorer-message").text)
        return state == "ready"

    WebDriverWait(driver, timeout).until(ready)


# A page's bytes come back base64-encoded, in chunks (String.fromCharCode takes a bounded argument list).
_BASE64 = """
function base64(d) {
  let s = '';
  for (let i = 0; i < d.length; i += 8192) s += String.fromCharCode.apply(null, d.subarray(i, i + 8192));
  return btoa(s);
}
"""


def _pixels(driver, role: str) -> np.ndarray:
    """A canvas's pixels as uint8 RGB (h, w, 3), read with getImageData."""
    w, h, b64 = driver.execute_script(
        _BASE64
        + """
        const c = document.querySelector('canvas[data-role="' + arguments[0] + '"]');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.width, c.height, base64(d)];
        """,
        role,
    )
    return np.frombuffer(base64.b64decode(b64), np.uint8).reshape(h, w, 4)[..., :3]


def _set_weights(driver, weights: dict[str, int]) -> None:
    """Set sliders the way a user's drag ends: value, then an 'input' event."""
    for model, value in weights.items():
        _set_range(driver, f"w-{model}", value)


def _slider_values(driver, models) -> list[int]:
    return [int(driver.find_element("id", f"w-{m}").get_attribute("value")) for m in models]


def _text(driver, ident: str) -> str:
    return driver.execute_script("return document.getElementById(arguments[0]).textContent", ident)


def _photo_index(driver) -> int:
    return int(driver.find_element("id", "photo-select").get_attribute("value"))


def _rule(driver) -> tuple[str, float]:
    """The page's rule and temperature."""
    rule, index = driver.execute_script(
        "return [document.getElementById('rule-select').value, document.getElementById('temperature').value]"
    )
    return rule, TEMPERATURES[int(index)]


def _set_rule(driver, rule: str | None = None, temperature: float | None = None) -> None:
    """Pick a rule as a user does (a 'change'), and move the temperature slider (an 'input'), then wait."""
    if rule is not None:
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element("id", "rule-select")).select_by_value(rule)
    if temperature is not None:
        _set_range(driver, "temperature", TEMPERATURES.index(temperature))
    _wait_ready(driver)


def _set_range(driver, ident: str, value: int) -> None:
    """Move a range input as a drag ends: its value, then an 'input' event."""
    driver.execute_script(
        "const s = document.getElementById(arguments[0]); s.value = String(arguments[1]);"
        "s.dispatchEvent(new Event('input', {bubbles: true}));",
        ident,
        value,
    )


def _combined(driver) -> np.ndarray:
    """The page's combined ab of the shown photo, at the stored size, as explorer.js computed it."""
    b64 = driver.execute_script(
        _BASE64
        + """
        const ab = document.getElementById('colorlib-explorer').colorlibExplorer.lastAb;
        return base64(new Uint8Array(ab.buffer, ab.byteOffset, ab.byteLength));
        """
    )
    return np.frombuffer(base64.b64decode(b64), "<f8")


def _check_matches_python(driver, data) -> np.ndarray:
    """The blend on the page and its readouts equal colorlib's for the page's current weights and rule."""
    weights = _slider_values(driver, data.models)
    rule, t = _rule(driver)
    photo = data.photos[_photo_index(driver)]
    expected = photo.preview(Blend(weights, rule, t))
    # the rule itself: explorer.js's float64 maps against colorlib.combination_rules' (whose median rounds to float32)
    reference = blend_ab(photo.members_ab, weights) if rule == MEAN else combine_ab(photo.members_ab, weights, rule, t)
    combined = _combined(driver)
    assert combined.shape == (reference.size,)
    gap = np.abs(combined - reference.ravel()).max()
    assert gap <= 1e-6, f"explorer.js's {rule} (T = {t}) differs from colorlib.combination_rules' by {gap}"
    shown = _pixels(driver, "blend")
    assert shown.shape == expected.rgb.shape
    diff = np.abs(shown.astype(int) - expected.rgb.astype(int))
    assert diff.max() <= 2, f"page differs from colorlib by up to {diff.max()} levels for {weights}, {rule}, T = {t}"
    texts = [_text(driver, i) for i in ("mse-readout", "mse-all-readout", "colourfulness-readout")]
    numbers = [expected.mse, data.mean_mse(Blend(weights, rule, t)), expected.colourfulness]
    if rule == MEAN:  # the same float, so the same text
        assert texts == [format_mse(numbers[0]), format_mse(numbers[1]), format_colourfulness(numbers[2])]
    else:  # sums in another order: the same to the last digit shown, or one off where it rounds
        gaps = np.abs(np.array([float(x) for x in texts]) - numbers)
        assert np.all(gaps <= [1e-4, 1e-4, 1e-2]), f"page shows {texts}, colorlib says {numbers} ({rule}, T = {t})"
    assert _text(driver, "explorer-message") == ""
    return shown


# --- the tests -----------------------------------------------------------------------------------


def test_page_draws_original_grayscale_and_initial_blend(browser, data):
    photo = data.photos[_photo_index(browser)]
    for role, expected in (("original", photo.original()), ("gray", photo.grayscale())):
        diff = np.abs(_pixels(browser, role).astype(int) - expected.astype(int))
        assert diff.max() <= 2, f"{role} differs from colorlib by {diff.max()} levels"
    assert _slider_values(browser, data.models) == [data.initial_weights()[m] for m in data.models]
    _check_matches_python(browser, data)


def test_moving_sliders_re_blends_like_python(browser, data):
    from selenium.webdriver.common.keys import Keys

    before = _check_matches_python(browser, data)
    weights = dict(zip(data.models, [80, 0, 10, 0, 30, 55][: len(data.models)], strict=True))
    _set_weights(browser, weights)
    after = _check_matches_python(browser, data)
    assert np.abs(after.astype(int) - before.astype(int)).mean() > 0.5, "the blend did not change"

    # a keyboard user: focus a slider and press the arrow keys (the browser moves it and fires 'input')
    slider = browser.find_element("id", f"w-{data.models[-1]}")
    slider.click()
    start = int(slider.get_attribute("value"))
    slider.send_keys(Keys.ARROW_RIGHT * 5)
    assert int(slider.get_attribute("value")) == start + 5
    _check_matches_python(browser, data)


def test_all_zero_weights_show_the_message(browser, data):
    _set_weights(browser, dict.fromkeys(data.models, 0))
    assert _text(browser, "explorer-message") == ZERO_MESSAGE
    for ident in ("mse-readout", "mse-all-readout", "colourfulness-readout"):
        assert _text(browser, ident) == "–"
    assert np.all(_pixels(browser, "blend") == BLANK)
    _set_weights(browser, {data.models[0]: 1})
    assert _text(browser, "explorer-message") == ""
    _check_matches_python(browser, data)


def test_presets_set_the_sliders(browser, data):
    for name, preset in data.presets.items():
        browser.find_element("css selector", f'button[data-preset="{name}"]').click()
        assert _slider_values(browser, data.models) == [preset[m] for m in data.models]
        button = browser.find_element("css selector", f'button[data-preset="{name}"]')
        assert button.get_attribute("aria-pressed") == "true"
        _check_matches_python(browser, data)


def test_picking_another_photo(browser, data):
    from selenium.webdriver.support.ui import Select

    if len(data.photos) < 2:
        pytest.skip("the page has one photo")
    before = _text(browser, "colourfulness-original")
    Select(browser.find_element("id", "photo-select")).select_by_index(len(data.photos) - 1)
    _wait_ready(browser)
    assert _photo_index(browser) == len(data.photos) - 1
    photo = data.photos[-1]
    assert _pixels(browser, "original").shape == photo.original().shape
    assert _text(browser, "colourfulness-original") != before or len(set(p.name for p in data.photos)) == 1
    _check_matches_python(browser, data)


def test_every_rule_matches_colorlib_rules(browser, data):
    """Pick each rule: explorer.js combines the maps as colorlib.combination_rules does, and the picture and
    readouts follow."""
    from selenium.webdriver.support.ui import Select

    _set_weights(browser, data.presets["bgy-combined"])
    pictures = {}
    for name, rule in RULES.items():
        _set_rule(browser, name)
        assert _text(browser, "rule-note") == rule_note(name)
        box_hidden, disabled = browser.execute_script(
            "const g = (i) => document.getElementById(i);"
            "return [g('temperature-box').hidden, g('temperature').disabled]"
        )
        assert box_hidden == disabled == (not rule.uses_temperature), name
        pictures[name] = _check_matches_python(browser, data)
        shares = [_text(browser, f"share-{m}") for m in data.models]
        if not rule.uses_weights:
            assert shares == ["in" if data.presets["bgy-combined"][m] else "–" for m in data.models]
    for name in RULES:
        if name != MEAN:
            assert not np.array_equal(pictures[name], pictures[MEAN]), f"{name} draws the mean's picture"

    # the rules use the models whose slider is above zero, as equals: other weights, other members
    # (four of them: the median of an even count), and another photo
    _set_weights(browser, dict(zip(data.models, [5, 0, 90, 10, 0, 40][: len(data.models)], strict=True)))
    if len(data.photos) > 1:
        Select(browser.find_element("id", "photo-select")).select_by_index(1)
    for name in RULES:
        _set_rule(browser, name)
        _check_matches_python(browser, data)
    _set_rule(browser, MEAN)


def test_the_temperature_slider_matches_colorlib_rules(browser, data):
    from selenium.webdriver.common.keys import Keys

    _set_weights(browser, data.presets["bgy-combined"])
    _set_rule(browser, SOFTMAX)
    seen = {}
    for t in TEMPERATURES:
        _set_rule(browser, temperature=t)
        assert _text(browser, "temperature-value") == format_temperature(t)
        seen[t] = _check_matches_python(browser, data)
        assert _text(browser, "mse-all-readout") not in ("", "–", "…")
    assert np.abs(seen[0.0].astype(int) - seen[math.inf].astype(int)).mean() > 0.5, "the temperature changes nothing"
    _set_rule(browser, "most-saturated")
    assert np.array_equal(_pixels(browser, "blend"), seen[0.0])  # T = 0: the most saturated member

    # a keyboard user on the temperature slider
    _set_rule(browser, SOFTMAX)
    slider = browser.find_element("id", "temperature")
    slider.click()
    start = int(slider.get_attribute("value"))
    slider.send_keys(Keys.ARROW_LEFT * 2)
    _wait_ready(browser)
    assert int(slider.get_attribute("value")) == start - 2
    _check_matches_python(browser, data)
    _set_rule(browser, MEAN)
    assert browser.find_element("id", "temperature").get_attribute("disabled") is not None


def test_page_works_from_a_web_server_too(browser, explorer_page, data):
    """The data is inside the page, so http:// behaves like file://."""
    root = next((p for p in explorer_page.parents if (p / "_static").is_dir()), explorer_page.parent)
    with served_folder(root) as url:
        browser.get(url + explorer_page.relative_to(root).as_posix())
        _wait_ready(browser)
        _set_weights(browser, dict(zip(data.models, [5, 40, 0, 20, 0, 70][: len(data.models)], strict=True)))
        _check_matches_python(browser, data)


def test_a_book_built_without_node_says_what_the_own_photo_part_needs(browser):
    """The tiny book is built as one without Node would be: the stored photos work, the upload is off."""
    status = _text(browser, "own-status")
    assert status.startswith("Not in this build: ") and "Node.js" in status and "npm ci" in status
    assert browser.find_element("id", "own-file").get_attribute("disabled") is not None
    assert browser.execute_script("return document.getElementById('colorlib-explorer').dataset.state") == "ready"


# --- every page of the smoke book ----------------------------------------------------------------

# MathJax's promise, resolved once it has typeset the page (at once where the page loads no MathJax)
_TYPESET = """
const done = arguments[arguments.length - 1];
const startup = window.MathJax && window.MathJax.startup;
(startup && startup.promise ? startup.promise : Promise.resolve()).then(() => done(true), (e) => done(String(e)));
"""
# each formula (Sphinx's span.math / div.math): typeset by MathJax, or its TeX as the page has it
_FORMULAS = """
return Array.from(document.querySelectorAll('.math')).map(
  (m) => m.querySelector('mjx-container') ? '' : m.textContent);
"""


def test_every_page_of_the_book_loads_cleanly_from_the_book_alone(smoke_book, tmp_path):
    """Every page of the smoke book, served on 127.0.0.1: no error in the console, no request to another
    host, and each formula typeset by the book's own MathJax (the method page has some)."""
    skip_without_chromium()
    html = smoke_book / "_build" / "html"
    if not (html / "_static" / "mathjax" / "tex-svg.js").is_file():
        pytest.skip("the smoke book was built without MathJax (no Node.js/npm here)")
    found = (p.relative_to(html) for p in html.rglob("*.html"))
    pages = sorted(p.as_posix() for p in found if not any(part.startswith("_") for part in p.parts))
    assert "book/method.html" in pages and "book/generated/explorer.html" in pages
    typeset = {}
    with served_folder(html) as root, chromium(tmp_path / "profile", logs=True) as driver:
        for page in pages:
            driver.get(root + page)
            assert driver.execute_async_script(_TYPESET) is True, page
            raw = [tex for tex in driver.execute_script(_FORMULAS) if tex]
            assert not raw, f"{page}: formulas left as TeX: {raw[:3]}"
            typeset[page] = len(driver.find_elements("css selector", ".math mjx-container"))
            errors, urls = console_errors_and_requests(driver)
            assert not errors, f"{page}: the console says {errors}"
            elsewhere = [u for u in urls if not u.startswith(root)]
            assert not elsewhere, f"{page} requested another host: {elsewhere}"
    assert typeset["book/method.html"] > 0 and typeset["book/discussion.html"] > 0


_TABLE_FIT = """
const head = (t) => (t.tHead ? t.tHead.textContent : '');
return Array.from(document.querySelectorAll('table')).filter(
  (t) => /loss \\(ours/.test(head(t)) || /skill vs grey/.test(head(t))
).map((t) => {
  let box = t.parentElement;
  while (box && getComputedStyle(box).overflowX === 'visible' && box !== document.body) box = box.parentElement;
  const line = parseFloat(getComputedStyle(t.querySelector('td')).lineHeight) || 24;
  const cells = Array.from(t.querySelectorAll('td'));
  return {head: t.tHead.textContent.trim().slice(0, 30), hidden: box.scrollWidth - box.clientWidth,
          wrapped: cells.filter((c) => c.getClientRects().length && c.getBoundingClientRect().height > 1.8 * line)
                        .map((c) => c.textContent.trim())};
});
"""


def test_table_one_reads_at_a_glance_on_a_laptop_screen(smoke_book, tmp_path):
    """Table I on the results page at 1366 x 768: the paper's quantity first, in a table that needs no scrolling
    and whose intervals do not wrap; the other measures in a second table that fits as well."""
    skip_without_chromium()
    html = smoke_book / "_build" / "html"
    with served_folder(html) as root, chromium(tmp_path / "profile") as driver:
        driver.set_window_size(1366, 768)
        driver.get(root + "book/generated/results.html")
        tables = driver.execute_script(_TABLE_FIT)
    assert len(tables) == 2 and tables[0]["head"].startswith("model") and "loss" in tables[0]["head"], tables
    for table in tables:
        assert table["hidden"] <= 1, f"{table['head']}: {table['hidden']} px hidden behind a scrollbar"
        assert not table["wrapped"], f"{table['head']}: cells wrap over lines: {table['wrapped'][:3]}"
