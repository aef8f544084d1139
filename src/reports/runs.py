"""Read the runs of one (task, dataset) pair back from the MLflow store as tidy tables."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from src import tracking
from src.identity import Pair, default_dataset

UNFINISHED_COLUMNS = ["model", "run", "status", "started"]


def pair_for(task: str, dataset: str | None = None) -> Pair:
    """The pair of `task` on `dataset` (its default dataset when None or empty)."""
    return Pair(task=task, dataset=dataset or default_dataset(task) or "none")


def pair_runs(cfg: DictConfig, task: str, dataset: str | None = None) -> pd.DataFrame:
    """Every run of the pair's experiment that belongs to the pair's dataset, newest first."""
    import mlflow

    pair = pair_for(task, dataset)
    tracking.configure_store(cfg)
    experiment = mlflow.get_experiment_by_name(tracking.pair_experiment_name(cfg, pair))
    if experiment is None:
        return pd.DataFrame()
    runs = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id], order_by=["attributes.start_time DESC"]
    )
    if runs.empty or "tags.model" not in runs:
        return pd.DataFrame()
    return runs[belongs_to(runs, pair)].reset_index(drop=True)


def belongs_to(runs: pd.DataFrame, pair: Pair) -> pd.Series:
    """Rows whose dataset (tag, else the `data.name` param) is the pair's; untagged rows only if default."""
    missing = pd.Series(pd.NA, index=runs.index, dtype="object")
    tagged = runs.get("tags.dataset", missing)
    logged = runs.get("params.data.name", missing)
    dataset = tagged.where(tagged.notna(), logged)
    return dataset.eq(pair.dataset).fillna(False).astype(bool) | (dataset.isna() & pair.is_default)


def latest_runs(cfg: DictConfig, task: str, dataset: str | None = None) -> pd.DataFrame:
    """The newest FINISHED run of each model for a (task, dataset) pair (one row per model), or empty."""
    runs = pair_runs(cfg, task, dataset)
    if runs.empty:
        return runs
    finished = runs[runs["status"] == "FINISHED"]
    return finished.drop_duplicates(subset="tags.model", keep="first").reset_index(drop=True)


def unfinished_runs(cfg: DictConfig, task: str, dataset: str | None = None) -> pd.DataFrame:
    """Runs of the pair that did not finish (RUNNING, FAILED, KILLED): listed, never reported as results."""
    runs = pair_runs(cfg, task, dataset)
    if runs.empty:
        return pd.DataFrame(columns=UNFINISHED_COLUMNS)
    left = runs[runs["status"] != "FINISHED"]
    return pd.DataFrame(
        {
            "model": left["tags.model"].fillna("–"),
            "run": left["run_id"].str[:8],
            "status": left["status"],
            "started": pd.to_datetime(left["start_time"]).dt.strftime("%Y-%m-%d %H:%M UTC"),
        }
    ).reset_index(drop=True)


def dataset_title(runs: pd.DataFrame, dataset: str) -> str:
    """The data config's title or description as the runs logged it, else the dataset's name."""
    if "tags.dataset_title" in runs and runs["tags.dataset_title"].notna().any():
        return str(runs["tags.dataset_title"].dropna().iloc[0])
    return dataset


def metric_with_interval(runs: pd.DataFrame, metric: str, digits: int = 3) -> pd.Series:
    """'0.852 [0.829, 0.874]' per run, or '–' where the run lacks the metric."""

    def cell(row: pd.Series) -> str:
        value = row.get(f"metrics.test_{metric}")
        if value is None or pd.isna(value):
            return "–"
        low, high = row.get(f"metrics.test_{metric}_lo"), row.get(f"metrics.test_{metric}_hi")
        if low is None or pd.isna(low):
            return f"{value:.{digits}f}"
        return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"

    return runs.apply(cell, axis=1)
