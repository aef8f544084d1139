"""Behaviour tasks on the simulated warehouse: features, labels and ceilings; occupation and churn loaders."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.data.errors import DataValidationError
from src.data.population import verify_population
from src.errors import ConfigError
from src.features.behaviour import INPUT_TABLES
from src.features.behaviour_cache import cached_behaviour_features
from src.features.behaviour_spec import FeatureSpec
from src.models.bootstrap import mean_interval
from src.tasks.base import TaskData

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
        from src.config import compose
        from src.data.simulate import simulate

        log.info("no simulated tables in %s: generating the default population (seed %s)", folder, cfg.seed)
        overrides = [
            f"seed={cfg.seed}",
            f"paths.simulated_dir={folder.parent}",
            f"simulate.name={folder.name}",
        ]
        simulate(compose(overrides, "simulation"))
    verify_population(folder)
    return folder


def title_labeller(cfg: DictConfig) -> tuple[Callable[[list[str]], list[str]] | None, str | None]:
    """(labeller, cache key) from `features.titles.labeller`: registry, lookup or none."""
    titles = cfg.features.get("titles") or {}
    kind = titles.get("labeller", "none")
    mapping = dict(OmegaConf.to_container(cfg.data.content.toutiao_to_category, resolve=True))
    if kind == "none":
        return None, None
    if kind == "lookup":
        return _lookup_labeller(cfg, mapping)
    if kind == "registry":
        return _registry_labeller(cfg, str(titles.model_uri), mapping)
    raise ConfigError(f"features.titles.labeller must be registry, lookup or none, got '{kind}'")


def _lookup_labeller(cfg: DictConfig, mapping: dict[str, str]) -> tuple[Callable, str]:
    from src.data.simulate.corpora import load_corpora

    sim = OmegaConf.merge(
        {"paths": OmegaConf.to_container(cfg.paths, resolve=True)},
        OmegaConf.load(Path(cfg.paths.conf_dir) / "simulate" / "default.yaml"),
    )
    files, demand = [str(f) for f in sim.corpora.titles], str(sim.corpora.demand_csv)
    categories = list(cfg.data.content.categories)
    corpora = load_corpora(demand, files, mapping, categories)
    truth: dict[str, str] = {}
    for k, category in enumerate(categories):
        start, count = int(corpora.title_start[k]), int(corpora.title_count[k])
        for title in corpora.titles[start : start + count].to_pylist():
            truth[title] = category
    key = "lookup:" + json.dumps(corpora.sha256, sort_keys=True)
    return (lambda texts: [truth.get(t, "新闻") for t in texts]), key


def _registry_labeller(cfg: DictConfig, uri: str, mapping: dict[str, str]) -> tuple[Callable, str]:
    import mlflow

    from src import tracking

    tracking.configure_store(cfg)
    try:
        info = mlflow.models.get_model_info(uri)
        model = mlflow.pyfunc.load_model(uri)
    except Exception as err:  # MLflow raises several types for a missing model or alias
        raise ConfigError(
            f"cannot load the title labeller {uri} ({type(err).__name__}); train it first with "
            "`python -m src.run task=topic model=svm`, or set features.titles.labeller=lookup"
        ) from None

    def label(texts: list[str]) -> list[str]:
        topics = model.predict(pd.DataFrame({"text": texts}))["prediction"]
        return [mapping.get(str(t), "新闻") for t in topics]

    return label, f"registry:{uri}:{info.run_id}:{info.model_uuid}"


def behaviour_features(cfg: DictConfig) -> tuple[pd.DataFrame, Path]:
    """The per-user feature table (cached by inputs, spec and labeller) and the tables' folder."""
    folder = tables_dir(cfg)
    spec = FeatureSpec.from_config(cfg.features.pipeline)
    labeller, key = title_labeller(cfg)
    frame, _path, hit = cached_behaviour_features(folder, spec, Path(cfg.features.cache_dir), labeller, key)
    log.info("behaviour features: %d users x %d columns (%s)", *frame.shape, "cache hit" if hit else "built")
    return frame, folder


def input_files(folder: Path, cfg: DictConfig) -> list[Path]:
    """Every table the features and labels come from, for the run's checksums."""
    return [folder / f"{name}.parquet" for name in INPUT_TABLES] + [folder / cfg.data.labels_file]


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


