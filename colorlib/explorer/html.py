"""The explorer's markup for the book's page, built from the bundle and its contract.

``book/_static/explorer.js`` brings it to life (and ``explorer-own.js`` the part for a reader's own
photo); every id, label, caption, note and temperature stop written here comes from the contract
(:mod:`colorlib.explorer.contract`), which the scripts read from the bundle inside the page.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

from .contract import DATA, ID_PREFIXES, IDS, NO_VALUE, ROOT, TEXT

esc = html.escape


def controls_html(contract: Mapping) -> str:
    """The rule choice, its note, the temperature slider and, after the rule, the vividness slider."""
    rules, k = contract["rules"], contract["vividness"]
    options = "".join(f'<option value="{esc(r["name"])}">{esc(r["label"])}</option>' for r in rules)
    stops = contract["temperatures"]
    index = contract["initial_temperature"]
    t, v = IDS["temperature"], IDS["vividness"]
    return (
        f'<div class="cx-rule"><label>{esc(TEXT["rule"])} <select id="{IDS["rule"]}">{options}</select></label>'
        f' <span id="{IDS["rule_note"]}" class="cx-note">{esc(rules[0]["note"])}</span>'
        f'<div id="{IDS["temperature_box"]}" class="cx-temperature" hidden>'
        f'<label for="{t}">{esc(TEXT["temperature"])}</label>'
        f'<input type="range" id="{t}" min="0" max="{len(stops) - 1}" step="1" value="{index}" disabled>'
        f'<output id="{IDS["temperature_value"]}" for="{t}">{esc(stops[index]["label"])}</output></div>'
        f'<div class="cx-vividness"><label for="{v}">{esc(k["label"])}</label>'
        f'<input type="range" id="{v}" min="{k["min"]}" max="{k["max"]}" step="{k["step"]}"'
        f' value="{k["initial"]}"><output id="{IDS["vividness_value"]}" for="{v}">{k["initial"]:.2f}</output>'
        f' <span class="cx-note">{esc(k["note"])}</span></div>'
        f'<p class="cx-note">{esc(TEXT["notes"])}</p></div>'
    )


def own_photo_html(web: Mapping | None) -> str:
    """The part for a reader's own photo: a file picker and drop zone, progress, save; or why it is off
    (``web``, from :func:`colorlib.explorer.web.web_config`, says in ``unavailable`` why this build has none)."""
    if web is None:
        return ""
    unavailable = web.get("unavailable", "")
    total = sum(m["bytes"] for m in web.get("models", [])) + web.get("runtime", {}).get("bytes", 0)
    config = esc(json.dumps({k: v for k, v in web.items() if k != "unavailable"}, separators=(",", ":")))
    weight = TEXT["own_weight"].format(mb=f"{total / 1e6:.0f}") if total else ""
    return (
        f'<div class="cx-own" id="{IDS["own"]}" data-web="{config}" data-unavailable="{esc(unavailable)}">'
        f'<p class="cx-own-head"><strong>{esc(TEXT["own_head"])}</strong> {esc(TEXT["own_drop"])} '
        f'<label class="cx-own-pick">{esc(TEXT["own_pick"])} '
        f'<input type="file" id="{IDS["own_file"]}" accept="image/*"></label>.'
        f" {esc(TEXT['own_runs'].format(weight=weight))}</p>"
        f'<div class="cx-own-row"><progress id="{IDS["own_progress"]}" max="1" value="0" hidden></progress>'
        f'<span id="{IDS["own_status"]}" class="cx-own-status" role="status"></span>'
        f'<button type="button" id="{IDS["own_save"]}" disabled>{esc(TEXT["own_save"])}</button></div></div>'
    )


def readouts_html(photos: int) -> str:
    """The line of readouts under the pictures (explorer.js fills them in)."""

    def readout(key: str, before: str = "", **fields) -> str:
        return f'{before}{esc(TEXT[key].format(**fields))} <span id="{IDS[key]}">{NO_VALUE}</span>'

    return (
        f'<p class="cx-readouts">{readout("mse")}<span id="{IDS["delta_e_box"]}" hidden>{readout("delta_e", " · ")}'
        f"</span>{readout('mse_all', ' · ', n=photos)}{readout('colourfulness', ' · ')}{readout('original', ' (')})</p>"
    )


def explorer_html(bundle: Mapping | Path, web: Mapping | None = None) -> str:
    """The static explorer for the book: controls, canvases, readouts and the data, inside the page (so
    its stored photos work from a web server and from file:// alike). ``web``: the own-photo part
    (:func:`own_photo_html`), if any."""
    if isinstance(bundle, (str, Path)):
        bundle = json.loads(Path(bundle).read_text(encoding="utf-8"))
    contract, initial, prefix = bundle["contract"], bundle["initial"], ID_PREFIXES
    options = "".join(f'<option value="{i}">{esc(p["name"])}</option>' for i, p in enumerate(bundle["photos"]))
    presets = "".join(
        f'<button type="button" id="{prefix["preset"]}{slug}" data-preset="{esc(name)}">{esc(name)}</button>'
        for name in bundle["presets"]
        for slug in ["".join(c if c.isalnum() else "-" for c in name.lower())]
    )
    sliders = "".join(
        f'<div class="cx-slider"><label for="{w}">{esc(m)}</label><input type="range" id="{w}" min="0"'
        f' max="{contract["weight_max"]}" step="1" value="{int(initial.get(m, 0))}">'
        f'<output id="{esc(prefix["share"] + m)}" for="{w}"></output></div>'
        for m in bundle["models"]
        for w in [esc(prefix["weight"] + m)]
    )
    figures = "".join(
        f'<figure><canvas id="{prefix["canvas"]}{role}" data-role="{role}"></canvas>'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        for role, caption in contract["captions"].items()
    )
    data = json.dumps(bundle, separators=(",", ":")).replace("</", "<\\/")
    return (
        f'<div id="{ROOT}" class="{ROOT}">'
        f'<p class="cx-status" id="{IDS["status"]}">{esc(TEXT["status"])}</p>'
        f"{own_photo_html(web)}"
        f'<div class="cx-controls"><label>{esc(TEXT["photo"])} <select id="{IDS["photo"]}">{options}</select></label>'
        f'<div class="cx-presets">{esc(TEXT["presets"])} {presets}</div>'
        f'<div class="cx-sliders">{sliders}</div>{controls_html(contract)}</div>'
        f'<div class="cx-images">{figures}</div>'
        f"{readouts_html(len(bundle['photos']))}"
        f'<p class="cx-note" id="{IDS["score_note"]}"></p>'
        f'<p class="cx-message" id="{IDS["message"]}" role="status"></p>'
        f'<script type="application/json" class="{DATA}">{data}</script></div>'
    )
