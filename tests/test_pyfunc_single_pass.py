"""The deployed pyfunc prepares its input once per predict call; selection reports its progress."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from src.models.pyfunc import ProfilingModel


class CountingScaler(TransformerMixin, BaseEstimator):
    """Passes numbers through and counts how many times it prepared an input."""

    def fit(self, X: pd.DataFrame, y: object = None) -> CountingScaler:
        """Nothing to learn."""
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """The input as floats; counts the call on the class (transform must not change the estimator)."""
        CountingScaler.calls += 1
        return np.asarray(X, dtype=float)


CountingScaler.calls = 0


def test_one_predict_call_prepares_the_input_once() -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "b": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]})
    y = pd.Series(["No", "No", "No", "Yes", "Yes", "Yes"])
    pipeline = Pipeline([("features", CountingScaler()), ("model", LogisticRegression())]).fit(X, y)
    model = ProfilingModel(pipeline, task="churn")
    CountingScaler.calls = 0
    out = model.predict(None, X.head(1))
    assert CountingScaler.calls == 1
    assert list(out.columns) == ["prediction", "proba_No", "proba_Yes"]
    assert out["prediction"].iloc[0] == pipeline.predict(X.head(1))[0]
    np.testing.assert_allclose(out[["proba_No", "proba_Yes"]].to_numpy(), pipeline.predict_proba(X.head(1)))


def test_selection_logs_the_features_step_with_its_time(caplog) -> None:
    import logging

    from sklearn.preprocessing import StandardScaler

    from src.models.evaluate import select_on_validation

    X = pd.DataFrame({"a": np.arange(40, dtype=float), "b": np.tile([0.0, 1.0], 20)})
    y = pd.Series(np.where(np.arange(40) % 3 == 0, "Yes", "No"))

    def make() -> Pipeline:
        return Pipeline([("features", StandardScaler()), ("model", LogisticRegression())])

    with caplog.at_level(logging.INFO, logger="src.models.evaluate"):
        select_on_validation(make, {"C": [0.1, 1.0]}, X[:30], y[:30], X[30:], y[30:], metric="accuracy")
    assert re.search(
        r"features \(StandardScaler\) fitted and applied to 30 \+ 10 rows in \d+\.\d s", caplog.text
    )


class NoPredict:
    """Wraps a fitted classifier; fails if asked for labels (they must come from the probabilities)."""

    def __init__(self, model: object) -> None:
        self.model = model
        self.classes_ = model.classes_
        self.predicts_argmax_proba = True

    def predict_proba(self, X: object) -> np.ndarray:
        """The wrapped classifier's probabilities."""
        return self.model.predict_proba(X)

    def predict(self, X: object) -> np.ndarray:
        """Not to be called."""
        raise AssertionError("predict called: the trees ran twice")


def test_argmax_classifiers_are_scored_once_with_their_own_labels() -> None:
    from lightgbm import LGBMClassifier
    from sklearn.tree import DecisionTreeClassifier

    from src.models.single_pass import labels_and_proba, predicts_argmax

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = pd.Series(
        np.where(X["a"] + 0.5 * rng.normal(size=300) > 0, "Yes", np.where(X["b"] > 0, "No", "Maybe"))
    )
    for estimator in (
        LGBMClassifier(n_estimators=20, num_leaves=4, verbose=-1, random_state=0),
        DecisionTreeClassifier(max_depth=3, random_state=0),
    ):
        pipeline = Pipeline([("features", CountingScaler()), ("model", estimator)]).fit(X, y)
        assert predicts_argmax(pipeline[-1])
        labels, proba = labels_and_proba(pipeline, X)
        np.testing.assert_array_equal(labels, pipeline.predict(X))  # the labels it always gave
        np.testing.assert_array_equal(proba, pipeline.predict_proba(X))
        wrapped = Pipeline([("features", pipeline[0]), ("model", NoPredict(pipeline[-1]))])
        np.testing.assert_array_equal(labels_and_proba(wrapped, X)[0], labels)
    assert not predicts_argmax(LogisticRegression())  # labels from the decision function: asked for


def test_a_text_model_tokenises_its_texts_once_per_predict_call() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from src.models.text_output import text_prediction_frame

    texts = ["免费 中奖 领取", "明天 开会", "中奖 点击 链接", "晚饭 回家 吃", "验证码 123456", "恭喜 中奖"]
    labels = ["spam", "ham", "spam", "ham", "ham", "spam"]
    tokenised: list[int] = []

    def tokens(text: str) -> list[str]:
        tokenised.append(1)
        return text.split()

    class Column(TransformerMixin, BaseEstimator):
        def fit(self, X: pd.DataFrame, y: object = None) -> Column:
            return self

        def transform(self, X: pd.DataFrame) -> list[str]:
            return list(X["text"])

    pipeline = Pipeline(
        [("column", Column()), ("ngrams", CountVectorizer(tokenizer=tokens, token_pattern=None)),
         ("model", LogisticRegression())]
    ).fit(pd.DataFrame({"text": texts}), labels)  # fmt: skip
    rows = pd.DataFrame({"text": ["中奖 领取", "明天 回家", "   "]})
    tokenised.clear()
    out = text_prediction_frame(pipeline, rows, no_text_label="no_text")
    assert len(tokenised) == 2  # the two texts with letters, each once; the blank one is not scored
    expected = pipeline.predict(rows.head(2))
    assert list(out["prediction"]) == [*expected, "no_text"]
    np.testing.assert_array_equal(
        out[["proba_ham", "proba_spam"]].to_numpy()[:2], pipeline.predict_proba(rows.head(2))
    )
