"""Which (task, dataset) pair a run belongs to, and the MLflow names that follow from the pair.

The task's default dataset (the `override /data:` of conf/task/<task>.yaml) keeps the plain names
`profiling-<task>`; any other dataset gets `profiling-<task>--<dataset>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from omegaconf import DictConfig, OmegaConf

from src.paths import CONF_DIR

FEATURE_KINDS = ("numeric", "integer", "categorical")
SEPARATOR = "--"
DATA_OVERRIDE = "override /data"
FALLBACK_DATASET_KEY = "data"
COMMIT_TAG = "mlflow.source.git.commit"  # MLflow's own tag: the UI shows it as the run's git commit
LEGACY_COMMIT_TAG = "git_commit"  # the project's copy of it, on runs logged before it was dropped


@dataclass(frozen=True)
class Pair:
    """A (task, dataset) pair and whether the dataset is the task's default."""

    task: str
    dataset: str

    @property
    def is_default(self) -> bool:
        """True for the dataset the task's config selects by default."""
        return default_dataset(self.task) in (None, self.dataset)

    @property
    def suffix(self) -> str:
        """`<task>` for the default dataset, `<task>--<dataset>` otherwise."""
        return self.task if self.is_default else f"{self.task}{SEPARATOR}{self.dataset}"


@cache
def default_dataset(task: str) -> str | None:
    """The data config a task selects by default (None when the task has no config or no data)."""
    path = CONF_DIR / "task" / f"{task}.yaml"
    if not path.is_file():
        return None
    defaults = OmegaConf.to_container(OmegaConf.load(path)).get("defaults") or []
    for entry in defaults:
        if isinstance(entry, dict) and DATA_OVERRIDE in entry:
            return str(entry[DATA_OVERRIDE])
    root = OmegaConf.load(CONF_DIR / "config.yaml").get("defaults") or []
    for entry in root:
        if isinstance(entry, dict) and FALLBACK_DATASET_KEY in entry:
            return str(entry[FALLBACK_DATASET_KEY])
    return None


def dataset_name(cfg: DictConfig) -> str:
    """The dataset of a composed config (`data.name`)."""
    data = cfg.get("data")
    name = data.get("name") if data is not None else None
    return str(name) if name else (default_dataset(str(cfg.task.name)) or "none")


def pair_of(cfg: DictConfig, task: str | None = None) -> Pair:
    """The pair a composed config runs; `task` names another task on the same dataset."""
    if task is not None and task != cfg.task.name:
        return Pair(task=task, dataset=default_dataset(task) or "none")
    return Pair(task=str(cfg.task.name), dataset=dataset_name(cfg))


def parse_suffix(suffix: str) -> Pair:
    """The pair behind `<task>` or `<task>--<dataset>` (an experiment or model name minus its prefix)."""
    task, _, dataset = suffix.partition(SEPARATOR)
    return Pair(task=task, dataset=dataset or default_dataset(task) or "none")


def declared_input(data: Mapping[str, Any]) -> dict[str, dict] | None:
    """`{"columns": feature -> kind, "blank_means": ...}` a tabular data config declares, else None.

    Features are the columns of kind numeric, integer or categorical, minus the id and the target.
    """
    declared = data.get("columns")
    if not isinstance(declared, Mapping):
        return None
    excluded = {data.get("id_column"), data.get("target")}
    columns = {
        str(name): str(kind)
        for name, kind in declared.items()
        if kind in FEATURE_KINDS and name not in excluded
    }
    blanks = {str(k): float(v) for k, v in (data.get("blank_means") or {}).items() if k in columns}
    return {"columns": columns, "blank_means": blanks}


def schema_fingerprint(described: Mapping[str, Any]) -> str:
    """A short, stable hash of a model's declared input."""
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def input_schema_fingerprint(cfg: DictConfig) -> str:
    """Hash of what the model takes: declared columns and kinds, or the feature kind for other data."""
    data = OmegaConf.to_container(cfg.data, resolve=True) if cfg.get("data") is not None else {}
    declared = declared_input(data)
    if declared is not None:
        return schema_fingerprint(declared)
    return schema_fingerprint(
        {"features": str(cfg.features.get("kind", "")), "loader": str(data.get("loader", ""))}
    )


def dataset_title(cfg: DictConfig) -> str:
    """How reports title the dataset: the data config's `title` or `description`, else its name."""
    data = cfg.get("data")
    title = (data.get("title") or data.get("description")) if data is not None else None
    return str(title) if title else dataset_name(cfg)


def identity_tags(cfg: DictConfig) -> dict[str, str]:
    """Run tags that say which pair and input schema a run belongs to."""
    return {
        "task": str(cfg.task.name),
        "dataset": dataset_name(cfg),
        "dataset_title": dataset_title(cfg)[:500],
        "input_schema": input_schema_fingerprint(cfg),
    }


def run_commit(tags: Mapping[str, Any]) -> str:
    """The commit a run was made at: MLflow's tag, else the legacy `git_commit`, else 'unknown'."""
    for key in (COMMIT_TAG, LEGACY_COMMIT_TAG):
        value = tags.get(key)
        if value is not None and value == value and str(value):  # value == value: not NaN
            return str(value)
    return "unknown"
