"""A run's commit is MLflow's `mlflow.source.git.commit` tag alone; runs with the old copy still read."""

from __future__ import annotations

from collections.abc import Callable

import mlflow
import pandas as pd
from omegaconf import DictConfig

from src import tracking
from src.identity import COMMIT_TAG, LEGACY_COMMIT_TAG, run_commit
from src.reports.provenance import commit_column, run_commits


def test_lineage_tags_the_commit_once(make_cfg: Callable[..., DictConfig]) -> None:
    cfg = make_cfg("task=churn")
    tracking.configure_store(cfg)
    with mlflow.start_run(experiment_id=tracking.ensure_experiment(cfg)) as active:
        tracking.log_lineage(cfg, [], ["task=churn"])
    tags = mlflow.get_run(active.info.run_id).data.tags
    assert LEGACY_COMMIT_TAG not in tags
    assert tags[COMMIT_TAG] == tracking.git_state()["git_commit"]
    assert tags["git_dirty"] in ("true", "false")


def test_an_unknown_commit_is_not_tagged() -> None:
    assert tracking.commit_tags({"git_commit": "unknown", "git_dirty": "unknown"}) == {"git_dirty": "unknown"}


def test_old_runs_with_the_legacy_tag_still_name_their_commit() -> None:
    assert run_commit({COMMIT_TAG: "a" * 40, LEGACY_COMMIT_TAG: "b" * 40}) == "a" * 40
    assert run_commit({LEGACY_COMMIT_TAG: "b" * 40}) == "b" * 40
    assert run_commit({}) == "unknown"
    runs = pd.DataFrame(
        {
            f"tags.{COMMIT_TAG}": ["a" * 40, None, None],
            f"tags.{LEGACY_COMMIT_TAG}": [None, "b" * 40, None],
            "tags.git_dirty": ["false", "true", "false"],
        }
    )
    assert list(commit_column(runs)) == ["a" * 40, "b" * 40, "unknown"]
    shown = "aaaaaaaaaaaa (dirty: false), bbbbbbbbbbbb (dirty: true), unknown (dirty: false)"
    assert run_commits(runs) == shown


def test_single_runs_prepare_the_store_too() -> None:
    """The sweep callback's `on_run_start` is a method of the callback (it once sat inside a function)."""
    assert "on_run_start" in vars(tracking.PrepareMlflowStore)
