"""Photo loading, dataset hygiene, colour-bias scores and the paper's splits.

The paper picked 24 blue, 24 yellow and 24 green landscape photos "by observation", 864 random ones
for a baseline and 32 mixed ones for validation. Here the same splits are made reproducibly:

1. :func:`scan_folder` decodes every photo once, hashes its bytes (exact duplicates), computes a
   perceptual hash (near duplicates), a chroma summary (black-and-white test) and colour-bias
   scores.
2. :func:`make_manifest` drops B&W photos, keeps one photo per duplicate group, picks the colour
   sets from the top scorers and draws validation and baseline with a seeded generator.
3. The manifest (JSON) names every file of every set with its content hash, so :func:`load_set` can
   refuse a folder that changed since the splits were made.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections import defaultdict
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

import colorlib
from colorlib import SETS
from colorlib.errors import ImageLoadError, UserError
from colorlib.lab import rgb_to_lab

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
MAX_PIXELS = 40_000_000  # larger images are refused before decoding (decompression bombs)

COLOURS = ("blue", "yellow", "green")  # the biased sets, in the paper's order
THUMB_SIZE = 64  # colour statistics are computed on a THUMB_SIZE x THUMB_SIZE thumbnail
# A pixel is "clearly chromatic" above this CIE Lab chroma. Overcast sky is ~6, pale blue sky ~18.
CHROMA_MIN = 15.0
# Hue ranges in degrees, h = atan2(b, a), [start, end). Reference sRGB colours: sunset orange
# (250, 110, 60) 46, orange 64, gold 85, yellow 93, olive 103 | grass (86, 140, 40) 128,
# forest green 138 | cyan/teal water 196, sky blue (135, 206, 235) 235, deep sky (0, 120, 220) 280.
# Reds (< 40) and purples/magentas (> 300) count for no colour.
HUE_RANGES = {"yellow": (40.0, 105.0), "green": (105.0, 170.0), "blue": (190.0, 300.0)}
# Black-and-white test on the chroma summary (99th percentile of the thumbnail's pixel chroma).
BW_CHROMA = 8.0
BW_PERCENTILE = 99.0
# Near duplicates: perceptual hashes at most this many bits apart (of 64; distances are even, as
# every hash has 32 bits set). On the landscape folder, pairs at <= 6 bits were all the same photo
# re-encoded, re-graded or turned B&W (or a burst shot of the same scene); at 8 bits unrelated
# photos with a similar layout start to appear.
PHASH_MAX_DISTANCE = 6
# A photo whose 32x32 lightness thumbnail varies less than this (std, in L units) has no structure
# to hash: it gets a hash taken from its bytes instead, so it matches no other photo by accident.
FEATURELESS_STD = 1.0

MANIFEST_FORMAT = "colorlib-manifest/1"
CACHE_FORMAT = "colorlib-scan-cache/1"  # bump when the way a record is computed changes
DEFAULT_DATA_DIR = Path("../shared/data/landscapes")  # relative to the repo root
KAGGLE_DATASET = "arnaud58/landscape-pictures"

_PHASH_SIZE = 32  # pHash: DCT of a 32x32 grayscale thumbnail, 8x8 lowest frequencies kept
_HIGH_BIT_GRAY = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


# --- loading --------------------------------------------------------------------------------


def load_image(path: Path) -> np.ndarray:
    """Read a photo file as uint8 sRGB (H, W, 3); any failure: ImageLoadError "name: reason"."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImageLoadError(f"{path.name}: file not found") from exc
    except OSError as exc:
        raise ImageLoadError(f"{path.name}: cannot read file ({exc.strerror or exc})") from exc
    return decode_image(data, path.name)


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode image file bytes to uint8 sRGB (H, W, 3); ImageLoadError "name: reason" on failure.

    Reasons start with a short category ("empty file", "not an image", "too large", "cannot
    decode") and put details in parentheses, so reports can group skipped files by category.
    """
    if not data:
        raise ImageLoadError(f"{name}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as img:
                _refuse_too_large(img, name)
                img.load()  # decode now, so a truncated file fails here
                return _to_rgb(_upright(img))
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageLoadError(f"{name}: not an image (format not recognised)") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"{name}: too large ({exc})") from exc
    except Exception as exc:  # Pillow raises many types for corrupt files; all mean "unreadable"
        raise ImageLoadError(f"{name}: cannot decode ({_one_line(exc)})") from exc


def _one_line(exc: Exception) -> str:
    """An exception as short single-line text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _refuse_too_large(img: Image.Image, name: str) -> None:
    """Refuse images over MAX_PIXELS from their header, before any pixel is decoded."""
    width, height = img.size
    if width * height > MAX_PIXELS:
        raise ImageLoadError(f"{name}: too large ({width}x{height} pixels, the limit is {MAX_PIXELS:,})")


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the photo as stored."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception as exc:  # a photo with unreadable EXIF is still a photo
        log.debug("ignoring unreadable EXIF orientation: %s", exc)
        return img


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> writable uint8 sRGB: transparency over white, high-bit gray to 8 bit."""
    if img.mode in _HIGH_BIT_GRAY:
        gray = _gray_to_uint8(img)
        return np.repeat(gray[..., None], 3, axis=2)
    if _has_transparency(img):
        img = _flatten_on_white(img)
    return np.array(img.convert("RGB"))


def _has_transparency(img: Image.Image) -> bool:
    """Whether an image carries alpha: an alpha band, a tRNS colour, or an RGBA palette."""
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        return True
    return img.mode == "P" and img.palette is not None and img.palette.mode == "RGBA"


def _gray_to_uint8(img: Image.Image) -> np.ndarray:
    """16-bit, 32-bit or float grayscale -> uint8, scaled by the mode's range (not the photo's).

    16-bit modes and "I" (how Pillow opens 16-bit PNG/TIFF) use 0..65535, i.e. divide by 257.
    Float images use 0..1 when all values fit in it, else 0..255 (Pillow's own F <-> L convention).
    """
    values = np.asarray(img).astype(np.float64)
    if img.mode == "F":
        full_scale = 1.0 if np.nanmax(values, initial=0.0) <= 1.0 else 255.0
    else:
        full_scale = 65535.0
    scaled = np.nan_to_num(values / full_scale * 255.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _flatten_on_white(img: Image.Image) -> Image.Image:
    """Composite a photo with transparency over a white background."""
    rgba = img.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba)


# --- per-photo features ---------------------------------------------------------------------


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A THUMB_SIZE square thumbnail (area shares are kept even though the aspect is not)."""
    img = Image.fromarray(np.asarray(rgb, dtype=np.uint8))
    return np.asarray(img.resize((THUMB_SIZE, THUMB_SIZE), Image.BOX))


def _lch(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma C = hypot(a, b) and hue h = atan2(b, a) in degrees [0, 360) of a Lab image."""
    a, b = lab[..., 1], lab[..., 2]
    return np.hypot(a, b), np.degrees(np.arctan2(b, a)) % 360.0


def _scores_from_lch(chroma: np.ndarray, hue: np.ndarray) -> dict[str, float]:
    """Share of all pixels that are clearly chromatic and whose hue is in each colour's range."""
    vivid = chroma > CHROMA_MIN
    scores = {}
    for colour in COLOURS:
        start, end = HUE_RANGES[colour]
        scores[colour] = round(float(np.mean(vivid & (hue >= start) & (hue < end))), 4)
    return scores


def colour_scores(rgb: np.ndarray) -> dict[str, float]:
    """Colour-bias scores {"blue", "yellow", "green"} in [0, 1] of a uint8 RGB photo.

    Each score is the share of the photo (on a small thumbnail, in LCh) that is clearly chromatic
    (C > CHROMA_MIN) with a hue in HUE_RANGES[colour]: a blue sky over a third of the photo scores
    about 0.33 blue, whatever the rest of the photo holds.
    """
    chroma, hue = _lch(rgb_to_lab(_thumbnail(rgb)))
    return _scores_from_lch(chroma, hue)


def _chroma_summary(chroma: np.ndarray) -> float:
    """The chroma used for the B&W test: a high percentile, so a small coloured area counts."""
    return round(float(np.percentile(chroma, BW_PERCENTILE)), 2)


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix (n x n): dct(x) = M @ x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


_DCT = _dct_matrix(_PHASH_SIZE)


def _dct_hash(small: np.ndarray) -> int:
    """64-bit DCT hash of a 32x32 map: one bit per 8x8 lowest frequency, set if above the median."""
    low = (_DCT @ small @ _DCT.T)[:8, :8].ravel()
    bits = low > np.median(low[1:])  # the DC term (overall brightness) is left out of the median
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def _perceptual_hash(lightness: np.ndarray, sha256: str) -> int:
    """pHash of a lightness map; a featureless photo gets 64 bits of its sha256 instead."""
    img = Image.fromarray(np.asarray(lightness, dtype=np.float32), mode="F")
    small = np.asarray(img.resize((_PHASH_SIZE, _PHASH_SIZE), Image.BOX), dtype=np.float64)
    if small.std() < FEATURELESS_STD:
        return int(sha256[:16], 16)
    return _dct_hash(small)


# --- scanning -------------------------------------------------------------------------------


@dataclass
class PhotoRecord:
    """What a scan learns about one photo."""

    name: str  # POSIX path relative to the scanned folder
    sha256: str  # of the file's bytes: exact duplicates
    phash: int  # 64-bit DCT perceptual hash: near duplicates
    width: int
    height: int
    chroma: float  # 99th percentile of pixel chroma on the thumbnail (B&W test)
    bw: bool  # black-and-white or near-monochrome photo
    scores: dict[str, float]  # colour-bias scores, see colour_scores


@dataclass
class ScanReport:
    """The photos of a folder that loaded, and the files that did not (with why)."""

    folder: Path
    records: list[PhotoRecord]  # sorted by name
    skipped: list[tuple[str, str]]  # (name, reason)
    from_cache: int = 0  # files whose result (record or skip reason) came from the scan cache

    @property
    def files_seen(self) -> int:
        """Every non-hidden file found under the folder."""
        return len(self.records) + len(self.skipped)


def describe_photo(name: str, data: bytes) -> PhotoRecord:
    """Decode one photo's bytes and compute its record (hashes, chroma, B&W flag, scores)."""
    rgb = decode_image(data, name)
    lab = rgb_to_lab(_thumbnail(rgb))
    chroma, hue = _lch(lab)
    summary = _chroma_summary(chroma)
    sha256 = hashlib.sha256(data).hexdigest()
    return PhotoRecord(
        name=name,
        sha256=sha256,
        phash=_perceptual_hash(lab[..., 0], sha256),
        width=rgb.shape[1],
        height=rgb.shape[0],
        chroma=summary,
        bw=summary < BW_CHROMA,
        scores=_scores_from_lch(chroma, hue),
    )


def _list_files(folder: Path) -> list[str]:
    """Relative POSIX names of every non-hidden file under folder (recursive, sorted)."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(root).relative_to(folder)
        names += [(rel / f).as_posix() for f in files if not f.startswith(".")]
    return sorted(names)


def _check_folder(folder: Path) -> None:
    """UserError unless folder is an existing directory."""
    if not folder.exists():
        raise UserError(f"photo folder {folder} does not exist: pass a folder of photos")
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder: pass the folder that holds the photos")


def _feature_settings() -> dict:
    """What a cached record depends on, as JSON gives it back: a change invalidates the cache."""
    settings = {
        "thumb_size": THUMB_SIZE,
        "chroma_min": CHROMA_MIN,
        "hue_ranges": HUE_RANGES,
        "bw_chroma": BW_CHROMA,
        "bw_percentile": BW_PERCENTILE,
        "max_pixels": MAX_PIXELS,
        "featureless_std": FEATURELESS_STD,
    }
    return json.loads(json.dumps(settings))


def _cache_path(cache_dir: Path, folder: Path) -> Path:
    """One cache file per scanned folder."""
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"scan-{key}.json"


def _record_to_json(record: PhotoRecord) -> dict:
    """A record as JSON-ready dict (phash as 16 hex digits)."""
    return {
        "sha256": record.sha256,
        "phash": f"{record.phash:016x}",
        "width": record.width,
        "height": record.height,
        "chroma": record.chroma,
        "bw": record.bw,
        "scores": record.scores,
    }


def _record_from_json(name: str, entry: dict) -> PhotoRecord:
    """Inverse of _record_to_json."""
    return PhotoRecord(
        name=name,
        sha256=str(entry["sha256"]),
        phash=int(entry["phash"], 16),
        width=int(entry["width"]),
        height=int(entry["height"]),
        chroma=float(entry["chroma"]),
        bw=bool(entry["bw"]),
        scores={c: float(entry["scores"][c]) for c in COLOURS},
    )


def _read_cache(path: Path) -> dict:
    """Cached entries {name: {"size", "mtime_ns", "record" | "skipped"}}; {} if absent or bad."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        if content["format"] != CACHE_FORMAT or content["settings"] != _feature_settings():
            log.info("scan cache %s is from other settings; rescanning", path)
            return {}
        return {name: e for name, e in content["entries"].items() if _usable_entry(name, e)}
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a corrupt cache only costs a rescan
        log.warning("ignoring unreadable scan cache %s (%s)", path, _one_line(exc))
        return {}


def _usable_entry(name: str, entry: dict) -> bool:
    """Whether a cache entry is well formed (a damaged one is rescanned, not trusted)."""
    try:
        if "record" in entry:
            _record_from_json(name, entry["record"])
            return True
        return isinstance(entry["skipped"], str)
    except (KeyError, TypeError, ValueError, AttributeError):
        return False


def write_json_cache(path: Path, fmt: str, settings: dict, entries: dict, what: str = "scan cache") -> None:
    """Save a cache atomically with its format and settings; failure is logged, never fatal."""
    content = {"format": fmt, "settings": settings, "entries": entries}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_text(path, json.dumps(content, sort_keys=True))
    except OSError as exc:
        log.warning("could not write %s %s (%s)", what, path, _one_line(exc))


def _write_cache(path: Path, entries: dict) -> None:
    write_json_cache(path, CACHE_FORMAT, _feature_settings(), entries)


def _atomic_write_text(path: Path, text: str) -> None:
    """Write text to a temporary file beside path, then rename it over path."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a manifest or cache is not secret
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached_entry(cache: dict, name: str, stat: os.stat_result) -> dict | None:
    """The cache entry of a file if its size and mtime are unchanged."""
    entry = cache.get(name)
    if isinstance(entry, dict) and entry.get("size") == stat.st_size:
        if entry.get("mtime_ns") == stat.st_mtime_ns:
            return entry
    return None


def _scan_file(path: Path, name: str) -> dict:
    """Scan one file: {"record": {...}} or {"skipped": reason}."""
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        log.info("skipping %s: not an image file", name)
        return {"skipped": "not an image file"}
    try:
        return {"record": _record_to_json(describe_photo(name, path.read_bytes()))}
    except ImageLoadError as exc:
        log.warning("skipping %s", exc)
        return {"skipped": str(exc).removeprefix(f"{name}: ")}
    except OSError as exc:
        log.warning("skipping %s: cannot read file (%s)", name, exc.strerror or exc)
        return {"skipped": f"cannot read file ({exc.strerror or exc})"}


def _scan_entry(folder: Path, name: str, cache: dict) -> tuple[dict, bool]:
    """The cache entry for one file, reused when unchanged: (entry, came from cache)."""
    path = folder / name
    try:
        stat = path.stat()
    except OSError as exc:  # vanished, or a broken link
        log.warning("skipping %s: cannot read file (%s)", name, exc.strerror or exc)
        return {"skipped": f"cannot read file ({exc.strerror or exc})"}, False
    entry = _cached_entry(cache, name, stat)
    if entry is not None:
        return entry, True
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **_scan_file(path, name)}, False


def scan_folder(folder: Path, *, progress: bool = True, cache_dir: Path | None = None) -> ScanReport:
    """Decode and describe every photo under folder (recursively); report what could not be read.

    Hidden files and folders are ignored; other files without an image suffix are reported as
    skipped. With cache_dir, results are kept per file (keyed by name, size and mtime) so a rescan
    only decodes new or changed files.
    """
    folder = Path(folder)
    _check_folder(folder)
    names = _list_files(folder)
    cache_file = _cache_path(cache_dir, folder) if cache_dir is not None else None
    cache = _read_cache(cache_file) if cache_file else {}
    entries, records, skipped, from_cache = {}, [], [], 0
    for name in tqdm(names, desc="scanning photos", unit="file", disable=not progress):
        entry, cached = _scan_entry(folder, name, cache)
        entries[name], from_cache = entry, from_cache + cached
        if "record" in entry:
            records.append(_record_from_json(name, entry["record"]))
        else:
            skipped.append((name, entry["skipped"]))
    if cache_file and entries != cache:
        _write_cache(cache_file, entries)
    if not records:
        raise UserError(
            f"no usable photo in {folder} ({len(names)} files, {len(skipped)} unreadable or not "
            f"images): pass a folder of JPEG/PNG photos"
        )
    log.info("scanned %s: %d photos, %d skipped", folder, len(records), len(skipped))
    return ScanReport(folder, sorted(records, key=lambda r: r.name), skipped, from_cache)


# --- duplicates -----------------------------------------------------------------------------


def _find(parent: list[int], i: int) -> int:
    """Root of i in a union-find forest, with path halving."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _union_groups(n: int, pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Connected components of n items joined by pairs, each sorted, ordered by first member."""
    parent = list(range(n))
    for i, j in pairs:
        root_i, root_j = _find(parent, i), _find(parent, j)
        parent[max(root_i, root_j)] = min(root_i, root_j)
    groups = defaultdict(list)
    for i in range(n):
        groups[_find(parent, i)].append(i)
    return sorted(groups.values())


def _same_bytes_pairs(records: list[PhotoRecord]) -> list[tuple[int, int]]:
    """Pairs (first, other) of records with identical file content."""
    first: dict[str, int] = {}
    pairs = []
    for i, record in enumerate(records):
        j = first.setdefault(record.sha256, i)
        if j != i:
            pairs.append((j, i))
    return pairs


def _popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each uint64 (np.bitwise_count needs numpy 2; the byte table works on 1.26)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[values[..., None].view(np.uint8)].sum(axis=-1, dtype=np.uint8)


def _near_hash_pairs(records: list[PhotoRecord], block: int = 512) -> list[tuple[int, int]]:
    """Pairs i < j whose perceptual hashes differ in at most PHASH_MAX_DISTANCE bits."""
    hashes = np.array([r.phash for r in records], dtype=np.uint64)
    pairs = []
    for start in range(0, len(hashes), block):
        rows = hashes[start : start + block, None]
        distance = _popcount(rows ^ hashes[None, :])
        i, j = np.nonzero(distance <= PHASH_MAX_DISTANCE)
        i += start
        keep = i < j
        pairs += zip(i[keep].tolist(), j[keep].tolist(), strict=True)
    return pairs


def group_duplicates(records: list[PhotoRecord]) -> list[list[int]]:
    """Indices of records grouped as duplicates: same bytes, or perceptual hashes at most
    PHASH_MAX_DISTANCE bits apart, joined transitively (union-find).

    Every record is in exactly one group (singletons included); groups are sorted lists, ordered
    by their first index.
    """
    pairs = _same_bytes_pairs(records) + _near_hash_pairs(records)
    return _union_groups(len(records), pairs)


# --- splits ---------------------------------------------------------------------------------


@dataclass
class SplitParams:
    """Sizes of the paper's sets and the seed of the random draws."""

    per_colour: int = 24
    baseline: int = 864
    validation: int = 32
    seed: int = 0


@dataclass
class _Pool:
    """The photos a split draws from: records by name, their groups and one usable photo each."""

    records: list[PhotoRecord]  # sorted by name
    group_of: list[int]  # record index -> duplicate group id
    groups: list[list[int]]
    usable: list[int]  # one record index per group holding a colour photo, by group id

    @property
    def duplicates_removed(self) -> int:
        """Colour photos that are not the usable photo of their group."""
        colour = sum(not r.bw for r in self.records)
        return colour - len(self.usable)


def _make_pool(report: ScanReport) -> _Pool:
    """Group duplicates and pick each group's usable photo: its smallest colour (non-B&W) name."""
    records = sorted(report.records, key=lambda r: r.name)
    groups = group_duplicates(records)
    group_of = [0] * len(records)
    usable = []
    for gid, members in enumerate(groups):
        for i in members:
            group_of[i] = gid
        colour = [i for i in members if not records[i].bw]
        if colour:
            usable.append(min(colour, key=lambda i: records[i].name))
    return _Pool(records, group_of, groups, usable)


def _check_params(params: SplitParams) -> None:
    """UserError for a negative set size."""
    for key in ("per_colour", "baseline", "validation"):
        if getattr(params, key) < 0:
            raise UserError(f"{key} must be 0 or more, got {getattr(params, key)}")


def _dominant_colour(scores: dict[str, float]) -> str | None:
    """The colour with the highest score (ties go to the earlier of COLOURS); None if all 0."""
    best = max(COLOURS, key=lambda c: scores[c])
    return best if scores[best] > 0 else None


def _pick_colour_sets(pool: _Pool, per_colour: int) -> dict[str, list[int]]:
    """The per_colour best scorers of each colour among photos dominated by that colour.

    Eligibility is exclusive (a photo is eligible only for its dominant colour), so the paper's
    round-robin pick (blue, yellow, green, blue, ...) equals taking each colour's top list.
    """
    ranked: dict[str, list[int]] = {c: [] for c in COLOURS}
    for i in pool.usable:
        colour = _dominant_colour(pool.records[i].scores)
        if colour is not None:
            ranked[colour].append(i)
    picks = {}
    for colour in COLOURS:
        order = sorted(ranked[colour], key=lambda i: (-pool.records[i].scores[colour], i))
        if len(order) < per_colour:
            raise UserError(
                f"only {len(order)} usable photos are mostly {colour} ({len(pool.usable)} usable "
                f"in all): lower per_colour (now {per_colour})"
            )
        picks[colour] = order[:per_colour]
    return picks


def _draw(candidates: list[int], size: int, rng: np.random.Generator) -> list[int]:
    """size distinct candidates drawn at random, returned in candidate (name) order."""
    chosen = rng.choice(len(candidates), size=size, replace=False)
    return [candidates[j] for j in sorted(chosen)]


def _pick_random_sets(pool: _Pool, taken: set[int], params: SplitParams) -> tuple[list[int], list[int]]:
    """(validation, baseline): random usable photos of groups not in the colour sets."""
    rest = [i for i in pool.usable if pool.group_of[i] not in taken]
    if params.validation + params.baseline > len(rest):
        raise UserError(
            f"only {len(rest)} usable photos remain besides the colour sets, but validation + "
            f"baseline = {params.validation} + {params.baseline}: lower baseline or validation"
        )
    rng = np.random.default_rng(params.seed)
    validation = _draw(rest, params.validation, rng)
    chosen = set(validation)
    baseline = _draw([i for i in rest if i not in chosen], params.baseline, rng)
    return validation, baseline


def _make_sets(pool: _Pool, params: SplitParams) -> dict[str, list[int]]:
    """All seven sets as record indices; by and bgy keep the order blue, (green,) yellow."""
    colour = _pick_colour_sets(pool, params.per_colour)
    taken = {pool.group_of[i] for picks in colour.values() for i in picks}
    validation, baseline = _pick_random_sets(pool, taken, params)
    return {
        **colour,
        "by": colour["blue"] + colour["yellow"],
        "bgy": colour["blue"] + colour["green"] + colour["yellow"],
        "baseline": baseline,
        "validation": validation,
    }


def _split_settings() -> dict:
    """The thresholds a split depends on, recorded in the manifest's params."""
    return {
        "thumb_size": THUMB_SIZE,
        "chroma_min": CHROMA_MIN,
        "hue_ranges": {c: list(r) for c, r in HUE_RANGES.items()},
        "bw_chroma": BW_CHROMA,
        "bw_percentile": BW_PERCENTILE,
        "phash_max_distance": PHASH_MAX_DISTANCE,
        "featureless_std": FEATURELESS_STD,
    }


def _mean_scores(records: list[PhotoRecord]) -> dict[str, float]:
    """Mean colour scores of some records (0 for none)."""
    if not records:
        return {c: 0.0 for c in COLOURS}
    return {c: round(float(np.mean([r.scores[c] for r in records])), 4) for c in COLOURS}


def _photo_entry(pool: _Pool, i: int) -> dict:
    """What the manifest records of one photo."""
    record = pool.records[i]
    return {
        "sha256": record.sha256,
        "phash": f"{record.phash:016x}",
        "group": pool.group_of[i],
        "chroma": record.chroma,
        "scores": record.scores,
    }


def _report_section(report: ScanReport, pool: _Pool, sets: dict[str, list[int]]) -> dict:
    """The data report: what was read, skipped, removed, and the mean scores of each set."""
    records = pool.records
    return {
        "files_seen": report.files_seen,
        "photos_read": len(records),
        "skipped": [{"name": n, "reason": r} for n, r in sorted(report.skipped)],
        "bw_removed": sum(r.bw for r in records),
        "duplicate_groups": sum(len(g) > 1 for g in pool.groups),
        "duplicates_removed": pool.duplicates_removed,
        "usable_photos": len(pool.usable),
        "folder_mean_scores": _mean_scores([records[i] for i in pool.usable]),
        "set_mean_scores": {name: _mean_scores([records[i] for i in idx]) for name, idx in sets.items()},
    }


def make_manifest(report: ScanReport, params: SplitParams, data_dir_label: str) -> dict:
    """The paper's seven sets from a scan, deterministic for params.seed (JSON-ready dict).

    B&W photos are never used; each duplicate group contributes at most one photo, and a group
    is used by one set only, so validation never holds a copy of a training photo.
    """
    _check_params(params)
    pool = _make_pool(report)
    sets = _make_sets(pool, params)
    in_sets = sorted({i for idx in sets.values() for i in idx})
    return {
        "format": MANIFEST_FORMAT,
        "colorlib_version": colorlib.__version__,
        "data_dir": data_dir_label,
        "params": {
            "per_colour": params.per_colour,
            "baseline": params.baseline,
            "validation": params.validation,
            "seed": params.seed,
            **_split_settings(),
        },
        "sets": {name: [pool.records[i].name for i in sets[name]] for name in SETS},
        "photos": {pool.records[i].name: _photo_entry(pool, i) for i in in_sets},
        "report": _report_section(report, pool, sets),
    }


# --- manifest files -------------------------------------------------------------------------


def _canonical_json(value: object) -> str:
    """Compact JSON with sorted keys: the same content always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def manifest_hash(manifest: dict) -> str:
    """sha256 of what defines the data (params, sets, photos): a checkpoint can record it."""
    core = {key: manifest[key] for key in ("params", "sets", "photos")}
    return hashlib.sha256(_canonical_json(core).encode()).hexdigest()


def _manifest_text(manifest: dict) -> str:
    """The manifest as readable, deterministic JSON text."""
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def write_manifest(manifest: dict, path: Path) -> bool:
    """Write the manifest atomically; False (file untouched, mtime too) if already identical."""
    path = Path(path)
    text = _manifest_text(manifest)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, ValueError):  # absent or unreadable: write it
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(path, text)
    return True


def _manifest_problem(manifest: object) -> str | None:
    """What is wrong with a parsed manifest, or None."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return f"not a {MANIFEST_FORMAT} file"
    sets, photos = manifest.get("sets"), manifest.get("photos")
    if not isinstance(sets, dict) or not isinstance(photos, dict):
        return "it lacks sets or photos"
    missing = [name for name in SETS if not isinstance(sets.get(name), list)]
    if missing:
        return f"it lacks the set(s) {', '.join(missing)}"
    if any(name not in photos for names in sets.values() for name in names):
        return "a photo of a set is not described"
    return None


def read_manifest(path: Path) -> dict:
    """Read and check a manifest; a missing or damaged one is a UserError."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"manifest {path} not found: run `colorlib prepare` first") from exc
    except OSError as exc:
        raise UserError(f"cannot read manifest {path} ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise UserError(f"manifest {path} is not valid JSON: run `colorlib prepare` again") from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise UserError(f"manifest {path} is unusable ({problem}): run `colorlib prepare` again")
    return manifest


def _read_checked(data_dir: Path, name: str, sha256: str) -> bytes:
    """A photo's bytes, refused if missing or not the content the manifest recorded."""
    try:
        data = (data_dir / name).read_bytes()
    except OSError as exc:
        raise UserError(
            f"{name} cannot be read from {data_dir} ({exc.strerror or exc}): the photo folder "
            f"changed since the manifest was made; run `colorlib prepare` again"
        ) from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise UserError(
            f"{name} in {data_dir} changed since the manifest was made (content hash differs): "
            f"run `colorlib prepare` again"
        )
    return data


def load_set(manifest: dict, set_name: str, data_dir: Path, *, progress: bool = False) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 RGB) of each photo of a set, in manifest order, checked against its hash."""
    sets = manifest["sets"]
    if set_name not in sets:
        raise UserError(f"unknown set {set_name!r}: valid sets are {', '.join(sets)}")
    photos = []
    names = sets[set_name]
    for name in tqdm(names, desc=f"loading {set_name}", unit="photo", disable=not progress):
        data = _read_checked(Path(data_dir), name, manifest["photos"][name]["sha256"])
        photos.append((name, decode_image(data, name)))
    return photos


# --- report ---------------------------------------------------------------------------------


def _skipped_lines(skipped: list[dict], shown: int = 4) -> list[str]:
    """Skipped files grouped by reason category (the text before any parenthesis)."""
    by_reason: dict[str, list[str]] = defaultdict(list)
    for item in skipped:
        by_reason[item["reason"].split(" (")[0]].append(item["name"])
    lines = []
    for reason, names in sorted(by_reason.items()):
        more = f", ... (+{len(names) - shown} more)" if len(names) > shown else ""
        lines.append(f"    {reason}: {len(names)} ({', '.join(names[:shown])}{more})")
    return lines


def _scores_text(scores: dict[str, float]) -> str:
    """Colour scores as fixed-width columns."""
    return "  ".join(f"{scores[c]:6.3f}" for c in COLOURS)


def format_report(manifest: dict) -> str:
    """A human-readable data report of a manifest: hygiene counts, set sizes and colour bias."""
    rep, params = manifest["report"], manifest["params"]
    lines = [
        f"Data report for {manifest['data_dir']} (seed {params['seed']})",
        f"  files seen:        {rep['files_seen']}",
        f"  photos read:       {rep['photos_read']}",
        f"  skipped:           {len(rep['skipped'])}",
        *_skipped_lines(rep["skipped"]),
        f"  black-and-white:   {rep['bw_removed']} removed "
        f"(chroma p{params['bw_percentile']:g} < {params['bw_chroma']:g})",
        f"  duplicate groups:  {rep['duplicate_groups']} "
        f"(same bytes or pHash within {params['phash_max_distance']} bits), "
        f"{rep['duplicates_removed']} extra copies removed",
        f"  usable photos:     {rep['usable_photos']}",
        "",
        f"  {'set':<12}{'photos':>7}  {'blue':>6}  {'yellow':>6}  {'green':>6}   (mean scores)",
        f"  {'(folder)':<12}{rep['usable_photos']:>7}  {_scores_text(rep['folder_mean_scores'])}",
    ]
    for name, names in manifest["sets"].items():
        scores = rep["set_mean_scores"][name]
        lines.append(f"  {name:<12}{len(names):>7}  {_scores_text(scores)}")
    return "\n".join(lines)


# --- where the photos are -------------------------------------------------------------------


def download_dataset() -> Path:
    """Download the paper's Kaggle dataset with kagglehub (which caches it); return its folder."""
    try:
        import kagglehub
    except ImportError as exc:
        raise UserError("downloading needs the kagglehub package: pip install kagglehub") from exc
    log.info("downloading %s from Kaggle", KAGGLE_DATASET)
    try:
        return Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as exc:  # network, authentication, quota: all mean "no data"
        raise UserError(
            f"could not download {KAGGLE_DATASET} ({_one_line(exc)}): check the internet "
            f"connection, or pass a folder of photos"
        ) from exc


def resolve_data_dir(arg: str | Path | None, *, download: bool = False) -> Path:
    """The photo folder to use: the one given, else the shared default, else a download."""
    if arg is not None:
        folder = Path(arg).expanduser()
        _check_folder(folder)
        return folder
    if DEFAULT_DATA_DIR.is_dir():
        return DEFAULT_DATA_DIR
    if download:
        return download_dataset()
    raise UserError(
        f"no photo folder given and {DEFAULT_DATA_DIR} does not exist: pass a folder of photos, "
        f"or use --download to fetch {KAGGLE_DATASET} from Kaggle"
    )
