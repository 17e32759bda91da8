"""The explorer's data: every validation photo with each trained model's prediction, packed into one
small JSON bundle that the book inlines into its page and the widget reads back.

The networks run once, when the page is built (:func:`explorer_data`); the page and the widget only
re-blend the stored maps, quantised and maybe smaller than the photo (``ab_size``; colour is smooth).
The weighted mean's MSE comes from each photo's exact second moments (:class:`MseStats`, from the
full-size predictions), so a preset's readout equals Table I's number. The bundle also carries the
contract (:func:`colorlib.explorer.contract.contract`), from which the page reads its constants.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .. import TRAINED_MODELS
from ..combination_rules import MEAN
from ..errors import UserError
from ..files import atomic_write_text
from ..lab import L_SCALE
from ..scoring.metrics import colourfulness, mse_ab
from .blending import (
    Blend,
    MseStats,
    Preview,
    dequantize_ab,
    dequantize_lightness,
    quantize_ab,
    quantize_lightness,
    render,
)
from .contract import BUNDLE_FORMAT, INITIAL_PRESET, PRESETS, VIVIDNESS_INITIAL, WEIGHT_MAX, Preset, contract

BUNDLE_NAME = "explorer.json"


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
    def view_shape(self) -> tuple[int, int]:
        """The shape of the pictures shown of it."""
        return self.lightness_q.shape

    @property
    def members_ab(self) -> np.ndarray:
        return dequantize_ab(self.ab_q[:-1])

    @property
    def true_ab(self) -> np.ndarray:
        return dequantize_ab(self.ab_q[-1])

    def mse(self, blend: Blend, ab: np.ndarray | None = None) -> float:
        """The blend's MSE: the weighted mean's exact, from the moments; other rules' on the stored maps (after
        the clipping, so exact on them). `ab`: the blend's map, where it is at hand."""
        if blend.rule == MEAN:
            return self.stats.mse(blend.weights, blend.k)
        return mse_ab(blend.ab(self.members_ab) if ab is None else ab, self.true_ab)

    def preview(self, blend: Blend) -> Preview:
        """The blend (:class:`~colorlib.explorer.blending.Blend`) and its readouts."""
        ab = blend.ab(self.members_ab)
        rgb = render(self.lightness, ab)
        return Preview(rgb, self.mse(blend, ab), colourfulness(rgb))

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
    preset_list: Mapping[str, Preset] = field(default_factory=lambda: dict(PRESETS))

    @property
    def offered(self) -> dict[str, Preset]:
        """Presets whose models are all present, as full slider settings, with their vividness."""
        return {
            name: Preset({m: int(p.weights.get(m, 0)) for m in self.models}, float(p.vividness))
            for name, p in self.preset_list.items()
            if set(p.weights) <= set(self.models)
        }

    @property
    def presets(self) -> dict[str, dict[str, int]]:
        """The offered presets' slider values."""
        return {name: p.weights for name, p in self.offered.items()}

    def initial_weights(self) -> dict[str, int]:
        return self.presets.get(INITIAL_PRESET) or dict.fromkeys(self.models, WEIGHT_MAX)

    def mean_mse(self, blend: Blend) -> float:
        """Mean over photos of each photo's MSE (how Table I averages); summed in order, like the page."""
        total = 0.0  # a loop, not sum(): Python 3.12's sum() of floats compensates, the page does not
        for p in self.photos:
            total += p.mse(blend)
        return total / len(self.photos)

    def may_clip(self, weights: Sequence[float], k: float = VIVIDNESS_INITIAL) -> bool:
        """Whether the weighted mean's MSE (from moments) is approximate for some photo: clipping can bite."""
        return any(p.stats.may_clip(weights, k) for p in self.photos)


def explorer_data(
    ev, max_photos: int = 32, ab_size: int = 128, presets: Mapping[str, Preset] = PRESETS
) -> ExplorerData:
    """Quantised explorer data from an Evaluation (validation set + predictions of trained models);
    `presets`: the presets to offer (the contract's, or those plus one with a fitted vividness)."""
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
    return ExplorerData(models, size, min(ab_size, size), photos, dict(presets))


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


def to_png(arr: np.ndarray) -> bytes:
    """A uint8 image (grey or RGB) as PNG bytes (the widget shows its pictures so too)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr, np.uint8)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _png(arr: np.ndarray) -> str:
    return base64.b64encode(to_png(arr)).decode("ascii")


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
                "mse_stats": asdict(p.stats),  # gram, cross, energy, peak
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "models": data.models,
        "size": data.size,
        "ab_size": data.ab_size,
        "contract": contract(),
        "presets": {name: {"weights": p.weights, "vividness": p.vividness} for name, p in data.offered.items()},
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
        stats = MseStats(tuple(tuple(row) for row in st["gram"]), tuple(st["cross"]), st["energy"], tuple(st["peak"]))
        photos.append(ExplorerPhoto(p["name"], _unpng(p["L"]), ab, stats))
    presets = {name: Preset(dict(p["weights"]), float(p["vividness"])) for name, p in bundle["presets"].items()}
    return ExplorerData(models, int(bundle["size"]), int(bundle["ab_size"]), photos, presets)


def export_explorer_data(
    ev, out_dir: Path, max_photos: int = 32, ab_size: int = 128, presets: Mapping[str, Preset] = PRESETS
) -> Path:
    """Write the explorer bundle (``explorer.json``) into out_dir; returns its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / BUNDLE_NAME
    text = json.dumps(to_bundle(explorer_data(ev, max_photos, ab_size, presets)), separators=(",", ":"))
    atomic_write_text(path, text)
    return path


def load_explorer_data(path: Path) -> ExplorerData:
    """Read a bundle written by :func:`export_explorer_data`."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no explorer bundle at {path}; run the explorer notebook (or export_explorer_data) first")
    return from_bundle(json.loads(path.read_text(encoding="utf-8")))
