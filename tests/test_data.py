"""Tests of colorlib.data: loading, hygiene (B&W, duplicates), colour scores, splits, manifests."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from io import BytesIO
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorlib import SETS, data
from colorlib.errors import ImageLoadError, UserError

SMALL = data.SplitParams(per_colour=2, baseline=4, validation=3, seed=0)
TRAINING = ("blue", "yellow", "green", "by", "bgy", "baseline")


def patch(colour: tuple, size: int = 32) -> np.ndarray:
    """A flat uint8 RGB patch of one colour."""
    return np.full((size, size, 3), colour, dtype=np.uint8)


def encode(rgb: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    """Image file bytes of a uint8 RGB array."""
    buffer = BytesIO()
    Image.fromarray(np.asarray(rgb, np.uint8)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


# --- loading --------------------------------------------------------------------------------


def test_load_rgb_jpeg(tmp_path, make_photo, synth):
    rgb = synth.textured(0, synth.SKY_BLUE, synth.GRASS, size=40)
    out = data.load_image(make_photo(tmp_path / "a.jpg", rgb, quality=95, subsampling=0))
    assert out.dtype == np.uint8 and out.shape == (40, 40, 3)
    assert np.abs(out.astype(int) - rgb).mean() < 4


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red everywhere
    rgba[:2, :, 3] = 0  # top: fully transparent
    rgba[2:, :, 3] = 255  # bottom: opaque
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = data.load_image(tmp_path / "a.png")
    assert (out[:2] == 255).all()
    assert (out[2:] == (255, 0, 0)).all()


def test_la_half_transparent_is_blended_with_white(tmp_path):
    la = np.zeros((2, 2, 2), np.uint8)
    la[..., 1] = 128  # black at half opacity
    Image.fromarray(la, "LA").save(tmp_path / "a.png")
    out = data.load_image(tmp_path / "a.png")
    assert np.all(np.abs(out.astype(int) - 127) <= 1)


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (4, 2))
    img.putpalette([0, 0, 255, 0, 255, 0] + [0] * 762)
    img.putdata([0, 0, 0, 0, 1, 1, 1, 1])  # top row index 0 (transparent), bottom index 1
    img.save(tmp_path / "a.png", transparency=0)
    out = data.load_image(tmp_path / "a.png")
    assert (out[0] == 255).all()
    assert (out[1] == (0, 255, 0)).all()


def test_palette_without_transparency(tmp_path):
    img = Image.new("P", (2, 1))
    img.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    img.putdata([0, 1])
    img.save(tmp_path / "a.gif")
    out = data.load_image(tmp_path / "a.gif")
    assert out[0].tolist() == [[10, 20, 30], [200, 100, 50]]


def test_cmyk(tmp_path):
    cmyk = np.zeros((2, 2, 4), np.uint8)
    cmyk[0, :, 0] = 255  # top: pure cyan
    cmyk[1, :, 3] = 255  # bottom: pure black ink
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "a.tif")
    out = data.load_image(tmp_path / "a.tif")
    assert (out[0] == (0, 255, 255)).all()
    assert (out[1] == (0, 0, 0)).all()


def test_16bit_gray_scaled_by_mode_range(tmp_path):
    values = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "a.png")
    with Image.open(tmp_path / "a.png") as img:
        assert img.mode.startswith("I")  # what this test is about: a high-bit mode
    out = data.load_image(tmp_path / "a.png")
    assert out.shape == (1, 3, 3)
    assert out[0, :, 0].tolist() == [0, 100, 255]
    assert (out[..., 0] == out[..., 2]).all()


def test_32bit_int_gray_scaled_as_16_bit(tmp_path):
    Image.fromarray(np.array([[0, 257 * 40, 65535]], dtype=np.int32), "I").save(tmp_path / "a.tif")
    assert data.load_image(tmp_path / "a.tif")[0, :, 1].tolist() == [0, 40, 255]


def test_float_gray(tmp_path):
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F").save(tmp_path / "a.tif")
    assert data.load_image(tmp_path / "a.tif")[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("mode", ["L", "1"])
def test_gray_and_bilevel_replicated(tmp_path, mode):
    gray = np.array([[0, 255], [255, 0]], np.uint8)
    Image.fromarray(gray, "L").convert(mode).save(tmp_path / "a.png")
    out = data.load_image(tmp_path / "a.png")
    assert out.shape == (2, 2, 3)
    assert (out == gray[..., None]).all()


def test_exif_orientation_applied(tmp_path):
    stored = np.zeros((10, 20, 3), np.uint8)  # 20 wide, 10 high
    stored[:, :10] = (255, 0, 0)  # left half red
    stored[:, 10:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(stored).save(tmp_path / "a.jpg", exif=exif, quality=95)
    out = data.load_image(tmp_path / "a.jpg").astype(int)
    assert out.shape == (20, 10, 3)
    top, bottom = out[:8].mean(axis=(0, 1)), out[12:].mean(axis=(0, 1))
    assert top[0] > 200 and top[2] < 60  # the left (red) side is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_not_an_image(tmp_path):
    (tmp_path / "a.jpg").write_text("hello")
    with pytest.raises(ImageLoadError, match=r"^a\.jpg: not an image"):
        data.load_image(tmp_path / "a.jpg")


def test_empty_file(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(ImageLoadError, match=r"^a\.png: empty file$"):
        data.load_image(tmp_path / "a.png")


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="not found"):
        data.load_image(tmp_path / "nope.jpg")


def test_truncated_jpeg(tmp_path, make_photo, synth):
    path = make_photo(tmp_path / "a.jpg", synth.textured(0, synth.GOLD, synth.GRASS), quality=95)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageLoadError, match=r"^a\.jpg: cannot decode") as info:
        data.load_image(path)
    assert "\n" not in str(info.value)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (1-bit gray) but holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_too_large_refused_from_header(tmp_path):
    (tmp_path / "big.png").write_bytes(png_header_only(8000, 6000))  # 48 Mpx, under Pillow's limit
    with pytest.raises(ImageLoadError, match=r"^big\.png: too large \(8000x6000 pixels"):
        data.load_image(tmp_path / "big.png")


def test_decompression_bomb_refused(tmp_path):
    (tmp_path / "bomb.png").write_bytes(png_header_only(20000, 20000))  # Pillow's own error
    with pytest.raises(ImageLoadError, match=r"^bomb\.png: too large"):
        data.load_image(tmp_path / "bomb.png")


# --- colour scores and B&W ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rgb", "colour"),
    [
        ((135, 206, 235), "blue"),  # sky blue
        ((0, 120, 220), "blue"),  # deep sky
        ((70, 130, 180), "blue"),  # steel blue
        ((86, 140, 40), "green"),  # grass
        ((34, 139, 34), "green"),  # forest green
        ((250, 110, 60), "yellow"),  # sunset orange
        ((255, 200, 60), "yellow"),  # gold
        ((255, 220, 0), "yellow"),  # yellow
    ],
)
def test_colour_scores_of_patches(rgb, colour):
    scores = data.colour_scores(patch(rgb))
    assert scores[colour] == 1.0
    assert sum(scores.values()) == 1.0


@pytest.mark.parametrize("rgb", [(128, 128, 128), (170, 175, 185), (220, 30, 30), (200, 0, 200)])
def test_gray_red_and_magenta_score_nothing(rgb):
    assert data.colour_scores(patch(rgb)) == {"blue": 0.0, "yellow": 0.0, "green": 0.0}


def test_scores_are_area_shares():
    rgb = np.concatenate([patch((135, 206, 235), 64)[:16], patch((86, 140, 40), 64)[16:]])
    scores = data.colour_scores(rgb)
    assert scores["blue"] == pytest.approx(0.25, abs=0.02)
    assert scores["green"] == pytest.approx(0.75, abs=0.02)
    assert scores["yellow"] == 0.0


def test_bw_detection(synth):
    assert data.describe_photo("g.png", encode(synth.gray(1))).bw
    tinted = (synth.gray(1).astype(int) + (6, 3, 0)).clip(0, 255)  # faint warm tint
    assert data.describe_photo("t.png", encode(tinted)).bw
    colour = data.describe_photo("c.png", encode(synth.textured(1, synth.GRASS, synth.GRAY)))
    assert not colour.bw
    assert colour.chroma > data.BW_CHROMA


# --- duplicates -----------------------------------------------------------------------------


def test_reencoded_jpeg_groups_with_source_and_other_photos_do_not(synth):
    source = synth.textured(7, synth.SKY_BLUE, synth.FOREST, size=128)
    records = [
        data.describe_photo("a.jpg", encode(source, "JPEG", quality=95)),
        data.describe_photo("b.jpg", encode(synth.textured(8, synth.SKY_BLUE, synth.FOREST, 128))),
        data.describe_photo("a_small.jpg", encode(source, "JPEG", quality=35)),
        data.describe_photo("c.jpg", encode(synth.textured(9, synth.GOLD, synth.GRAY, 128))),
    ]
    assert records[0].sha256 != records[2].sha256
    assert data.group_duplicates(records) == [[0, 2], [1], [3]]


def test_flat_photos_of_different_colours_are_not_duplicates():
    records = [
        data.describe_photo(f"{i}.png", encode(patch(rgb)))
        for i, rgb in enumerate([(135, 206, 235), (255, 200, 60), (86, 140, 40), (0, 0, 0)])
    ]
    assert data.group_duplicates(records) == [[0], [1], [2], [3]]


def fake_record(name: str, phash: int, sha: str | None = None, scores=None, bw=False):
    """A PhotoRecord with chosen hashes."""
    scores = scores or {"blue": 0.0, "yellow": 0.0, "green": 0.0}
    return data.PhotoRecord(name, sha or name, phash, 10, 10, 20.0, bw, scores)


def test_group_duplicates_partition_exact_and_near():
    rng = np.random.default_rng(0)
    hashes = [int(h) for h in rng.integers(0, 2**63, size=2000, dtype=np.int64)]
    records = [fake_record(f"{i:05d}", h) for i, h in enumerate(hashes)]
    records[10] = fake_record("00010", hashes[10] ^ 0b101, sha="00003")  # same bytes as 3...
    records[20] = fake_record("00020", hashes[0] ^ 0b111)  # 3 bits from record 0
    records[30] = fake_record("00030", records[20].phash ^ 0b111000)  # 3 from 20, 6 from 0
    groups = data.group_duplicates(records)
    assert sorted(i for g in groups for i in g) == list(range(2000))
    assert [0, 20, 30] in groups and [3, 10] in groups
    assert sum(len(g) > 1 for g in groups) == 2


# --- scanning -------------------------------------------------------------------------------


def test_scan_folder(photo_folder, caplog):
    report = data.scan_folder(photo_folder, progress=False)
    names = [r.name for r in report.records]
    assert names == sorted(names)
    assert set(names) == {
        "blue.jpg", "bw.jpg", "green.jpg", "green_q40.jpg", "sub/blue_copy.jpg", "yellow.png"
    }  # fmt: skip
    skipped = dict(report.skipped)
    assert skipped["notes.txt"] == "not an image file"
    assert skipped["broken.jpg"].startswith("cannot decode")
    assert ".hidden.jpg" not in skipped and report.files_seen == 8
    assert "broken.jpg" in caplog.text
    by_name = {r.name: r for r in report.records}
    assert by_name["blue.jpg"].sha256 == by_name["sub/blue_copy.jpg"].sha256
    assert by_name["bw.jpg"].bw and not by_name["green.jpg"].bw
    assert (by_name["blue.jpg"].width, by_name["blue.jpg"].height) == (96, 96)
    for colour in ("blue", "yellow", "green"):
        record = by_name[f"{colour}.jpg" if colour != "yellow" else "yellow.png"]
        assert max(record.scores, key=record.scores.get) == colour


SCAN_AND_LOAD = """
import json, sys
from pathlib import Path
from colorlib.data import load_image, scan_folder
from colorlib.errors import ImageLoadError
folder = Path(sys.argv[1])
try:
    load_image(folder / "fifo.jpg")
