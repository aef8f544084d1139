"""The one experiment lifecycle: seed, load, split, select on validation, refit, evaluate, log, register.

Tasks plug in through `TaskPlugin` (docs/architecture.md); evaluation computes `RunResults` and
`log_results` alone writes them to MLflow.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import mlflow
import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from src import tracking
from src.data.task_data import TaskData, check_targets
from src.errors import ConfigError, IncompatibleModel, ProfilingError
from src.identity import pair_of
from src.models import registry
from src.models.calibration import NONE as NO_CALIBRATION
from src.models.calibration import base_estimator, calibrated, calibrated_grid, calibration_method
from src.models.evaluate import (
    Split,
    bootstrap_intervals,
    compute_metrics,
    confusion_table,
    make_split,
    predict_with_proba,
    select_on_validation,
)
from src.models.logged_dataset import pandas_dataset
from src.models.results import RunResults
from src.paths import PROJECT_ROOT
from src.termination import runs_end_on_sigterm

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
    params = model_params(cfg)
    check_estimator_params(cfg, variant.estimator, params)
    estimator_spec = OmegaConf.create({**OmegaConf.to_container(variant.estimator, resolve=True), **params})
    calibration = cfg.task.get("calibration")
    method = calibration_method(calibration, str(cfg.model.name))
    folds = int(calibration.get("cv", 3)) if calibration is not None else 0

    def make() -> Pipeline:
        features = "passthrough" if features_spec is None else instantiate(features_spec, _convert_="all")
        estimator = calibrated(instantiate(estimator_spec, _convert_="all"), method, folds, int(cfg.seed))
        return Pipeline([("features", features), ("model", estimator)])

    grid = variant.get("grid")
    grid = OmegaConf.to_container(grid, resolve=True) if grid else {}
    grid = {key: values for key, values in grid.items() if key not in params}  # a set value is not tuned
    return make, calibrated_grid(grid, method)


MODEL_KEYS = ("name", "variants", "params", "description")


def model_params(cfg: DictConfig) -> dict[str, Any]:
    """`model.params.*`: hyper-parameters set on the command line for the variant in use.

    Any other key under `model` that is not part of a model config is refused, so a misspelt or
    misplaced override (`+model.n_estimators=100`) is an error, not silently ignored.
    """
    unknown = [key for key in cfg.model if key not in MODEL_KEYS]
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"model.{key} is not a model setting: set the estimator's hyper-parameter with "
            f"model.params.{key}=<value> (model settings: {', '.join(MODEL_KEYS)})"
        )
    params = cfg.model.get("params") or {}
    return OmegaConf.to_container(params, resolve=True) if isinstance(params, DictConfig) else dict(params)


def early_stopping_rounds(cfg: DictConfig) -> int | None:
    """The variant's `early_stopping_rounds` (boosting rounds chosen on validation), None when unset.

    None too when `model.params.n_estimators` fixes the rounds on the command line (a set value is
    not tuned, as with the grid), and when the task calibrates this model: the calibrator re-fits it
    on its own folds, with the rounds the variant gives.
    """
    variant = (cfg.model.get("variants") or {}).get(cfg.features.kind) or {}
    rounds = variant.get("early_stopping_rounds")
    if rounds is None or "n_estimators" in model_params(cfg):
        return None
    if calibration_method(cfg.task.get("calibration"), str(cfg.model.name)) != NO_CALIBRATION:
        return None
    return int(rounds)


def check_estimator_params(cfg: DictConfig, spec: DictConfig, params: dict[str, Any]) -> None:
    """Refuse `model.params.<key>` that the variant's estimator does not take (one line)."""
    if not params:
        return
    target = str(spec.get("_target_", ""))
    try:
        estimator = instantiate(OmegaConf.create({"_target_": target}))
    except Exception as err:  # hydra wraps import and call errors in its own types
        raise ConfigError(f"model '{cfg.model.name}': estimator {target} cannot be built: {err}") from None
    known = set(estimator.get_params(deep=False)) | {k for k in spec if k != "_target_"}  # **kwargs too
    for key in params:
        if key not in known:
            raise ConfigError(
                f"model.params.{key}: {type(estimator).__name__} of model '{cfg.model.name}' "
                f"({cfg.features.kind} variant) has no parameter '{key}'; it takes {', '.join(sorted(known))}"
            )


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


