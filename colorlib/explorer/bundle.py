"""Data and reference computation for the ensemble-weight explorer.

Blending is linear in the members' ab predictions, so once every trained model has predicted the
validation photos, any weighted blend can be recomputed without a network. This module

- packs those predictions, quantised, into one small JSON bundle (:func:`export_explorer_data`)
  that the built book inlines into its page, where ``book/_static/explorer.js`` re-blends them;
- is the reference for that page (:func:`blend_preview`): the exact computation the JavaScript
  reproduces *from the same quantised data*, so page and Python agree to a level or so per pixel
  (Python converts Lab -> sRGB in float32 with :func:`colorlib.lab.lab_planes_to_rgb_fast`, the page
  in float64);
- feeds the Jupyter widget (:mod:`colorlib.explorer.widget`), which shows the same numbers.

Quantisation (chosen so the page can undo it exactly): L is stored as ``round(L * 255 / 100)``
and a, b (normalised to [-1, 1]) as ``round(ab * 127) + 128``; one step is 0.4 L units and one
a/b unit, well below what the eye sees. The ab maps may be stored smaller than the photo (``ab_size``
per working size; colour is smooth) and are brought back with :func:`upsample_bilinear`, which the
page mirrors line by line. Colourfulness is measured on the shown image. The MSE is not measured on
the stored maps: since it is quadratic in the weights, each photo carries its exact second moments
(:class:`MseStats`, from the unquantised, full-size predictions), so the readout for a preset equals
Table I's number for that model. The other combination rules (:mod:`colorlib.explorer.rules`)
are not quadratic in anything shipped, so their MSE is that of the stored maps against the stored truth.

The module runs some 450 lines because the bundle format and its reference computation are
one concern: both sides of the page's contract change together.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .. import COMBINED_MODELS, TRAINED_MODELS
from ..ensemble import normalize_weights
from ..errors import UserError
from ..files import atomic_write_text
from ..lab import AB_SCALE, L_SCALE, bilinear_taps, lab_planes_to_rgb_fast, planes_to_uint8
from ..scoring.metrics import colourfulness, mse_ab
from .rules import INITIAL_TEMPERATURE, MEAN, combine_ab, controls_html

BUNDLE_FORMAT = "colorlib-explorer/1"
BUNDLE_NAME = "explorer.json"
AB_ZERO, AB_STEPS = 128, 127  # ab in [-1, 1] <-> uint8 q: ab = (q - 128) / 127
L_LEVELS = 255  # L in [0, 100] <-> uint8 q: L = q * 100 / 255
WEIGHT_MAX = 100  # sliders run over whole numbers 0..WEIGHT_MAX; weights are normalised to sum 1
ZERO_MESSAGE = "All weights are zero: move a slider above zero to blend (weights are normalised to sum to 1)."
# Presets, as slider values; only those whose models are all present are offered.
PRESETS: dict[str, dict[str, int]] = {
    **{name: dict.fromkeys(members, WEIGHT_MAX) for name, members in COMBINED_MODELS.items()},
    "baseline only": {"baseline": WEIGHT_MAX},
}
INITIAL_PRESET = "bgy-combined"


class Preview(NamedTuple):
    """One blended photo: uint8 RGB (h, w, 3), MSE of normalised ab, colourfulness of the RGB."""

    rgb: np.ndarray
    mse: float
    colourfulness: float


def format_mse(value: float) -> str:
    """How the readouts show an MSE (the page uses the same format)."""
    return "–" if not math.isfinite(value) else f"{value:.4f}"


def format_colourfulness(value: float) -> str:
    """How the readouts show a colourfulness (the page uses the same format)."""
    return "–" if not math.isfinite(value) else f"{value:.2f}"


# --- the reference computation the page reproduces ------------------------------------------------


def quantize_lightness(lightness: np.ndarray) -> np.ndarray:
    """L in [0, 100] -> uint8."""
    return np.clip(np.rint(np.asarray(lightness, np.float64) * L_LEVELS / L_SCALE), 0, L_LEVELS).astype(np.uint8)


def dequantize_lightness(q: np.ndarray) -> np.ndarray:
    """uint8 -> L in [0, 100] (float64), as the page computes it: q * 100 / 255."""
    return np.asarray(q).astype(np.float64) * L_SCALE / L_LEVELS


def quantize_ab(ab: np.ndarray) -> np.ndarray:
    """Normalised ab in [-1, 1] -> uint8 (0 maps to 128 exactly)."""
    return np.clip(np.rint(np.asarray(ab, np.float64) * AB_STEPS) + AB_ZERO, 0, 255).astype(np.uint8)


def dequantize_ab(q: np.ndarray) -> np.ndarray:
    """uint8 -> normalised ab (float64), as the page computes it: (q - 128) / 127."""
    return (np.asarray(q).astype(np.float64) - AB_ZERO) / AB_STEPS


def upsample_bilinear(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(C, h, w) -> (C, height, width), bilinear with pixel centres aligned and edges clamped.

    Defined here (not taken from a library) because explorer.js repeats it operation by operation:
    source row ``sy = (y + 0.5) * h / height - 0.5`` clamped to [0, h - 1], and the same for columns.
    Same size in and out is the identity.
    """
    maps = np.asarray(maps, np.float64)
    _, h, w = maps.shape
    y0, y1, fy = bilinear_taps(height, h, np.float64)
    x0, x1, fx = bilinear_taps(width, w, np.float64)
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


