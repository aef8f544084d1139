"""Read finished runs back from the MLflow store as tidy tables."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from src import tracking


def latest_runs(cfg: DictConfig, task: str) -> pd.DataFrame:
    """The newest FINISHED run of each model for a task (one row per model), or an empty frame."""
    import mlflow

    tracking.configure_store(cfg)
    experiment = mlflow.get_experiment_by_name(tracking.experiment_name(cfg, task))
    if experiment is None:
        return pd.DataFrame()
    runs = mlflow.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
    )
    if runs.empty or "tags.model" not in runs:
        return pd.DataFrame()
    return runs.drop_duplicates(subset="tags.model", keep="first").reset_index(drop=True)


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
