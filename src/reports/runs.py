"""Read the runs of one (task, dataset) pair back from the MLflow store as tidy tables."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from src import tracking
from src.identity import Pair, default_dataset

UNFINISHED_COLUMNS = ["model", "run", "status", "started"]
RECENT_COLUMNS = ["model", "run", "run set", "sweep", "started"]
LATEST = "latest"
STUDY = "study"
PARENT_TAG = "sweep_parent"  # the parent run of a sweep holds its jobs; it is never a result


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
    jobs = runs["tags.model"].notna() & ~column(runs, f"tags.{PARENT_TAG}").eq("true")
    return runs[belongs_to(runs, pair) & jobs].reset_index(drop=True)


def column(runs: pd.DataFrame, name: str) -> pd.Series:
    """A column of `search_runs` output, all missing when no run has it."""
    return runs[name] if name in runs else pd.Series(pd.NA, index=runs.index, dtype="object")


def belongs_to(runs: pd.DataFrame, pair: Pair) -> pd.Series:
    """Rows whose dataset (tag, else the `data.name` param) is the pair's; untagged rows only if default."""
    missing = pd.Series(pd.NA, index=runs.index, dtype="object")
    tagged = runs.get("tags.dataset", missing)
    logged = runs.get("params.data.name", missing)
    dataset = tagged.where(tagged.notna(), logged)
    return dataset.eq(pair.dataset).fillna(False).astype(bool) | (dataset.isna() & pair.is_default)


def wanted_run_set(cfg: DictConfig) -> str:
    """The run set a report shows: `runs=` (study by default), a sweep id, a run-set tag, or latest."""
    return str(cfg.get("runs") or STUDY)


def latest_runs(cfg: DictConfig, task: str, dataset: str | None = None) -> pd.DataFrame:
    """The newest FINISHED run of each model of the pair within the wanted run set (one row per model).

    The frame's `attrs["run_set"]` says which set it shows (see `select_run_set`).
    """
    runs = pair_runs(cfg, task, dataset)
    if runs.empty:
        runs.attrs["run_set"] = wanted_run_set(cfg)
        return runs
    finished = runs[runs["status"] == "FINISHED"]
    chosen, label = select_run_set(finished, wanted_run_set(cfg))
    shown = chosen.drop_duplicates(subset="tags.model", keep="first").reset_index(drop=True)
    shown.attrs["run_set"] = label
    return shown


def select_run_set(finished: pd.DataFrame, wanted: str) -> tuple[pd.DataFrame, str]:
    """The finished runs (newest first) of one run set, and a label that names it.

    - `latest`: every finished run (the newest of each model wins, whatever its set);
    - a run-set tag (`study`): the runs of the newest sweep tagged with it;
    - otherwise a sweep id (`2026-11-30/14-00-00`).
    With the default `study` and no study run of the pair in the store, the page falls back to
    `latest` and its label says so.
    """
    if wanted == LATEST:
        return finished, "latest (the newest finished run of each model, any run set)"
    tagged = finished[column(finished, "tags.run_set").eq(wanted).fillna(False).astype(bool)]
    if not tagged.empty:
        sweep = tagged["tags.sweep_id"].iloc[0] if "tags.sweep_id" in tagged else None
        if sweep is None or pd.isna(sweep):
            return tagged, f"{wanted}"
        return tagged[tagged["tags.sweep_id"] == sweep], f"{wanted} (sweep {sweep})"
    in_sweep = finished[column(finished, "tags.sweep_id").eq(wanted).fillna(False).astype(bool)]
    if not in_sweep.empty or wanted != STUDY:
        return in_sweep, f"sweep {wanted}"
    return finished, "latest (no study run set of this task and dataset yet: `make reproduce` makes one)"


def shown_run_set(runs: pd.DataFrame) -> str:
    """The label of the run set a `latest_runs` frame shows."""
    return str(runs.attrs.get("run_set", STUDY))


def recent_runs(cfg: DictConfig, task: str, dataset: str | None = None, limit: int = 5) -> pd.DataFrame:
    """The pair's newest finished runs of any run set (ad-hoc runs included), for a "recent runs" section."""
    runs = pair_runs(cfg, task, dataset)
    if runs.empty or limit <= 0:
        return pd.DataFrame(columns=RECENT_COLUMNS)
    recent = runs[runs["status"] == "FINISHED"].head(limit)
    return pd.DataFrame(
        {
            "model": recent["tags.model"],
            "run": recent["run_id"].str[:8],
            "run set": column(recent, "tags.run_set").fillna("adhoc"),
            "sweep": column(recent, "tags.sweep_id").fillna("none"),
            "started": pd.to_datetime(recent["start_time"]).dt.strftime("%Y-%m-%d %H:%M UTC"),
        }
    ).reset_index(drop=True)


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


def champion_run(cfg: DictConfig, pair: Pair) -> str | None:
    """The run id behind the pair's registered `@champion` model, or None (no store, model or alias)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    name = f"{cfg.mlflow.registered_model_prefix}{pair.suffix}"  # src.models.registry.registered_name
    try:
        return MlflowClient().get_model_version_by_alias(name, str(cfg.mlflow.champion_alias)).run_id
    except MlflowException:
        return None


def dataset_title(runs: pd.DataFrame, dataset: str) -> str:
    """The data config's title or description as the runs logged it, else the dataset's name."""
    if "tags.dataset_title" in runs and runs["tags.dataset_title"].notna().any():
        return str(runs["tags.dataset_title"].dropna().iloc[0])
    return dataset


def metric_column(row: pd.Series, metric: str) -> str:
    """The column of `metric` on test (`metrics.test_<metric>`); only where no run has that column, the
    run-level metric without the prefix (`metrics.challenge_false_positive_rate`, the spam challenge set)."""
    tested = f"metrics.test_{metric}"
    return tested if tested in row.index else f"metrics.{metric}"


def metric_with_interval(runs: pd.DataFrame, metric: str, digits: int = 3) -> pd.Series:
    """'0.852 [0.829, 0.874]' per run, or '–' where the run lacks the metric."""

    def cell(row: pd.Series) -> str:
        key = metric_column(row, metric)
        value = row.get(key)
        if value is None or pd.isna(value):
            return "–"
        low, high = row.get(f"{key}_lo"), row.get(f"{key}_hi")
        if low is None or pd.isna(low):
            return f"{value:.{digits}f}"
        return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"

    return runs.apply(cell, axis=1)
