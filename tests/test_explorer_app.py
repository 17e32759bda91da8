"""`make explorer` as a user meets it: the explorer served as an app (Voilà) on the smoke book's
models, opened in headless Chromium, a slider dragged, a preset pressed, a rule picked and its
temperature moved, the vividness turned up.

The server is the Makefile's command itself, on 127.0.0.1 at a free port with a token; it is stopped at
the end, also when a test fails. The picture and readouts on the page must equal what colorlib computes
for the weights the page shows, from the data the app itself wrote (its explorer.json).
"""

from __future__ import annotations

import base64
import io
import math
import secrets
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorlib.combination_rules import MEAN, RULES, SOFTMAX, TEMPERATURES
from colorlib.explorer.blending import Blend
from colorlib.explorer.bundle import load_explorer_data
from colorlib.explorer.contract import format_colourfulness, format_delta_e, format_mse, format_temperature

from .browser import chromium, skip_without_chromium
from .helpers import VENV
from .servers import free_port, served

RUN_S = 300  # the notebook's run until the widget shows (a slow, shared 2-core machine)


def _passing():
    """What a wait ignores while the kernel re-draws the widget (a part not there yet, a readout mid-change)."""
    from selenium.common.exceptions import JavascriptException, StaleElementReferenceException

    return (JavascriptException, StaleElementReferenceException, ValueError)


@pytest.fixture(scope="module")
def app(smoke_book, tmp_path_factory):
    """`make explorer` in the smoke book's copy of the repository, serving on 127.0.0.1 with a token."""
    skip_without_chromium()
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path_factory.mktemp("voila") / "server.log"
    args = f"--port={port} --no-browser --Voila.ip=127.0.0.1 --token={token} --show_tracebacks=True"
    cmd = ["make", "-C", str(smoke_book), "-o", f"{VENV}/.installed", "explorer", f"VENV={VENV}"]
    cmd.append(f"JUPYTER_ARGS={args}")
    with served(cmd, port, log):
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}/?token={token}", root=smoke_book, log=log)


@pytest.fixture(scope="module")
def page(app, tmp_path_factory):
    """The app in Chromium, once the widget has rendered."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    with chromium(tmp_path_factory.mktemp("chromium-profile"), page_load_timeout=RUN_S) as driver:
        driver.get(app.url)
        try:
            WebDriverWait(driver, RUN_S, poll_frequency=0.5).until(
                lambda d: d.execute_script(
                    "const i = document.querySelector('img.colorlib-blend'); return !!i && i.naturalWidth > 0"
                )
            )
        except TimeoutException:
            text = driver.execute_script("return document.body.innerText")[-3000:]
            pytest.fail(f"no widget after {RUN_S} s; the page says:\n{text}\nserver:\n{app.log.read_text()[-3000:]}")
        yield driver


@pytest.fixture(scope="module")
def data(app, page):
    """What the app's notebook exported, read back by colorlib: the reference for every number shown."""
    return load_explorer_data(app.root / "build" / "latest" / "jupyter" / "explorer-data" / "explorer.json")


# --- reading the page -----------------------------------------------------------------------------


def _text(driver, part: str) -> str:
    return driver.execute_script("return document.querySelector(arguments[0]).textContent.trim()", part)


def _weights(driver, models) -> list[int]:
    return [int(_text(driver, f".colorlib-w-{m} .widget-readout")) for m in models]


