"""Configs for the profile entry point with everything generated under one test root."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from src.config import compose


def profile_cfg(root: Path, tables: Path, output: Path, *extra: str) -> DictConfig:
    """The profile config reading champions from root/mlruns and caching under root/cache."""
    return compose(
        [
            f"input={tables}",
            f"output={output}",
            f"paths.mlruns_dir={root / 'mlruns'}",
            f"paths.cache_dir={root / 'cache'}",
            "features.titles.labeller=lookup",
            *extra,
        ],
        config_name="profile",
    )
