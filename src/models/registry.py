"""Log the whole pipeline as a pyfunc, register it as profiling-<task>, keep the `champion` alias."""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from src.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

MODEL_REQUIREMENTS = (
    "mlflow",
    "scikit-learn",
    "lightgbm",
    "pandas",
    "numpy",
    "scipy",
    "cloudpickle",
    "jieba",
    "emoji",
    "omegaconf",
)


def pinned_requirements() -> list[str]:
    """Exact pins of what a logged model needs (skips MLflow's slow requirement inference)."""
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


def registered_name(cfg: DictConfig, task: str | None = None) -> str:
    """profiling-<task>."""
    return f"{cfg.mlflow.registered_model_prefix}{task or cfg.task.name}"


def log_pipeline(
    cfg: DictConfig, pipeline: Any, input_example: pd.DataFrame, register: bool
) -> tuple[str, str | None]:
    """Log the fitted pipeline with signature, example and the project code; return (uri, version)."""
    import mlflow
    from mlflow.models import infer_signature

    from src.models.pyfunc import ProfilingModel, predict_frame

    wrapper = ProfilingModel(pipeline, task=cfg.task.name)
    example = input_example.reset_index(drop=True)
    signature = infer_signature(example, predict_frame(pipeline, wrapper.classes, example))
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=wrapper,
        code_paths=[str(PROJECT_ROOT / "src")],
        signature=signature,
        input_example=example,
        pip_requirements=pinned_requirements(),
        registered_model_name=registered_name(cfg) if register else None,
    )
    version = getattr(info, "registered_model_version", None)
    return info.model_uri, None if version is None else str(version)


def update_champion(cfg: DictConfig, task: str | None = None) -> str | None:
    """Point `champion` at the finished version with the best validation metric; set its model card."""
    from mlflow import MlflowClient

    client = MlflowClient()
    name = registered_name(cfg, task)
    metric = f"val_{cfg.task.selection_metric}"
    maximise = cfg.task.get("selection_mode", "max") == "max"
    best: tuple[float, int] | None = None
    for version in client.search_model_versions(f"name = '{name}'"):
        if not version.run_id:
            continue
        run = client.get_run(version.run_id)
        value = run.data.metrics.get(metric)
        if run.info.status != "FINISHED" or value is None:
            continue
        key = (value if maximise else -value, -int(version.version))
        if best is None or key > best:
            best = key
    if best is None:
        log.warning("no finished version of %s has %s; champion unchanged", name, metric)
        return None
    winner = str(-best[1])
    client.set_registered_model_alias(name, cfg.mlflow.champion_alias, winner)
    describe_version(name, winner)
    log.info("%s@%s -> version %s (%s = %.4f)", name, cfg.mlflow.champion_alias, winner, metric, abs(best[0]))
    return winner


def describe_version(name: str, version: str) -> None:
    """Set a registered version's description to the model card of the run that produced it."""
    from mlflow import MlflowClient

    from src.models.model_card import model_card

    client = MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    if run_id:
        client.update_model_version(name, version, description=model_card(client.get_run(run_id)))


def champion_uri(cfg: DictConfig, task: str) -> str:
    """models:/profiling-<task>@champion."""
    return f"models:/{registered_name(cfg, task)}@{cfg.mlflow.champion_alias}"
