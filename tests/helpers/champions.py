"""The tiny champions: the cheap model of every behaviour task, trained on the tiny population."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from src.config import compose
from src.experiment import run as run_experiment
from src.tracking import configure_store

# task -> cheap model; the profile scores every one of them
CHAMPIONS: dict[str, str] = {
    "occupation": "decision_tree",
    "churn_sim": "logreg",
    "channel": "logreg",
    "content": "decision_tree",
}
METRICS_FILE = "champion_metrics.json"


@dataclass
class TinyChampions:
    """A store root holding one champion per task, with the config and metrics of each run."""

    root: Path
    cfgs: dict[str, DictConfig] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)

    def use(self, task: str) -> DictConfig:
        """Point MLflow at this store (other tests move it) and return the task's config."""
        configure_store(self.cfgs[task])
        return self.cfgs[task]


def champion_cfg(root: Path, tables: Path, task: str, model: str, *extra: str) -> DictConfig:
    """A behaviour task's config on the given tables, its store and cache under root."""
    return compose(
        [
            f"task={task}",
            f"model={model}",
            f"data.tables_dir={tables}",
            "data.simulate_if_missing=false",
            "features.titles.labeller=lookup",
            f"paths.mlruns_dir={root / 'mlruns'}",
            f"paths.cache_dir={root / 'cache'}",
            "evaluation.n_bootstrap=50",
            "mlflow.register=always",  # ad-hoc runs register only when asked
            *extra,
        ]
    )


def train_champions(root: Path, tables: Path) -> TinyChampions:
    """Train every task's cheap model once; the runs register the champions in root/mlruns."""
    champions = TinyChampions(root)
    for task, model in CHAMPIONS.items():
        cfg = champion_cfg(root, tables, task, model)
        champions.cfgs[task] = cfg
        champions.metrics[task] = run_experiment(cfg)
    (root / METRICS_FILE).write_text(json.dumps(champions.metrics, indent=1), encoding="utf-8")
    return champions


def trained_champions(root: Path, tables: Path) -> TinyChampions:
    """The champions that `train_champions` left in root: configs composed again, metrics read back."""
    metrics = json.loads((root / METRICS_FILE).read_text(encoding="utf-8"))
    cfgs = {task: champion_cfg(root, tables, task, model) for task, model in CHAMPIONS.items()}
    return TinyChampions(root, cfgs, metrics)
