"""Lab transforms against known CIE values, round trips, and resize-and-pad."""

import numpy as np
import pytest

from colorlib import lab


@pytest.mark.parametrize(
    "rgb, expected",
    [
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((0, 255, 0), (87.73, -86.18, 83.18)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
    ],
)
def test_rgb_to_lab_matches_cie_reference(rgb, expected):
    out = lab.rgb_to_lab(np.array([[rgb]], dtype=np.uint8))[0, 0]
    np.testing.assert_allclose(out, expected, atol=0.02)


def test_lightness_alone_equals_the_l_of_the_full_conversion():
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)
    photo[0, :4] = [[0, 0, 0], [1, 1, 1], [10, 10, 10], [255, 255, 255]]  # both branches of both curves
    np.testing.assert_allclose(lab.lab_lightness(photo), lab.rgb_to_lab(photo)[..., 0], rtol=0, atol=1e-9)
    as_float = photo / 255.0
    np.testing.assert_allclose(lab.lab_lightness(as_float), lab.rgb_to_lab(as_float)[..., 0], rtol=0, atol=1e-9)


def test_lab_round_trip():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    back = lab.rgb_to_uint8(lab.lab_to_rgb(lab.rgb_to_lab(rgb)))
    assert np.abs(back.astype(int) - rgb).max() <= 1


def test_normalisation_ranges_and_inverse():
    ab = np.array([-200.0, -128.0, 0.0, 64.0, 127.0, 300.0])
    norm = lab.normalize_ab(ab)
    assert norm.min() == -1.0 and norm.max() == 1.0
    np.testing.assert_allclose(lab.denormalize_ab(norm[1:5]), ab[1:5], atol=1e-4)
    np.testing.assert_allclose(lab.normalize_l(np.array([0.0, 50.0, 100.0])), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("shape", [(300, 300), (120, 300), (300, 77), (5, 400)])
def test_resize_and_pad_keeps_whole_photo_and_pads_black(shape):
    h, w = shape
    rgb = np.full((h, w, 3), 200, dtype=np.uint8)
    out, info = lab.resize_and_pad(rgb, 64)
    assert out.shape == (64, 64, 3)
    assert max(info.inner_height, info.inner_width) == 64
    scale = 64 / max(h, w)
    assert (info.inner_height, info.inner_width) == (max(1, round(h * scale)), max(1, round(w * scale)))
    inside = out[info.box]
    assert inside.mean() > 190  # the photo is all there
    mask = np.ones((64, 64), bool)
    mask[info.box] = False
    assert out[mask].max() == 0 if mask.any() else True  # padding is black


def test_preprocess_shapes_and_ranges():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    lightness, ab, info = lab.preprocess(rgb, 32)
    assert lightness.shape == (1, 32, 32) and ab.shape == (2, 32, 32)
    assert lightness.dtype == np.float32 and 0 <= lightness.min() and lightness.max() <= 1
    assert -1 <= ab.min() and ab.max() <= 1
    assert (info.height, info.width) == (90, 160)


def test_postprocess_returns_input_resolution_and_keeps_lightness():
    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (75, 130, 3), dtype=np.uint8)
    lightness, ab, info = lab.preprocess(rgb, 64)
    out = lab.postprocess(rgb, ab, info)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    l_in = lab.rgb_to_lab(rgb)[..., 0]
    l_out = lab.rgb_to_lab(out)[..., 0]
    # L is the photo's own full-resolution L (up to gamut clipping and uint8 rounding)
    assert np.median(np.abs(l_in - l_out)) < 1.0


def test_postprocess_with_true_ab_reproduces_a_smooth_photo():
    y, x = np.mgrid[0:120, 0:200]
    rgb = np.stack([x * 255 // 200, y * 255 // 120, np.full_like(x, 128)], -1).astype(np.uint8)
    _, ab, info = lab.preprocess(rgb, 64)
    out = lab.postprocess(rgb, ab, info)
    assert np.abs(out.astype(int) - rgb).mean() < 3


def test_grayscale_has_no_colour():
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 255
    g = lab.grayscale(rgb)
    assert np.abs(lab.rgb_to_lab(g)[..., 1:]).max() < 0.5


def test_pad_info_rejects_bad_sizes():
    with pytest.raises(ValueError):
        lab.pad_info(0, 10, 32)