except ImageLoadError as exc:
    print(json.dumps({"load": str(exc), "skipped": dict(scan_folder(folder, progress=False).skipped)}))
"""


def test_fifo_and_broken_link_are_skipped_without_reading(photo_folder):
    os.mkfifo(photo_folder / "fifo.jpg")  # reading it would block forever: a hang fails by the timeout
    (photo_folder / "gone.png").symlink_to(photo_folder / "absent.png")
    proc = subprocess.run(
        [sys.executable, "-c", SCAN_AND_LOAD, str(photo_folder)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["load"] == "fifo.jpg: not a regular file (a FIFO)"
    assert result["skipped"]["fifo.jpg"] == "not a regular file (a FIFO)"
    assert result["skipped"]["gone.png"].startswith("cannot read file")


def test_scan_missing_and_not_a_folder(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        data.scan_folder(tmp_path / "nope", progress=False)
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(UserError, match="not a folder"):
        data.scan_folder(tmp_path / "file.jpg", progress=False)


def test_scan_folder_without_photos(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no usable photo"):
        data.scan_folder(tmp_path / "empty", progress=False)
    (tmp_path / "empty" / "readme.txt").write_text("x")
    (tmp_path / "empty" / "bad.jpg").write_text("x")
    with pytest.raises(UserError, match="no usable photo"):
        data.scan_folder(tmp_path / "empty", progress=False)


def test_scan_cache_reused_updated_and_corruption_ignored(photo_folder, tmp_path, make_photo, synth):
    cache_dir = tmp_path / "cache"
    first = data.scan_folder(photo_folder, progress=False, cache_dir=cache_dir)
    assert first.from_cache == 0
    second = data.scan_folder(photo_folder, progress=False, cache_dir=cache_dir)
    assert second.from_cache == first.files_seen
    assert second.records == first.records and second.skipped == first.skipped

    make_photo(photo_folder / "yellow.png", synth.textured(5, synth.GOLD, synth.GRAY, 80))
    third = data.scan_folder(photo_folder, progress=False, cache_dir=cache_dir)
    assert third.from_cache == first.files_seen - 1
    assert next(r for r in third.records if r.name == "yellow.png").width == 80

    (cache_file,) = cache_dir.glob("*.json")
    cache_file.write_text("{not json")
    fourth = data.scan_folder(photo_folder, progress=False, cache_dir=cache_dir)
    assert fourth.from_cache == 0 and fourth.records == third.records
    content = json.loads(cache_file.read_text())  # rewritten whole
    content["entries"]["blue.jpg"]["record"]["phash"] = "not hex"
    cache_file.write_text(json.dumps(content))
    fifth = data.scan_folder(photo_folder, progress=False, cache_dir=cache_dir)
    assert fifth.from_cache == first.files_seen - 1 and fifth.records == third.records


# --- splits ---------------------------------------------------------------------------------


@pytest.fixture
def split_report(split_folder) -> data.ScanReport:
    """The scan of the synthetic split folder."""
    return data.scan_folder(split_folder, progress=False)


def test_a_test_set_changes_no_other_set_and_shares_no_group(split_report):
    from dataclasses import replace

    before = data.make_manifest(split_report, SMALL, "split")
    after = data.make_manifest(split_report, replace(SMALL, test=3), "split")
    assert {k: v for k, v in after["sets"].items() if k != "test"} == before["sets"]
    assert len(after["sets"]["test"]) == 3 and "test" not in before["sets"] and "test" not in before["params"]
    group = {n: p["group"] for n, p in after["photos"].items()}
    others = {group[n] for k, names in after["sets"].items() if k != "test" for n in names}
    assert not others & {group[n] for n in after["sets"]["test"]}
    assert {k: v for k, v in after["photos"].items() if k not in after["sets"]["test"]} == before["photos"]
    with pytest.raises(UserError, match="test"):
        data.make_manifest(split_report, replace(SMALL, test=50), "split")


def test_a_calibration_set_changes_no_other_set_and_shares_no_group(split_report):
    """Calibration is drawn after every other set (test included) from a stream of its own: the sets,
    their photos and the report's other numbers stay as they were, and a manifest without it reads as before."""
    from dataclasses import replace

    before = data.make_manifest(split_report, replace(SMALL, test=3), "split")
    after = data.make_manifest(split_report, replace(SMALL, test=3, calibration=2), "split")
    assert {k: v for k, v in after["sets"].items() if k != "calibration"} == before["sets"]
    assert list(after["sets"])[-2:] == ["test", "calibration"] and len(after["sets"]["calibration"]) == 2
    assert "calibration" not in before["params"] and after["params"]["calibration"] == 2
    assert {k: v for k, v in after["photos"].items() if k not in after["sets"]["calibration"]} == before["photos"]
    group = {n: p["group"] for n, p in after["photos"].items()}
    others = {group[n] for k, names in after["sets"].items() if k != "calibration" for n in names}
    assert not others & {group[n] for n in after["sets"]["calibration"]}
    with pytest.raises(UserError, match="need at least 21: .*--calibration"):
        data.make_manifest(split_report, replace(SMALL, test=3, calibration=5), "split")


