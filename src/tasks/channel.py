"""Channel preference: P(user turns to each contact channel next period), graded into the study's tiers.

One binary model per channel (the configured model's `behaviour` variant, selected on validation
ROC-AUC per channel), bundled as `ChannelModel` so deployers get every channel from one registered
model. Metrics per channel (ROC-AUC with intervals, Brier, PR-AUC, log-loss), their mean, a
reliability table, and the users per tier (0-20% 基本不接触 ... 80-100% 依赖) of the test users.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.base import BaseEstimator, ClassifierMixin

from src.data.task_data import TaskData
from src.features.tiers import grade, tier_shares
from src.models.bootstrap import mean_roc_auc_interval
from src.models.evaluate import Split
from src.models.results import RunResults
from src.tasks.behaviour import (
    behaviour_inputs,
    bootstrap_settings,
    ceilings,
    input_files,
    labeller_tags,
    model_columns,
    read_labels,
)
from src.tasks.ceiling_gap import WeightedRocAuc, brier, paired_loss_gap, paired_roc_auc_gap

log = logging.getLogger(__name__)
ID = "user_id"
USES, IDLE = "yes", "no"


class ChannelModel(ClassifierMixin, BaseEstimator):
    """Per-channel fitted pipelines; `predict_proba` = P(uses channel), one column per channel.

    The rows need not sum to 1: a user may turn to several channels.
    """

    predicts_argmax_proba = True  # `predict` below: the pyfunc reads the labels from the probabilities

    def __init__(self, pipelines: dict[str, Any]) -> None:
        self.pipelines = pipelines

    @property
    def classes_(self) -> np.ndarray:
        """The channels, in the order of the probability columns (from the fitted pipelines)."""
        return np.array(list(self.pipelines))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probability of using each channel next period, one column per channel."""
        columns = []
        for pipeline in self.pipelines.values():
            position = list(pipeline.classes_).index(USES) if USES in pipeline.classes_ else None
            proba = pipeline.predict_proba(X)
            columns.append(proba[:, position] if position is not None else np.zeros(len(X)))
        return np.column_stack(columns)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The channel the user most likely turns to."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def reliability_table(channel: str, proba: np.ndarray, used: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability vs observed use per probability bin (empty bins left out).

    Not sklearn.calibration.calibration_curve: the logged table also needs each bin's user count, which
    calibration_curve does not return (it bins the same way apart from a value exactly on an edge).
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "pred": proba, "used": used.astype(float)})
    table = frame.groupby("bin").agg(
        bin_mean_pred=("pred", "mean"), bin_frac_pos=("used", "mean"), count=("used", "size")
    )
    return table.reset_index(drop=True).assign(channel=channel)[
        ["channel", "bin_mean_pred", "bin_frac_pos", "count"]
    ]


class ChannelTask:
    """Plugin: one binary label per channel on every simulated user, bundled as one `ChannelModel`."""

    def load(self, cfg: DictConfig) -> TaskData:
        """Behaviour features -> uses / does not use each channel next period; y = channels used (strata)."""
        channels = list(cfg.task.channels)
        inputs = behaviour_inputs(cfg)
        ceiling_columns = [f"bayes_p_next_{c}" for c in channels]
        labels = read_labels(inputs.folder, cfg, [*(f"next_{c}" for c in channels), *ceiling_columns])
        rows = inputs.features.merge(labels, on=ID, how="inner", validate="one_to_one").reset_index(drop=True)
        # stratify on how many channels a user turns to, so every split sees light and heavy users
        strata = rows[[f"next_{c}" for c in channels]].sum(axis=1).clip(upper=3).astype(str)
        data = TaskData(
            X=rows[model_columns(list(inputs.features.columns), cfg)],
            y=strata.rename("channels_used"),
            input_files=input_files(inputs.folder, cfg),
            positive_label=USES,
            targets={c: pd.Series(np.where(rows[f"next_{c}"] == 1, USES, IDLE), name=c) for c in channels},
            lineage=labeller_tags(inputs.labeller),
        )
        data.extras["ceilings"] = ceilings(inputs.folder, cfg)["channel"]
        data.extras["users"] = rows[ID]
        # the tight ceiling per user: P(contact next period | the window), from the simulator
        data.extras["ceiling_probability"] = {c: rows[f"bayes_p_next_{c}"].to_numpy(float) for c in channels}
        return data

    def extras(
        self,
        cfg: DictConfig,
        data: TaskData,
        split: Split,
        models: dict[str, Any],
        metrics: dict[str, float],
    ) -> RunResults:
        """Means over channels with the mean's interval, ceilings, reliability, tiers of the test users."""
        channels = list(data.targets)
        test = split.test
        proba = {
            c: models[c].predict_proba(data.X.iloc[test])[:, list(models[c].classes_).index(USES)]
            for c in channels
        }
        used = {c: (data.targets[c].iloc[test] == USES).to_numpy() for c in channels}
        results = RunResults(metrics=channel_means(metrics, channels))
        table = data.extras["ceilings"]
        results.metrics["test_roc_auc_lo"], results.metrics["test_roc_auc_hi"] = mean_roc_auc_interval(
            [proba[c] for c in channels], [used[c] for c in channels],
            int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed),
        )  # fmt: skip
        for channel in channels:
            results.metrics[f"ceiling_roc_auc_{channel}"] = float(table[channel]["roc_auc"])
            results.metrics[f"ceiling_brier_{channel}"] = float(table[channel]["brier"])
        results.metrics["ceiling_roc_auc"] = float(table["mean_roc_auc"])
        results.metrics["ceiling_brier"] = float(table["mean_brier"])
        results.metrics["gap_to_ceiling_roc_auc"] = (
            results.metrics["ceiling_roc_auc"] - results.metrics["test_roc_auc"]
        )
        results.metrics.update(ceiling_gap_metrics(cfg, data, test, proba, used))
        results.frames["channel/reliability.parquet"] = pd.concat(
            [reliability_table(c, proba[c], used[c]) for c in channels], ignore_index=True
        )
        results.csvs["channel/metrics.csv"] = per_channel_table(
            channels, used, {**metrics, **results.metrics}
        )
        results.add(tier_results(cfg, data.extras["users"].iloc[test].to_numpy(), proba, channels))
        log.info(
            "channel tier shares of the test users:\n%s", results.csvs["channel/tier_shares.csv"].to_string()
        )
        return results

    def registered_model(self, models: dict[str, Any]) -> ChannelModel:
        """Every channel's final pipeline in one model."""
        return ChannelModel(dict(models))


