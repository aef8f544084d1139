"""LightGBM models found inside loaded pipelines predict on more threads, with the same probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from lightgbm import LGBMClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from src.models.threads import set_prediction_threads
from src.tasks.channel import ChannelModel


def _fitted(seed: int) -> LGBMClassifier:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3000, 8))
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=3000), [-0.5, 0.5])
    return LGBMClassifier(n_estimators=60, num_leaves=15, num_threads=1, verbose=-1).fit(X, y)


def test_every_lightgbm_inside_pipelines_and_bundles_gets_the_threads() -> None:
    first, second = make_pipeline(StandardScaler(), _fitted(0)), _fitted(1)
    bundle = ChannelModel({"a": first, "b": second})
    assert set_prediction_threads(make_pipeline(bundle), 2) == 2
    assert first[-1].get_params()["num_threads"] == 2
    assert second.get_params()["num_threads"] == 2


def test_more_threads_give_the_same_probabilities_bit_for_bit() -> None:
    model = _fitted(2)
    X = np.random.default_rng(3).normal(size=(20000, 8))
    one = model.predict_proba(X)
    set_prediction_threads(model, 2)
    assert np.array_equal(model.predict_proba(X), one)


def test_a_model_without_lightgbm_is_left_alone() -> None:
    assert set_prediction_threads(make_pipeline(StandardScaler()), 2) == 0


def test_threads_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="threads must be >= 1"):
        set_prediction_threads(_fitted(4), 0)
