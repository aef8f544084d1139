"""What turns the champions' scores into profile columns, read from the task and profile configs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import src.config
from src.errors import ConfigError
from src.features.behaviour_spec import FeatureSpec
from src.features.tiers import grade


@dataclass(frozen=True)
class Settings:
    """What turns the champions' scores into profile columns: tiers, rules, bands, RFM cut points."""

    spec: FeatureSpec
    tiers: dict[str, list]
    rules: DictConfig
    churn_bands: dict[str, list]
    churn_class: str
    gender_levels: list[str]
    rfm: dict[str, Any]
    chunk_users: int

    @property
    def suffixes(self) -> dict[str, str]:
        """Content category -> column suffix."""
        return dict(self.spec.categories)


def load_settings(cfg: DictConfig) -> Settings:
    """Tiers and content rules from conf/task (one source of truth), bands and RFM from the profile config."""
    if int(cfg.chunk_users) < 1:
        raise ConfigError(f"chunk_users must be >= 1, got {cfg.chunk_users}")
    channel, content = task_config("channel"), task_config("content")
    bands = OmegaConf.to_container(cfg.churn_bands, resolve=True)
    grade([0.0], bands["boundaries"], bands["labels"])  # fails early on bad bands
    return Settings(
        spec=FeatureSpec.from_config(cfg.features.pipeline),
        tiers=OmegaConf.to_container(channel.tiers, resolve=True),
        rules=content.rules,
        churn_bands=bands,
        churn_class=str(cfg.churn_class),
        gender_levels=[str(x) for x in cfg.gender_levels],
        rfm=OmegaConf.to_container(cfg.rfm, resolve=True),
        chunk_users=int(cfg.chunk_users),
    )


def task_config(task: str) -> DictConfig:
    """The `task` node of conf/task/<task>.yaml as the project composes it (inside or outside Hydra)."""
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():  # under @hydra.main: compose with its search path
        return hydra.compose(config_name="config", overrides=[f"task={task}"]).task
    return src.config.compose([f"task={task}"]).task
