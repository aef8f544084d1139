"""One experiment: load the task, select on validation, score test once, log and register."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from hydra.utils import get_method, instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from src.errors import ConfigError, IncompatibleModel
from src.models.evaluate import (
    Split,
    bootstrap_intervals,
    confusion_table,
    make_split,
    predict_with_proba,
    select_on_validation,
)
from src.models.evaluate import compute_metrics as _metrics
from src.tasks.base import TaskData

log = logging.getLogger(__name__)


def seed_everything(seed: int) -> None:
    """Seed the global generators (estimators get `random_state` from the config)."""
    random.seed(seed)
    np.random.seed(seed % (2**32))


def pipeline_factory(cfg: DictConfig) -> tuple[Callable[[], Pipeline], dict[str, list]]:
    """Build (features -> model) pipelines from the features and model configs, plus the model's grid."""
    kind = cfg.features.kind
    variants = cfg.model.get("variants") or {}
    if kind not in variants:
        raise IncompatibleModel(
            f"model '{cfg.model.name}' has no '{kind}' variant (it offers {sorted(variants)}); "
            f"skipping it for task '{cfg.task.name}'"
        )
    variant = variants[kind]
    features_spec = variant_features(cfg.features.transformer, variant.get("features"))

    def make() -> Pipeline:
        features = "passthrough" if features_spec is None else instantiate(features_spec, _convert_="all")
        estimator = instantiate(variant.estimator, _convert_="all")
        return Pipeline([("features", features), ("model", estimator)])

    grid = variant.get("grid")
    grid = OmegaConf.to_container(grid, resolve=True) if grid else {}
    return make, grid


def variant_features(transformer: DictConfig, override: Any) -> DictConfig | None:
    """The features step a model variant asks for.

    A variant may leave the task's features as they are (no `features` key), tune them
    (`features: {max_features: 20000}` is merged into `features.transformer`), or take the
    raw input itself (`features: passthrough`, e.g. the keyword matcher on raw texts).
    """
    if override is None:
        return transformer
    if override == "passthrough":
        return None
    if not isinstance(override, DictConfig):
        raise ConfigError(
            f"a model variant's `features` must be a mapping or 'passthrough', got {override!r}"
        )
    return OmegaConf.merge(transformer, override)


def load_task(cfg: DictConfig) -> TaskData:
    """Call the task's loader named in its config."""
    try:
        loader = get_method(cfg.task.loader)
    except Exception as err:  # hydra wraps import errors in its own types
        raise ConfigError(f"task.loader '{cfg.task.loader}' cannot be imported: {err}") from None
    return loader(cfg)


def baseline_for(cfg: DictConfig) -> tuple[str, float, str] | None:
    """(metric, value, source) of the study's figure for this task and model, if the study gives one."""
    baseline = cfg.task.get("baseline")
    if not baseline:
        return None
    value = baseline.value
    if isinstance(value, DictConfig):
        value = value.get(cfg.model.name, value.get("default"))
    if value is None:
        return None
    return baseline.metric, float(value), baseline.get("source", "")


def run(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, float]:
    """Run one task x model experiment and return its logged metrics."""
    import mlflow

    from src import tracking
    from src.models import registry

    timings: dict[str, float] = {}
    started = time.perf_counter()
    seed_everything(int(cfg.seed))
    make_pipeline, grid = pipeline_factory(cfg)
    tracking.configure_store(cfg)
    experiment_id = tracking.ensure_experiment(cfg)

    data = load_task(cfg)
    evaluation = cfg.evaluation
    split = make_split(data.y, int(cfg.seed), evaluation.val_size, evaluation.test_size, fixed=data.split)
    timings["time_load_s"] = time.perf_counter() - started
    log.info("task %s: %s rows (%s)", cfg.task.name, len(data.y), split.sizes())

    run_name = f"{cfg.task.name}/{cfg.model.name}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as active:
        mlflow.set_tags({"task": cfg.task.name, "model": cfg.model.name, "sweep_id": _sweep_id()})
        tracking.log_lineage(cfg, data.input_files, overrides, extra_checksums=data.extras.get("checksums"))
        mlflow.log_params({f"split_{name}": size for name, size in split.sizes().items()})
        _log_quarantine(data)

        X_train, y_train = _rows(data, split.train)
        X_val, y_val = _rows(data, split.val)
        t0 = time.perf_counter()
        selection = select_on_validation(
            make_pipeline,
            grid,
            X_train,
            y_train,
            X_val,
            y_val,
            metric=cfg.task.selection_metric,
            mode=cfg.task.get("selection_mode", "max"),
            positive_label=data.positive_label,
        )
        timings["time_select_s"] = time.perf_counter() - t0
        mlflow.log_params({f"best.{k}": v for k, v in selection.best_params.items()} or {"best": "defaults"})
        mlflow.log_table(selection.table, "selection/validation_grid.json")

        final = selection.pipeline
        if evaluation.get("refit_on_train_val", False):
            # hyper-parameters stay those chosen on validation; the final model also learns from it
            t0 = time.perf_counter()
            rows = np.concatenate([split.train, split.val])
            final = clone(selection.pipeline).fit(data.X.iloc[rows], data.y.iloc[rows])
            timings["time_refit_s"] = time.perf_counter() - t0
        metrics = _evaluate(cfg, {"val": selection.pipeline, "test": final}, data, split, timings)
        importance = feature_importance(final)
        if importance is not None:
            _log_frame(importance, "features/importance.parquet")
        for hook in cfg.task.get("extras") or []:
            get_method(hook)(cfg=cfg, data=data, split=split, pipeline=final, metrics=metrics)
        mlflow.log_metrics(metrics)

        register = bool(evaluation.register) and bool(cfg.mlflow.log_model)
        if cfg.mlflow.log_model:
            t0 = time.perf_counter()
            uri, version = registry.log_pipeline(cfg, final, X_train.head(5), register=register)
            mlflow.set_tag("model_uri", uri)
            if version:
                mlflow.set_tag("registered_version", version)
            mlflow.log_metric("time_log_model_s", time.perf_counter() - t0)
        mlflow.log_metric("time_total_s", time.perf_counter() - started)
        run_id = active.info.run_id
    if register:
        registry.update_champion(cfg)
    log.info("%s done (run %s): %s", run_name, run_id, _headline(metrics))
    return metrics