def test_manifest_sets(split_report):
    manifest = data.make_manifest(split_report, SMALL, "split")
    sets = manifest["sets"]
    assert list(sets) == list(SETS)
    assert [len(sets[s]) for s in SETS] == [2, 2, 2, 4, 6, 4, 3]
    assert sets["by"] == sets["blue"] + sets["yellow"]
    assert sets["bgy"] == sets["blue"] + sets["green"] + sets["yellow"]
    assert all(name.startswith("blue") for name in sets["blue"])
    assert all(name.startswith("yellow") for name in sets["yellow"])
    assert all(name.startswith("green") for name in sets["green"])
    photos = manifest["photos"]
    assert set(photos) == {n for names in sets.values() for n in names}
    assert "bw.jpg" not in photos
    assert not any(name.startswith("zz_") for name in photos)  # copies never represent a group


def set_groups(manifest: dict, set_name: str) -> set[int]:
    """The duplicate group ids of a set's photos."""
    return {manifest["photos"][name]["group"] for name in manifest["sets"][set_name]}


def test_no_group_straddles_two_sets(split_report):
    manifest = data.make_manifest(split_report, data.SplitParams(2, 12, 2, 0), "split")
    primary = ["blue", "yellow", "green", "baseline", "validation"]
    groups = [set_groups(manifest, s) for s in primary]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 20  # every usable one
    report = manifest["report"]
    assert report["duplicate_groups"] == 3 and report["duplicates_removed"] == 3
    assert report["bw_removed"] == 1 and report["usable_photos"] == 20


