"""Log the whole pipeline as a pyfunc, register it per (task, dataset), elect `champion` unless pinned."""

from __future__ import annotations

import hashlib
import logging
import warnings
from contextlib import suppress
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd
from filelock import FileLock
from omegaconf import DictConfig

from src.errors import ConfigError
from src.features.contract import InputContract
from src.identity import identity_tags, input_schema_fingerprint, pair_of
from src.io_atomic import atomic_output, cache_lock
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


def quiet_known_mlflow_warnings() -> None:
    """Ignore MLflow's harmless warnings (call inside `warnings.catch_warnings()`).

    - the integer-column hint of schema inference: the logged model's signature does not come from
      inference (src/models/registry.py), and a dataset's schema only documents the rows;
    - "dataset source can be interpreted in multiple ways": MLflow registers its local source twice.
    """
    warnings.filterwarnings(
        "ignore", message=".*Inferred schema contains integer column", category=UserWarning
    )
    warnings.filterwarnings("ignore", message=".*can be interpreted in multiple ways", category=UserWarning)


class CloudPickleNotice(logging.Filter):
    """Drop MLflow's notice that a Python-object model is saved with CloudPickle.

    The project logs its pyfunc as an object on purpose (models-from-code would need a script per
    task), and the notice repeats on every run; loading is guarded by the project's own rules.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the CloudPickle notice, True for every other record."""
        return "serialized using CloudPickle" not in record.getMessage()


logging.getLogger("mlflow.pyfunc").addFilter(CloudPickleNotice())


def pinned_requirements() -> list[str]:
    """Exact pins of what a logged model needs (skips MLflow's slow requirement inference)."""
    return [f"{name}=={metadata.version(name)}" for name in MODEL_REQUIREMENTS]


REGISTER_POLICIES = ("auto", "study", "always", "never")
BASELINE_MODELS = ("majority",)  # baselines give context; deployers never want them


def should_register(cfg: DictConfig) -> bool:
    """Whether this run registers a model version, by `mlflow.register` (docs/reports.md).

    `study` (the default): only runs of the study's run set (`make reproduce`), baselines excepted, so
    ad-hoc runs register only with `mlflow.register=always`; `auto`: every run but the majority
    baseline; `always`: every run; `never`: none. `evaluation.register=false` turns registration off
    whatever the policy.
    """
    policy = str(cfg.mlflow.get("register", "study"))
    if policy not in REGISTER_POLICIES:
        allowed = ", ".join(REGISTER_POLICIES)
        raise ConfigError(f"mlflow.register={policy!r} is not allowed: use one of {allowed}")
    if not bool(cfg.evaluation.get("register", True)) or policy == "never":
        return False
    if policy == "always":
        return True
    if cfg.model.name in BASELINE_MODELS:
        return False
    return policy == "auto" or str(cfg.mlflow.get("run_set")) == "study"


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
    with warnings.catch_warnings():
        quiet_known_mlflow_warnings()
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
    forget_store_location(info.model_id)
    version = getattr(info, "registered_model_version", None)
    if version is None:
        return info.model_uri, None
    client = MlflowClient()
    describe_registered_model(client, cfg)
    for key in ("task", "dataset", "input_schema"):
        client.set_model_version_tag(registered_name(cfg), str(version), key, tags[key])
    return info.model_uri, str(version)


def forget_store_location(model_id: str) -> None:
    """Replace the absolute store path that MLflow 3 writes into a local model's MLmodel by its model URI.

    `log_model` records the logged model's storage location (a file URI under this machine's store) as the
    MLmodel's `artifact_path`, a field MLflow only displays. A copy of the store elsewhere would carry
    a stale path of this machine; `models:/<model_id>` names the same model anywhere. Remote stores
    (whose locations are not files) are left as MLflow wrote them.
    """
    import mlflow
    from mlflow.models import Model

    location = urlparse(mlflow.get_logged_model(model_id).artifact_location)
    if location.scheme not in ("", "file"):
        return
    path = Path(url2pathname(location.path)) / "MLmodel"
    model = Model.load(path)
    model.artifact_path = f"models:/{model_id}"
    with atomic_output(path) as partial:
        partial.write_text(model.to_yaml(), encoding="utf-8")


def describe_registered_model(client: Any, cfg: DictConfig) -> None:
    """Give the pair's registered model a description (once: a human's edit in the UI is kept)."""
    name = registered_name(cfg)
    if client.get_registered_model(name).description:
        return
    pair = pair_of(cfg)
    client.update_registered_model(
        name,
        description=(
            f"The `{pair.task}` model for the `{pair.dataset}` dataset: raw rows as the data config declares "
            "them in, `prediction` and `proba_<label>` out. `@champion` is the best version on validation "
            "among those with the same dataset and input schema, unless a human pinned one; each version's "
            "description is its model card."
        ),
    )


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


def election_lock(cfg: DictConfig) -> FileLock:
    """A lock per model registry, so parallel sweep jobs elect one at a time (cache_dir/locks)."""
    digest = hashlib.sha256(str(cfg.mlflow.registry_uri).encode()).hexdigest()[:16]
    return cache_lock(cfg.paths.cache_dir, f"election-{digest}")


def update_champion(cfg: DictConfig, task: str | None = None) -> str | None:
    """Elect `champion` on validation among the pair's versions; a pin holds it and `challenger` moves.

    Elections hold `election_lock`: the last of two parallel jobs to elect sees both their versions, so
    the alias ends where a sequential sweep leaves it.
    """
    with election_lock(cfg):
        return elect(cfg, task)


def elect(cfg: DictConfig, task: str | None = None) -> str | None:
    """The election itself (callers hold `election_lock`)."""
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