def _evaluate(
    cfg: DictConfig,
    pipelines: dict[str, Pipeline],
    data: TaskData,
    split: Split,
    timings: dict[str, float],
) -> dict[str, float]:
    """Validation and test metrics, test intervals, baseline delta; logs predictions and confusions.

    `pipelines` maps "val" to the selected model (fitted on train) and "test" to the final one
    (the same, or re-fitted on train + validation when `evaluation.refit_on_train_val`).
    """
    import mlflow

    metrics: dict[str, float] = dict(timings)
    for name, rows in (("val", split.val), ("test", split.test)):
        pipeline = pipelines[name]
        classes = list(pipeline.classes_)
        X, y = _rows(data, rows)
        t0 = time.perf_counter()
        labels, proba = predict_with_proba(pipeline, X)
        metrics[f"time_predict_{name}_s"] = time.perf_counter() - t0
        unseen = sorted(set(y) - set(classes), key=str)
        if unseen:
            log.warning("%s has labels never seen in training: %s", name, unseen)
            metrics[f"{name}_n_unseen_label_rows"] = float(np.isin(np.asarray(y), unseen).sum())
        scores = _metrics(y, labels, proba, classes, data.positive_label)
        metrics.update({f"{name}_{key}": value for key, value in scores.items()})
        # what always answering the training majority class would score here, for context
        majority = data.y.iloc[split.train].value_counts().idxmax()
        metrics[f"{name}_majority_accuracy"] = float(np.mean(np.asarray(y) == majority))
        table = confusion_table(y, labels, classes)
        mlflow.log_table(table.reset_index(), f"confusion/{name}.json")
        predictions = pd.DataFrame({"y_true": np.asarray(y), "y_pred": labels})
        if proba is not None:
            for position, label in enumerate(classes):
                predictions[f"proba_{label}"] = proba[:, position]
        _log_frame(predictions, f"predictions/{name}.parquet")
        if name == "test":
            intervals = bootstrap_intervals(
                y,
                labels,
                proba,
                classes,
                data.positive_label,
                n_boot=int(cfg.evaluation.n_bootstrap),
                level=float(cfg.evaluation.ci_level),
                seed=int(cfg.seed),
            )
            for key, (low, high) in intervals.items():
                metrics[f"test_{key}_lo"], metrics[f"test_{key}_hi"] = low, high
    baseline = baseline_for(cfg)
    if baseline is not None:
        metric, value, source = baseline
        mlflow.set_tag("baseline_source", source)
        metrics[f"baseline_{metric}"] = value
        metrics["delta_vs_baseline"] = metrics[f"test_{metric}"] - value
        if f"test_{metric}_lo" in metrics:
            metrics["delta_vs_baseline_lo"] = metrics[f"test_{metric}_lo"] - value
            metrics["delta_vs_baseline_hi"] = metrics[f"test_{metric}_hi"] - value
    return {key: float(value) for key, value in metrics.items() if value == value}  # drop NaN


def feature_importance(pipeline: Pipeline, top: int = 50) -> pd.DataFrame | None:
    """Top features by the model's own importance (trees, LightGBM) or |coefficient| (linear models)."""
    model = pipeline.named_steps["model"]
    if hasattr(model, "feature_importances_"):
        values = np.asarray(model.feature_importances_, dtype=float)
    elif hasattr(model, "coef_"):
        values = np.abs(np.asarray(model.coef_, dtype=float)).mean(axis=0)
    else:
        return None
    try:
        names = np.asarray(pipeline.named_steps["features"].get_feature_names_out(), dtype=str)
    except (AttributeError, ValueError):
        names = np.array([f"f{i}" for i in range(len(values))])
    if len(names) != len(values):
        return None
    table = pd.DataFrame({"feature": names, "importance": values})
    return table.sort_values("importance", ascending=False, kind="stable").head(top).reset_index(drop=True)


def _rows(data: TaskData, positions: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
    return data.X.iloc[positions], data.y.iloc[positions]


def _log_quarantine(data: TaskData) -> None:
    import mlflow

    for reason, count in data.quarantine.items():
        mlflow.log_metric(f"quarantined_{reason}", float(count))
    if data.quarantined is not None and len(data.quarantined):
        _log_frame(data.quarantined, "data/quarantined.parquet")


def _log_frame(frame: pd.DataFrame, artifact_path: str) -> None:
    import tempfile
    from pathlib import Path

    import mlflow

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / Path(artifact_path).name
        frame.to_parquet(target, index=False)
        mlflow.log_artifact(str(target), artifact_path=str(Path(artifact_path).parent))


def _sweep_id() -> str:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hydra_cfg = HydraConfig.get()
        if hydra_cfg.mode == RunMode.MULTIRUN:
            return str(hydra_cfg.sweep.dir).rsplit("/multirun/", 1)[-1]
    except ValueError:  # not running under Hydra (tests, notebooks)
        pass
    return "none"


def _headline(metrics: dict[str, Any]) -> str:
    keys = ("test_accuracy", "test_macro_f1", "test_roc_auc", "test_f1_positive")
    return ", ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)
