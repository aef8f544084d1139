"""The experiment lifecycle: targets checked against the task, fixed splits, failed and killed runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from omegaconf import open_dict
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from src import tracking
from src.data.checksums import sha256_file
from src.data.errors import DataValidationError
from src.errors import ConfigError
from src.experiment import IntervalSettings, evaluate_target, load_task, run, task_plugin
from src.features.titles import registry_labeller
from src.models.evaluate import Split, make_split
from src.paths import PROJECT_ROOT
from src.tasks.behaviour import labeller_tags
from tests.helpers.data import TELCO

N_ROWS = 400


def _telco(tmp_path: Path, n: int = N_ROWS, edit=None, name: str = "churn.csv") -> Path:
    """The first `n` IBM Telco rows as a CSV, optionally edited as a frame (read as text)."""
    frame = pd.read_csv(TELCO, dtype=str, keep_default_na=False).head(n)
    if edit is not None:
        frame = edit(frame)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _churn(make_cfg, path: Path, *overrides: str):
    return make_cfg(
        "task=churn",
        "model=logreg",
        f"data.path={path}",
        "data.sha256=null",
        "mlflow.log_model=false",
        *overrides,
    )


def _set(column: str, rows: list[int], value: str):
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[rows, column] = value
        return frame

    return edit


def test_a_third_label_in_a_binary_task_names_the_labels_and_counts(make_cfg, tmp_path) -> None:
    path = _telco(tmp_path, edit=_set("Churn", [3, 7], "Maybe"))
    with pytest.raises(
        DataValidationError, match=r"exactly two labels; found 3: Maybe: 2, No: \d+, Yes: \d+"
    ):
        load_task(_churn(make_cfg, path))


@pytest.mark.slow
def test_missing_targets_are_quarantined_and_counted_never_a_class(make_cfg, tmp_path) -> None:
    path = _telco(tmp_path, edit=_set("Churn", [5, 9, 11], ""))
    cfg = _churn(make_cfg, path)
    data = load_task(cfg)
    assert len(data.X) == N_ROWS - 3 and set(data.y) == {"No", "Yes"}
    assert data.quarantine == {"missing_target": 3} and len(data.quarantined) == 3
    metrics = run(cfg)
    assert metrics["quarantined_missing_target"] == 3.0
    assert "test_roc_auc" in metrics


def _unseen_case() -> tuple[Pipeline, pd.DataFrame, pd.Series, Split]:
    """Train holds labels a/b; validation and test each hold rows of a label c never seen in training."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=60)})
    y = pd.Series(np.where(X["x"] > 0, "a", "b"), dtype=object)
    y.iloc[[45, 46, 55, 56, 57]] = "c"
    split = Split(train=np.arange(40), val=np.arange(40, 50), test=np.arange(50, 60))
    pipeline = Pipeline([("features", "passthrough"), ("model", LogisticRegression())])
    pipeline.fit(X.iloc[split.train], y.iloc[split.train])
    return pipeline, X, y, split


def test_labels_unseen_in_training_are_counted_and_scored_as_errors_in_val_and_test() -> None:
    pipeline, X, y, split = _unseen_case()
    results = evaluate_target(
        {"val": pipeline, "test": pipeline}, X, y, split, None, "", IntervalSettings(50, 0.95, 0)
    )
    metrics = results.metrics
    assert metrics["val_n_unseen_label_rows"] == 2.0 and metrics["test_n_unseen_label_rows"] == 3.0
    for part, rows in (("val", split.val), ("test", split.test)):
        predicted = pipeline.predict(X.iloc[rows])
        seen = (y.iloc[rows] != "c").to_numpy()
        # every unseen row counts as wrong: accuracy = hits among the seen rows / all rows
        assert metrics[f"{part}_accuracy"] == pytest.approx(
            (predicted[seen] == y.iloc[rows][seen]).sum() / len(rows)
        )
        # probability 0 on the true label: the clipped worst loss, finite and above any seen row's
        assert np.isfinite(metrics[f"{part}_log_loss"]) and metrics[f"{part}_log_loss"] > 2.0
    # the test intervals resample the unseen rows too, so they bracket the point estimates
    for key in ("accuracy", "log_loss", "brier"):
        assert metrics[f"test_{key}_lo"] <= metrics[f"test_{key}"] <= metrics[f"test_{key}_hi"]


def test_a_split_column_fixes_the_rows_of_each_split(make_cfg, tmp_path) -> None:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame["part"] = np.where(
            np.arange(len(frame)) < 300, "train", np.where(np.arange(len(frame)) < 340, "val", "test")
        )
        return frame

    path = _telco(tmp_path, edit=edit)
    cfg = _churn(make_cfg, path, "+data.split_column=part", "+data.columns.part=categorical")
    data = load_task(cfg)
    assert "part" not in data.X
    split = make_split(data.y, 0, 0.15, 0.15, fixed=data.split)
    assert split.sizes() == {"train": 300, "val": 40, "test": 60}
    assert list(split.test) == list(range(340, 400))