@runtime_checkable
class TaskPlugin(Protocol):
    """What a task plugs into the lifecycle: its loader, evaluation extras and registered model.

    The pipeline comes from the model and features configs (`pipeline_factory`); one model is
    selected, refitted and evaluated per label series of `TaskData.labels()`.
    """

    def load(self, cfg: DictConfig) -> TaskData:
        """The task's rows, labels, input files and lineage."""
        ...

    def extras(
        self,
        cfg: DictConfig,
        data: TaskData,
        split: Split,
        models: dict[str, Pipeline],
        metrics: dict[str, float],
    ) -> RunResults:
        """What the task evaluates beyond the shared metrics (`metrics` is read, never changed)."""
        ...

    def registered_model(self, models: dict[str, Pipeline]) -> Any:
        """The estimator logged for deployers, built from the final model of each label series."""
        ...


class LabelTask:
    """The plugin of a task with one label per row: a loader and optional evaluation hooks.

    Each hook is called as `hook(cfg=, data=, split=, pipeline=, metrics=)` and returns a
    `RunResults` (or None); `metrics` holds what the shared evaluation and earlier hooks computed.
    """

    def __init__(self, loader: Callable[[DictConfig], TaskData], hooks: Sequence[Callable] = ()) -> None:
        self.loader = loader
        self.hooks = list(hooks)

    def load(self, cfg: DictConfig) -> TaskData:
        """Call the configured loader."""
        return self.loader(cfg)

    def extras(
        self,
        cfg: DictConfig,
        data: TaskData,
        split: Split,
        models: dict[str, Pipeline],
        metrics: dict[str, float],
    ) -> RunResults:
        """Run every hook on the final pipeline, each seeing the metrics of those before it."""
        results = RunResults()
        pipeline = self.registered_model(models)
        for hook in self.hooks:
            seen = {**metrics, **results.metrics}
            results.add(hook(cfg=cfg, data=data, split=split, pipeline=pipeline, metrics=seen))
        return results

    def registered_model(self, models: dict[str, Pipeline]) -> Any:
        """The one final pipeline."""
        (pipeline,) = models.values()
        return pipeline


def build_from_config(spec: Any, setting: str, partial: bool) -> Any:
    """Instantiate a `_target_` spec (a bare dotted name is read as `_target_` too, for old configs)."""
    if spec is None:
        raise ConfigError(f"{setting} is not set")
    if isinstance(spec, str):
        spec = {"_target_": spec, "_partial_": partial}
    try:
        return instantiate(spec)
    except Exception as err:  # hydra wraps import and call errors in its own types
        raise ConfigError(f"{setting} cannot be built: {err}") from None


def task_plugin(cfg: DictConfig) -> TaskPlugin:
    """The task's plugin from `task.plugin`, or a `LabelTask` from `task.loader` and `task.extras`."""
    if cfg.task.get("plugin") is not None:
        return build_from_config(cfg.task.plugin, "task.plugin", partial=False)
    loader = build_from_config(cfg.task.get("loader"), "task.loader", partial=True)
    hooks = [build_from_config(h, "task.extras", partial=True) for h in cfg.task.get("extras") or []]
    return LabelTask(loader, hooks)


def load_task(cfg: DictConfig) -> TaskData:
    """The task's data as its plugin loads it (no run, no split)."""
    return task_plugin(cfg).load(cfg)


@dataclass
class Trained:
    """A finished lifecycle up to logging: the data, its split, one final model per label, results."""

    data: TaskData
    split: Split
    models: dict[str, Pipeline]
    results: RunResults
    sample: pd.DataFrame


