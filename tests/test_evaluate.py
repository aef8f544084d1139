"""Splits, metrics, bootstrap intervals and selection on validation only."""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from src.models.bootstrap import _RankedScores, bootstrap_intervals, weighted_metrics
from src.models.evaluate import compute_metrics, make_split, predict_with_proba, select_on_validation


def test_split_is_stratified_disjoint_and_seeded():
    y = pd.Series(["a"] * 700 + ["b"] * 300)
    first, again, other = (
        make_split(y, 1, 0.15, 0.15),
        make_split(y, 1, 0.15, 0.15),
        make_split(y, 2, 0.15, 0.15),
    )
    assert set(first.train).isdisjoint(first.val) and set(first.val).isdisjoint(first.test)
    assert len(first.train) + len(first.val) + len(first.test) == 1000
    assert np.array_equal(first.test, again.test) and not np.array_equal(first.test, other.test)
    for part in (first.train, first.val, first.test):
        assert abs((y.iloc[part] == "b").mean() - 0.3) < 0.01


def test_fixed_split_is_respected_and_checked():
    fixed = pd.Series(["train", "train", "val", "test"])
    split = make_split(pd.Series(list("aabb")), 0, 0.1, 0.1, fixed=fixed)
    assert list(split.train) == [0, 1] and list(split.val) == [2] and list(split.test) == [3]
    with pytest.raises(ValueError, match="unknown values"):
        make_split(pd.Series(list("ab")), 0, 0.1, 0.1, fixed=pd.Series(["train", "dev"]))


@settings(max_examples=40, deadline=None)
@given(
    n_classes=st.integers(2, 4),
    n=st.integers(20, 120),
    seed=st.integers(0, 10_000),
)
def test_weighted_metrics_equal_sklearn_on_unit_weights(n_classes, n, seed):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.arange(n_classes), rng.integers(0, n_classes, n - n_classes)])
    proba = np.round(rng.dirichlet(np.ones(n_classes), n), 2)
    proba = proba / proba.sum(axis=1, keepdims=True)
    pred = rng.integers(0, n_classes, n)
    positive = 1 if n_classes == 2 else None
    reference = compute_metrics(y, pred, proba, list(range(n_classes)), positive)
    if n_classes == 2:
        ranked = [_RankedScores(proba[:, 1], y == 1)]
    else:
        ranked = [_RankedScores(proba[:, c], y == c) for c in range(n_classes)]
    names = [str(c) for c in range(n_classes)]
    fast = weighted_metrics(np.ones(n), y, pred, n_classes, proba, ranked, positive, names)
    for key, value in reference.items():
        assert fast[key] == pytest.approx(value, abs=1e-9), key


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    score = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    proba = np.column_stack([1 - score, score])
    pred = (score > 0.5).astype(int)
    point = compute_metrics(y, pred, proba, [0, 1], 1)
    ci = bootstrap_intervals(y, pred, proba, [0, 1], 1, n_boot=300, seed=3)
    for key in ("accuracy", "roc_auc", "pr_auc", "brier", "log_loss", "f1_positive"):
        low, high = ci[key]
        assert low < point[key] < high, key
    assert ci == bootstrap_intervals(y, pred, proba, [0, 1], 1, n_boot=300, seed=3)
    wider = bootstrap_intervals(y[:100], pred[:100], proba[:100], [0, 1], 1, n_boot=300, seed=3)
    assert wider["accuracy"][1] - wider["accuracy"][0] > ci["accuracy"][1] - ci["accuracy"][0]


class _Recorder(BaseEstimator, ClassifierMixin):
    """Remembers every row index it was fitted on; predicts the majority class."""

    seen: typing.ClassVar[set] = set()

    def __init__(self, k: int = 0) -> None:
        self.k = k

    def fit(self, X, y):
        _Recorder.seen |= set(X["row"])
        self.classes_ = np.unique(y)
        self.majority_ = pd.Series(y).mode()[0]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_ if self.k == 1 else self.classes_[0])


def test_selection_fits_on_train_scores_on_validation_and_never_sees_test():
    X = pd.DataFrame({"row": np.arange(100)})
    y = pd.Series(["a"] * 30 + ["b"] * 70)
    split = make_split(y, 0, 0.2, 0.2)
    _Recorder.seen = set()

    def make():
        return Pipeline([("features", FunctionTransformer()), ("model", _Recorder())])

    selection = select_on_validation(
        make,
        {"k": [0, 1]},
        X.iloc[split.train],
        y.iloc[split.train],
        X.iloc[split.val],
        y.iloc[split.val],
        metric="accuracy",
    )
    assert selection.best_params == {"k": 1}  # majority 'b' beats always-'a' on validation
    assert _Recorder.seen == set(split.train)
    assert list(selection.table.columns) == ["k", "val_accuracy"]


def test_mean_interval_brackets_the_mean_and_is_seeded() -> None:
    from src.models.bootstrap import mean_interval

    values = np.r_[np.ones(30), np.zeros(70)]
    low, high = mean_interval(values, 500, 0.95, seed=3)
    assert low < 0.3 < high and high - low < 0.25
    assert mean_interval(values, 500, 0.95, seed=3) == (low, high)
    assert mean_interval(np.full(20, 0.5), 100, 0.95, seed=0) == (0.5, 0.5)


def test_labels_and_probabilities_come_from_one_pass_of_the_features() -> None:
    from sklearn.linear_model import LogisticRegression

    calls: list[int] = []

    def count(X):
        calls.append(len(X))
        return np.asarray(X, dtype=float)

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.array(["a", "b"] * 30)
    pipeline = Pipeline([("features", FunctionTransformer(count)), ("model", LogisticRegression())]).fit(X, y)
    expected_labels, expected_proba = pipeline.predict(X), pipeline.predict_proba(X)
    calls.clear()
    labels, proba = predict_with_proba(pipeline, X)
    assert calls == [60]
    assert np.array_equal(labels, expected_labels) and np.array_equal(proba, expected_proba)
