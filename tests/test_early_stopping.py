"""Boosting rounds chosen on validation: LightGBM stops early, and every re-fit grows the kept rounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from src.config import compose
from src.errors import ConfigError
from src.experiment import early_stopping_rounds
from src.models.early_stopping import fit_early_stopped
from src.models.evaluate import make_split, select_on_validation


def noisy_data(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """One informative column among noise, with 30% flipped labels: boosting overfits within rounds."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"x{i}" for i in range(8)])
    y = (X["x0"] > 0).astype(int)
    flip = rng.random(n) < 0.3
    return X, pd.Series(np.where(flip, 1 - y, y))


def booster(n_estimators: int = 300) -> LGBMClassifier:
    return LGBMClassifier(
        n_estimators=n_estimators, learning_rate=0.3, num_leaves=31, min_child_samples=2,
        deterministic=True, force_row_wise=True, num_threads=1, random_state=0, verbose=-1,
    )  # fmt: skip


def test_stops_at_the_best_validation_round_and_refits_grow_only_those_rounds():
    X, y = noisy_data()
    split = make_split(y, 0, 0.25, 0.25)
    model = booster()
    kept = fit_early_stopped(
        model, X.iloc[split.train], y.iloc[split.train], X.iloc[split.val], y.iloc[split.val], rounds=10
    )
    assert 1 <= kept < 300  # noise makes the validation loss turn up long before 300 rounds
    assert model.best_iteration_ == kept and model.get_params()["n_estimators"] == kept
    refit = clone(model).fit(X.iloc[np.r_[split.train, split.val]], y.iloc[np.r_[split.train, split.val]])
    assert refit.booster_.num_trees() == kept  # binary: one tree per round
    # the fitted model decides with its best round, not with the rounds it grew past it
    best_only = booster(kept).fit(X.iloc[split.train], y.iloc[split.train])
    test = X.iloc[split.test]
    assert np.array_equal(model.predict_proba(test), best_only.predict_proba(test))


def test_selection_records_the_rounds_each_setting_kept():
    X, y = noisy_data(seed=1)
    split = make_split(y, 0, 0.25, 0.25)

    def make():
        return Pipeline([("features", FunctionTransformer()), ("model", booster())])

    selection = select_on_validation(
        make, {"num_leaves": [4, 31]}, X.iloc[split.train], y.iloc[split.train],
        X.iloc[split.val], y.iloc[split.val], metric="accuracy", early_stopping_rounds=10,
    )  # fmt: skip
    assert list(selection.table.columns) == ["num_leaves", "n_estimators", "val_accuracy"]
    assert (selection.table["n_estimators"] < 300).all()
    kept = selection.best_params["n_estimators"]
    assert selection.pipeline.named_steps["model"].get_params()["n_estimators"] == kept


def test_text_labels_are_watched_like_the_training_labels():
    X, y = noisy_data()
    words = y.map({0: "no", 1: "yes"})
    split = make_split(words, 0, 0.25, 0.25)
    model = booster()
    kept = fit_early_stopped(
        model,
        X.iloc[split.train],
        words.iloc[split.train],
        X.iloc[split.val],
        words.iloc[split.val],
        rounds=10,
    )
    assert 1 <= kept < 300 and set(model.predict(X.iloc[split.test])) <= {"no", "yes"}


def test_validation_labels_unseen_in_training_are_left_out_of_the_watched_loss():
    X, y = noisy_data()
    split = make_split(y, 0, 0.25, 0.25)
    y_val = y.iloc[split.val].copy()
    y_val.iloc[:5] = 7  # a class the training rows lack
    train = split.train
    kept = fit_early_stopped(booster(), X.iloc[train], y.iloc[train], X.iloc[split.val], y_val, rounds=10)
    assert 1 <= kept < 300


def test_a_model_that_cannot_stop_early_is_one_clear_error():
    X, y = noisy_data(n=100)
    with pytest.raises(ConfigError, match="LogisticRegression is not a LightGBM model"):
        fit_early_stopped(LogisticRegression(), X, y, X, y, rounds=10)
    with pytest.raises(ConfigError, match="positive number of rounds"):
        fit_early_stopped(booster(), X, y, X, y, rounds=0)


def test_text_and_behaviour_variants_stop_early_unless_the_rounds_are_set_on_the_command_line():
    assert early_stopping_rounds(compose(["task=topic", "model=lightgbm"])) == 20
    fixed = compose(["task=topic", "model=lightgbm", "+model.params.n_estimators=50"])
    assert early_stopping_rounds(fixed) is None
    assert early_stopping_rounds(compose(["task=topic", "model=svm"])) is None
    assert early_stopping_rounds(compose(["task=channel", "model=lightgbm"])) == 20
    assert early_stopping_rounds(compose(["task=churn", "model=lightgbm"])) is None
    calibrated = compose(["task=channel", "model=lightgbm", "task.calibration.method=sigmoid"])
    assert early_stopping_rounds(calibrated) is None  # the calibrator re-fits the model on its folds