def test_one_file_per_split_with_renamed_headers(make_cfg, tmp_path) -> None:
    """A table published as 80% / 20% files whose test file spells two headers differently."""
    train = _telco(tmp_path, n=320, name="train.csv")
    spelled = {"tenure": "Tenure", "MonthlyCharges": "Monthly Charges"}
    full = pd.read_csv(TELCO, dtype=str, keep_default_na=False).iloc[320:N_ROWS].rename(columns=spelled)
    test = tmp_path / "test.csv"
    full.to_csv(test, index=False)
    cfg = _churn(make_cfg, train, f"+data.files={{train: {train}, test: {test}}}")
    with open_dict(cfg):
        cfg.data.rename = {"Tenure": "tenure", "Monthly Charges": "MonthlyCharges"}
    data = load_task(cfg)
    assert len(data.X) == N_ROWS and data.split.value_counts().to_dict() == {"train": 320, "test": 80}
    assert data.X["tenure"].notna().all() and "Tenure" not in data.X
    assert [p.name for p in data.input_files] == ["train.csv", "test.csv"]
    # no validation file: validation comes out of train (stratified with the seed), test stays the file's
    split = make_split(data.y, 42, 0.15, 0.15, fixed=data.split)
    assert list(split.test) == list(range(320, N_ROWS))
    assert len(split.val) > 0 and set(split.val) | set(split.train) == set(range(320))
    assert make_split(data.y, 42, 0.15, 0.15, fixed=data.split).val.tolist() == split.val.tolist()
    # one checksum per file
    with open_dict(cfg):
        cfg.data.sha256 = {"train": sha256_file(train), "test": "0" * 64}
    with pytest.raises(DataValidationError, match=r"test\.csv.*checksum mismatch"):
        load_task(cfg)
    with open_dict(cfg):
        cfg.data.sha256 = {"train": sha256_file(train), "test": sha256_file(test)}
    assert len(load_task(cfg).X) == N_ROWS


def test_a_run_that_fails_on_its_data_is_recorded_failed_with_the_error(make_cfg, tmp_path) -> None:
    cfg = _churn(make_cfg, _telco(tmp_path), "data.sha256=" + "0" * 64)
    with pytest.raises(DataValidationError, match="checksum mismatch"):
        run(cfg)
    runs = mlflow.search_runs(experiment_names=[tracking.experiment_name(cfg)])
    assert len(runs) == 1
    assert runs.iloc[0]["status"] == "FAILED"
    assert "checksum mismatch" in runs.iloc[0]["tags.error"]
    assert "churn.csv" in runs.iloc[0]["tags.error"]


def test_hooks_and_loaders_are_built_from_target_specs(make_cfg) -> None:
    cfg = make_cfg("task=occupation")
    plugin = task_plugin(cfg)
    assert [h.func.__name__ for h in plugin.hooks] == [
        "log_ceiling",
        "true_label_accuracy",
        "paired_ceiling_gap",
    ]
    assert task_plugin(
        make_cfg("task=churn", "task.loader=src.data.tabular.load_tabular")
    ).loader.func.__name__ == ("load_tabular")
    with pytest.raises(ConfigError, match=r"task\.loader cannot be built"):
        task_plugin(make_cfg("task=churn", "task.loader=src.data.tabular.no_such_loader"))


SIGTERM_CHILD = """
import sys, time
import mlflow
from src.termination import runs_end_on_sigterm
mlflow.set_tracking_uri(sys.argv[1])
with runs_end_on_sigterm(), mlflow.start_run() as active:
    print(active.info.run_id, flush=True)
    time.sleep(120)
"""


@pytest.mark.slow
def test_sigterm_ends_the_active_run_as_killed(tmp_path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_CHILD, uri],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = child.stdout.readline().strip()
    assert run_id, child.stderr.read()
    time.sleep(0.5)
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == 128 + signal.SIGTERM
    ended = mlflow.MlflowClient(tracking_uri=uri).get_run(run_id)
    assert ended.info.status == "KILLED"
    assert ended.data.tags["error"] == f"killed by signal {int(signal.SIGTERM)}"


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


def test_untracked_files_under_conf_or_src_make_the_checkout_dirty(tmp_path, monkeypatch) -> None:
    _git(tmp_path, "init", "-q")
    for folder in ("src", "conf"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "kept.py").write_text("x = 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.setattr(tracking, "PROJECT_ROOT", tmp_path)
    assert tracking.git_state()["git_dirty"] == "false"
    (tmp_path / "notes.txt").write_text("scratch\n")  # untracked outside conf/ and src/: still clean
    assert tracking.git_state()["git_dirty"] == "false"
    for folder in ("src", "conf"):
        new = tmp_path / folder / "new.yaml"
        new.write_text("a: 1\n")
        assert tracking.git_state()["git_dirty"] == "true"
        new.unlink()


class _Topics(mlflow.pyfunc.PythonModel):
    """A stand-in topic model: every title is tech news."""

    def predict(self, context, model_input, params=None):
        return pd.DataFrame({"prediction": ["news_tech"] * len(model_input)})


@pytest.mark.slow
def test_the_registry_title_labeller_records_the_champion_version_and_run(make_cfg) -> None:
    cfg = make_cfg("task=occupation", "features.titles.labeller=registry")
    tracking.configure_store(cfg)
    with mlflow.start_run() as active:
        mlflow.pyfunc.log_model(
            name="model", python_model=_Topics(), registered_model_name="topic-test", pip_requirements=[]
        )
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("topic-test", "champion", "1")
    labeller = registry_labeller(cfg, "models:/topic-test@champion", {"news_tech": "科技"})
    assert labeller.label(["一个标题"]) == ["科技"]
    assert labeller.lineage["version"] == "1" and labeller.lineage["run_id"] == active.info.run_id
    assert labeller_tags(labeller.lineage)["title_labeller.run_id"] == active.info.run_id
