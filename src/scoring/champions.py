"""The registered champions and the features' title labeller, loaded once, by alias only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from omegaconf import DictConfig

from src import tracking
from src.data.errors import DataValidationError
from src.errors import ConfigError
from src.features.titles import title_labeller
from src.models.pyfunc import proba_column
from src.models.threads import set_prediction_threads

log = logging.getLogger(__name__)

PROBA = proba_column("")
TASKS = ("channel", "content", "occupation", "churn")


@dataclass
class Champion:
    """One registered model as loaded: where it came from and the pyfunc itself."""

    task: str
    name: str
    alias: str
    version: str
    run_id: str
    model: Any = field(repr=False)

    @property
    def uri(self) -> str:
        """models:/<name>@<alias>."""
        return f"models:/{self.name}@{self.alias}"

    def record(self) -> dict[str, str]:
        """Name, alias, version and run id, for the file metadata and the sidecar."""
        return {"name": self.name, "alias": self.alias, "version": self.version, "run_id": self.run_id}

    def predict(self, features: pd.DataFrame) -> pd.DataFrame:
        """`prediction` and `proba_<class>` columns for the feature rows (signature enforced by MLflow)."""
        return self.model.predict(model_input(features, self)).reset_index(drop=True)

    def classes(self) -> list[str]:
        """The classes of its `proba_<class>` output columns, from the logged signature."""
        schema = self.model.metadata.get_output_schema()
        if schema is None:
            raise ConfigError(f"{self.uri} was logged without an output signature; re-train it")
        return [name[len(PROBA) :] for name in schema.input_names() if name.startswith(PROBA)]


def model_input(features: pd.DataFrame, champion: Champion) -> pd.DataFrame:
    """The champion's input columns, cast to the dtypes its signature enforces (e.g. counts as float)."""
    from mlflow.types import DataType

    schema = champion.model.metadata.get_input_schema()
    if schema is None:
        return features
    columns = {}
    for spec in schema.inputs:
        name = spec.name
        if name not in features:
            raise ConfigError(
                f"{champion.uri} (version {champion.version}) expects feature '{name}', which the "
                "features config does not produce; use the features it was trained on, or re-train it"
            )
        values = features[name]
        if spec.type in (DataType.double, DataType.float):
            values = values.astype("float64" if spec.type == DataType.double else "float32")
        elif spec.type in (DataType.long, DataType.integer):
            missing = int(values.isna().sum())
            if missing:
                raise DataValidationError(
                    f"{missing} subscriber(s) lack a value that {champion.uri} never saw missing in training",
                    column=name,
                    hint="fill it in the input tables, or re-train the champion on data with gaps",
                )
            values = values.astype("int64" if spec.type == DataType.long else "int32")
        columns[name] = values
    return pd.DataFrame(columns, index=features.index)


def load_champions(cfg: DictConfig) -> dict[str, Champion]:
    """Every champion of `cfg.champions` as `models:/<name>@<alias>`, with its version and run id."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    tracking.configure_store(cfg)
    client = MlflowClient()
    alias = str(cfg.alias)
    prefix = str(cfg.mlflow.registered_model_prefix)
    unknown = sorted(set(cfg.champions) - set(TASKS))
    missing = sorted(set(TASKS) - set(cfg.champions))
    if unknown or missing:
        raise ConfigError(f"champions must name exactly {list(TASKS)}; unknown {unknown}, missing {missing}")
    out = {}
    for task in TASKS:
        name = str(cfg.champions[task])
        try:
            version = client.get_model_version_by_alias(name, alias)
        except MlflowException:
            raise ConfigError(
                f"no champion models:/{name}@{alias} in {cfg.mlflow.tracking_uri}; train one with "
                f"`python -m src.run task={name.removeprefix(prefix)} model=lightgbm "
                "mlflow.register=always`, or set "
                f"the alias with `python -m src.promote task={name.removeprefix(prefix)}`"
            ) from None
        model = mlflow.pyfunc.load_model(f"models:/{name}@{alias}")
        if model.metadata.run_id != version.run_id:
            raise ConfigError(f"models:/{name}@{alias} moved while loading; run the profile again")
        out[task] = Champion(task, name, alias, str(version.version), str(version.run_id), model)
        log.info("%s: %s version %s (run %s)", task, out[task].uri, version.version, version.run_id)
    return out


def predict_on_threads(champions: dict[str, Champion], threads: int) -> None:
    """Let the champions' LightGBM models predict on `threads` threads (same probabilities, less time)."""
    pipelines = [champion.model.unwrap_python_model().pipeline for champion in champions.values()]
    changed = set_prediction_threads(pipelines, threads)
    log.info("%d LightGBM model(s) of the champions predict on %d thread(s)", changed, threads)


def load_labeller(cfg: DictConfig) -> tuple[Callable[[list[str]], list[str]] | None, dict[str, Any]]:
    """The features' title labeller, remembering titles across chunks, and what it is."""
    resolved = title_labeller(cfg)
    labeller = resolved.label
    record: dict[str, Any] = {"key": resolved.key, **resolved.lineage}
    record.pop("uri", None)
    if labeller is None:
        return None, record
    seen: dict[str, str] = {}

    def label(texts: list[str]) -> list[str]:
        new = [t for t in texts if t not in seen]
        if new:
            seen.update(zip(new, labeller(new), strict=True))
        return [seen[t] for t in texts]

    return label, record
