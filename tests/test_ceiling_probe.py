"""The behaviour gap analysis: oracle, ceiling, probe, outcome model, and what each distance is due to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from src.data.simulate.ceiling_probe import CHANNELS, check_tasks, distance, task_gaps
from src.data.simulate.gap_report import gap_report
from src.errors import ConfigError

CEILINGS = {
    "content": {"oracle_top1": 0.9, "oracle_top3": 1.0},
    "occupation": {"oracle_accuracy_vs_observed_label": 0.95},
}


def synthetic(n: int, informative: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Oracle = a hidden probability; the ceiling sees it through noise (the window); the features
    carry the ceiling's input (informative) or unrelated values."""
    rng = np.random.default_rng(0)
    hidden = rng.random((n, 3))
    window = np.clip(hidden + rng.normal(0, 0.15, (n, 3)), 0.0, 1.0)
    shown = window if informative else rng.random((n, 3))
    features = pd.DataFrame({"user_id": np.arange(n), "a": shown[:, 0], "b": shown[:, 1], "c": shown[:, 2]})
    labels = {"user_id": np.arange(n)}
    for channel in CHANNELS:
        labels[f"p_next_{channel}"] = hidden[:, 0]
        labels[f"bayes_p_next_{channel}"] = window[:, 0]
        labels[f"next_{channel}"] = (rng.random(n) < hidden[:, 0]).astype(int)
    labels["p_churn"] = hidden[:, 1]
    labels["bayes_p_churn"] = window[:, 1]
    labels["churned_next_period"] = (rng.random(n) < hidden[:, 1]).astype(int)
    for j, category in enumerate(["x", "y", "z"]):
        labels[f"bayes_top_{category}"] = window[:, j]
        labels[f"pref_{category}"] = hidden[:, j]
    labels["occupation_observed"] = True
    labels["bayes_observed_occupation"] = np.where(window[:, 2] > 0.5, "farmer", "clerk")
    labels["observed_occupation"] = np.where(
        rng.random(n) < 0.9, np.where(hidden[:, 2] > 0.5, "farmer", "clerk"), "clerk"
    )
    return features, pd.DataFrame(labels)


def config(n_bootstrap: int = 50):
    small = {"n_estimators": 30, "num_leaves": 7}
    return OmegaConf.create(
        {
            "seed": 0,
            "n_jobs": 1,
            "gap": {"users": 4000, "train_share": 0.7, "n_bootstrap": n_bootstrap, "ci_level": 0.95,
                    "learner": small, "outcome_learner": {**small, "min_child_samples": 50}},
        }
    )  # fmt: skip


def step(gap, upper: str, lower: str, metric: str) -> dict:
    rows = gap.steps[(gap.steps["step"] == f"{upper} -> {lower}") & (gap.steps["metric"] == metric)]
    return rows.iloc[0].to_dict()


@pytest.mark.slow  # trains the probe and outcome models of four tasks on two populations
def test_the_probe_reaches_the_ceiling_only_when_the_features_hold_it() -> None:
    tasks = ["channel", "churn_sim", "content", "occupation"]
    held = {g.task: g for g in task_gaps(*synthetic(4000, True), CEILINGS, tasks, config())}
    hidden = {g.task: g for g in task_gaps(*synthetic(4000, False), CEILINGS, tasks, config())}
    assert list(held) == tasks
    for task, gap in held.items():
        table_lacks = step(gap, "ceiling", "probe", gap.headline)["distance"]
        assert table_lacks < 0.03, task  # the table holds the ceiling's input
        assert step(hidden[task], "ceiling", "probe", gap.headline)["distance"] > 0.1, task  # it does not
        # learning from noisy outcomes costs something (or nothing), never buys much
        assert step(gap, "probe", "outcome model", gap.headline)["distance"] > -0.03, task


@pytest.mark.slow  # trains the probe and outcome models of two tasks
def test_the_window_noise_shows_between_oracle_and_ceiling_with_a_paired_interval() -> None:
    gaps = {
        g.task: g for g in task_gaps(*synthetic(4000, True), CEILINGS, ["channel", "churn_sim"], config())
    }
    for task, gap in gaps.items():
        hides = step(gap, "oracle", "ceiling", "roc_auc")
        assert hides["paired"] and 0.0 < hides["low"] <= hides["distance"] <= hides["high"], task
        assert step(gap, "oracle", "ceiling", "brier")["distance"] > 0.0  # Brier rises: lost, positive
    channel = gaps["channel"]
    assert channel.scores.loc["ceiling", "roc_auc"] == pytest.approx(
        channel.per_target["ceiling roc_auc"].mean()
    )
    assert channel.scores.loc["probe", "brier"] == pytest.approx(channel.per_target["probe brier"].mean())


def test_a_population_oracle_has_no_interval_and_only_the_requested_tasks_run() -> None:
    (content,) = task_gaps(*synthetic(3000, True), CEILINGS, ["content"], config())
    assert content.scores.loc["oracle", "top1"] == 0.9
    assert not step(content, "oracle", "ceiling", "top1")["paired"]
    assert np.isnan(step(content, "oracle", "ceiling", "top1")["low"])
    assert content.held_out == 900 and content.fitted_on == 2100


def test_the_same_seed_gives_the_same_analysis() -> None:
    first, second = (task_gaps(*synthetic(2000, True), CEILINGS, ["churn_sim"], config()) for _ in range(2))
    pd.testing.assert_frame_equal(first[0].scores, second[0].scores)
    pd.testing.assert_frame_equal(first[0].steps, second[0].steps)


def test_unknown_or_no_tasks_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"gap\.tasks: unknown task 'chanel'"):
        check_tasks(["chanel"])
    with pytest.raises(ConfigError, match=r"gap\.tasks is empty"):
        check_tasks([])
    assert check_tasks(["occupation", "channel"]) == ["channel", "occupation"]


def test_distance_is_positive_when_lost_whichever_way_the_metric_points() -> None:
    assert distance("roc_auc", 0.80, 0.75) == pytest.approx(0.05)
    assert distance("brier", 0.10, 0.12) == pytest.approx(0.02)


def test_the_report_has_a_section_per_task_with_every_step() -> None:
    gaps = task_gaps(*synthetic(2000, True), CEILINGS, ["channel", "occupation"], config(n_bootstrap=20))
    text = gap_report(gaps, ["header line"], {"occupation": "### Where the occupation ceiling comes from"})
    assert text.index("## channel") < text.index("## occupation") < text.index("### Where the occupation")
    assert "## churn_sim" not in text
    assert text.count("| ceiling → probe |") == 2 and text.count("| probe → outcome model |") == 2
    assert "| store |" in text  # the per-channel table
