"""The title labeller of the behaviour features: which content category a read web title belongs to.

`features.titles.labeller` picks it: `registry` (the topic champion, whose version and run id
become the run's lineage), `lookup` (the simulator's own title -> category table) or `none`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from omegaconf import DictConfig, OmegaConf

from src.data.simulate.corpora import load_corpora
from src.errors import ConfigError

FALLBACK_CATEGORY = "新闻"


@dataclass(frozen=True)
class ResolvedLabeller:
    """A labelling function, the cache key of the features it builds, and what it is (for lineage)."""

    label: Callable[[list[str]], list[str]] | None
    key: str | None
    lineage: dict[str, str] = field(default_factory=dict)


def title_labeller(cfg: DictConfig) -> ResolvedLabeller:
    """The labeller `features.titles.labeller` names: registry, lookup or none."""
    titles = cfg.features.get("titles") or {}
    kind = titles.get("labeller", "none")
    mapping = dict(OmegaConf.to_container(cfg.data.content.toutiao_to_category, resolve=True))
    if kind == "none":
        return ResolvedLabeller(None, None, {"labeller": "none"})
    if kind == "lookup":
        return lookup_labeller(cfg, mapping)
    if kind == "registry":
        return registry_labeller(cfg, str(titles.model_uri), mapping)
    raise ConfigError(f"features.titles.labeller must be registry, lookup or none, got '{kind}'")


def lookup_labeller(cfg: DictConfig, mapping: dict[str, str]) -> ResolvedLabeller:
    """The simulator's own title -> category table (its corpora), keyed by their checksums."""
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
    return ResolvedLabeller(
        lambda texts: [truth.get(t, FALLBACK_CATEGORY) for t in texts], key, {"labeller": "lookup"}
    )


def registry_labeller(cfg: DictConfig, uri: str, mapping: dict[str, str]) -> ResolvedLabeller:
    """The registered topic model behind `uri`, its topics mapped to the content categories."""
    mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    mlflow.set_registry_uri(cfg.mlflow.registry_uri)
    try:
        info = mlflow.models.get_model_info(uri)
        model = mlflow.pyfunc.load_model(uri)
        lineage = {"labeller": "registry", **registered_version(uri)}
    except Exception as err:  # MLflow raises several types for a missing model or alias
        raise ConfigError(
            f"cannot load the title labeller {uri} ({type(err).__name__}); train it first with "
            "`python -m src.run task=topic model=svm mlflow.register=always`, or set "
            "features.titles.labeller=lookup"
        ) from None
    lineage.setdefault("run_id", str(info.run_id))

    def label(texts: list[str]) -> list[str]:
        topics = model.predict(pd.DataFrame({"text": texts}))["prediction"]
        return [mapping.get(str(t), FALLBACK_CATEGORY) for t in topics]

    return ResolvedLabeller(label, f"registry:{uri}:{info.run_id}:{info.model_uuid}", lineage)


def registered_version(uri: str) -> dict[str, str]:
    """Name, alias, version and run id behind models:/<name>@<alias> (just the uri otherwise)."""
    body = uri.removeprefix("models:/")
    if "@" not in body:
        return {"uri": uri}
    name, alias = body.split("@", 1)
    version = MlflowClient().get_model_version_by_alias(name, alias)
    return {
        "uri": uri,
        "name": name,
        "alias": alias,
        "version": str(version.version),
        "run_id": str(version.run_id),
    }
