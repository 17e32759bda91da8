"""The ensemble-weight explorer as a Jupyter widget: the book's static explorer (``book/_static/explorer.js``)
with the same data, numbers and contract (:mod:`colorlib.explorer.contract`).

Moving a control (a slider per model, presets, photo, rule, temperature, vividness) re-combines the
stored ab predictions (no network runs). Its pictures come from :func:`colorlib.explorer.blending.render`
(colorlib's fast float32 Lab -> sRGB; the MSE readouts are Table I's numbers, computed without it).
With the checkpoints (``explorer(data, checkpoints=folder)``) an uploaded photo is run through the six
models once (:class:`colorlib.explorer.own.OwnPhoto`) and the same controls blend it.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from ..combination_rules import INITIAL_TEMPERATURE, MEAN, RULES, TEMPERATURES
from ..ensemble import load_colorizer
from ..errors import UserError
from ..scoring.metrics import colourfulness
from .blending import Blend, normalized_weights
from .bundle import ExplorerData, explorer_data, to_png
from .contract import (
    APPROXIMATE_MESSAGE,
    BLANK,
    CAPTIONS,
    ID_PREFIXES,
    IDS,
    NO_VALUE,
    OWN_NO_TRUTH,
    OWN_SCORED,
    TEXT,
    VIVIDNESS_INITIAL,
    VIVIDNESS_LABEL,
    VIVIDNESS_MAX,
    VIVIDNESS_MIN,
    VIVIDNESS_NOTE,
    VIVIDNESS_STEP,
    WEIGHT_MAX,
    ZERO_MESSAGE,
    format_colourfulness,
    format_delta_e,
    format_mse,
    format_temperature,
    rule_note,
)
from .own import OwnPhoto

DISPLAY_WIDTH = 256
OWN = -1  # the photo picker's value for the reader's own photo


class WeightExplorer(widgets.VBox):
    """The explorer; its parts are attributes so code (and tests) can drive it."""

    def __init__(self, data: ExplorerData, checkpoints: Path | None = None):
        self.data = data
        self.checkpoints = Path(checkpoints) if checkpoints is not None else None
        self._colorizers: list | None = None
        self.own: OwnPhoto | None = None
        self._holding = False
        self._cache: dict[int, tuple[bytes, bytes, str]] = {}
        self._mean_mse: dict[tuple, float] = {}  # (rule, temperature, models in use, k) -> mean MSE
        initial = data.initial_weights()
        self.sliders = {
            m: widgets.IntSlider(value=initial.get(m, 0), min=0, max=WEIGHT_MAX, step=1, description=m)
            for m in data.models
        }
        self.shares = {m: widgets.Label() for m in data.models}
        self.presets = {name: widgets.Button(description=name) for name in data.presets}
        self.photo = widgets.Dropdown(
            options=[(p.name, i) for i, p in enumerate(data.photos)], value=0, description=TEXT["photo"]
        )
        self.rule = widgets.Dropdown(
            options=[(r.label, n) for n, r in RULES.items()], value=MEAN, description=TEXT["rule"]
        )
        self.rule_note = widgets.Label()
        self.temperature = widgets.SelectionSlider(
            options=[(format_temperature(t), t) for t in TEMPERATURES], value=INITIAL_TEMPERATURE, description="T"
        )
        self.vividness = widgets.FloatSlider(
            value=VIVIDNESS_INITIAL,
            min=VIVIDNESS_MIN,
            max=VIVIDNESS_MAX,
            step=VIVIDNESS_STEP,
            description=VIVIDNESS_LABEL,
            readout_format=".2f",
        )
        self.images = {role: widgets.Image(format="png", width=DISPLAY_WIDTH) for role in CAPTIONS}
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="your photo")
        self.upload.disabled = self.checkpoints is None
        self.upload_status = widgets.Label(
            "" if self.checkpoints else "(your own photo needs the checkpoints: explorer(data, checkpoints=...))"
        )
        self.mse_readout = widgets.Label()
        self.mse_all_readout = widgets.Label()
        self.colourfulness_readout = widgets.Label()
        self.colourfulness_original = widgets.Label()
        self.delta_e_readout = widgets.Label()
        self.delta_e_box = widgets.HBox([widgets.Label(f"· {TEXT['delta_e']}"), self.delta_e_readout])
        self.score_note = widgets.Label()
        self.message = widgets.Label()
        # Each part carries a CSS class named like its element id on the static page (``w-blue``,
        # ``mse-readout``...), so that in a browser, and in the browser test, it can be found.
        parts = {"photo": self.photo, "message": self.message, "rule": self.rule, "rule_note": self.rule_note}
        parts |= {"temperature": self.temperature, "vividness": self.vividness, "score_note": self.score_note}
        parts |= {"mse": self.mse_readout, "mse_all": self.mse_all_readout, "delta_e": self.delta_e_readout}
        parts |= {"colourfulness": self.colourfulness_readout, "original": self.colourfulness_original}
        parts |= {"own_file": self.upload, "own_status": self.upload_status}
        named = {IDS[key]: part for key, part in parts.items()} | self.images
        for prefix, group in ((ID_PREFIXES["weight"], self.sliders), (ID_PREFIXES["share"], self.shares)):
            named |= {prefix + m: part for m, part in group.items()}
        for name, part in named.items():
            part.add_class(f"colorlib-{name}")
        for button in self.presets.values():
            button.add_class("colorlib-preset")

        for slider in self.sliders.values():
            slider.observe(lambda _: self.update(), names="value")
        for name, button in self.presets.items():
            button.on_click(lambda _, name=name: self.apply_preset(name))
        for control in (self.photo, self.rule, self.temperature, self.vividness):
            control.observe(lambda _: self.update(), names="value")
        self.upload.observe(lambda change: self._uploaded(change["new"]), names="value")

        readouts = [widgets.Label(TEXT["mse"]), self.mse_readout, self.delta_e_box]
        readouts += [widgets.Label(f"· {TEXT['mse_all'].format(n=len(data.photos))}"), self.mse_all_readout]
        readouts += [widgets.Label(f"· {TEXT['colourfulness']}"), self.colourfulness_readout]
        readouts += [widgets.Label(f"({TEXT['original']}"), self.colourfulness_original, widgets.Label(")")]
        row = lambda *ws: widgets.HBox(list(ws))  # noqa: E731
        super().__init__(
            [
                row(self.upload, self.upload_status),
                row(self.photo, widgets.Label(TEXT["presets"]), *self.presets.values()),
                row(
                    widgets.VBox([row(self.sliders[m], self.shares[m]) for m in data.models]),
                    widgets.VBox(
                        [self.rule, self.rule_note, self.temperature, self.vividness, widgets.Label(VIVIDNESS_NOTE)]
                    ),
                ),
                row(*(widgets.VBox([self.images[r], widgets.Label(c)]) for r, c in CAPTIONS.items())),
                row(*readouts),
                self.score_note,
                self.message,
                widgets.HTML(f"<small>{TEXT['notes']}</small>"),
            ]
        )
        self.add_class("colorlib-explorer")
        self.update()

    def weights(self) -> list[int]:
        """The slider values, in model order (not normalised)."""
        return [self.sliders[m].value for m in self.data.models]

    def blend(self) -> Blend:
        """The blend the controls set."""
        return Blend(self.weights(), self.rule.value, self.temperature.value, self.vividness.value)

    def set_weights(self, weights: dict[str, int]) -> None:
        """Set several sliders at once, re-blending once."""
        with self._hold():
            for m, slider in self.sliders.items():
                slider.value = int(weights.get(m, 0))
        self.update()

    def set_rule(self, rule: str, temperature: float | None = None) -> None:
        """Pick a rule (and the temperature, for the softmax family), re-blending once."""
        with self._hold():
            self.rule.value = rule
            if temperature is not None:
                self.temperature.value = temperature
        self.update()

    def apply_preset(self, name: str) -> None:
        """Set the preset's sliders and its vividness, re-blending once."""
        preset = self.data.offered[name]
        with self._hold():
            self.vividness.value = preset.vividness
        self.set_weights(preset.weights)

    @contextmanager
    def _hold(self):
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _current(self):
        """The photo shown: a validation photo, or the reader's own."""
        return self.own if self.photo.value == OWN else self.data.photos[self.photo.value]

    def _photo_images(self, key: int) -> tuple[bytes, bytes, str]:
        if key not in self._cache:
            p = self._current()
            original = p.original()
            self._cache[key] = (to_png(original), to_png(p.grayscale()), format_colourfulness(colourfulness(original)))
        return self._cache[key]

    def _uploaded(self, files) -> None:
        """An upload: run every model on the photo once, offer it in the picker and show it."""
        if not files:
            return
        file = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        name = file.get("name") or TEXT["own_unnamed"]
        self.upload_status.value = f"colorizing {name} with {len(self.data.models)} models..."
        try:
            if self._colorizers is None:  # each trained model on its own, in the explorer's order
                self._colorizers = [load_colorizer([m], self.checkpoints) for m in self.data.models]
            own = OwnPhoto.from_bytes(name, bytes(file["content"]), self._colorizers)
        except UserError as exc:  # an unreadable file, a missing checkpoint: say so, keep what is shown
            self.upload_status.value = str(exc)
            return
        self.own = own
        self._cache.pop(OWN, None)
        h, w = own.shape
        label = TEXT["own_label"].format(name=name, width=w, height=h)
        options = [o for o in self.photo.options if o[1] != OWN] + [(label, OWN)]
        with self._hold():
            self.photo.options = options
            self.photo.value = OWN
        self.upload_status.value = f"{name}: colorized by the {len(self.data.models)} models; the sliders blend it"
        self.update()

    def update(self) -> None:
        """Re-blend the current photo with the current weights and refresh every readout."""
        if self._holding:
            return
        photo = self._current()
        original, gray, original_colourfulness = self._photo_images(self.photo.value)
        self.images["original"].value = original
        self.images["gray"].value = gray
        self.colourfulness_original.value = original_colourfulness
        blend = self.blend()
        weights, uses = blend.weights, RULES[blend.rule]
        score = photo.score(blend) if photo is self.own and any(weights) else None
        self._show_scores(photo, score, uses.uses_weights and any(weights) and self.data.may_clip(weights, blend.k))
        self.rule_note.value = rule_note(blend.rule)
        self.temperature.disabled = not uses.uses_temperature
        self.temperature.layout.display = None if uses.uses_temperature else "none"
        if sum(weights) == 0:
            for label in self.shares.values():
                label.value = NO_VALUE
            self.message.value = ZERO_MESSAGE
            self.mse_readout.value = self.mse_all_readout.value = self.colourfulness_readout.value = NO_VALUE
            self.images["blend"].value = to_png(np.full((*photo.view_shape, 3), BLANK, np.uint8))
            return
        for m, share, w in zip(self.data.models, normalized_weights(weights), weights, strict=True):
            taken = TEXT["share_in"] if w > 0 else NO_VALUE
            self.shares[m].value = f"{100 * share:.0f}%" if uses.uses_weights else taken
        preview = photo.preview(blend)
        self.message.value = ""
        self.images["blend"].value = to_png(preview.rgb)
        self.mse_readout.value = format_mse(score.mse if score else preview.mse)
        self.mse_all_readout.value = format_mse(self._all_photos_mse(blend))
        self.colourfulness_readout.value = format_colourfulness(preview.colourfulness)

    def _show_scores(self, photo, score, approximate: bool) -> None:
        """The ΔE2000 readout (a reader's photo in colour) and the note under the readouts."""
        self.delta_e_box.layout.display = None if score else "none"
        self.delta_e_readout.value = format_delta_e(score.delta_e) if score else NO_VALUE
        notes = [APPROXIMATE_MESSAGE] if approximate else []
        if photo is self.own:
            notes.append(OWN_SCORED if photo.in_colour else OWN_NO_TRUTH)
        self.score_note.value = " ".join(notes)

    def _all_photos_mse(self, blend: Blend) -> float:
        rule = RULES[blend.rule]
        if rule.uses_weights:
            return self.data.mean_mse(blend)
        temperature = blend.temperature if rule.uses_temperature else None
        key = (blend.rule, temperature, tuple(w > 0 for w in blend.weights), blend.k)
        if key not in self._mean_mse:
            self._mean_mse[key] = self.data.mean_mse(blend)
        return self._mean_mse[key]


def explorer(ev, max_photos: int = 32, ab_size: int = 128, checkpoints: Path | None = None) -> WeightExplorer:
    """The explorer for an Evaluation (or ready ExplorerData, e.g. the book's bundle, to show the same data);
    with `checkpoints`, the folder of the models' checkpoints, it also colorizes an uploaded photo."""
    data = ev if isinstance(ev, ExplorerData) else explorer_data(ev, max_photos, ab_size)
    return WeightExplorer(data, checkpoints)
