"""A reader's own photo in the explorer: colorized by each trained model, then blended like the others.

This is ``colorlib colorize`` taken apart so that the blend can move: the photo is read as colorlib
reads photos, every model predicts its ab map once, and each blend is joined to the photo's
full-resolution lightness by :func:`colorlib.lab.postprocess`, colorize's own way back; so a blend of one
model at weight 1 is exactly what ``colorlib colorize --models that-model`` writes. The widget uses it
for its upload; the page does the same in the browser (``book/_static/explorer-own.js``).

A photo in colour is its own truth: :meth:`OwnPhoto.score` scores a blend against it as Table I scores
(MSE of normalised ab and mean ΔE2000, at the working size); a grey photo has none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import torch
from PIL import Image

from ..data import decode_image
from ..ensemble import Colorizer
from ..lab import PadInfo, grayscale, postprocess, preprocess, preprocess_lightness_batch
from ..scoring.metrics import PhotoScores, colourfulness, score_photo
from .blending import Blend, Preview, in_colour
from .contract import OWN_PREVIEW_PIXELS


@dataclass
class OwnPhoto:
    """A photo and every model's ab prediction of it, at the working size (normalised ab)."""

    name: str
    rgb: np.ndarray  # uint8 (H, W, 3), as colorlib reads it
    info: PadInfo
    members_ab: np.ndarray  # float32 (M, 2, S, S): the models in the explorer's order

    @classmethod
    def from_bytes(cls, name: str, data: bytes, colorizers: Sequence[Colorizer]) -> OwnPhoto:
        """Decode file bytes (a bad file is an ImageLoadError naming it) and run every model once."""
        return cls.from_rgb(name, decode_image(data, name), colorizers)

    @classmethod
    def from_rgb(cls, name: str, rgb: np.ndarray, colorizers: Sequence[Colorizer]) -> OwnPhoto:
        sizes = {c.image_size for c in colorizers}
        if len(sizes) != 1:
            raise ValueError(f"the models work at different sizes: {sorted(sizes)}")
        lightness, infos = preprocess_lightness_batch([rgb], sizes.pop())
        x = torch.from_numpy(lightness)
        maps = np.stack([c.predict_ab(x).numpy()[0] for c in colorizers]).astype(np.float32)
        return cls(name, np.asarray(rgb), infos[0], maps)

    @property
    def shape(self) -> tuple[int, int]:
        """The photo's own size (height, width)."""
        return self.rgb.shape[:2]

    @property
    def view_shape(self) -> tuple[int, int]:
        """The shape of the pictures shown of it (at most the preview size)."""
        return self._preview_photo[0].shape[:2]

    def combined_ab(self, blend: Blend) -> np.ndarray:
        """The blend's ab map at the working size (float32, as colorize's ensembles give it)."""
        return blend.ab(self.members_ab).astype(np.float32)

    def render(self, blend: Blend) -> np.ndarray:
        """The blend at the photo's full resolution: uint8 RGB, colorize's way back."""
        return postprocess(self.rgb, self.combined_ab(blend), self.info)

    @cached_property
    def truth(self) -> tuple[np.ndarray, np.ndarray]:
        """The photo as a validation photo is scored: L (1, S, S) in [0, 1] and its own ab (2, S, S)."""
        lightness, ab, _ = preprocess(self.rgb, self.members_ab.shape[-1])
        return lightness, ab

    @property
    def in_colour(self) -> bool:
        """Whether the photo has colours of its own to score a blend against."""
        return in_colour(self.truth[1][(slice(None), *self.info.box)])

    def score(self, blend: Blend) -> PhotoScores | None:
        """The blend scored against the photo's own colours (its .mse and .delta_e); None for a grey photo."""
        if not self.in_colour:
            return None
        lightness, ab = self.truth
        return score_photo(lightness, self.combined_ab(blend), ab, self.info)

    @cached_property
    def _preview_photo(self) -> tuple[np.ndarray, PadInfo]:
        """The photo at most OWN_PREVIEW_PIXELS large, and where it sits in the working square."""
        h, w = self.shape
        if h * w <= OWN_PREVIEW_PIXELS:
            return self.rgb, self.info
        s = math.sqrt(OWN_PREVIEW_PIXELS / (h * w))
        size = (max(1, int(w * s)), max(1, int(h * s)))
        small = np.asarray(Image.fromarray(self.rgb).resize(size, Image.BOX))
        return small, replace(self.info, height=size[1], width=size[0])

    def preview(self, blend: Blend) -> Preview:
        """What the explorer shows: the blend (at most the preview size), its colourfulness (the MSE: see
        :meth:`score`)."""
        small, info = self._preview_photo
        rgb = postprocess(small, self.combined_ab(blend), info)
        return Preview(rgb, math.nan, colourfulness(rgb))

    def original(self) -> np.ndarray:
        return self._preview_photo[0]

    def grayscale(self) -> np.ndarray:
        return grayscale(self._preview_photo[0])
