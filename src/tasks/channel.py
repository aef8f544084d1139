"""Channel preference: P(user turns to each contact channel next period), graded into the study's tiers.

One binary model per channel (the configured model's `behaviour` variant, selected on validation
ROC-AUC per channel), bundled as `ChannelModel` so deployers get every channel from one registered
model. Metrics per channel (ROC-AUC with intervals, Brier, PR-AUC, log-loss), their mean, a
reliability table, and the users per tier (0-20% 基本不接触 ... 80-100% 依赖) of the test users.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from tqdm import tqdm

from src.experiment import _log_frame, _sweep_id, pipeline_factory, seed_everything
from src.features.tiers import grade, tier_shares
from src.models.bootstrap import bootstrap_intervals, mean_roc_auc_interval
from src.models.evaluate import compute_metrics, make_split, select_on_validation
from src.tasks.behaviour import behaviour_features, ceilings, input_files, read_labels

log = logging.getLogger(__name__)
ID = "user_id"
USES, IDLE = "yes", "no"


class ChannelModel(ClassifierMixin, BaseEstimator):
    """Per-channel fitted pipelines; `predict_proba` = P(uses channel), one column per channel.

    The rows need not sum to 1: a user may turn to several channels.
    """

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
    """Mean predicted probability vs observed use per probability bin (empty bins left out)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "pred": proba, "used": used.astype(float)})
    table = frame.groupby("bin").agg(
        bin_mean_pred=("pred", "mean"), bin_frac_pos=("used", "mean"), count=("used", "size")
    )
    return table.reset_index(drop=True).assign(channel=channel)[
        ["channel", "bin_mean_pred", "bin_frac_pos", "count"]
    ]