def normalized_weights(weights: Sequence[float]) -> np.ndarray:
    """Weights divided by their sum (as every blend does); all zero is a UserError with the page's message."""
    return normalize_weights(weights, all_zero=ZERO_MESSAGE)


def blend_ab(ab_members: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Weighted mean over members (M, 2, h, w) -> (2, h, w); summed member by member, like the page."""
    w = normalized_weights(weights)
    ab_members = np.asarray(ab_members, np.float64)
    if len(w) != len(ab_members):
        raise UserError(f"expected {len(ab_members)} weights (one per model), got {len(w)}")
    out = np.zeros(ab_members.shape[1:])
    for wi, member in zip(w, ab_members, strict=True):
        out = out + wi * member
    return out


def render(lightness: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L (h, w) in Lab units and normalised ab (2, ah, aw) -> uint8 RGB (h, w, 3).

    Lab -> sRGB by colorlib's fast float32 conversion (:func:`colorlib.lab.lab_planes_to_rgb_fast`):
    the picture only. The readouts that are Table I's numbers (the MSE) never pass through it; the
    colourfulness readout is measured on this picture. The page (explorer.js) converts in float64,
    the formulas of scikit-image's lab2rgb; the two agree within a level on a rare pixel.
    """
    h, w = lightness.shape
    ab_full = upsample_bilinear(ab, h, w)
    return planes_to_uint8(lab_planes_to_rgb_fast(lightness, ab_full[0], ab_full[1], ab_unit=AB_SCALE))


@dataclass(frozen=True)
class MseStats:
    """Second moments of one photo's members' ab maps P_i and true map t (normalised, photo area).

    MSE(w) = mean((sum_i w_i P_i - t)^2) = sum_ij w_i w_j gram_ij - 2 sum_i w_i cross_i + energy,
    with gram_ij = mean(P_i P_j), cross_i = mean(P_i t), energy = mean(t^2).
    """

    gram: tuple[tuple[float, ...], ...]
    cross: tuple[float, ...]
    energy: float

    @classmethod
    def from_maps(cls, members: np.ndarray, truth: np.ndarray) -> MseStats:
        """members (M, ...) and truth (...) at full precision and size."""
        p = np.asarray(members, np.float64).reshape(len(members), -1)
        t = np.asarray(truth, np.float64).reshape(-1)
        n = t.size
        return cls(
            tuple(tuple(float(x) for x in row) for row in p @ p.T / n),
            tuple(float(x) for x in p @ t / n),
            float(t @ t / n),
        )

    def mse(self, weights: Sequence[float]) -> float:
        """The MSE of the blend; plain loops, in the order explorer.js uses, so both give the same float."""
        w = [float(x) for x in normalized_weights(weights)]
        if len(w) != len(self.cross):
            raise UserError(f"expected {len(self.cross)} weights (one per model), got {len(w)}")
        quad = 0.0
        for i, wi in enumerate(w):
            for j, wj in enumerate(w):
                quad += wi * wj * self.gram[i][j]
        lin = 0.0
        for wi, ci in zip(w, self.cross, strict=True):
            lin += wi * ci
        return max(0.0, quad - 2.0 * lin + self.energy)


def blend_preview(
    lightness: np.ndarray,
    ab_members: np.ndarray,
    weights: Sequence[float],
    stats: MseStats | None = None,
) -> Preview:
    """The blend the explorer shows, and its readouts.

    lightness: (h, w) L in Lab units; ab_members: (M, 2, ah, aw) normalised ab; weights: M numbers
    (normalised here; all zero raises UserError with the page's message); stats: the photo's
    :class:`MseStats` for the MSE (nan without).
    """
    ab = blend_ab(ab_members, weights)
    rgb = render(lightness, ab)
    mse = stats.mse(weights) if stats is not None else math.nan
    return Preview(rgb, mse, colourfulness(rgb))


# --- the data --------------------------------------------------------------------------------------


@dataclass
class ExplorerPhoto:
    """One validation photo, cropped to its area of the working image, quantised."""

    name: str
    lightness_q: np.ndarray  # uint8 (h, w)
    ab_q: np.ndarray  # uint8 (M + 1, 2, ah, aw): the members in `models` order, then the truth
    stats: MseStats  # exact, from the full-size unquantised maps

    @property
    def lightness(self) -> np.ndarray:
        return dequantize_lightness(self.lightness_q)

    @property
    def members_ab(self) -> np.ndarray:
        return dequantize_ab(self.ab_q[:-1])

    @property
    def true_ab(self) -> np.ndarray:
        return dequantize_ab(self.ab_q[-1])

    def preview(self, weights: Sequence[float], rule: str = MEAN, temperature: float = INITIAL_TEMPERATURE) -> Preview:
        """The blend by `rule` (:mod:`colorlib.explorer.rules`); other rules' MSE is that of the stored maps."""
        if rule == MEAN:
            return blend_preview(self.lightness, self.members_ab, weights, self.stats)
        ab = combine_ab(self.members_ab, weights, rule, temperature)
        rgb = render(self.lightness, ab)
        return Preview(rgb, mse_ab(ab, self.true_ab), colourfulness(rgb))

    def original(self) -> np.ndarray:
        """The photo at working size, its colour at the stored ab resolution."""
        return render(self.lightness, self.true_ab)

    def grayscale(self) -> np.ndarray:
        """What the networks see: L alone."""
        return render(self.lightness, np.zeros((2, 1, 1)))


@dataclass
class ExplorerData:
    models: list[str]
    size: int  # the working size the models ran at
    ab_size: int  # the ab maps' size per working size
    photos: list[ExplorerPhoto]

    @property
    def presets(self) -> dict[str, dict[str, int]]:
        """Presets whose models are all present, as full slider settings."""
        return {
            name: {m: int(weights.get(m, 0)) for m in self.models}
            for name, weights in PRESETS.items()
            if set(weights) <= set(self.models)
        }

    def initial_weights(self) -> dict[str, int]:
        presets = self.presets
        return presets.get(INITIAL_PRESET) or dict.fromkeys(self.models, WEIGHT_MAX)

    def mean_mse(self, weights: Sequence[float], rule: str = MEAN, temperature: float = INITIAL_TEMPERATURE) -> float:
        """Mean over photos of each photo's MSE (how Table I averages); summed in order, like the page."""
        total = 0.0
        for p in self.photos:
            if rule == MEAN:
                total += p.stats.mse(weights)
            else:
                total += mse_ab(combine_ab(p.members_ab, weights, rule, temperature), p.true_ab)
        return total / len(self.photos)


def explorer_data(ev, max_photos: int = 32, ab_size: int = 128) -> ExplorerData:
    """Quantised explorer data from an Evaluation (validation set + predictions of trained models)."""
    models = [m for m in TRAINED_MODELS if m in ev.predictions]
    if not models:
        raise UserError(
            f"the evaluation has no trained model's predictions; the explorer needs some of {TRAINED_MODELS}"
        )
    if max_photos < 1 or ab_size < 1:
        raise UserError("max_photos and ab_size must be positive")
    val = ev.validation
    size = int(val.lightness.shape[-1])
    photos = []
    for i in range(min(max_photos, len(val.names))):
        box = val.infos[i].box
        lightness = np.asarray(val.lightness[i, 0])[box] * L_SCALE
        maps = [np.asarray(ev.predictions[m][i], np.float32)[(slice(None), *box)] for m in models]
        truth = np.asarray(val.ab[i], np.float32)[(slice(None), *box)]
        ab = np.stack([_shrink(x, size, ab_size) for x in [*maps, truth]])
        stats = MseStats.from_maps(np.stack(maps), truth)
        photos.append(ExplorerPhoto(val.names[i], quantize_lightness(lightness), quantize_ab(ab), stats))
    return ExplorerData(models, size, min(ab_size, size), photos)


def _shrink(ab: np.ndarray, size: int, ab_size: int) -> np.ndarray:
    """(2, h, w) cropped working-size ab -> (2, ah, aw) with ah = h * ab_size / size (area average)."""
    _, h, w = ab.shape
    if ab_size >= size:
        return ab
    ah, aw = max(1, round(h * ab_size / size)), max(1, round(w * ab_size / size))
    return np.stack(
        [np.asarray(Image.fromarray(np.ascontiguousarray(c, np.float32)).resize((aw, ah), Image.BOX)) for c in ab]
    )


# --- the bundle: one JSON file with PNGs inside ---------------------------------------------------


def _png(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr, np.uint8)).save(buf, format="PNG", compress_level=6)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _unpng(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))).convert("L"))


