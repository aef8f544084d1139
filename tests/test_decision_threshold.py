"""A decision threshold chosen on validation (`task.decision_threshold: f1`), never on test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from src.experiment import feature_importance
from src.models.evaluate import f1_optimal_threshold, make_split, select_on_validation


def imbalanced_rows(seed: int = 0, n: int = 1200) -> tuple[pd.DataFrame, pd.Series]:
    """Two overlapping Gaussian classes, 15% 'spam': the 0.5 threshold is not the F1-optimal one."""
    rng = np.random.default_rng(seed)
    is_spam = rng.random(n) < 0.15
    X = pd.DataFrame({"a": rng.normal(is_spam * 1.2, 1.0), "b": rng.normal(is_spam * 0.8, 1.0)})
    return X, pd.Series(np.where(is_spam, "spam", "ham"), name="label")


def make_pipeline() -> Pipeline:
    return Pipeline([("features", StandardScaler()), ("model", LogisticRegression())])


def select(X: pd.DataFrame, y: pd.Series, threshold: str | None, seed: int = 0):
    split = make_split(y, seed, 0.25, 0.25)
    selection = select_on_validation(
        make_pipeline,
        {"C": [0.01, 1.0]},
        X.iloc[split.train],
        y.iloc[split.train],
        X.iloc[split.val],
        y.iloc[split.val],
        metric="f1_positive",
        positive_label="spam",
        threshold=threshold,
    )
    return selection, split


def test_f1_optimal_threshold_is_the_best_cut_of_the_scores() -> None:
    y = np.array(["ham", "ham", "spam", "ham", "spam", "spam"])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.9])
    threshold = f1_optimal_threshold(y, scores, "spam")
    best = max(f1_score(y == "spam", scores >= t) for t in scores)
    assert f1_score(y == "spam", scores >= threshold) == pytest.approx(best)
    assert threshold == pytest.approx(0.3)  # all three spam caught, one ham flagged: F1 6/7


def test_threshold_is_chosen_on_validation_and_decides() -> None:
    X, y = imbalanced_rows()
    selection, split = select(X, y, "f1")
    model = selection.pipeline.named_steps["model"]
    assert isinstance(model, FixedThresholdClassifier)
    X_val, y_val = X.iloc[split.val], y.iloc[split.val]
    spam_proba = selection.pipeline.predict_proba(X_val)[:, list(model.classes_).index("spam")]
    chosen = selection.best_params["decision_threshold"]
    assert chosen == pytest.approx(f1_optimal_threshold(y_val, spam_proba, "spam"))
    assert chosen != pytest.approx(0.5)
    predicted = selection.pipeline.predict(X_val)
    assert np.array_equal(predicted == "spam", spam_proba >= chosen)
    assert "decision_threshold" in selection.table.columns
    # on validation the tuned decision is at least as good as the model's own (same C)
    plain, _ = select(X, y, None)
    f1_tuned = f1_score(y_val, predicted, pos_label="spam")
    f1_plain = f1_score(y_val, plain.pipeline.predict(X_val), pos_label="spam")
    assert f1_tuned >= f1_plain


def test_threshold_survives_the_refit_on_train_and_validation() -> None:
    X, y = imbalanced_rows(seed=1)
    selection, split = select(X, y, "f1", seed=1)
    rows = np.concatenate([split.train, split.val])
    refit = clone(selection.pipeline).fit(X.iloc[rows], y.iloc[rows])
    assert refit.named_steps["model"].threshold == selection.best_params["decision_threshold"]


@pytest.mark.parametrize(
    ("rule", "positive", "message"),
    [("youden", "spam", "task.decision_threshold must be null or one of"), ("f1", None, "positive label")],
)
def test_bad_threshold_setting_names_the_setting(rule: str, positive: str | None, message: str) -> None:
    X, y = imbalanced_rows()
    with pytest.raises(ValueError, match=message):
        select_on_validation(
            make_pipeline,
            {},
            X[:600],
            y[:600],
            X[600:],
            y[600:],
            "f1_positive",
            positive_label=positive,
            threshold=rule,
        )


def test_feature_importance_reads_the_model_inside_the_threshold() -> None:
    X, y = imbalanced_rows(seed=3)
    selection, _ = select(X, y, "f1", seed=3)
    table = feature_importance(selection.pipeline)
    assert table is not None and set(table["feature"]) == {"a", "b"}
