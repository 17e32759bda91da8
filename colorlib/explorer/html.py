"""The explorer's markup for the book's page, built from the bundle and its contract.

``book/_static/explorer.js`` brings it to life (and ``explorer-own.js`` the part for a reader's own
photo); every label, caption, note and temperature stop written here comes from the bundle's
contract (:mod:`colorlib.explorer.contract`), the same one the scripts read.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import UserError

STATUS = (
    "These controls come alive in the built book (its explorer.js); in Jupyter, use the widget "
    "(colorlib.explorer.widget.explorer)."
)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())


def controls_html(contract: Mapping) -> str:
    """The rule choice, its note, the temperature slider and, after the rule, the vividness slider."""
    esc = html.escape
    rules, k = contract["rules"], contract["vividness"]
    options = "".join(f'<option value="{esc(r["name"])}">{esc(r["label"])}</option>' for r in rules)
    stops = contract["temperatures"]
    index = contract["initial_temperature"]
    return (
        f'<div class="cx-rule"><label>rule <select id="rule-select">{options}</select></label>'
        f' <span id="rule-note" class="cx-note">{esc(rules[0]["note"])}</span>'
        f'<div id="temperature-box" class="cx-temperature" hidden><label for="temperature">temperature T</label>'
        f'<input type="range" id="temperature" min="0" max="{len(stops) - 1}" step="1" value="{index}" disabled>'
        f'<output id="temperature-value" for="temperature">{esc(stops[index]["label"])}</output></div>'
        f'<div class="cx-vividness"><label for="vividness">{esc(k["label"])}</label>'
        f'<input type="range" id="vividness" min="{k["min"]}" max="{k["max"]}" step="{k["step"]}"'
        f' value="{k["initial"]}"><output id="vividness-value" for="vividness">{k["initial"]:.2f}</output>'
        f' <span class="cx-note">{esc(k["note"])}</span></div>'
        f'<p class="cx-note">{esc(contract["messages"]["notes"])}</p></div>'
    )


def own_photo_html(web: Mapping | None) -> str:
    """The part for a reader's own photo: a file picker and drop zone, progress, save; or why it is off.

    ``web`` (:func:`colorlib.explorer.web.web_config`) names the models and the runtime, with their
    sizes, or says in ``unavailable`` why this build has none.
    """
    if web is None:
        return ""
    esc = html.escape
    unavailable = web.get("unavailable", "")
    total = sum(m["bytes"] for m in web.get("models", [])) + web.get("runtime", {}).get("bytes", 0)
    config = esc(json.dumps({k: v for k, v in web.items() if k != "unavailable"}, separators=(",", ":")))
    weight = f" ({total / 1e6:.0f} MB, fetched once)" if total else ""
    return (
        f'<div class="cx-own" id="own-photo" data-web="{config}" data-unavailable="{esc(unavailable)}">'
        '<p class="cx-own-head"><strong>Use your own photo:</strong> drop it here or '
        '<label class="cx-own-pick">choose a photo… <input type="file" id="own-file" accept="image/*"></label>.'
        f" The six models run in this browser{weight}; the photo never leaves it.</p>"
        '<div class="cx-own-row"><progress id="own-progress" max="1" value="0" hidden></progress>'
        '<span id="own-status" class="cx-own-status" role="status"></span>'
        '<button type="button" id="own-save" disabled>save the blend as PNG</button></div></div>'
    )


def explorer_html(
    bundle: Mapping | Path, data_src: str | None = None, inline: bool = True, web: Mapping | None = None
) -> str:
    """The static explorer for the book: controls, canvases, readouts and (inline) the data.

    With ``inline`` (the default) the bundle travels inside the page, so the stored photos work from
    a web server and from file:// alike; otherwise the script fetches ``data_src`` (a URL relative to
    the page, served over http). ``web``: the own-photo part (:func:`own_photo_html`), if any.
    """
    if isinstance(bundle, (str, Path)):
        bundle = json.loads(Path(bundle).read_text(encoding="utf-8"))
    if not inline and not data_src:
        raise UserError("explorer_html needs data_src when the data is not inlined")
    esc = html.escape
    contract = bundle["contract"]
    initial = bundle["initial"]
    n = len(bundle["photos"])
    options = "".join(f'<option value="{i}">{esc(p["name"])}</option>' for i, p in enumerate(bundle["photos"]))
    presets = "".join(
        f'<button type="button" id="preset-{esc(_slug(name))}" data-preset="{esc(name)}">{esc(name)}</button>'
        for name in bundle["presets"]
    )
    sliders = "".join(
        f'<div class="cx-slider"><label for="w-{esc(m)}">{esc(m)}</label>'
        f'<input type="range" id="w-{esc(m)}" data-model="{esc(m)}" min="0" max="{contract["weight_max"]}" step="1"'
        f' value="{int(initial.get(m, 0))}"><output id="share-{esc(m)}" for="w-{esc(m)}"></output></div>'
        for m in bundle["models"]
    )
    figures = "".join(
        f'<figure><canvas id="canvas-{role}" data-role="{role}"></canvas>'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        for role, caption in contract["captions"].items()
    )
    src = f' data-src="{esc(data_src)}"' if data_src else ""
    data = ""
    if inline:
        text = json.dumps(bundle, separators=(",", ":")).replace("</", "<\\/")
        data = f'<script type="application/json" class="colorlib-explorer-data">{text}</script>'
    return (
        f'<div id="colorlib-explorer" class="colorlib-explorer"{src}>'
        f'<p class="cx-status" id="explorer-status">{esc(STATUS)}</p>'
        f"{own_photo_html(web)}"
        f'<div class="cx-controls"><label>photo <select id="photo-select">{options}</select></label>'
        f'<div class="cx-presets">presets: {presets}</div>'
        f'<div class="cx-sliders">{sliders}</div>{controls_html(contract)}</div>'
        f'<div class="cx-images">{figures}</div>'
        '<p class="cx-readouts">MSE (this photo): <span id="mse-readout">–</span>'
        '<span id="delta-e-box" hidden> · ΔE2000 (this photo): <span id="delta-e-readout">–</span></span>'
        f' · mean MSE ({n} validation photos): <span id="mse-all-readout">–</span>'
        ' · colourfulness: <span id="colourfulness-readout">–</span>'
        ' (original: <span id="colourfulness-original">–</span>)</p>'
        '<p class="cx-note" id="score-note"></p>'
        '<p class="cx-message" id="explorer-message" role="status"></p>'
        f"{data}</div>"
    )