def to_bundle(data: ExplorerData) -> dict:
    """The JSON-able bundle: grayscale PNGs, L as one image, the ab planes stacked vertically."""
    photos = []
    for p in data.photos:
        n, _, ah, aw = p.ab_q.shape
        photos.append(
            {
                "name": p.name,
                "height": int(p.lightness_q.shape[0]),
                "width": int(p.lightness_q.shape[1]),
                "ab_height": int(ah),
                "ab_width": int(aw),
                "L": _png(p.lightness_q),
                "ab": _png(p.ab_q.reshape(n * 2 * ah, aw)),
                "mse_stats": {"gram": p.stats.gram, "cross": p.stats.cross, "energy": p.stats.energy},
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "models": data.models,
        "size": data.size,
        "ab_size": data.ab_size,
        "quantisation": {"L_levels": L_LEVELS, "ab_zero": AB_ZERO, "ab_steps": AB_STEPS, "ab_scale": AB_SCALE},
        "weight_max": WEIGHT_MAX,
        "presets": data.presets,
        "initial": data.initial_weights(),
        "photos": photos,
    }


def from_bundle(bundle: Mapping) -> ExplorerData:
    """Decode a bundle back into the arrays the page sees."""
    if bundle.get("format") != BUNDLE_FORMAT:
        raise UserError(f"not an explorer bundle (format {bundle.get('format')!r}, expected {BUNDLE_FORMAT!r})")
    models = list(bundle["models"])
    photos = []
    for p in bundle["photos"]:
        ab = _unpng(p["ab"]).reshape(len(models) + 1, 2, p["ab_height"], p["ab_width"])
        st = p["mse_stats"]
        stats = MseStats(tuple(tuple(row) for row in st["gram"]), tuple(st["cross"]), st["energy"])
        photos.append(ExplorerPhoto(p["name"], _unpng(p["L"]), ab, stats))
    return ExplorerData(models, int(bundle["size"]), int(bundle["ab_size"]), photos)


def export_explorer_data(ev, out_dir: Path, max_photos: int = 32, ab_size: int = 128) -> Path:
    """Write the explorer bundle (``explorer.json``) into out_dir; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / BUNDLE_NAME
    text = json.dumps(to_bundle(explorer_data(ev, max_photos, ab_size)), separators=(",", ":"))
    atomic_write_text(path, text)
    return path


def load_explorer_data(path: Path) -> ExplorerData:
    """Read a bundle written by :func:`export_explorer_data`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no explorer bundle at {path}; run the explorer notebook (or export_explorer_data) first")
    return from_bundle(json.loads(path.read_text(encoding="utf-8")))


# --- the page's HTML --------------------------------------------------------------------------------


def explorer_html(bundle: Mapping | Path, data_src: str | None = None, inline: bool = True) -> str:
    """The static explorer for the book: controls, canvases, readouts and (inline) the data.

    ``book/_static/explorer.js`` brings it to life. With ``inline`` (the default) the bundle travels
    inside the page, so it works from a web server and from file:// alike; otherwise the script
    fetches ``data_src`` (a URL relative to the page, served over http).
    """
    if isinstance(bundle, (str, Path)):
        bundle = json.loads(Path(bundle).read_text(encoding="utf-8"))
    if not inline and not data_src:
        raise UserError("explorer_html needs data_src when the data is not inlined")
    esc = html.escape
    initial = bundle["initial"]
    n = len(bundle["photos"])
    options = "".join(f'<option value="{i}">{esc(p["name"])}</option>' for i, p in enumerate(bundle["photos"]))
    presets = "".join(
        f'<button type="button" id="preset-{esc(_slug(name))}" data-preset="{esc(name)}">{esc(name)}</button>'
        for name in bundle["presets"]
    )
    sliders = "".join(
        f'<div class="cx-slider"><label for="w-{esc(m)}">{esc(m)}</label>'
        f'<input type="range" id="w-{esc(m)}" data-model="{esc(m)}" min="0" max="{bundle["weight_max"]}" step="1"'
        f' value="{int(initial.get(m, 0))}"><output id="share-{esc(m)}" for="w-{esc(m)}"></output></div>'
        for m in bundle["models"]
    )
    figures = "".join(
        f'<figure><canvas id="canvas-{role}" data-role="{role}"></canvas><figcaption>{caption}</figcaption></figure>'
        for role, caption in (("original", "original"), ("gray", "grayscale (the input)"), ("blend", "blend"))
    )
    src = f' data-src="{esc(data_src)}"' if data_src else ""
    data = ""
    if inline:
        text = json.dumps(bundle, separators=(",", ":")).replace("</", "<\\/")
        data = f'<script type="application/json" class="colorlib-explorer-data">{text}</script>'
    return (
        f'<div id="colorlib-explorer" class="colorlib-explorer"{src} data-zero-message="{esc(ZERO_MESSAGE)}">'
        '<p class="cx-status" id="explorer-status">These controls come alive in the built book'
        " (its explorer.js); in Jupyter, use the widget (colorlib.explorer.widget.explorer).</p>"
        f'<div class="cx-controls"><label>photo <select id="photo-select">{options}</select></label>'
        f'<div class="cx-presets">presets: {presets}</div>'
        f'<div class="cx-sliders">{sliders}</div>{controls_html()}</div>'
        f'<div class="cx-images">{figures}</div>'
        '<p class="cx-readouts">MSE (this photo): <span id="mse-readout">–</span>'
        f' · mean MSE ({n} photos): <span id="mse-all-readout">–</span>'
        ' · colourfulness: <span id="colourfulness-readout">–</span>'
        ' (original: <span id="colourfulness-original">–</span>)</p>'
        '<p class="cx-message" id="explorer-message" role="status"></p>'
        f"{data}</div>"
    )


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())