def run(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, float]:
    """Fit, select and evaluate one model per channel; log tiers, reliability and the bundled model."""
    import mlflow

    from src import tracking
    from src.models import registry

    started = time.perf_counter()
    seed_everything(int(cfg.seed))
    make_pipeline, grid = pipeline_factory(cfg)
    tracking.configure_store(cfg)
    experiment_id = tracking.ensure_experiment(cfg)
    channels = list(cfg.task.channels)
    features, folder = behaviour_features(cfg)
    labels = read_labels(folder, cfg, [f"next_{c}" for c in channels])
    rows = features.merge(labels, on=ID, how="inner", validate="one_to_one")
    X = rows[features.columns].reset_index(drop=True)
    targets = {c: pd.Series(np.where(rows[f"next_{c}"] == 1, USES, IDLE)) for c in channels}
    # stratify on how many channels a user turns to, so every split sees light and heavy users
    strata = (
        rows[[f"next_{c}" for c in channels]].sum(axis=1).clip(upper=3).astype(str).reset_index(drop=True)
    )
    evaluation = cfg.evaluation
    split = make_split(strata, int(cfg.seed), evaluation.val_size, evaluation.test_size)
    table = ceilings(folder, cfg)["channel"]

    metrics: dict[str, float] = {"time_load_s": time.perf_counter() - started}
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{cfg.task.name}/{cfg.model.name}"
    ) as active:
        mlflow.set_tags({"task": cfg.task.name, "model": cfg.model.name, "sweep_id": _sweep_id()})
        tracking.log_lineage(cfg, input_files(folder, cfg), overrides)
        mlflow.log_params({f"split_{name}": size for name, size in split.sizes().items()})
        pipelines, test_proba, reliability, per_channel = {}, {}, [], []
        for channel in tqdm(channels, desc="channels", unit="channel"):
            y = targets[channel]
            selection = select_on_validation(
                make_pipeline,
                grid,
                X.iloc[split.train],
                y.iloc[split.train],
                X.iloc[split.val],
                y.iloc[split.val],
                metric="roc_auc",
                positive_label=USES,
            )
            final = selection.pipeline
            if evaluation.get("refit_on_train_val", False):
                both = np.concatenate([split.train, split.val])
                final = clone(selection.pipeline).fit(X.iloc[both], y.iloc[both])
            pipelines[channel] = final
            mlflow.log_params({f"best.{channel}.{k}": v for k, v in selection.best_params.items()})
            for name, part, model in (("val", split.val, selection.pipeline), ("test", split.test, final)):
                proba = model.predict_proba(X.iloc[part])
                labels_ = model.predict(X.iloc[part])
                classes = list(model.classes_)
                scores = compute_metrics(y.iloc[part], labels_, proba, classes, USES)
                for key in ("roc_auc", "pr_auc", "brier", "log_loss"):
                    if key in scores:
                        metrics[f"{name}_{key}_{channel}"] = scores[key]
                if name == "test":
                    p_use = proba[:, classes.index(USES)]
                    test_proba[channel] = p_use
                    intervals = bootstrap_intervals(
                        y.iloc[part], labels_, proba, classes, USES, n_boot=int(evaluation.n_bootstrap),
                        level=float(evaluation.ci_level), seed=int(cfg.seed),
                    )  # fmt: skip
                    metrics[f"test_roc_auc_{channel}_lo"], metrics[f"test_roc_auc_{channel}_hi"] = intervals[
                        "roc_auc"
                    ]
                    reliability.append(reliability_table(channel, p_use, (y.iloc[part] == USES).to_numpy()))
            metrics[f"ceiling_roc_auc_{channel}"] = float(table[channel]["roc_auc"])
            per_channel.append(
                {
                    "channel": channel,
                    "prevalence": float((y.iloc[split.test] == USES).mean()),
                    **{
                        k: metrics.get(f"test_{k}_{channel}")
                        for k in ("roc_auc", "pr_auc", "brier", "log_loss")
                    },
                    "roc_auc_lo": metrics[f"test_roc_auc_{channel}_lo"],
                    "roc_auc_hi": metrics[f"test_roc_auc_{channel}_hi"],
                    "ceiling_roc_auc": metrics[f"ceiling_roc_auc_{channel}"],
                }
            )
        for name in ("val", "test"):
            for key in ("roc_auc", "brier"):
                values = [metrics[f"{name}_{key}_{c}"] for c in channels if f"{name}_{key}_{c}" in metrics]
                metrics[f"{name}_{key}"] = float(np.mean(values))
        used = [(targets[c].iloc[split.test] == USES).to_numpy() for c in channels]
        metrics["test_roc_auc_lo"], metrics["test_roc_auc_hi"] = mean_roc_auc_interval(
            [test_proba[c] for c in channels], used,
            int(evaluation.n_bootstrap), float(evaluation.ci_level), int(cfg.seed),
        )  # fmt: skip
        metrics["ceiling_roc_auc"] = float(table["mean_roc_auc"])
        metrics["gap_to_ceiling_roc_auc"] = metrics["ceiling_roc_auc"] - metrics["test_roc_auc"]

        tiers = _log_tiers(cfg, rows[ID].iloc[split.test].to_numpy(), test_proba, channels)
        _log_frame(pd.concat(reliability, ignore_index=True), "channel/reliability.parquet")
        _log_csv(pd.DataFrame(per_channel), "channel/metrics.csv")
        metrics["time_total_s"] = time.perf_counter() - started
        mlflow.log_metrics(metrics)

        model = ChannelModel(pipelines)
        register = bool(evaluation.register) and bool(cfg.mlflow.log_model)
        if cfg.mlflow.log_model:
            uri, version = registry.log_pipeline(cfg, model, X.iloc[split.train].head(5), register=register)
            mlflow.set_tag("model_uri", uri)
            if version:
                mlflow.set_tag("registered_version", version)
        run_id = active.info.run_id
    if register:
        registry.update_champion(cfg)
    log.info(
        "%s/%s done (run %s): mean test ROC-AUC %.4f [%.4f, %.4f], ceiling %.4f; tier shares:\n%s",
        cfg.task.name, cfg.model.name, run_id, metrics["test_roc_auc"], metrics["test_roc_auc_lo"],
        metrics["test_roc_auc_hi"], metrics["ceiling_roc_auc"], tiers.to_string(),
    )  # fmt: skip
    return metrics


def _log_tiers(
    cfg: DictConfig, users: np.ndarray, proba: dict[str, np.ndarray], channels: list[str]
) -> pd.DataFrame:
    """Each test user's tier per channel, and the share of users per tier and channel."""
    boundaries, names = list(cfg.task.tiers.boundaries), list(cfg.task.tiers.labels)
    per_user = pd.DataFrame({ID: users})
    tiers = pd.DataFrame({c: grade(proba[c], boundaries, names) for c in channels})
    for channel in channels:
        per_user[f"p_{channel}"] = proba[channel]
        per_user[f"tier_{channel}"] = tiers[channel].to_numpy()
    shares = tier_shares(tiers, names)
    _log_csv(shares, "channel/tier_shares.csv")
    _log_frame(per_user, "channel/test_user_tiers.parquet")
    return shares.pivot_table(index="channel", columns="tier", values="share", sort=False).reindex(
        columns=names
    )


def _log_csv(frame: pd.DataFrame, artifact_path: str) -> None:
    import tempfile
    from pathlib import Path

    import mlflow

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / Path(artifact_path).name
        frame.to_csv(target, index=False, encoding="utf-8")
        mlflow.log_artifact(str(target), artifact_path=str(Path(artifact_path).parent))
