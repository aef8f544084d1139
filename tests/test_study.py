"""The study's sweep in parallel stages: stage order, commands, identical metrics, locks on shared state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from omegaconf import DictConfig

from src import study
from src.features import behaviour_cache
from src.features.behaviour_spec import default_spec
from src.models import registry
from tests.helpers.cli import run_cli
from tests.helpers.mlflow_store import migrated_store


def test_the_behaviour_tasks_run_after_the_topic_task_that_labels_their_titles() -> None:
    tasks = study.study_tasks()
    first, later = study.sweep_stages(tasks)
    assert "topic" in first and sorted(first + later) == sorted(tasks)
    assert set(later) == {"occupation", "channel", "content", "churn_sim"}
    assert [t for t in tasks if t in first] == first  # the experiment's order is kept inside a stage


def test_one_stage_when_no_task_reads_the_topic_champion() -> None:
    tasks = study.study_tasks()
    assert study.sweep_stages(tasks, ["features.titles.labeller=lookup"]) == [tasks]
    assert study.sweep_stages(["churn", "occupation"]) == [["churn", "occupation"]]  # topic not swept


def test_parallel_jobs_use_the_joblib_launcher_with_one_thread_each() -> None:
    parallel = study.sweep_command(["churn", "spam"], 2, ["seed=7"])
    assert parallel[-4:] == ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "n_jobs=1", "seed=7"]
    assert "task=churn,spam" in parallel and "+experiment=paper" in parallel
    sequential = study.sweep_command(["churn"], 1)
    assert not any("launcher" in arg or arg.startswith("n_jobs") for arg in sequential)


def test_jobs_below_one_are_refused_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert study.main(["--jobs", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --jobs must be at least 1, got 0"


def _sweep_metrics(root: Path, *launcher: str) -> pd.DataFrame:
    """Run a two-model churn sweep into its own store; its runs' metrics by model (times dropped).

    LightGBM is the model whose results could depend on the threads; the majority baseline is the second job.
    """
    migrated_store(root / "mlruns")  # the commands' jobs need not migrate a new store themselves
    done = run_cli(
        "src.run", "-m", "task=churn", "model=majority,lightgbm",
        f"paths.mlruns_dir={root / 'mlruns'}", f"paths.cache_dir={root / 'cache'}",
        "evaluation.n_bootstrap=50", "mlflow.log_model=false", "seed=3", *launcher, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["profiling-churn"])
    runs = runs[runs["tags.model"].notna() & runs["tags.sweep_parent"].ne("true")]
    metrics = [c for c in runs if c.startswith("metrics.") and not c.startswith("metrics.time_")]
    return runs.set_index("tags.model")[metrics].sort_index()


@pytest.mark.slow
def test_a_parallel_sweep_gives_the_metrics_of_a_sequential_one(tmp_path: Path) -> None:
    sequential = _sweep_metrics(tmp_path / "sequential")
    parallel = _sweep_metrics(
        tmp_path / "parallel", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "n_jobs=1"
    )
    assert list(sequential.index) == ["lightgbm", "majority"]
    assert "metrics.val_roc_auc" in sequential and "metrics.test_accuracy_lo" in sequential
    pd.testing.assert_frame_equal(sequential, parallel, check_exact=True)


def test_elections_wait_for_each_other(make_cfg: Callable[..., DictConfig], monkeypatch) -> None:
    cfg = make_cfg()
    elected: list[float] = []
    monkeypatch.setattr(registry, "elect", lambda cfg, task=None: elected.append(time.monotonic()))
    held = registry.election_lock(cfg)
    with held:
        other = threading.Thread(target=registry.update_champion, args=(cfg,))
        other.start()
        time.sleep(0.5)
        assert elected == []  # blocked while another job elects
        released = time.monotonic()
    other.join(timeout=10)
    assert len(elected) == 1 and elected[0] >= released
    assert Path(held.lock_file).is_relative_to(Path(cfg.paths.cache_dir))


def test_two_jobs_missing_the_same_features_build_them_once(tmp_path: Path, monkeypatch) -> None:
    builds: list[int] = []

    def slow_build(*args, **kwargs) -> pd.DataFrame:
        builds.append(1)
        time.sleep(0.5)
        return pd.DataFrame({"user_id": [1, 2], "calls": [3.0, 4.0]})

    monkeypatch.setattr(behaviour_cache, "behaviour_cache_key", lambda *args: "same-key")
    monkeypatch.setattr(behaviour_cache, "build_behaviour_features", slow_build)
    results: list[tuple[pd.DataFrame, bool]] = []

    def job() -> None:
        frame, _, hit = behaviour_cache.cached_behaviour_features(
            tmp_path, default_spec(), tmp_path / "cache"
        )
        results.append((frame, hit))

    jobs = [threading.Thread(target=job) for _ in range(2)]
    for thread in jobs:
        thread.start()
    for thread in jobs:
        thread.join(timeout=10)
    assert len(builds) == 1 and sorted(hit for _, hit in results) == [False, True]
    pd.testing.assert_frame_equal(results[0][0], results[1][0])