def run(cfg: DictConfig, overrides: list[str] | None = None) -> dict[str, float]:
    """Seed, load, split, select on validation, refit, evaluate, log, register and elect one run."""
    started = time.perf_counter()
    seed_everything(int(cfg.seed))
    plugin = task_plugin(cfg)
    make_pipeline, grid = pipeline_factory(cfg)
    tracking.configure_store(cfg)
    experiment_id = tracking.ensure_experiment(cfg)
    run_name = f"{pair_of(cfg).suffix}/{cfg.model.name}"  # `churn/lightgbm`; `churn--<dataset>/…` off default
    register = registry.should_register(cfg) and bool(cfg.mlflow.log_model)
    sweep = tracking.sweep_id()
    run_set = str(cfg.mlflow.get("run_set") or "adhoc")
    parent = tracking.sweep_parent_run(experiment_id, sweep, run_set) if sweep != "none" else None
    tags = {
        "task": cfg.task.name,
        "model": cfg.model.name,
        "sweep_id": sweep,
        "run_set": run_set,
        "mlflow.source.name": "src/run.py",  # not the checkout's absolute path
    }
    with (
        runs_end_on_sigterm(),
        mlflow.start_run(
            experiment_id=experiment_id, run_name=run_name, parent_run_id=parent, tags=tags
        ) as active,
    ):
        try:
            trained = train_and_evaluate(cfg, plugin, make_pipeline, grid, started)
        except Exception as err:  # the run ends FAILED (MLflow) and says why
            record_failure(cfg, overrides, err)
            raise
        data = trained.data
        log_datasets(cfg, data, trained.split)
        tracking.log_lineage(cfg, data.input_files, overrides, extra_checksums=data.extras.get("checksums"))
        log_results(trained.results)
        if cfg.mlflow.log_model:
            log_registered_model(cfg, plugin.registered_model(trained.models), trained.sample, register)
        mlflow.log_metric("time_total_s", time.perf_counter() - started)
        run_id = active.info.run_id
    if register:
        registry.update_champion(cfg)
    metrics = trained.results.metrics
    log.info("%s done (run %s): %s", run_name, run_id, headline(metrics))
    return metrics


def train_and_evaluate(
    cfg: DictConfig,
    plugin: TaskPlugin,
    make_pipeline: Callable[[], Pipeline],
    grid: dict[str, list],
    started: float,
) -> Trained:
    """Load, check the targets, split, then select, refit and evaluate one model per label series."""
    data = plugin.load(cfg)
    check_targets(data, str(cfg.data.get("name") or cfg.task.name))
    evaluation = cfg.evaluation
    split = make_split(data.y, int(cfg.seed), evaluation.val_size, evaluation.test_size, fixed=data.split)
    log.info("task %s: %s rows (%s)", cfg.task.name, len(data.y), split.sizes())
    results = RunResults(
        metrics={"time_load_s": time.perf_counter() - started},
        params={f"split_{name}": size for name, size in split.sizes().items()},
        tags={**data.lineage, **positive_label_tag(data)},
    )
    results.add(quarantine_results(data))
    if cfg.task.get("calibration") is not None:
        results.params["calibration"] = calibration_method(cfg.task.calibration, str(cfg.model.name))
    learn = learning_split(split, data.learn_rows)
    models: dict[str, Pipeline] = {}
    labels = data.labels()
    for name, y in tqdm(labels.items(), desc="labels", unit="model", disable=len(labels) < 2):
        # artifact names carry the series only when there are several (metric keys whenever it is named)
        files = name if len(labels) > 1 else ""
        models[name], fitted = fit_target(
            cfg, make_pipeline, grid, data.X, y, learn, data.positive_label, name, artifact_name=files
        )
        add_summing_timings(results, fitted)
        importance = feature_importance(models[name])
        if importance is not None:
            results.frames[artifact("features/importance", files, "parquet")] = importance
    results.add(baseline_results(cfg, results.metrics))
    results.add(plugin.extras(cfg, data, split, models, dict(results.metrics)))
    results.metrics = {key: float(value) for key, value in results.metrics.items() if value == value}
    return Trained(data, split, models, results, data.X.iloc[learn.train].head(5))