def ceiling_gap_metrics(
    cfg: DictConfig,
    data: TaskData,
    test: np.ndarray,
    proba: dict[str, np.ndarray],
    used: dict[str, np.ndarray],
) -> dict[str, float]:
    """The ceiling on the test users: ROC-AUC and Brier per channel, paired gaps of both means."""
    channels = list(proba)
    ceiling = {c: data.extras["ceiling_probability"][c][test] for c in channels}
    metrics = {}
    for channel in channels:
        metrics[f"test_ceiling_brier_{channel}"] = brier(ceiling[channel], used[channel])
        metrics[f"test_ceiling_roc_auc_{channel}"] = WeightedRocAuc(ceiling[channel], used[channel])(
            np.ones(len(test))
        )
    metrics["test_ceiling_brier"] = float(np.mean([metrics[f"test_ceiling_brier_{c}"] for c in channels]))
    gap = paired_roc_auc_gap(
        [ceiling[c] for c in channels],
        [proba[c] for c in channels],
        [used[c] for c in channels],
        bootstrap_settings(cfg),
    )
    metrics.update(gap.metrics("roc_auc"))
    # each user's squared error averaged over channels: its mean is the mean Brier over channels
    squared = {
        source: np.mean([(p[c] - used[c]) ** 2 for c in channels], axis=0)
        for source, p in (("ceiling", ceiling), ("model", proba))
    }
    excess = paired_loss_gap(squared["ceiling"], squared["model"], bootstrap_settings(cfg))
    metrics.update(excess.metrics("brier"))  # test_gap_to_ceiling_brier = model - ceiling (> 0: worse)
    return metrics


def channel_means(metrics: dict[str, float], channels: list[str]) -> dict[str, float]:
    """`<split>_roc_auc` and `<split>_brier`: means over the channels (the task's headline figures)."""
    means = {}
    for name in ("val", "test"):
        for key in ("roc_auc", "brier"):
            values = [metrics[f"{name}_{key}_{c}"] for c in channels if f"{name}_{key}_{c}" in metrics]
            means[f"{name}_{key}"] = float(np.mean(values))
    return means


def per_channel_table(
    channels: list[str], used: dict[str, np.ndarray], metrics: dict[str, float]
) -> pd.DataFrame:
    """One row per channel: test prevalence, metrics, ROC-AUC interval and ceiling."""
    rows = []
    for channel in channels:
        rows.append(
            {
                "channel": channel,
                "prevalence": float(used[channel].mean()),
                **{k: metrics.get(f"test_{k}_{channel}") for k in ("roc_auc", "pr_auc", "brier", "log_loss")},
                "roc_auc_lo": metrics[f"test_roc_auc_{channel}_lo"],
                "roc_auc_hi": metrics[f"test_roc_auc_{channel}_hi"],
                "ceiling_roc_auc": metrics[f"ceiling_roc_auc_{channel}"],
                "ceiling_brier": metrics[f"ceiling_brier_{channel}"],
                "test_ceiling_brier": metrics.get(f"test_ceiling_brier_{channel}"),
            }
        )
    return pd.DataFrame(rows)


def tier_results(
    cfg: DictConfig, users: np.ndarray, proba: dict[str, np.ndarray], channels: list[str]
) -> RunResults:
    """Each test user's tier per channel, and the share of users per tier and channel."""
    boundaries, names = list(cfg.task.tiers.boundaries), list(cfg.task.tiers.labels)
    per_user = pd.DataFrame({ID: users})
    tiers = pd.DataFrame({c: grade(proba[c], boundaries, names) for c in channels})
    for channel in channels:
        per_user[f"p_{channel}"] = proba[channel]
        per_user[f"tier_{channel}"] = tiers[channel].to_numpy()
    shares = tier_shares(tiers, names)
    return RunResults(
        csvs={"channel/tier_shares.csv": shares}, frames={"channel/test_user_tiers.parquet": per_user}
    )