def _picture(driver) -> np.ndarray:
    """The blend as shown: the image element's own PNG, fetched from its blob URL and decoded."""
    b64 = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        fetch(document.querySelector('img.colorlib-blend').src).then(r => r.arrayBuffer()).then(buf => {
          const a = new Uint8Array(buf); let s = '';
          for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode.apply(null, a.subarray(i, i + 8192));
          done(btoa(s));
        }).catch(e => done(null));
        """
    )
    if b64 is None:  # the URL was replaced while it was read: the kernel is still updating
        return None
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(b64))).convert("RGB"))


def _rule(driver) -> tuple[str, float]:
    """The rule the Dropdown shows and the temperature the SelectionSlider shows."""
    label = driver.execute_script(
        "const s = document.querySelector('.colorlib-rule-select select'); return s.options[s.selectedIndex].text"
    )
    readout = _text(driver, ".colorlib-temperature .widget-readout").replace("\xa0", " ")
    rule = next(name for name, r in RULES.items() if r.label == label.replace("\xa0", " "))  # ipywidgets: nbsp
    return rule, next(t for t in TEMPERATURES if format_temperature(t) == readout)


def _shown(driver, data) -> SimpleNamespace:
    return SimpleNamespace(
        weights=_weights(driver, data.models),
        rule=_rule(driver),
        k=float(_text(driver, ".colorlib-vividness .widget-readout")),
        mse=_text(driver, ".colorlib-mse-readout"),
        mse_all=_text(driver, ".colorlib-mse-all-readout"),
        colourfulness=_text(driver, ".colorlib-colourfulness-readout"),
        message=_text(driver, ".colorlib-explorer-message"),
        picture=_picture(driver),
    )


def _expected(data, weights, rule=(MEAN, math.inf), k=1.0) -> SimpleNamespace:
    preview = data.photos[0].preview(Blend(weights, *rule, k))
    return SimpleNamespace(
        mse=format_mse(preview.mse),
        mse_all=format_mse(data.mean_mse(Blend(weights, *rule, k))),
        colourfulness=format_colourfulness(preview.colourfulness),
        picture=preview.rgb,
    )


def _settled(driver, data, timeout=60) -> SimpleNamespace:
    """Wait until the picture and readouts equal colorlib's for the weights the sliders show, and return them."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    last = {}

    def agrees(d):
        shown = last["shown"] = _shown(d, data)
        want = last["want"] = _expected(data, shown.weights, shown.rule, shown.k)
        if shown.picture is None or shown.picture.shape != want.picture.shape:
            return False
        close = np.abs(shown.picture.astype(int) - want.picture.astype(int)).max() <= 1
        texts = (shown.mse, shown.mse_all, shown.colourfulness) == (want.mse, want.mse_all, want.colourfulness)
        return close and texts and shown.message == ""

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.3, ignored_exceptions=_passing()).until(agrees)
    except TimeoutException:
        shown, want = last.get("shown"), last.get("want")
        pytest.fail(f"after {timeout} s the page shows {vars(shown) if shown else None}, colorlib says {vars(want)}")
    return last["shown"]


# --- the tests -----------------------------------------------------------------------------------


def test_the_app_shows_the_widget_on_the_built_models(page, data):
    assert data.models == ["blue", "yellow", "green", "by", "bgy", "baseline"]
    shown = _settled(page, data)
    initial = data.initial_weights()
    assert shown.weights == [initial[m] for m in data.models]
    assert not page.find_elements("id", "colorlib-explorer"), "the static explorer, dead without its script, shows too"


def test_dragging_a_slider_re_blends_like_python(page, data):
    from selenium.webdriver.common.action_chains import ActionChains

    before = _settled(page, data)
    assert before.weights[-1] == 0, "the baseline starts at zero"
    handle = page.find_element("css selector", ".colorlib-w-baseline .noUi-handle")
    ActionChains(page).click_and_hold(handle).move_by_offset(60, 0).release().perform()
    after = _settled(page, data)
    assert after.weights[-1] > 0 and after.weights[:-1] == before.weights[:-1], after.weights
    assert np.abs(after.picture.astype(int) - before.picture.astype(int)).mean() > 0.5, "the picture did not change"
    assert after.mse != before.mse and after.mse_all != before.mse_all


def test_a_preset_sets_the_sliders_and_re_blends(page, data):
    from selenium.webdriver.support.ui import WebDriverWait

    before = _settled(page, data)
    button = next(b for b in page.find_elements("css selector", ".colorlib-preset") if b.text == "by-combined")
    button.click()
    preset = data.presets["by-combined"]
    wanted = [preset[m] for m in data.models]
    WebDriverWait(page, 60, ignored_exceptions=_passing()).until(lambda d: _weights(d, data.models) == wanted)
    after = _settled(page, data)
    assert after.weights == wanted
    assert not np.array_equal(after.picture, before.picture) and after.mse_all != before.mse_all
    assert after.mse_all == format_mse(data.mean_mse(Blend(list(preset.values()))))


def test_a_rule_and_its_temperature_re_combine_like_python(page, data):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select, WebDriverWait

    before = _settled(page, data)
    assert before.rule[0] == MEAN and not page.find_element("css selector", ".colorlib-temperature").is_displayed()
    Select(page.find_element("css selector", ".colorlib-rule-select select")).select_by_visible_text(
        RULES[SOFTMAX].label
    )
    WebDriverWait(page, 60, ignored_exceptions=_passing()).until(lambda d: _rule(d)[0] == SOFTMAX)
    softmax = _settled(page, data)
    assert not np.array_equal(softmax.picture, before.picture) and softmax.mse_all != before.mse_all
    slider = page.find_element("css selector", ".colorlib-temperature")
    WebDriverWait(page, 60).until(lambda d: slider.is_displayed())
    handle = page.find_element("css selector", ".colorlib-temperature .noUi-handle")
    ActionChains(page).click_and_hold(handle).move_by_offset(-80, 0).release().perform()
    WebDriverWait(page, 60, ignored_exceptions=_passing()).until(lambda d: _rule(d)[1] != softmax.rule[1])
    colder = _settled(page, data)
    assert colder.rule[1] < softmax.rule[1] and not np.array_equal(colder.picture, softmax.picture)
    Select(page.find_element("css selector", ".colorlib-rule-select select")).select_by_visible_text(RULES[MEAN].label)
    WebDriverWait(page, 60, ignored_exceptions=_passing()).until(lambda d: _rule(d)[0] == MEAN)
    assert _settled(page, data).mse_all == before.mse_all


