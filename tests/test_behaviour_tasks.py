"""Behaviour tasks end to end on a tiny simulated population: occupation, churn_sim, channel, content.

The runs are the session's tiny champions (tests/helpers/champions.py), shared with the profile tests.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from src.config import compose
from src.errors import ConfigError
from src.features.content_preference import attached_fusion, rule_scores
from src.tasks.behaviour import ceiling_value, load_occupation, model_columns
from src.tasks.content import hit_rates
from tests.helpers.champions import TinyChampions

pytestmark = pytest.mark.slow


def test_occupation_uses_observed_users_and_logs_its_ceiling(tiny_champions: TinyChampions) -> None:
    cfg = tiny_champions.use("occupation")
    data = load_occupation(cfg)
    assert 0 < len(data.y) < 2000 and data.quarantine["occupation_not_observed"] == 2000 - len(data.y)
    assert set(data.y) <= set(compose(["simulate=tiny"], "simulation").simulate.occupations)
    metrics = tiny_champions.metrics["occupation"]
    assert metrics["ceiling_accuracy"] == pytest.approx(
        ceiling_value(data.extras["ceilings"], "occupation.accuracy_vs_observed_label")
    )
    assert metrics["gap_to_ceiling_accuracy"] == pytest.approx(
        metrics["ceiling_accuracy"] - metrics["test_accuracy"]
    )
    assert 0.0 <= metrics["test_accuracy_true_label"] <= 1.0
    assert metrics["test_accuracy"] > metrics["test_majority_accuracy"]  # behaviour tells occupations apart
    gap = metrics["test_gap_to_ceiling_accuracy"]
    assert gap == pytest.approx(metrics["test_ceiling_accuracy"] - metrics["test_accuracy"])
    assert metrics["test_gap_to_ceiling_accuracy_lo"] <= gap <= metrics["test_gap_to_ceiling_accuracy_hi"]


def test_paired_ceiling_gap_on_known_predictions() -> None:
    """Ceiling right on 8 of 10 test users, model on 5: gap 0.3, and the interval brackets it."""
    from types import SimpleNamespace

    from src.tasks.behaviour import paired_ceiling_gap

    y = pd.Series(list("abababababxx"))
    ceiling = pd.Series(list("abababab") + list("ba") + list("xx"))
    model = np.array(["a"] * 10)  # right on the 5 "a" users
    data = SimpleNamespace(y=y, X=pd.DataFrame({"f": range(12)}), extras={"ceiling_prediction": ceiling})
    split = SimpleNamespace(test=np.arange(10))
    pipeline = SimpleNamespace(predict=lambda X: model[: len(X)])
    cfg = OmegaConf.create({"seed": 0, "evaluation": {"n_bootstrap": 500, "ci_level": 0.95}})
    metrics = paired_ceiling_gap(cfg=cfg, data=data, split=split, pipeline=pipeline, metrics={}).metrics
    assert metrics["test_ceiling_accuracy"] == pytest.approx(0.8)
    assert metrics["test_gap_to_ceiling_accuracy"] == pytest.approx(0.8 - 0.5)
    assert metrics["test_gap_to_ceiling_accuracy_lo"] < 0.3 < metrics["test_gap_to_ceiling_accuracy_hi"]


def test_churn_sim_has_the_churn_metrics(tiny_champions: TinyChampions) -> None:
    metrics = tiny_champions.metrics["churn_sim"]
    assert {"test_roc_auc", "test_pr_auc", "test_brier", "ceiling_roc_auc", "gap_to_ceiling_roc_auc"} <= set(
        metrics
    )
    # the tight ceiling's P(churn) on the same test users, paired with the model's
    gap = metrics["test_gap_to_ceiling_roc_auc"]
    assert gap == pytest.approx(metrics["test_ceiling_roc_auc"] - metrics["test_roc_auc"])
    assert metrics["test_gap_to_ceiling_roc_auc_lo"] <= gap <= metrics["test_gap_to_ceiling_roc_auc_hi"]
    assert 0.0 <= metrics["test_ceiling_brier"] <= 0.25


def test_channel_runner_grades_every_test_user_and_registers_one_model(tiny_champions: TinyChampions) -> None:
    cfg = tiny_champions.use("channel")
    metrics = tiny_champions.metrics["channel"]
    channels = list(cfg.task.channels)
    assert metrics["test_roc_auc"] == pytest.approx(np.mean([metrics[f"test_roc_auc_{c}"] for c in channels]))
    assert metrics["test_roc_auc_lo"] <= metrics["test_roc_auc"] <= metrics["test_roc_auc_hi"]
    # the ceiling on the same test users: the paired gap of the mean ROC-AUC, Brier per channel
    gap = metrics["test_gap_to_ceiling_roc_auc"]
    assert gap == pytest.approx(metrics["test_ceiling_roc_auc"] - metrics["test_roc_auc"])
    assert metrics["test_gap_to_ceiling_roc_auc_lo"] <= gap <= metrics["test_gap_to_ceiling_roc_auc_hi"]
    assert metrics["test_ceiling_roc_auc"] == pytest.approx(
        np.mean([metrics[f"test_ceiling_roc_auc_{c}"] for c in channels])
    )
    for channel in channels:
        assert 0.0 < metrics[f"ceiling_brier_{channel}"] < 0.25
        assert 0.0 < metrics[f"test_ceiling_brier_{channel}"] < 0.25
    run_id = mlflow.search_runs(experiment_names=["profiling-channel"]).iloc[0]["run_id"]
    shares = pd.read_csv(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="channel/tier_shares.csv")
    )
    assert set(shares["channel"]) == set(channels)
    assert shares.groupby("channel")["share"].sum().round(9).eq(1.0).all()
    assert list(shares["tier"].unique()) == list(cfg.task.tiers.labels)
    reliability = pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="channel/reliability.parquet")
    )
    assert reliability["count"].sum() == len(channels) * int(
        float(mlflow.get_run(run_id).data.params["split_test"])
    )
    model = mlflow.pyfunc.load_model("models:/profiling-channel@champion")
    rows = pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="channel/test_user_tiers.parquet")
    )
    assert {f"tier_{c}" for c in channels} <= set(rows.columns)
    del model
    # the same records as every task: validation grid, confusion tables and predictions per channel
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "predictions")}
    assert logged == {f"predictions/{part}_{c}.parquet" for part in ("val", "test") for c in channels}
    assert mlflow.get_run(run_id).data.tags["title_labeller.labeller"] == "lookup"


def test_content_two_stage_scores_explicit_and_latent_users(tiny_champions: TinyChampions) -> None:
    tiny_champions.use("content")
    metrics = tiny_champions.metrics["content"]
    for who in ("", "_explicit", "_latent"):
        assert 0.0 <= metrics[f"test_top1{who}"] <= metrics[f"test_top3{who}"] <= 1.0
    assert metrics["test_top1_explicit"] > 1 / 8  # the rules beat a random guess on explicit users
    assert "ceiling_top1" in metrics
    assert metrics["val_accuracy"] == metrics["val_accuracy_stage2"]  # the champion's metric
    for group in ("explicit", "latent"):
        for metric in ("top1", "top3", "spearman"):
            fused = metrics[f"val_{metric}_{group}_fused"]
            assert metrics[f"val_{metric}_{group}"] == pytest.approx(fused)  # headline keys = fused
            if (
                metric == "top1"
            ):  # the fusion's metric: never below either part on validation, by construction
                assert fused >= max(metrics[f"val_top1_{group}_rules"], metrics[f"val_top1_{group}_model"])
        # on test, the fused top-1's interval reaches the better part
        best = max(metrics[f"test_top1_{group}_rules"], metrics[f"test_top1_{group}_model"])
        assert metrics[f"test_top1_{group}_hi"] >= best
    assert metrics["test_top1"] == pytest.approx(metrics["test_top1_all_fused"])
    for metric in ("top1", "top3"):
        gap = metrics[f"test_gap_to_ceiling_{metric}"]
        assert gap == pytest.approx(metrics[f"test_ceiling_{metric}"] - metrics[f"test_{metric}"])
        assert (
            metrics[f"test_gap_to_ceiling_{metric}_lo"] <= gap <= metrics[f"test_gap_to_ceiling_{metric}_hi"]
        )
    run = mlflow.search_runs(experiment_names=["profiling-content"]).iloc[0]
    assert run["tags.title_labeller.labeller"] == "lookup"
    assert int(run["params.explicit_users"]) + int(run["params.latent_users"]) == 2000
    # the registered stage-2 model carries the weights the run learned, for scoring to fuse alike
    model = mlflow.pyfunc.load_model("models:/profiling-content@champion")
    fusion = attached_fusion(model.unwrap_python_model().pipeline)
    assert fusion is not None
    for group in ("explicit", "latent"):
        assert fusion.weights.weights[group] == pytest.approx(float(run[f"params.fusion_weight_{group}"]))
    # one label series: the shared records under their plain names
    logged = {a.path for a in mlflow.MlflowClient().list_artifacts(run["run_id"], "confusion")}
    assert logged == {"confusion/val.json", "confusion/test.json"}


def test_rule_scores_and_hit_rates_on_a_hand_made_example() -> None:
    rules = OmegaConf.create({"weights": {"read_": 1.0, "sp_cat_": 2.0}, "smoothing": 0.0})
    features = pd.DataFrame({"read_news": [3, 0], "read_games": [1, 0], "sp_cat_games": [1, 0]})
    scores, evidence = rule_scores(features, rules, {"新闻": "news", "游戏": "games"})
    assert evidence.tolist() == [6.0, 0.0]
    assert scores.iloc[0].tolist() == pytest.approx([50.0, 50.0])
    hits = hit_rates(
        np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]]), np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    )
    assert hits["top1"].tolist() == [0.0, 1.0] and hits["top3"].tolist() == [1.0, 1.0]
    assert hits["spearman"][1] == pytest.approx(1.0)


def test_a_task_can_drop_feature_columns_and_a_wrong_name_is_an_error() -> None:
    columns = ["user_id", "age", "away_days"]
    assert model_columns(columns, OmegaConf.create({"task": {}})) == columns
    assert model_columns(columns, OmegaConf.create({"task": {"drop_features": ["away_days"]}})) == columns[:2]
    with pytest.raises(ConfigError, match=r"task.drop_features .*'awaydays'"):
        model_columns(columns, OmegaConf.create({"task": {"drop_features": ["awaydays"]}}))
