"""Log the whole pipeline as a pyfunc, register it per (task, dataset), elect `champion` unless pinned."""

from __future__ import annotations

import logging
from contextlib import suppress
from importlib import metadata
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from src.features.contract import InputContract
from src.identity import identity_tags, input_schema_fingerprint, pair_of
from src.models.pyfunc import ProfilingModel
from src.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

PIN_TAG = "champion_pinned"
PIN_VERSION_TAG = "champion_pinned_version"
PIN_BY_TAG = "champion_pinned_by"
PIN_AT_TAG = "champion_pinned_at"

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
    """profiling-<task> for the task's default dataset, profiling-<task>--<dataset> otherwise."""
    return f"{cfg.mlflow.registered_model_prefix}{pair_of(cfg, task).suffix}"


def model_signature(contract: InputContract | None, example: pd.DataFrame, output: pd.DataFrame) -> Any:
    """Signature: the declared feature columns (optional, any type: the pyfunc enforces the contract).

    MLflow 3.17 refuses int64 for `double`, integral floats for `long` and numbers for `string`,
    so typed columns would reject rows that the contract accepts; their kinds go to the metadata.
    """
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    if contract is None:
        return infer_signature(example, output)
    inputs = Schema([ColSpec(AnyType(), name, required=False) for name in contract.columns])
    outputs = Schema([ColSpec("string" if c == "prediction" else "double", c) for c in output.columns])
    return ModelSignature(inputs=inputs, outputs=outputs)


def log_pipeline(
    cfg: DictConfig, pipeline: Any, input_example: pd.DataFrame, register: bool
) -> tuple[str, str | None]:
    """Log the fitted pipeline with its input contract, example and project code; return (uri, version)."""
    import mlflow
    from mlflow import MlflowClient

    contract = InputContract.from_config(cfg)
    wrapper = ProfilingModel(
        pipeline, task=cfg.task.name, contract=contract, no_text_label=cfg.task.get("no_text_label")
    )
    example = input_example.reset_index(drop=True)
    if contract is not None:
        example = example[[c for c in contract.columns if c in example.columns]]
    tags = identity_tags(cfg)
    mlflow.set_tags(tags)
    metadata = {key: tags[key] for key in ("task", "dataset", "input_schema")}
    if contract is not None:
        metadata["input_contract"] = contract.as_dict()
    info = mlflow.pyfunc.log_model(
        name="model",
        python_model=wrapper,
        code_paths=[str(PROJECT_ROOT / "src")],
        signature=model_signature(contract, example, wrapper.predict(None, example)),
        input_example=example,
        metadata=metadata,
        pip_requirements=pinned_requirements(),
        registered_model_name=registered_name(cfg) if register else None,
    )
    version = getattr(info, "registered_model_version", None)
    if version is None:
        return info.model_uri, None
    client = MlflowClient()
    for key in ("task", "dataset", "input_schema"):
        client.set_model_version_tag(registered_name(cfg), str(version), key, tags[key])
    return info.model_uri, str(version)


def pinned_version(client: Any, name: str) -> str | None:
    """The version a human pinned as champion (registered-model tag), or None when election decides."""
    tags = client.get_registered_model(name).tags
    if tags.get(PIN_TAG) != "true":
        return None
    return tags.get(PIN_VERSION_TAG)


def eligible_versions(cfg: DictConfig, task: str | None = None) -> list[tuple[str, float]]:
    """(version, validation metric) of every FINISHED version of the pair that takes the same input."""
    from mlflow import MlflowClient

    client = MlflowClient()
    pair = pair_of(cfg, task)
    schema = input_schema_fingerprint(cfg) if pair.task == cfg.task.name else None
    metric = f"val_{cfg.task.selection_metric}"
    found = []
    for version in client.search_model_versions(f"name = '{registered_name(cfg, task)}'"):
        if not version.run_id:
            continue
        run = client.get_run(version.run_id)
        tags = {**run.data.tags, **version.tags}
        value = run.data.metrics.get(metric)
        if run.info.status != "FINISHED" or value is None:
            continue
        if (tags.get("task"), tags.get("dataset")) != (pair.task, pair.dataset):
            continue
        if schema is not None and tags.get("input_schema") != schema:
            continue
        found.append((str(version.version), float(value)))
    return found


def best_version(cfg: DictConfig, task: str | None = None) -> tuple[str, float] | None:
    """The eligible version with the best validation metric (the earliest on ties), or None."""
    maximise = cfg.task.get("selection_mode", "max") == "max"
    candidates = eligible_versions(cfg, task)
    if not candidates:
        return None
    return max(candidates, key=lambda item: (item[1] if maximise else -item[1], -int(item[0])))


def update_champion(cfg: DictConfig, task: str | None = None) -> str | None:
    """Elect `champion` on validation among the pair's versions; a pin holds it and `challenger` moves."""
    from mlflow import MlflowClient

    client = MlflowClient()
    name = registered_name(cfg, task)
    metric = f"val_{cfg.task.selection_metric}"
    best = best_version(cfg, task)
    if best is None:
        log.warning(
            "no finished version of %s for this dataset and input has %s; champion unchanged", name, metric
        )
        return None
    winner, value = best
    pinned = pinned_version(client, name)
    if pinned is not None:
        if winner != pinned:
            client.set_registered_model_alias(name, cfg.mlflow.challenger_alias, winner)
        log.info(
            "%s@%s is pinned to version %s: election did not move it (best on %s: version %s = %.4f%s)",
            name,
            cfg.mlflow.champion_alias,
            pinned,
            metric,
            winner,
            value,
            f", now @{cfg.mlflow.challenger_alias}" if winner != pinned else "",
        )
        return pinned
    client.set_registered_model_alias(name, cfg.mlflow.champion_alias, winner)
    drop_alias(client, name, cfg.mlflow.challenger_alias)
    describe_version(name, winner)
    log.info("%s@%s -> version %s (%s = %.4f)", name, cfg.mlflow.champion_alias, winner, metric, value)
    return winner


def drop_alias(client: Any, name: str, alias: str) -> None:
    """Remove an alias if it is set."""
    from mlflow.exceptions import MlflowException

    with suppress(MlflowException):
        client.delete_registered_model_alias(name, alias)


def describe_version(name: str, version: str) -> None:
    """Set a registered version's description to the model card of the run that produced it."""
    from mlflow import MlflowClient

    from src.models.model_card import model_card

    client = MlflowClient()
    run_id = client.get_model_version(name, version).run_id
    if run_id:
        client.update_model_version(name, version, description=model_card(client.get_run(run_id)))


def champion_uri(cfg: DictConfig, task: str | None = None) -> str:
    """models:/<registered name>@champion of the config's pair (or of `task` on its default dataset)."""
    return f"models:/{registered_name(cfg, task)}@{cfg.mlflow.champion_alias}"
