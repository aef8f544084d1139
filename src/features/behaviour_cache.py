"""Behaviour features cached as Parquet, keyed by input files, spec, labeller and code version."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import ibis
import pandas as pd

from src.data.errors import DataValidationError
from src.data.layout import table_exists, table_path, table_sha256
from src.features.behaviour import FEATURES_VERSION, INPUT_TABLES, TitleLabeller, build_behaviour_features
from src.features.behaviour_spec import FeatureSpec
from src.io_atomic import atomic_output, cache_lock

log = logging.getLogger(__name__)


def behaviour_cache_key(tables_dir: Path, spec: FeatureSpec, labeller_key: str | None = None) -> str:
    """SHA-256 over each input table's SHA-256, the spec (sorted JSON), labeller key and FEATURES_VERSION."""
    digest = hashlib.sha256()
    for name in INPUT_TABLES:
        path = table_path(Path(tables_dir), name)
        if not table_exists(path):
            raise DataValidationError("table not found", file=path, hint="run `python -m src.data.simulate`")
        digest.update(f"{name}={table_sha256(path)}\n".encode())
    digest.update(f"spec={spec.to_json()}\n".encode())
    digest.update(f"labeller={labeller_key}\n".encode())
    digest.update(f"version={FEATURES_VERSION}\n".encode())
    return digest.hexdigest()


def cached_behaviour_features(
    tables_dir: Path,
    spec: FeatureSpec,
    cache_dir: Path,
    title_labeller: TitleLabeller | None = None,
    labeller_key: str | None = None,
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, Path, bool]:
    """(features, cache file, hit): read `cache_dir/behaviour/<key>.parquet` or build and write it atomically.

    A labeller needs a `labeller_key` that changes whenever its labels can change (e.g. the run id
    or checksum of the topic model), else cached counts could come from another labeller.
    `con` is the backend a miss is built on (`backends.configured_backend(cfg)`; None: DuckDB); the
    features are the same on every backend, so it is not part of the key.
    """
    if title_labeller is not None and labeller_key is None:
        raise ValueError("pass labeller_key (e.g. the topic model's checksum) together with title_labeller")
    key = behaviour_cache_key(tables_dir, spec, labeller_key)
    path = Path(cache_dir) / "behaviour" / f"{key}.parquet"
    if path.is_file():
        log.info("behaviour features from cache %s", path)
        return pd.read_parquet(path), path, True
    path.parent.mkdir(parents=True, exist_ok=True)
    # parallel sweep jobs that miss the same key: one builds, the others wait and read its file
    with cache_lock(cache_dir, f"behaviour-{key}"):
        if path.is_file():
            log.info("behaviour features from cache %s (built by another job)", path)
            return pd.read_parquet(path), path, True
        frame = build_behaviour_features(tables_dir, spec, title_labeller, con=con)
        with atomic_output(path) as partial:  # readers see no file or the whole file
            frame.to_parquet(partial, index=False)
    log.info("behaviour features cached at %s", path)
    return frame, path, False
