"""A sweep whose first job fails on its data: the job is recorded FAILED and the sweep goes on."""

from __future__ import annotations

import mlflow
import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.slow


def test_a_failing_job_is_marked_failed_and_the_sweep_goes_on(tmp_path):
    result = run_cli(
        "src.run",
        "-m",
        "task=churn",
        "model=majority",
        "data.sha256=deadbeef,null",
        "mlflow.log_model=false",
        "evaluation.n_bootstrap=50",
        f"paths.mlruns_dir={tmp_path / 'mlruns'}",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    assert result.returncode != 0  # the sweep reports its failure
    assert "checksum mismatch" in result.stderr
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns'}/mlflow.db")
    experiment = mlflow.get_experiment_by_name("profiling-churn")
    runs = mlflow.search_runs([experiment.experiment_id]).sort_values("status")
    parent = runs[runs["tags.sweep_parent"] == "true"]
    runs = runs[runs["tags.sweep_parent"] != "true"]
    assert list(runs["status"]) == ["FAILED", "FINISHED"], "the failed job is recorded; the second job ran"
    assert "checksum mismatch" in runs.iloc[0]["tags.error"]
    # the sweep's parent run holds both jobs and ends FAILED; the sweep still prints its results table
    assert list(parent["status"]) == ["FAILED"]
    assert set(runs["tags.mlflow.parentRunId"]) == {parent["run_id"].iloc[0]}
    assert "results (test split)" in result.stdout + result.stderr