def test_turning_up_the_vividness_re_blends_like_python(page, data):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    before = _settled(page, data)
    assert before.k == 1.0
    handle = page.find_element("css selector", ".colorlib-vividness .noUi-handle")
    ActionChains(page).click_and_hold(handle).move_by_offset(40, 0).release().perform()
    after = _settled(page, data)
    assert after.k > 1.0 and after.weights == before.weights
    assert float(after.colourfulness) > float(before.colourfulness) and after.mse != before.mse
    button = next(b for b in page.find_elements("css selector", ".colorlib-preset") if b.text == "bgy-combined")
    button.click()  # a preset sets its vividness (1) too
    readout = ".colorlib-vividness .widget-readout"
    WebDriverWait(page, 60, ignored_exceptions=_passing()).until(lambda d: _text(d, readout) == "1.00")
    assert _settled(page, data).k == 1.0


def _upload(driver, path) -> None:
    """Choose a file with the widget's upload button. Its file input is never put in the page, so the
    button's click on it is caught and the input put in the page for the browser to be given the file."""
    driver.execute_script(
        """
        const click = HTMLInputElement.prototype.click;
        HTMLInputElement.prototype.click = function () {
          if (this.type !== 'file') return click.call(this);
          HTMLInputElement.prototype.click = click;
          this.id = 'caught-upload';
          document.body.appendChild(this);
        };
        document.querySelector('.colorlib-own-file').click();
        """
    )
    driver.find_element("id", "caught-upload").send_keys(str(path))
    driver.execute_script("document.getElementById('caught-upload').removeAttribute('id')")


def test_an_uploaded_photo_is_colorized_by_the_models_and_blended(page, data, app, tmp_path):
    """The upload runs the six PyTorch models on the reader's photo; the sliders then blend it, as colorize would."""
    from selenium.webdriver.support.ui import WebDriverWait

    from colorlib.ensemble import load_colorizer
    from colorlib.explorer.own import OwnPhoto

    rng = np.random.default_rng(5)
    photo = tmp_path / "mine.jpg"
    field = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((240, 180), Image.BICUBIC)
    field.save(photo, quality=92)
    _upload(page, photo)

    def chosen(d):
        return d.execute_script(
            "const s = document.querySelector('.colorlib-photo-select select'); return s.options[s.selectedIndex].text"
        ).replace("\xa0", " ")

    WebDriverWait(page, RUN_S, ignored_exceptions=_passing()).until(lambda d: chosen(d).startswith("your photo: mine"))
    colorizers = [load_colorizer([m], app.root / "build/latest/checkpoints") for m in data.models]
    own = OwnPhoto.from_bytes("mine.jpg", photo.read_bytes(), colorizers)
    assert chosen(page) == "your photo: mine.jpg (240×180)"

    def agrees(d):
        weights, rule = _weights(d, data.models), _rule(d)
        shown = _picture(d)
        want, score = (
            own.preview(Blend(weights, *rule)),
            own.score(Blend(weights, *rule)),
        )  # in colour: scored against itself
        return (
            shown is not None
            and shown.shape == want.rgb.shape
            and np.abs(shown.astype(int) - want.rgb.astype(int)).max() <= 1
            and _text(d, ".colorlib-mse-readout") == format_mse(score.mse)
            and _text(d, ".colorlib-delta-e-readout") == format_delta_e(score.delta_e)
            and _text(d, ".colorlib-colourfulness-readout") == format_colourfulness(want.colourfulness)
        )

    WebDriverWait(page, 120, poll_frequency=0.5, ignored_exceptions=_passing()).until(agrees)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    _upload(page, notes)
    WebDriverWait(page, 120, ignored_exceptions=_passing()).until(
        lambda d: _text(d, ".colorlib-own-status") == "notes.txt: not an image (format not recognised)"
    )
    assert chosen(page).startswith("your photo: mine")  # what was shown stays
