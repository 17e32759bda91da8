"""Your own photo on the explorer's page: headless Chromium against `colorlib colorize`, same photo, same models.

The built book (``_build/html``, from `make book`) is served on 127.0.0.1 as `make serve` serves it,
and a 1024 x 768 photo is chosen with the page's file input. Measured in one run on one machine:

- **first blend, cold**: from the photo chosen to its first blend drawn, the first time, so the
  runtime's WebAssembly and the six models are fetched from the local server and compiled;
- **first blend, warm**: the same with the models loaded (the photo chosen again), --repeats times:
  decoding, resize-and-pad, the six networks one after another on one wasm thread, the full-size
  lightness and the first three pictures; the page's own timings split it (decoded, models ready,
  predicted, shown);
- **a slider move**: one 'input' event on a slider until the blend and readouts are drawn
  (explorer.js's own measure of its synchronous update), --moves times over the six sliders;
- **`colorlib colorize`** of the same photo with all six models (their equal blend, which runs every
  network once): the command as a user runs it (a new process: Python, torch and the checkpoints
  loaded; its default precision, bf16 where the processor has it), and in-process after a warm-up in
  fp32, the page's arithmetic (load_colorizer + colorize);
- **page weight**: the bytes the page adds (models, runtime, its scripts and style).

Goals (the issue's): first blend <= 2 s, a slider move <= 50 ms, <= 30 MB added. Each figure is the
median of its repeats with its range; ratios are of medians. These machines are noisy: compare
numbers from one run only.

    python benchmarks/bench_page.py                       # the book built last, build/latest's models
    python benchmarks/bench_page.py --json page.json --repeats 7
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import DEFAULT_DATA, list_photos  # noqa: E402

from colorlib import TRAINED_MODELS  # noqa: E402
from colorlib.data import load_image  # noqa: E402
from colorlib.ensemble import load_colorizer  # noqa: E402
from tests.browser import chromium, wait_state  # noqa: E402

ADDED = ("explorer-core.js", "explorer-own.js")  # the scripts the own-photo part added (explorer.js was there)


def serve(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def choose(driver, path: Path) -> dict:
    driver.find_element("id", "own-file").send_keys(str(path))
    time.sleep(0.05)
    if wait_state(driver, "own-photo", ("ready", "error")) == "error":
        raise SystemExit(driver.find_element("id", "own-status").text)
    wait_state(driver, "colorlib-explorer", ("ready",))
    return driver.execute_script(
        "return document.getElementById('colorlib-explorer').colorlibExplorer.ownPhoto.timings"
    )


def slider_moves(driver, n: int) -> list[float]:
    times = []
    for i in range(n):
        model, value = TRAINED_MODELS[i % len(TRAINED_MODELS)], 10 + (37 * i) % 90
        times.append(
            driver.execute_script(
                "const s = document.getElementById('w-' + arguments[0]); s.value = String(arguments[1]);"
                "s.dispatchEvent(new Event('input', {bubbles: true}));"
                "return document.getElementById('colorlib-explorer').colorlibExplorer.lastMs;",
                model,
                value,
            )
        )
    return times


def colorize_times(photo: Path, checkpoints: Path, repeats: int) -> tuple[list[float], list[float]]:
    """(the command's wall times, in-process times) for the six models' blend of one photo."""
    command = [sys.executable, "-m", "colorlib", "-q", "colorize", str(photo), "--overwrite"]
    command += ["--models", *TRAINED_MODELS]  # --overwrite: every repeat writes into the same folder
    cli = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [*command, "--checkpoints", str(checkpoints), "--out-dir", out], check=True, capture_output=True
            )
            cli.append(time.perf_counter() - start)
    rgb = load_image(photo)
    inproc = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        load_colorizer(list(TRAINED_MODELS), checkpoints).colorize(rgb)
        if i:  # the first is a warm-up
            inproc.append(time.perf_counter() - start)
    return cli, inproc


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} (range {min(values):.3f}-{max(values):.3f}, n={len(values)})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--book", type=Path, default=Path("_build/html"), help="the built book (_build/html)")
    parser.add_argument("--checkpoints", type=Path, default=Path("build/latest/checkpoints"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where the photo is taken from")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    page = args.book / "book" / "generated" / "explorer.html"
    web = args.book / "colorize"
    if not page.is_file() or not (web / "ort").is_dir():
        raise SystemExit(f"no explorer page with its models and runtime under {args.book}: run make book (with Node)")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = args.data / list_photos(args.data)[0]
        photo = tmp / "photo-1024x768.jpg"
        with Image.open(source) as im:
            im.convert("RGB").resize((1024, 768), Image.BICUBIC).save(photo, quality=92)
        server = serve(args.book)
        url = f"http://127.0.0.1:{server.server_port}/book/generated/explorer.html"
        try:
            with chromium(tmp / "profile") as driver:
                driver.get(url)
                wait_state(driver, "colorlib-explorer", ("ready",))
                cold = choose(driver, photo)
                warm = [choose(driver, photo) for _ in range(args.repeats)]
                moves = slider_moves(driver, args.moves)
                agent = driver.execute_script("return navigator.userAgent")
        finally:
            server.shutdown()
        cli, inproc = colorize_times(photo, args.checkpoints, args.repeats)

    weight = {
        "models": sum(p.stat().st_size for p in (web / "models").glob("*.onnx")),
        "runtime": sum(p.stat().st_size for p in (web / "ort").iterdir()),
        "scripts": sum((args.book / "_static" / name).stat().st_size for name in ADDED),
    }
    first_warm = [t["shown"] / 1000 for t in warm]
    result = {
        "photo": f"{source.name}, resized to 1024x768",
        "browser": agent,
        "first_blend_cold_s": cold["shown"] / 1000,
        "cold_steps_ms": cold,
        "first_blend_warm_s": first_warm,
        "warm_steps_ms": warm,
        "slider_move_ms": moves,
        "colorize_command_s": cli,
        "colorize_in_process_s": inproc,
        "page_weight_bytes": weight,
    }
    print(f"photo: {result['photo']}; {agent}")
    print(f"first blend, cold (runtime and models fetched): {result['first_blend_cold_s']:.3f} s  [goal <= 2 s]")
    print(f"  its steps (ms since chosen): {', '.join(f'{k} {v:.0f}' for k, v in cold.items())}")
    print(f"first blend, warm: {summary(first_warm)} s  [goal <= 2 s]")
    steps = {k: statistics.median(t[k] for t in warm) for k in warm[0]}
    print(f"  its steps, medians (ms since chosen): {', '.join(f'{k} {v:.0f}' for k, v in steps.items())}")
    print(f"slider move: {summary(moves)} ms  [goal <= 50 ms]")
    print(f"colorlib colorize, the command (six models, default precision): {summary(cli)} s")
    print(f"colorlib colorize, in process after a warm-up (fp32): {summary(inproc)} s")
    ratio = statistics.median(first_warm) / statistics.median(inproc)
    cold_ratio = result["first_blend_cold_s"] / statistics.median(cli)
    print(f"page warm / colorize in process: {ratio:.2f}x; page cold / the command: {cold_ratio:.2f}x")
    total = sum(weight.values())
    print(
        f"page weight added: {total / 1e6:.1f} MB (models {weight['models'] / 1e6:.1f}, runtime "
        f"{weight['runtime'] / 1e6:.1f}, scripts {weight['scripts'] / 1e3:.0f} kB)  [goal <= 30 MB]"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
