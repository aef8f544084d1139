"""Behaviour tasks on the simulated warehouse: features, labels and ceilings; occupation and churn loaders."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from src.config import compose
from src.data.errors import DataValidationError
from src.data.layout import table_files, table_path
from src.data.population import verify_population
from src.data.simulate import simulate
from src.data.task_data import TaskData
from src.errors import ConfigError
from src.features.backends import configured_backend
from src.features.behaviour import INPUT_TABLES
from src.features.behaviour_cache import cached_behaviour_features
from src.features.behaviour_spec import FeatureSpec
from src.features.titles import title_labeller
from src.models.results import RunResults
from src.tasks.ceiling_gap import Bootstrap, brier, paired_hit_gap, paired_roc_auc_gap

log = logging.getLogger(__name__)
ID = "user_id"


def tables_dir(cfg: DictConfig) -> Path:
    """The event tables' folder; generates the default population first if asked and missing."""
    folder = Path(cfg.data.tables_dir)
    if not folder.is_dir() or not any(folder.iterdir()):  # partial or stale folders: verified below
        if not cfg.data.get("simulate_if_missing", False):
            raise DataValidationError(
                "simulated tables not found", file=folder, hint="run `python -m src.data.simulate` first"
            )
        log.info("no simulated tables in %s: generating the default population (seed %s)", folder, cfg.seed)
        overrides = [
            f"seed={cfg.seed}",
            f"paths.simulated_dir={folder.parent}",
            f"simulate.name={folder.name}",
        ]
        simulate(compose(overrides, "simulation"))
    verify_population(folder)
    return folder


@dataclass(frozen=True)
class BehaviourInputs:
    """The per-user feature table, the tables' folder, and the title labeller's lineage."""

    features: pd.DataFrame
    folder: Path
    labeller: dict[str, str]


def behaviour_inputs(cfg: DictConfig) -> BehaviourInputs:
    """The per-user feature table (cached by inputs, spec and labeller), its folder and labeller."""
    folder = tables_dir(cfg)
    spec = FeatureSpec.from_config(cfg.features.pipeline)
    labeller = title_labeller(cfg)
    frame, _path, hit = cached_behaviour_features(
        folder, spec, Path(cfg.features.cache_dir), labeller.label, labeller.key, con=configured_backend(cfg)
    )
    log.info("behaviour features: %d users x %d columns (%s)", *frame.shape, "cache hit" if hit else "built")
    return BehaviourInputs(frame, folder, labeller.lineage)


def behaviour_features(cfg: DictConfig) -> tuple[pd.DataFrame, Path]:
    """The per-user feature table and the tables' folder."""
    inputs = behaviour_inputs(cfg)
    return inputs.features, inputs.folder


def input_files(folder: Path, cfg: DictConfig) -> list[Path]:
    """Every file the features and labels come from (each part of a partitioned table), for the checksums."""
    paths = [table_path(folder, name) for name in INPUT_TABLES] + [folder / cfg.data.labels_file]
    return [file for path in paths for file in table_files(path) or [path]]


def read_labels(folder: Path, cfg: DictConfig, columns: list[str]) -> pd.DataFrame:
    """Selected label columns by user_id, with a clear error when one is missing."""
    path = folder / cfg.data.labels_file
    labels = pd.read_parquet(path)
    missing = [c for c in [ID, *columns] if c not in labels.columns]
    if missing:
        raise DataValidationError(f"missing column(s) {missing}", file=path, column=missing[0])
    return labels[[ID, *columns]]


def ceilings(folder: Path, cfg: DictConfig) -> dict[str, Any]:
    """The simulator's ceilings.json."""
    path = folder / cfg.data.ceilings_file
    if not path.is_file():
        raise DataValidationError(
            "ceilings file not found", file=path, hint="re-run `python -m src.data.simulate`"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def ceiling_value(table: dict[str, Any], dotted: str) -> float:
    """A value of ceilings.json by dotted path, e.g. `occupation.accuracy_vs_observed_label`."""
    value: Any = table
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"ceilings.json has no '{dotted}' (task.ceiling in conf/task)")
        value = value[part]
    return float(value)


def labeller_tags(lineage: dict[str, str]) -> dict[str, str]:
    """The title labeller's lineage as run tags: `title_labeller.<field>` (version, run_id, ...)."""
    return {f"title_labeller.{key}": str(value) for key, value in lineage.items()}


def model_columns(columns: list[str], cfg: DictConfig) -> list[str]:
    """The feature table's columns the task's model sees: all but `task.drop_features`."""
    dropped = [str(c) for c in cfg.task.get("drop_features") or []]
    unknown = [c for c in dropped if c not in columns]
    if unknown:
        raise ConfigError(f"task.drop_features names column(s) {unknown} the behaviour feature table lacks")
    return [c for c in columns if c not in dropped]


def behaviour_task_data(
    inputs: BehaviourInputs, rows: pd.DataFrame, y: pd.Series, cfg: DictConfig, positive=None
) -> TaskData:
    """TaskData of a behaviour task: its feature columns of `rows`, labels, inputs, ceilings, lineage."""
    data = TaskData(
        X=rows[model_columns(list(inputs.features.columns), cfg)].reset_index(drop=True),
        y=y.reset_index(drop=True),
        input_files=input_files(inputs.folder, cfg),
        positive_label=positive,
        lineage=labeller_tags(inputs.labeller),
    )
    data.extras["ceilings"] = ceilings(inputs.folder, cfg)
    return data