def test_manifest_is_deterministic_and_seed_changes_draws(split_report, tmp_path):
    first = data.make_manifest(split_report, SMALL, "split")
    data.write_manifest(first, tmp_path / "a.json")
    data.write_manifest(data.make_manifest(split_report, SMALL, "split"), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    other = data.make_manifest(split_report, data.SplitParams(2, 4, 3, seed=1), "split")
    assert other["sets"]["validation"] != first["sets"]["validation"]
    assert other["sets"]["blue"] == first["sets"]["blue"]
    assert data.manifest_hash(other) != data.manifest_hash(first)
    assert data.manifest_hash(first) == data.manifest_hash(json.loads(json.dumps(first)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(per_colour=5), "has 20 usable photos, but the sets need at least 911: add photos"),
        (dict(per_colour=2, baseline=10, validation=5), "need at least 21: add photos"),
        (dict(per_colour=5, baseline=1, validation=1), "the green set needs 5 photos, only 4 usable"),
        (dict(per_colour=-1), "per_colour must be a whole number >= 0, got -1"),
    ],
)
def test_too_few_photos(split_report, params, message):
    with pytest.raises(UserError, match=message) as caught:
        data.make_manifest(split_report, data.SplitParams(**params), "split")  # a negative size: SplitParams refuses
    assert params["per_colour"] < 0 or "PROFILE=smoke" in str(caught.value)  # advice that works for make too