def _task_data(frame: pd.DataFrame, y: pd.Series, folder: Path, cfg: DictConfig, positive=None) -> TaskData:
    data = TaskData(
        X=frame.reset_index(drop=True),
        y=y.reset_index(drop=True),
        input_files=input_files(folder, cfg),
        positive_label=positive,
    )
    data.extras["ceilings"] = ceilings(folder, cfg)
    return data


def load_occupation(cfg: DictConfig) -> TaskData:
    """Users whose occupation is observed -> their observed (noisy) occupation label."""
    features, folder = behaviour_features(cfg)
    labels = read_labels(
        folder, cfg, ["occupation_observed", "observed_occupation", "occupation", "bayes_observed_occupation"]
    )
    rows = features.merge(labels, on=ID, how="inner", validate="one_to_one")
    rows = rows[rows["occupation_observed"].astype(bool)]
    y = rows["observed_occupation"].astype("str").rename("occupation")
    data = _task_data(rows[features.columns], y, folder, cfg)
    data.extras["true_label"] = rows["occupation"].astype("str").reset_index(drop=True)
    data.extras["ceiling_prediction"] = rows["bayes_observed_occupation"].astype("str").reset_index(drop=True)
    data.quarantine["occupation_not_observed"] = int(len(features) - len(rows))
    return data


def load_churn(cfg: DictConfig) -> TaskData:
    """Every simulated user -> churned next period (churn / stay)."""
    features, folder = behaviour_features(cfg)
    labels = read_labels(folder, cfg, ["churned_next_period"])
    rows = features.merge(labels, on=ID, how="inner", validate="one_to_one")
    y = pd.Series(np.where(rows["churned_next_period"] == 1, "churn", "stay"), name="churned")
    return _task_data(rows[features.columns], y, folder, cfg, positive="churn")


def log_ceiling(cfg: DictConfig, data: TaskData, metrics: dict[str, float], **_: Any) -> None:
    """`ceiling_<metric>` and `gap_to_ceiling_<metric>` (ceiling - test) for each `task.ceiling` entry."""
    for metric, dotted in (cfg.task.get("ceiling") or {}).items():
        value = ceiling_value(data.extras["ceilings"], str(dotted))
        metrics[f"ceiling_{metric}"] = value
        if f"test_{metric}" in metrics:
            metrics[f"gap_to_ceiling_{metric}"] = value - metrics[f"test_{metric}"]


def true_label_accuracy(
    data: TaskData, split: Any, pipeline: Any, metrics: dict[str, float], **_: Any
) -> None:
    """Test accuracy against the true (not the observed, noisy) occupation."""
    truth = data.extras.get("true_label")
    if truth is None:
        return
    predicted = pipeline.predict(data.X.iloc[split.test])
    metrics["test_accuracy_true_label"] = float(np.mean(predicted == truth.iloc[split.test].to_numpy()))


def paired_ceiling_gap(
    cfg: DictConfig, data: TaskData, split: Any, pipeline: Any, metrics: dict[str, float], **_: Any
) -> None:
    """The ceiling on the run's own test users and the paired gap to it, with a bootstrap interval.

    `test_ceiling_accuracy`: the simulator's Bayes decision scored like the model (same users, same
    labels); `test_gap_to_ceiling_accuracy` = ceiling - model accuracy on those users, its `_lo`/`_hi`
    from resampling the users (both scores move together, so the interval is narrower than either's).
    """
    ceiling = data.extras.get("ceiling_prediction")
    if ceiling is None:
        return
    truth = data.y.iloc[split.test].to_numpy()
    model_hit = pipeline.predict(data.X.iloc[split.test]) == truth
    ceiling_hit = ceiling.iloc[split.test].to_numpy() == truth
    difference = ceiling_hit.astype(float) - model_hit.astype(float)
    low, high = mean_interval(
        difference, int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed)
    )
    metrics["test_ceiling_accuracy"] = float(ceiling_hit.mean())
    metrics["test_gap_to_ceiling_accuracy"] = float(difference.mean())
    metrics["test_gap_to_ceiling_accuracy_lo"], metrics["test_gap_to_ceiling_accuracy_hi"] = low, high
