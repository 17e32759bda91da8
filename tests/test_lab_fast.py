"""The fast float32 Lab -> sRGB conversion against scikit-image's float64 lab2rgb, and where each is used.

Tolerances (colorlib.lab): FAST_RGB_MAX_ERROR on [0, 1] RGB (measured 1.7e-5 at worst over the
gamut, near the sRGB curve's knee; about 6e-6 elsewhere), and as uint8 the two agree exactly
except for pixel channels one level apart, at most FAST_UINT8_MAX_SHARE of them (measured 2e-5).
"""

import numpy as np
import pytest

from colorlib import lab
from colorlib.data import load_image
from colorlib.scoring import metrics


def _lab_samples() -> np.ndarray:
    """Lab values over the whole valid range: random, a grid, and the corners (most are out of gamut)."""
    rng = np.random.default_rng(13)
    n = 200_000
    random = np.stack([rng.uniform(0, 100, n), rng.uniform(-128, 127, n), rng.uniform(-128, 127, n)], -1)
    axes = (np.linspace(0, 100, 21), np.linspace(-128, 127, 52), np.linspace(-128, 127, 52))
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    corners = np.array([[L, a, b] for L in (0, 100) for a in (-128, 0, 127) for b in (-128, 0, 127)], float)
    return np.concatenate([random, grid, corners])


def _fast(values: np.ndarray) -> np.ndarray:
    """The fast conversion of Lab (..., 3), as (..., 3) like lab_to_rgb."""
    return np.moveaxis(lab.lab_planes_to_rgb_fast(values[..., 0], values[..., 1], values[..., 2]), 0, -1)


def _assert_agree(ref: np.ndarray, fast: np.ndarray) -> None:
    err = np.abs(fast.astype(np.float64) - ref).max()
    assert err <= lab.FAST_RGB_MAX_ERROR, f"max |float32 - float64| = {err:.3g}"
    levels = np.abs(lab.rgb_to_uint8(fast).astype(int) - lab.rgb_to_uint8(ref))
    assert levels.max() <= 1
    assert (levels > 0).mean() <= lab.FAST_UINT8_MAX_SHARE


def test_fast_conversion_agrees_with_scikit_image_over_the_whole_gamut():
    samples = _lab_samples()
    ref = lab.lab_to_rgb(samples)
    fast = _fast(samples)
    assert fast.dtype == np.float32 and fast.shape == samples.shape
    assert fast.min() >= 0.0 and fast.max() <= 1.0
    # the samples do reach beyond the gamut (clipped channels), negative Z included (fz < 0)
    assert np.mean((ref == 0.0) | (ref == 1.0)) > 0.2
    assert np.mean((samples[:, 0] + 16) / 116 - samples[:, 2] / 200 < 0) > 0.05
    _assert_agree(ref, fast)


def test_fast_planes_keep_shape_and_agree_with_join_lab():
    rng = np.random.default_rng(3)
    lightness = rng.uniform(0, 100, (40, 30))
    ab = rng.uniform(-128, 127, (40, 30, 2))
    planes = lab.lab_planes_to_rgb_fast(lightness, ab[..., 0], ab[..., 1])
    assert planes.shape == (3, 40, 30) and planes.dtype == np.float32
    _assert_agree(lab.join_lab(lightness, ab), np.moveaxis(planes, 0, -1))


@pytest.mark.shared_data
def test_fast_conversion_agrees_on_real_photos(shared_data):
    names = sorted(p for p in shared_data.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    for path in names[:: max(1, len(names) // 3)][:3]:
        rgb = load_image(path)
        lab_photo = lab.rgb_to_lab(rgb)
        _assert_agree(lab.lab_to_rgb(lab_photo), _fast(lab_photo))
        # colorizing: the photo's own ab, and an exaggerated one that leaves the gamut
        _, ab, info = lab.preprocess(rgb, 256)
        for pred in (ab, np.clip(ab * 2.5, -1, 1)):
            levels = np.abs(lab.postprocess(rgb, pred, info).astype(int) - lab.postprocess_reference(rgb, pred, info))
            assert levels.max() <= 1
            assert (levels > 0).mean() <= lab.FAST_UINT8_MAX_SHARE


@pytest.mark.parametrize("shape", [(300, 300), (120, 300), (300, 77), (5, 400), (40, 50)])
def test_float32_upsampling_is_scikit_images_resize(shape):
    h, w = shape
    rng = np.random.default_rng(h * w)
    size = 64
    info = lab.pad_info(h, w, size)
    pred = rng.uniform(-1, 1, (2, size, size)).astype(np.float32)
    ref = lab.upsample_ab(pred.transpose(1, 2, 0).astype(np.float64), info).transpose(2, 0, 1)
    ours = lab.upsample_planes(pred[(slice(None), *info.box)], h, w)
    assert ours.shape == (2, h, w) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


def test_postprocess_matches_the_reference_on_a_synthetic_photo():
    rng = np.random.default_rng(4)
    rgb = rng.integers(0, 256, (75, 130, 3), dtype=np.uint8)
    _, ab, info = lab.preprocess(rgb, 64)
    out = lab.postprocess(rgb, ab, info)
    ref = lab.postprocess_reference(rgb, ab, info)
    assert out.shape == ref.shape == rgb.shape and out.dtype == np.uint8 and out.flags.c_contiguous
    assert np.abs(out.astype(int) - ref).max() <= 1


def test_colorizing_input_is_the_l_of_the_full_preprocess():
    rng = np.random.default_rng(5)
    photos = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in ((90, 160, 3), (64, 64, 3), (30, 200, 3))]
    lightness, _, infos = lab.preprocess_batch(photos, 32)
    fast, fast_infos = lab.preprocess_lightness_batch(photos, 32)
    assert fast.dtype == np.float32 and fast_infos == infos
    np.testing.assert_allclose(fast, lightness, rtol=0, atol=1e-6)


def test_scores_never_use_the_fast_conversion(monkeypatch):
    """Table I's numbers come from scikit-image's float64 conversion, whatever the fast path does."""

    def refuse(*args, **kwargs):
        raise AssertionError("a score went through the fast conversion")

    monkeypatch.setattr(lab, "lab_planes_to_rgb_fast", refuse)
    rng = np.random.default_rng(6)
    info = lab.pad_info(24, 32, 32)
    lightness = rng.uniform(0, 1, (1, 32, 32))
    pred, true = rng.uniform(-0.5, 0.5, (2, 2, 32, 32))
    scores = metrics.score_photo(lightness, pred, true, info)
    rgb = lab.join_lab(lab.unpad(lightness[0], info) * 100, lab.unpad(pred.transpose(1, 2, 0), info) * lab.AB_SCALE)
    assert rgb.dtype == np.float64
    assert scores.colourfulness == metrics.colourfulness(rgb)