def test_report_counts_and_scores(split_report):
    manifest = data.make_manifest(split_report, SMALL, "split")
    report = manifest["report"]
    assert report["files_seen"] == report["photos_read"] == 24 and report["skipped"] == []
    folder = report["folder_mean_scores"]
    for colour in ("blue", "yellow", "green"):
        assert report["set_mean_scores"][colour][colour] > 2 * folder[colour]
    text = data.format_report(manifest)
    assert "24" in text and "usable photos:     20" in text
    assert "validation" in text and "black-and-white:   1 removed" in text


def test_format_report_groups_skipped_files(photo_folder):
    report = data.scan_folder(photo_folder, progress=False)
    params = data.SplitParams(per_colour=1, baseline=0, validation=0)
    text = data.format_report(data.make_manifest(report, params, "photos"))
    assert "not an image file: 1 (notes.txt)" in text
    assert "cannot decode: 1 (broken.jpg)" in text


# --- manifest files -------------------------------------------------------------------------


@pytest.fixture
def manifest(split_report) -> dict:
    """A small manifest of the synthetic split folder."""
    return data.make_manifest(split_report, SMALL, "split")


def test_write_manifest_leaves_identical_file_untouched(manifest, tmp_path):
    path = tmp_path / "out" / "manifest.json"
    assert data.write_manifest(manifest, path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    assert not data.write_manifest(manifest, path)
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert data.read_manifest(path) == manifest
    changed = {**manifest, "data_dir": "elsewhere"}
    assert data.write_manifest(changed, path)
    assert data.read_manifest(path)["data_dir"] == "elsewhere"
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]  # no temporary left


