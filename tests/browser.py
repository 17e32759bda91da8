"""Headless Chromium through Selenium, shared by the browser tests (the book's static explorer page and
the explorer served as an app by `make explorer`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def skip_without_chromium() -> None:
    """Skip the calling test where Debian's chromium and chromium-driver (`make browser`) are missing."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("headless browser test needs Debian's chromium and chromium-driver (`make browser`)")
    pytest.importorskip("selenium")


@contextmanager
def chromium(
    profile_dir: Path, page_load_timeout: int = 60, downloads: Path | None = None, logs: bool = False
) -> Iterator:
    """A headless Chromium WebDriver with its own profile folder, quit on leaving, also after a failure;
    files the page saves go to `downloads`, without asking; with `logs`, it keeps the console's messages
    and every request the pages make, for :func:`console_errors_and_requests`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(arg)
    if downloads is not None:
        prefs = {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        options.add_experimental_option("prefs", prefs)
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(page_load_timeout)
    if downloads is not None:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def wait_state(driver, ident: str, states: tuple[str, ...], timeout: float = 180, poll: float = 0.05) -> str:
    """Wait until the element `ident`'s data-state is one of `states` (the explorer's own, or its
    own-photo box's); an "error" not asked for, or the timeout, is an AssertionError saying what the
    own-photo box says."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        state = driver.execute_script("return document.getElementById(arguments[0]).dataset.state", ident)
        if state in states:
            return state
        said = driver.execute_script("const s = document.getElementById('own-status'); return s && s.textContent")
        if state == "error":
            raise AssertionError(f"{ident}: error: {said}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{ident} still {state!r} after {timeout} s: {said}")
        time.sleep(poll)


def console_errors_and_requests(driver) -> tuple[list[str], list[str]]:
    """The console's errors (a script's uncaught exception, a file that failed to load...) and the URLs
    of every request over the network (http, ws) since the last call, from the logs of a driver started
    with `logs` (the browser's own pages, chrome://, are not the network)."""
    import json

    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    events = (json.loads(e["message"])["message"] for e in driver.get_log("performance"))
    urls = (e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent")
    return errors, [u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))]


@contextmanager
def served_folder(root: Path) -> Iterator[str]:
    """`root` over http on 127.0.0.1 (a thread of this process) until the block ends: its URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
