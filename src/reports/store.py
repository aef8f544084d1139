"""Load a run's artifacts back from the MLflow store; every loader returns None for a missing artifact."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from omegaconf import DictConfig

from src import tracking
from src.identity import Pair, parse_suffix

log = logging.getLogger(__name__)
# one progress bar per artifact would flood the report's output
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


def store_exists(cfg: DictConfig) -> bool:
    """True when the configured store can hold runs (a SQLite file that exists, or any non-file URI)."""
    uri = str(cfg.mlflow.tracking_uri)
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).is_file()
    if uri.startswith("file:"):
        return Path(urlparse(uri).path).is_dir()
    return True


def pairs_with_runs(cfg: DictConfig) -> list[Pair]:
    """(task, dataset) pairs whose experiment holds at least one FINISHED run, sorted (defaults first)."""
    if not store_exists(cfg):
        return []
    import mlflow

    tracking.configure_store(cfg)
    prefix = str(cfg.mlflow.experiment_prefix)
    pairs = set()
    for experiment in mlflow.search_experiments():
        if not experiment.name.startswith(prefix):
            continue
        finished = mlflow.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=1,
        )
        if finished.empty:
            continue
        tags = experiment.tags or {}
        if "task" in tags and "dataset" in tags:
            pairs.add(Pair(task=tags["task"], dataset=tags["dataset"]))
        else:  # experiments created before datasets were told apart
            pairs.add(parse_suffix(experiment.name.removeprefix(prefix)))
    return sorted(pairs, key=lambda pair: (pair.task, not pair.is_default, pair.dataset))


@cache
def _download_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="report-artifacts-"))


@cache
def artifact_file(run_id: str, path: str) -> Path | None:
    """A local copy of one artifact file of a run, or None if the run has no such artifact."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=path, dst_path=str(_download_dir() / run_id)
        )
    except (MlflowException, OSError) as err:
        log.debug("run %s has no artifact %s: %s", run_id, path, err)
        return None
    local_path = Path(local)
    return local_path if local_path.is_file() else None


def read_json(run_id: str, path: str) -> dict | None:
    """A JSON artifact as a dict, or None."""
    found = artifact_file(run_id, path)
    return json.loads(found.read_text(encoding="utf-8")) if found else None


def read_text(run_id: str, path: str) -> str | None:
    """A text artifact, or None."""
    found = artifact_file(run_id, path)
    return found.read_text(encoding="utf-8") if found else None


def read_frame(run_id: str, path: str) -> pd.DataFrame | None:
    """A Parquet, CSV or mlflow.log_table JSON artifact as a DataFrame, or None."""
    found = artifact_file(run_id, path)
    if found is None:
        return None
    if found.suffix == ".parquet":
        return pd.read_parquet(found)
    if found.suffix == ".csv":
        return pd.read_csv(found)
    table = json.loads(found.read_text(encoding="utf-8"))
    return pd.DataFrame(table["data"], columns=table["columns"])


def predictions(run_id: str, split: str = "test") -> pd.DataFrame | None:
    """y_true, y_pred and proba_<class> columns of one split."""
    return read_frame(run_id, f"predictions/{split}.parquet")


def confusion(run_id: str, split: str = "test") -> pd.DataFrame | None:
    """Confusion counts, true classes as index and predicted classes as columns."""
    frame = read_frame(run_id, f"confusion/{split}.json")
    if frame is None or "true" not in frame:
        return None
    return frame.set_index("true").rename_axis(index="true", columns="predicted")


def importance(run_id: str) -> pd.DataFrame | None:
    """feature, importance (trees, LightGBM, linear models)."""
    return read_frame(run_id, "features/importance.parquet")


def keywords(run_id: str) -> pd.DataFrame | None:
    """class, keyword, weight of the keyword matcher."""
    return read_frame(run_id, "keywords/keywords.csv")


def tier_shares(run_id: str) -> pd.DataFrame | None:
    """channel, tier, share of the channel task."""
    return read_frame(run_id, "channel/tier_shares.csv")


def channel_reliability(run_id: str) -> pd.DataFrame | None:
    """channel, bin_mean_pred, bin_frac_pos, count of the channel task."""
    return read_frame(run_id, "channel/reliability.parquet")


def category_by_group(run_id: str) -> pd.DataFrame | None:
    """group, category, score of the content task."""
    return read_frame(run_id, "content/category_by_group.csv")


def lineage(run_id: str) -> dict | None:
    """data_sha256, packages, git_commit, git_dirty of a run."""
    return read_json(run_id, "lineage.json")


def config_text(run_id: str) -> str | None:
    """The composed config the run was made from (YAML)."""
    return read_text(run_id, "config.yaml")
