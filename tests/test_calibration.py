"""Probability calibration of a task's models (CalibratedClassifierCV on training folds), channel task."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from src.errors import ConfigError
from src.experiment import feature_importance, pipeline_factory
from src.experiment import run as run_experiment
from src.models.calibration import calibrated, calibrated_grid, calibration_method
from src.tasks.channel import ChannelModel
from tests.helpers.champions import champion_cfg


def overconfident_case(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten copies of one noisy signal: naive Bayes counts it ten times and is far too sure."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-signal))).astype(int)
    X = np.column_stack([signal + rng.normal(0, 0.3, n) for _ in range(10)])
    return X, y


def test_auto_takes_the_models_entry_and_defaults_to_none() -> None:
    calibration = OmegaConf.create({"method": "auto", "cv": 3, "by_model": {"decision_tree": "isotonic"}})
    assert calibration_method(calibration, "decision_tree") == "isotonic"
    assert calibration_method(calibration, "logreg") == "none"
    assert calibration_method(None, "logreg") == "none"
    assert calibration_method(OmegaConf.create({"method": "sigmoid"}), "logreg") == "sigmoid"


def test_an_unknown_method_or_too_few_folds_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"task\.calibration\.method: unknown method 'platt'"):
        calibration_method(OmegaConf.create({"method": "platt"}), "logreg")
    with pytest.raises(ConfigError, match=r"task\.calibration\.method: unknown method 'beta'"):
        calibration_method(OmegaConf.create({"method": "auto", "by_model": {"svm": "beta"}}), "svm")
    with pytest.raises(ConfigError, match=r"task\.calibration\.cv must be at least 2"):
        calibrated(GaussianNB(), "sigmoid", 1, 0)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibration_lowers_the_brier_of_an_overconfident_model(method: str) -> None:
    X, y = overconfident_case(6000, 0)
    X_test, y_test = overconfident_case(4000, 1)
    raw = GaussianNB().fit(X, y).predict_proba(X_test)[:, 1]
    fixed = calibrated(GaussianNB(), method, 3, 0).fit(X, y).predict_proba(X_test)[:, 1]
    assert fixed.min() >= 0.0 and fixed.max() <= 1.0
    assert brier_score_loss(y_test, fixed) < brier_score_loss(y_test, raw) - 0.01
    if method == "sigmoid":  # a monotone map of the same model (fitted on every training row)
        assert roc_auc_score(y_test, fixed) == pytest.approx(roc_auc_score(y_test, raw))


def test_calibration_does_not_worsen_a_calibrated_model() -> None:
    X, y = overconfident_case(6000, 0)
    X_test, y_test = overconfident_case(4000, 1)
    tree = DecisionTreeClassifier(min_samples_leaf=200, random_state=0)
    raw = tree.fit(X, y).predict_proba(X_test)[:, 1]
    fixed = calibrated(tree, "sigmoid", 3, 0).fit(X, y).predict_proba(X_test)[:, 1]
    assert brier_score_loss(y_test, fixed) <= brier_score_loss(y_test, raw) + 0.002


def test_the_same_seed_gives_the_same_calibrated_probabilities() -> None:
    X, y = overconfident_case(2000, 0)
    first, second = (calibrated(GaussianNB(), "isotonic", 3, 7).fit(X, y).predict_proba(X) for _ in range(2))
    np.testing.assert_array_equal(first, second)


def test_the_factory_wraps_the_model_and_addresses_its_grid_inside(make_cfg) -> None:
    cfg = make_cfg("task=channel", "model=decision_tree", "task.calibration.method=isotonic")
    make, grid = pipeline_factory(cfg)
    model = make().named_steps["model"]
    assert isinstance(model, CalibratedClassifierCV) and model.method == "isotonic" and not model.ensemble
    assert set(grid) == {"estimator__max_depth", "estimator__min_samples_leaf"}
    model.set_params(**{key: values[0] for key, values in grid.items()})  # the keys reach the tree
    off = make_cfg("task=channel", "model=decision_tree", "task.calibration.method=none")
    plain_make, plain_grid = pipeline_factory(off)
    assert isinstance(plain_make().named_steps["model"], DecisionTreeClassifier)
    assert set(plain_grid) == {"max_depth", "min_samples_leaf"}
    assert calibrated_grid(plain_grid, "none") == plain_grid


def test_the_channel_task_calibrates_nothing_by_default_and_auto_only_the_models_it_lists(make_cfg) -> None:
    cfg = make_cfg("task=channel", "model=decision_tree")
    by_model = dict(cfg.task.calibration.by_model)
    assert by_model  # auto has something to apply
    for model in ("decision_tree", "logreg", "lightgbm"):
        for method, expected in (("none", False), ("auto", model in by_model)):
            cfg = make_cfg("task=channel", f"model={model}")
            if method == "auto":
                cfg = make_cfg("task=channel", f"model={model}", "task.calibration.method=auto")
            wrapped = isinstance(pipeline_factory(cfg)[0]().named_steps["model"], CalibratedClassifierCV)
            assert wrapped == expected, (model, method)
    occupation = make_cfg("task=occupation", "model=decision_tree")  # no calibration key: as before
    assert isinstance(pipeline_factory(occupation)[0]().named_steps["model"], DecisionTreeClassifier)


def test_a_calibrated_channel_run_on_the_tiny_population(tiny: Path, tmp_path: Path) -> None:
    overrides = ("task.calibration.method=isotonic", "mlflow.register=never")
    cfg = champion_cfg(tmp_path, tiny, "channel", "decision_tree", *overrides)
    metrics = run_experiment(cfg)
    channels = list(cfg.task.channels)
    for channel in channels:
        assert 0.0 < metrics[f"test_brier_{channel}"] < 0.3
    # the excess Brier over the ceiling on the same users, with its paired interval
    excess = metrics["test_brier"] - metrics["test_ceiling_brier"]
    assert metrics["test_gap_to_ceiling_brier"] == pytest.approx(excess)
    assert metrics["test_gap_to_ceiling_brier_lo"] <= metrics["test_gap_to_ceiling_brier"]
    assert metrics["test_gap_to_ceiling_brier"] <= metrics["test_gap_to_ceiling_brier_hi"]
    run = mlflow.search_runs(experiment_names=["profiling-channel"]).iloc[0]
    assert run["params.calibration"] == "isotonic"
    model = mlflow.pyfunc.load_model(run["tags.model_uri"]).unwrap_python_model().pipeline
    assert isinstance(model, ChannelModel)
    path = mlflow.artifacts.download_artifacts(
        run_id=run["run_id"], artifact_path="channel/test_user_tiers.parquet"
    )
    tiers = pd.read_parquet(path)
    proba = tiers[[f"p_{c}" for c in channels]].to_numpy()
    assert proba.min() >= 0.0 and proba.max() <= 1.0
    pipeline = next(iter(model.pipelines.values()))
    assert isinstance(pipeline.named_steps["model"], CalibratedClassifierCV)
    assert feature_importance(pipeline) is not None  # read from the tree inside the wrapper