def test_read_manifest_errors(manifest, tmp_path):
    with pytest.raises(UserError, match="not found"):
        data.read_manifest(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(UserError, match="not valid JSON"):
        data.read_manifest(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something/9"}))
    with pytest.raises(UserError, match="not a colorlib-manifest/1"):
        data.read_manifest(tmp_path / "other.json")
    lacking = json.loads(json.dumps(manifest))
    del lacking["sets"]["green"]
    (tmp_path / "lacking.json").write_text(json.dumps(lacking))
    with pytest.raises(UserError, match="green"):
        data.read_manifest(tmp_path / "lacking.json")


def test_load_set(manifest, split_folder):
    photos = data.load_set(manifest, "by", split_folder)
    assert [name for name, _ in photos] == manifest["sets"]["by"]
    assert all(rgb.dtype == np.uint8 and rgb.shape == (96, 96, 3) for _, rgb in photos)


def test_load_set_unknown_name(manifest, split_folder):
    with pytest.raises(UserError, match="valid sets are blue, yellow, green"):
        data.load_set(manifest, "purple", split_folder)


def test_load_set_detects_changed_and_missing_files(manifest, split_folder, make_photo, synth):
    name = manifest["sets"]["validation"][0]
    make_photo(split_folder / name, synth.textured(123, synth.GOLD, synth.GRAY), quality=95)
    with pytest.raises(UserError, match="changed.*colorlib prepare"):
        data.load_set(manifest, "validation", split_folder)
    (split_folder / name).unlink()
    with pytest.raises(UserError, match="cannot be read.*colorlib prepare"):
        data.load_set(manifest, "validation", split_folder)


# --- where the photos are -------------------------------------------------------------------


def test_download_dataset_uses_kagglehub(monkeypatch, tmp_path):
    calls = []

    def dataset_download(handle):
        calls.append(handle)
        return str(tmp_path)

    fake = SimpleNamespace(dataset_download=dataset_download)
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    assert data.download_dataset() == tmp_path
    assert calls == [data.KAGGLE_DATASET]


def test_download_failure_is_user_error(monkeypatch):
    def dataset_download(handle):
        raise ConnectionError("no route to host")

    monkeypatch.setitem(sys.modules, "kagglehub", SimpleNamespace(dataset_download=dataset_download))
    with pytest.raises(UserError, match="no route to host"):
        data.download_dataset()


def test_download_without_kagglehub(monkeypatch):
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # makes `import kagglehub` fail
    with pytest.raises(UserError, match="pip install kagglehub"):
        data.download_dataset()


def test_resolve_data_dir(monkeypatch, tmp_path):
    assert data.resolve_data_dir(tmp_path) == tmp_path
    assert data.resolve_data_dir(str(tmp_path)) == tmp_path
    with pytest.raises(UserError, match="does not exist"):
        data.resolve_data_dir(tmp_path / "nope")
    monkeypatch.setattr(data.source, "DEFAULT_DATA_DIR", tmp_path / "absent")
    with pytest.raises(UserError, match="--download"):
        data.resolve_data_dir(None)
    fake = SimpleNamespace(dataset_download=lambda handle: str(tmp_path / "kaggle"))
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    assert data.resolve_data_dir(None, download=True) == tmp_path / "kaggle"
    monkeypatch.setattr(data.source, "DEFAULT_DATA_DIR", tmp_path)
    assert data.resolve_data_dir(None, download=True) == tmp_path


# --- the real landscape folder --------------------------------------------------------------


@pytest.fixture(scope="module")
def landscapes(shared_data, tmp_path_factory) -> SimpleNamespace:
    """The shared folder scanned once (with a cache), and its manifest with default params."""
    cache_dir = tmp_path_factory.mktemp("scan-cache")
    report = data.scan_folder(shared_data, progress=False, cache_dir=cache_dir)
    manifest = data.make_manifest(report, data.SplitParams(), "landscapes")
    return SimpleNamespace(report=report, manifest=manifest, cache_dir=cache_dir)


@pytest.mark.shared_data
def test_real_set_sizes_and_hygiene(landscapes):
    sets, report = landscapes.manifest["sets"], landscapes.manifest["report"]
    assert [len(sets[s]) for s in SETS] == [24, 24, 24, 48, 72, 864, 32]
    assert report["photos_read"] == 3919 and report["skipped"] == []
    assert report["bw_removed"] > 50 and report["duplicate_groups"] > 100
    bw = {r.name for r in landscapes.report.records if r.bw}
    assert not bw & set(landscapes.manifest["photos"])


@pytest.mark.shared_data
def test_real_validation_shares_nothing_with_training(landscapes):
    manifest = landscapes.manifest
    photos = manifest["photos"]
    validation = manifest["sets"]["validation"]
    training = sorted({n for s in TRAINING for n in manifest["sets"][s]})
    assert len(training) == 72 + 864
    assert not set(validation) & set(training)
    assert not set_groups(manifest, "validation") & {photos[n]["group"] for n in training}
    assert not {photos[n]["sha256"] for n in validation} & {photos[n]["sha256"] for n in training}
    distance = min(
        bin(int(photos[v]["phash"], 16) ^ int(photos[t]["phash"], 16)).count("1") for v in validation for t in training
    )
    assert distance > data.PHASH_MAX_DISTANCE


@pytest.mark.shared_data
def test_real_colour_sets_are_biased(landscapes):
    report = landscapes.manifest["report"]
    for colour in ("blue", "yellow", "green"):
        folder_mean = report["folder_mean_scores"][colour]
        assert report["set_mean_scores"][colour][colour] > 2 * folder_mean
    colour_groups = [set_groups(landscapes.manifest, c) for c in ("blue", "yellow", "green")]
    assert len(set().union(*colour_groups)) == 72


@pytest.mark.shared_data
def test_real_calibration_set_leaves_every_other_set_as_it_was(landscapes):
    """The paper profile's sets with and without the 32 calibration photos: every other set the same."""
    with_test = data.make_manifest(landscapes.report, data.SplitParams(test=300), "landscapes")
    both = data.make_manifest(landscapes.report, data.SplitParams(test=300, calibration=32), "landscapes")
    assert {k: v for k, v in both["sets"].items() if k != "calibration"} == with_test["sets"]
    assert len(both["sets"]["calibration"]) == 32
    assert not set_groups(both, "calibration") & {
        both["photos"][n]["group"] for k, names in both["sets"].items() if k != "calibration" for n in names
    }


@pytest.mark.shared_data
def test_real_rescan_uses_cache_and_gives_same_manifest(landscapes, shared_data):
    report = data.scan_folder(shared_data, progress=False, cache_dir=landscapes.cache_dir)
    assert report.from_cache == 3919
    again = data.make_manifest(report, data.SplitParams(), "landscapes")
    assert data.manifest_hash(again) == data.manifest_hash(landscapes.manifest)


# --- scipy against the hand-written code it replaced ------------------------------------------
# The perceptual hash's DCT was a hand-written orthonormal DCT-II matrix and duplicate groups came
# from a hand-written union-find; scipy now does both. The old code is kept here as the reference:
# the hashes and groups must stay identical, or every manifest would change.


def _reference_dct_hash(small: np.ndarray) -> int:
    n = small.shape[0]
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    low = (matrix @ small @ matrix.T)[:8, :8].ravel()
    bits = low > np.median(low[1:])
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def _reference_groups(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        root_i, root_j = find(i), find(j)
        parent[max(root_i, root_j)] = min(root_i, root_j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())


def _lightness_thumbnails(photos) -> list[np.ndarray]:
    """The 32x32 lightness maps the perceptual hash takes its DCT of."""
    from colorlib.data.features import PHASH_SIZE, thumbnail
    from colorlib.lab import rgb_to_lab

    out = []
    for rgb in photos:
        img = Image.fromarray(rgb_to_lab(thumbnail(rgb))[..., 0].astype(np.float32), mode="F")
        out.append(np.asarray(img.resize((PHASH_SIZE, PHASH_SIZE), Image.BOX), dtype=np.float64))
    return out


def test_scipy_dct_hash_equals_the_matrix_dct(synth):
    from colorlib.data.features import dct_hash

    colours = [synth.SKY_BLUE, synth.DEEP_BLUE, synth.GOLD, synth.ORANGE, synth.GRASS, synth.FOREST, synth.GRAY]
    photos = [synth.textured(s, colours[s % 7], colours[(s + 3) % 7], 128) for s in range(60)]
    for small in _lightness_thumbnails(photos):
        assert dct_hash(small) == _reference_dct_hash(small)


@pytest.mark.shared_data
def test_scipy_dct_hash_equals_the_matrix_dct_on_real_photos(shared_data):
    from colorlib.data.features import dct_hash

    names = sorted(p for p in shared_data.iterdir() if p.suffix.lower() == ".jpg")[::20]
    photos = [data.load_image(p) for p in names]
    smalls = _lightness_thumbnails(photos)
    assert len(smalls) > 100
    assert [dct_hash(s) for s in smalls] == [_reference_dct_hash(s) for s in smalls]


def test_connected_groups_equal_union_find():
    from colorlib.data.duplicates import connected_groups

    rng = np.random.default_rng(1)
    for n, n_pairs in ((0, 0), (1, 0), (5, 0), (50, 30), (500, 400), (2000, 300)):
        pairs = [] if n < 2 else [tuple(int(v) for v in rng.choice(n, 2, replace=False)) for _ in range(n_pairs)]
        assert connected_groups(n, pairs) == _reference_groups(n, pairs)


def test_duplicate_groups_of_real_looking_hashes_equal_union_find():
    """Hashes with many near neighbours (chains of a few flipped bits) give long transitive groups."""
    rng = np.random.default_rng(2)
    hashes = [int(h) for h in rng.integers(0, 2**63, size=300, dtype=np.int64)]
    for i in range(1, 300, 3):
        hashes[i] = hashes[i - 1] ^ (1 << int(rng.integers(64))) ^ (1 << int(rng.integers(64)))
    records = [fake_record(f"{i:04d}", h, sha=f"s{i % 250}") for i, h in enumerate(hashes)]
    pairs = [
        (i, j)
        for i in range(len(records))
        for j in range(i + 1, len(records))
        if records[i].sha256 == records[j].sha256
        or bin(records[i].phash ^ records[j].phash).count("1") <= data.PHASH_MAX_DISTANCE
    ]
    assert max(len(g) for g in _reference_groups(len(records), pairs)) > 2
    assert data.group_duplicates(records) == _reference_groups(len(records), pairs)
