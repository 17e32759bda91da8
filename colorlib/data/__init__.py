"""The data layer: photos -> scan -> duplicate groups -> splits -> manifest.

The paper picked 24 blue, 24 yellow and 24 green landscape photos "by observation", 864 random ones
for a baseline and 32 mixed ones for validation. Here the same splits are made reproducibly:

1. :func:`scan_folder` (:mod:`.scan`) decodes every photo once (:mod:`.photos`), hashes its bytes
   (exact duplicates) and computes a perceptual hash (near duplicates), a chroma summary
   (black-and-white test) and colour-bias scores (:mod:`.features`).
2. :func:`make_manifest` (:mod:`.splits`) drops B&W photos, keeps one photo per duplicate group
   (:mod:`.duplicates`), picks the colour sets from the top scorers and draws validation and
   baseline with a seeded generator.
3. The manifest (JSON, :mod:`.manifest`) names every file of every set with its content hash, so
   :func:`load_set` can refuse a folder that changed since the splits were made. :mod:`.report`
   describes it; :mod:`.source` finds (or downloads) the photo folder.

This package's namespace is the layer's public interface; the modules say where each piece lives.
"""

from .duplicates import PHASH_MAX_DISTANCE, group_duplicates
from .features import BW_CHROMA, CHROMA_MIN, COLOURS, THUMB_SIZE, colour_scores
from .manifest import MANIFEST_FORMAT, load_set, manifest_hash, read_manifest, write_manifest
from .photos import IMAGE_SUFFIXES, decode_image, load_image
from .report import format_report, selection_rule
from .scan import PhotoRecord, ScanReport, describe_photo, scan_folder
from .source import DEFAULT_DATA_DIR, KAGGLE_DATASET, download_dataset, resolve_data_dir
from .splits import SplitParams, make_manifest

__all__ = [
    "BW_CHROMA",
    "CHROMA_MIN",
    "COLOURS",
    "DEFAULT_DATA_DIR",
    "IMAGE_SUFFIXES",
    "KAGGLE_DATASET",
    "MANIFEST_FORMAT",
    "PHASH_MAX_DISTANCE",
    "THUMB_SIZE",
    "PhotoRecord",
    "ScanReport",
    "SplitParams",
    "colour_scores",
    "decode_image",
    "describe_photo",
    "download_dataset",
    "format_report",
    "group_duplicates",
    "load_image",
    "load_set",
    "make_manifest",
    "manifest_hash",
    "read_manifest",
    "resolve_data_dir",
    "scan_folder",
    "selection_rule",
    "write_manifest",
]
