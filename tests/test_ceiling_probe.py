"""The ceiling probe of the gap analysis: a feature table that holds the ceiling lets the probe match it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from src.data.simulate.ceiling_probe import CHANNELS, probe_ceilings, probe_report


def synthetic(n: int, informative: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels whose ceilings are functions of one feature (informative) or of a hidden variable."""
    rng = np.random.default_rng(0)
    hidden = rng.random((n, 3))
    shown = hidden if informative else rng.random((n, 3))
    features = pd.DataFrame({"user_id": np.arange(n), "a": shown[:, 0], "b": shown[:, 1], "c": shown[:, 2]})
    labels = {"user_id": np.arange(n)}
    for channel in CHANNELS:
        labels[f"bayes_p_next_{channel}"] = hidden[:, 0]
        labels[f"next_{channel}"] = (rng.random(n) < hidden[:, 0]).astype(int)
    labels["bayes_p_churn"] = hidden[:, 1]
    labels["churned_next_period"] = (rng.random(n) < hidden[:, 1]).astype(int)
    for j, category in enumerate(["x", "y", "z"]):
        labels[f"bayes_top_{category}"] = hidden[:, j]
        labels[f"pref_{category}"] = hidden[:, j] + rng.normal(0, 0.1, n)
    labels["occupation_observed"] = True
    labels["bayes_observed_occupation"] = np.where(hidden[:, 2] > 0.5, "farmer", "clerk")
    labels["observed_occupation"] = np.where(
        rng.random(n) < 0.9, labels["bayes_observed_occupation"], "clerk"
    )
    return features, pd.DataFrame(labels)


def config():
    return OmegaConf.create(
        {
            "seed": 0,
            "n_jobs": 1,
            "gap": {"users": 4000, "train_share": 0.7, "regressor": {"n_estimators": 30, "num_leaves": 7}},
        }
    )


def test_the_probe_reaches_the_ceiling_only_when_the_features_hold_it() -> None:
    held = {(r.task, r.metric): r for r in probe_ceilings(*synthetic(4000, True), config())}
    hidden = {(r.task, r.metric): r for r in probe_ceilings(*synthetic(4000, False), config())}
    assert set(held) == {
        ("channel", "mean roc_auc"), ("churn_sim", "roc_auc"), ("content", "top1"), ("content", "top3"),
        ("occupation", "accuracy"),
    }  # fmt: skip
    for key, row in held.items():
        assert row.ceiling - row.probe < 0.03, key  # the table holds the ceiling's input
        if key != ("content", "top3"):  # three categories: every top-3 hits
            assert hidden[key].ceiling - hidden[key].probe > 0.1, key  # it does not: the features' gap
    assert any("ceiling - probe" in line for line in probe_report(list(held.values())))