def load_occupation(cfg: DictConfig) -> TaskData:
    """Users whose occupation is observed -> their observed (noisy) occupation label."""
    inputs = behaviour_inputs(cfg)
    features = inputs.features
    labels = read_labels(
        inputs.folder,
        cfg,
        ["occupation_observed", "observed_occupation", "occupation", "bayes_observed_occupation"],
    )
    rows = features.merge(labels, on=ID, how="inner", validate="one_to_one")
    rows = rows[rows["occupation_observed"].astype(bool)]
    y = rows["observed_occupation"].astype("str").rename("occupation")
    data = behaviour_task_data(inputs, rows, y, cfg)
    data.extras["true_label"] = rows["occupation"].astype("str").reset_index(drop=True)
    data.extras["ceiling_prediction"] = rows["bayes_observed_occupation"].astype("str").reset_index(drop=True)
    data.quarantine["occupation_not_observed"] = int(len(features) - len(rows))
    return data


def load_churn(cfg: DictConfig) -> TaskData:
    """Every simulated user -> churned next period (churn / stay)."""
    inputs = behaviour_inputs(cfg)
    labels = read_labels(inputs.folder, cfg, ["churned_next_period", "bayes_p_churn"])
    rows = inputs.features.merge(labels, on=ID, how="inner", validate="one_to_one")
    y = pd.Series(np.where(rows["churned_next_period"] == 1, "churn", "stay"), name="churned")
    data = behaviour_task_data(inputs, rows, y, cfg, positive="churn")
    data.extras["ceiling_probability"] = rows["bayes_p_churn"].to_numpy(dtype=float)
    return data


def bootstrap_settings(cfg: DictConfig) -> Bootstrap:
    """Draws, interval level and seed of the paired-gap bootstraps (`evaluation.*`, `seed`)."""
    return Bootstrap(int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed))


def log_ceiling(cfg: DictConfig, data: TaskData, metrics: dict[str, float], **_: Any) -> RunResults:
    """`ceiling_<metric>` and `gap_to_ceiling_<metric>` (ceiling - test) for each `task.ceiling` entry."""
    results = RunResults()
    for metric, dotted in (cfg.task.get("ceiling") or {}).items():
        value = ceiling_value(data.extras["ceilings"], str(dotted))
        results.metrics[f"ceiling_{metric}"] = value
        if f"test_{metric}" in metrics:
            results.metrics[f"gap_to_ceiling_{metric}"] = value - metrics[f"test_{metric}"]
    return results


def true_label_accuracy(data: TaskData, split: Any, pipeline: Any, **_: Any) -> RunResults | None:
    """Test accuracy against the true (not the observed, noisy) occupation."""
    truth = data.extras.get("true_label")
    if truth is None:
        return None
    predicted = pipeline.predict(data.X.iloc[split.test])
    accuracy = float(np.mean(predicted == truth.iloc[split.test].to_numpy()))
    return RunResults(metrics={"test_accuracy_true_label": accuracy})


def paired_ceiling_gap(
    cfg: DictConfig, data: TaskData, split: Any, pipeline: Any, **_: Any
) -> RunResults | None:
    """The ceiling on the run's own test users and the paired gap to it, with a bootstrap interval.

    `test_ceiling_accuracy`: the simulator's Bayes decision scored like the model (same users, same
    labels); `test_gap_to_ceiling_accuracy` = ceiling - model accuracy on those users, its `_lo`/`_hi`
    from resampling the users (both scores move together, so the interval is narrower than either's).
    """
    ceiling = data.extras.get("ceiling_prediction")
    if ceiling is None:
        return None
    truth = data.y.iloc[split.test].to_numpy()
    model_hit = pipeline.predict(data.X.iloc[split.test]) == truth
    ceiling_hit = ceiling.iloc[split.test].to_numpy() == truth
    gap = paired_hit_gap(ceiling_hit, model_hit, bootstrap_settings(cfg))
    return RunResults(metrics=gap.metrics("accuracy"))


def paired_roc_auc_ceiling_gap(
    cfg: DictConfig, data: TaskData, split: Any, pipeline: Any, **_: Any
) -> RunResults | None:
    """The ceiling's probability vs the model's on the run's own test users: paired ROC-AUC gap, Brier."""
    ceiling = data.extras.get("ceiling_probability")
    if ceiling is None:
        return None
    positive = (data.y.iloc[split.test] == data.positive_label).to_numpy()
    classes = list(pipeline.classes_)
    model = pipeline.predict_proba(data.X.iloc[split.test])[:, classes.index(data.positive_label)]
    gap = paired_roc_auc_gap([ceiling[split.test]], [model], [positive], bootstrap_settings(cfg))
    results = RunResults(metrics=gap.metrics("roc_auc"))
    results.metrics["test_ceiling_brier"] = brier(ceiling[split.test], positive)
    return results