def positive_label_tag(data: TaskData) -> dict[str, str]:
    """`positive_label`, the class whose curves and binary metrics the reports show (binary tasks)."""
    return {} if data.positive_label is None else {"positive_label": str(data.positive_label)}


def learning_split(split: Split, learn_rows: np.ndarray | None) -> Split:
    """The split restricted to the rows models learn from and are scored on (all rows by default)."""
    if learn_rows is None:
        return split
    mask = np.asarray(learn_rows, dtype=bool)
    return Split(
        train=split.train[mask[split.train]],
        val=split.val[mask[split.val]],
        test=split.test[mask[split.test]],
    )


def fit_target(
    cfg: DictConfig,
    make_pipeline: Callable[[], Pipeline],
    grid: dict[str, list],
    X: pd.DataFrame,
    y: pd.Series,
    split: Split,
    positive_label: Any,
    name: str,
    *,
    artifact_name: str | None = None,
) -> tuple[Pipeline, RunResults]:
    """Select on validation with `task.selection_metric`, refit if configured, evaluate val and test.

    `name` suffixes the metric keys of this label series, `artifact_name` (default `name`) its files.
    """
    files = name if artifact_name is None else artifact_name
    results = RunResults()
    t0 = time.perf_counter()
    selection = select_on_validation(
        make_pipeline,
        grid,
        X.iloc[split.train],
        y.iloc[split.train],
        X.iloc[split.val],
        y.iloc[split.val],
        metric=cfg.task.selection_metric,
        mode=cfg.task.get("selection_mode", "max"),
        positive_label=positive_label,
        threshold=cfg.task.get("decision_threshold"),
        early_stopping_rounds=early_stopping_rounds(cfg),
    )
    results.metrics["time_select_s"] = time.perf_counter() - t0
    log.info(
        "%s/%s%s: selected %s on validation in %.1f s (%d setting(s))",
        cfg.task.name, cfg.model.name, f" [{name}]" if name else "", selection.best_params or "defaults",
        results.metrics["time_select_s"], len(selection.table),
    )  # fmt: skip
    prefix = f"best.{name}" if name else "best"
    results.params.update(
        {f"{prefix}.{k}": v for k, v in selection.best_params.items()} or {prefix: "defaults"}
    )
    results.tables[artifact("selection/validation_grid", files, "json")] = selection.table
    final = selection.pipeline
    if cfg.evaluation.get("refit_on_train_val", False):
        # hyper-parameters stay those chosen on validation; the final model also learns from it
        t0 = time.perf_counter()
        rows = np.concatenate([split.train, split.val])
        final = clone(selection.pipeline).fit(X.iloc[rows], y.iloc[rows])
        results.metrics["time_refit_s"] = time.perf_counter() - t0
        log.info(
            "%s/%s: refit on train + validation in %.1f s",
            cfg.task.name,
            cfg.model.name,
            results.metrics["time_refit_s"],
        )
    intervals = IntervalSettings(
        int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed)
    )
    pipelines = {"val": selection.pipeline, "test": final}
    results.add(evaluate_target(pipelines, X, y, split, positive_label, name, intervals, artifact_name=files))
    return final, results


@dataclass(frozen=True)
class IntervalSettings:
    """How test intervals are bootstrapped."""

    n_boot: int
    level: float
    seed: int


