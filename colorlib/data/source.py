"""Where the photos are: a folder given, the shared default, or the paper's Kaggle download."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import UserError, one_line
from .scan import check_folder

log = logging.getLogger(__name__)

DEFAULT_DATA_DIR = Path("../shared/data/landscapes")  # relative to the repo root
KAGGLE_DATASET = "arnaud58/landscape-pictures"


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
            f"could not download {KAGGLE_DATASET} ({one_line(exc)}): check the internet "
            f"connection, or pass a folder of photos"
        ) from exc


def resolve_data_dir(arg: str | Path | None, *, download: bool = False) -> Path:
    """The photo folder to use: the one given, else the shared default, else a download."""
    if arg is not None:
        folder = Path(arg).expanduser()
        check_folder(folder)
        return folder
    if DEFAULT_DATA_DIR.is_dir():
        return DEFAULT_DATA_DIR
    if download:
        return download_dataset()
    raise UserError(
        f"no photo folder given and {DEFAULT_DATA_DIR} does not exist: pass a folder of photos, "
        f"or use --download to fetch {KAGGLE_DATASET} from Kaggle"
    )