def evaluate_target(
    pipelines: dict[str, Pipeline],
    X: pd.DataFrame,
    y: pd.Series,
    split: Split,
    positive_label: Any,
    name: str,
    intervals: IntervalSettings,
    *,
    artifact_name: str | None = None,
) -> RunResults:
    """Validation and test metrics, test intervals, confusion tables and predictions of one label series.

    `pipelines` maps "val" to the selected model (fitted on train) and "test" to the final one
    (the same, or re-fitted on train + validation when `evaluation.refit_on_train_val`). Labels
    never seen in training are counted (`<split>_n_unseen_label_rows`) and scored as errors.
    """
    files = name if artifact_name is None else artifact_name
    results = RunResults()
    # what always answering the training majority class would score, for context
    majority = y.iloc[split.train].value_counts().idxmax()
    for part, rows in (("val", split.val), ("test", split.test)):
        pipeline = pipelines[part]
        classes = list(pipeline.classes_)
        y_part = y.iloc[rows]
        t0 = time.perf_counter()
        labels, proba = predict_with_proba(pipeline, X.iloc[rows])
        results.metrics[f"time_predict_{part}_s"] = time.perf_counter() - t0
        unseen = np.isin(np.asarray(y_part), classes, invert=True)
        if unseen.any():
            log.warning(
                "%s has labels never seen in training: %s", part, sorted(set(y_part[unseen]), key=str)
            )
        results.metrics[metric_key(part, "n_unseen_label_rows", name)] = float(unseen.sum())
        scores = compute_metrics(y_part, labels, proba, classes, positive_label)
        results.metrics.update({metric_key(part, key, name): value for key, value in scores.items()})
        results.metrics[metric_key(part, "majority_accuracy", name)] = float(
            np.mean(np.asarray(y_part) == majority)
        )
        results.tables[artifact(f"confusion/{part}", files, "json")] = confusion_table(
            y_part, labels, classes
        ).reset_index()
        results.frames[artifact(f"predictions/{part}", files, "parquet")] = predictions_frame(
            y_part, labels, proba, classes
        )
        if part == "test":
            bounds = bootstrap_intervals(
                y_part, labels, proba, classes, positive_label,
                n_boot=intervals.n_boot, level=intervals.level, seed=intervals.seed,
            )  # fmt: skip
            for key, (low, high) in bounds.items():
                results.metrics[metric_key("test", key, name) + "_lo"] = low
                results.metrics[metric_key("test", key, name) + "_hi"] = high
    return results


def predictions_frame(
    y: pd.Series, labels: np.ndarray, proba: np.ndarray | None, classes: list
) -> pd.DataFrame:
    """y_true, y_pred and one `proba_<class>` column per class."""
    predictions = pd.DataFrame({"y_true": np.asarray(y), "y_pred": labels})
    if proba is not None:
        for position, label in enumerate(classes):
            predictions[f"proba_{label}"] = proba[:, position]
    return predictions


def metric_key(split: str, metric: str, name: str) -> str:
    """`<split>_<metric>`, with `_<label series>` appended for tasks with several."""
    return f"{split}_{metric}_{name}" if name else f"{split}_{metric}"


def artifact(stem: str, name: str, extension: str) -> str:
    """`<stem>.<ext>`, or `<stem>_<label series>.<ext>` for tasks with several."""
    return f"{stem}_{name}.{extension}" if name else f"{stem}.{extension}"


def add_summing_timings(results: RunResults, other: RunResults) -> None:
    """Merge `other` into `results`, adding up the `time_*` metrics of several models."""
    timings = {k: results.metrics.get(k, 0.0) + v for k, v in other.metrics.items() if k.startswith("time_")}
    results.add(other)
    results.metrics.update(timings)


def baseline_results(cfg: DictConfig, metrics: dict[str, float]) -> RunResults:
    """The study's figure and the test delta to it (with its interval), where the study gives one."""
    results = RunResults()
    baseline = baseline_for(cfg)
    if baseline is None:
        return results
    metric, value, source = baseline
    results.tags["baseline_source"] = source
    results.metrics[f"baseline_{metric}"] = value
    results.metrics["delta_vs_baseline"] = metrics[f"test_{metric}"] - value
    if f"test_{metric}_lo" in metrics:
        results.metrics["delta_vs_baseline_lo"] = metrics[f"test_{metric}_lo"] - value
        results.metrics["delta_vs_baseline_hi"] = metrics[f"test_{metric}_hi"] - value
    return results


def quarantine_results(data: TaskData) -> RunResults:
    """`quarantined_<reason>` counts and the quarantined rows themselves."""
    results = RunResults(metrics={f"quarantined_{reason}": float(n) for reason, n in data.quarantine.items()})
    if data.quarantined is not None and len(data.quarantined):
        results.frames["data/quarantined.parquet"] = data.quarantined
    return results


def feature_importance(pipeline: Pipeline, top: int = 50) -> pd.DataFrame | None:
    """Top features by the model's own importance (trees, LightGBM) or |coefficient| (linear models)."""
    model = pipeline.named_steps["model"]
    model = getattr(model, "estimator_", model)  # a model inside a decision-threshold wrapper
    model = base_estimator(model)  # a model inside a calibration wrapper
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


def log_results(results: RunResults) -> None:
    """The one place a run's computed results are written to MLflow."""
    items = [(k, str(v)) for k, v in results.params.items()]
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start : start + 100]))
    if results.tags:
        mlflow.set_tags(results.tags)
    for path, table in results.tables.items():
        mlflow.log_table(table, path)
    for path, frame in results.frames.items():
        log_file(frame, path, lambda f, target: f.to_parquet(target, index=False))
    for path, frame in results.csvs.items():
        log_file(frame, path, lambda f, target: f.to_csv(target, index=False, encoding="utf-8"))
    for path, document in results.dicts.items():
        mlflow.log_dict(document, path)
    mlflow.log_metrics({k: v for k, v in results.metrics.items() if v == v})


def log_file(frame: pd.DataFrame, artifact_path: str, write: Callable[[pd.DataFrame, Path], Any]) -> None:
    """Write a frame to a temporary file and log it under `artifact_path`."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / Path(artifact_path).name
        write(frame, target)
        parent = str(Path(artifact_path).parent)
        mlflow.log_artifact(str(target), artifact_path=None if parent == "." else parent)


def log_registered_model(cfg: DictConfig, model: Any, sample: pd.DataFrame, register: bool) -> None:
    """Log (and register) the task's model with an input example; tag the run with its URI and version."""
    t0 = time.perf_counter()
    uri, version = registry.log_pipeline(cfg, model, sample, register=register)
    mlflow.set_tag("model_uri", uri)
    if version:
        mlflow.set_tag("registered_version", version)
    mlflow.log_metric("time_log_model_s", time.perf_counter() - t0)


def record_failure(cfg: DictConfig, overrides: list[str] | None, err: BaseException) -> None:
    """Tag the failing run with the error and log its config, so a failed sweep job says why."""
    text = str(err) if isinstance(err, ProfilingError) else f"{type(err).__name__}: {err}"
    mlflow.set_tag("error", tracking.portable(text, cfg)[:5000])
    try:
        tracking.log_lineage(cfg, [], overrides)
    except Exception as lineage_error:  # never hide the original error behind this one
        log.warning("could not log the failed run's lineage: %s", lineage_error)


def log_datasets(cfg: DictConfig, data: TaskData, split: Split) -> None:
    """Log the train, validation and test rows as MLflow dataset inputs (source, digest, schema, context)."""
    source = dataset_source(data)
    name = str(cfg.data.get("name") or cfg.task.name)
    for context, rows in (("train", split.train), ("validation", split.val), ("test", split.test)):
        frame = data.X.iloc[rows].reset_index(drop=True)
        target = data.y.iloc[rows].reset_index(drop=True)
        frame = frame.assign(**{TARGET_COLUMN: target.astype(str).to_numpy()})
        with warnings.catch_warnings():
            registry.quiet_known_mlflow_warnings()
            dataset = pandas_dataset(frame, source=source, name=f"{name}-{context}", targets=TARGET_COLUMN)
            mlflow.log_input(dataset, context=context)


TARGET_COLUMN = "__target__"  # the label column added to the logged dataset (a name no feature uses)


def dataset_source(data: TaskData) -> str:
    """The first input file relative to the project root (no machine path), or 'unknown'."""
    if not data.input_files:
        return "unknown"
    path = Path(data.input_files[0]).resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:  # a file outside the checkout: its name only, never a machine path
        return path.name


def headline(metrics: dict[str, Any]) -> str:
    """The headline test metrics of a run, for the log."""
    keys = ("test_accuracy", "test_macro_f1", "test_roc_auc", "test_f1_positive", "test_top1")
    return ", ".join(f"{k}={metrics[k]:.4f}" for k in keys if k in metrics)
