"""Hydra entry point: `python -m src.run task=<task> model=<model> [data=<data>] [seed=…]`."""

from __future__ import annotations

import logging

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver before Hydra composes)
from src.errors import IncompatibleModel, ProfilingError
from src.experiment import run as run_experiment
from src.settings import RunSettings, check_settings

log = logging.getLogger("src.run")


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)


def _is_multirun() -> bool:
    return HydraConfig.get().mode == RunMode.MULTIRUN


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> dict | None:
    """Compose, run one experiment, and turn user-fixable errors into one line."""
    try:
        check_settings(cfg, RunSettings)  # every bad setting is one line before any work starts
        return run_experiment(cfg, overrides=_overrides())
    except IncompatibleModel as skip:
        log.warning("skipped: %s", skip)
        return None
    except ProfilingError as err:
        log.error("%s/%s failed: %s", cfg.task.name, cfg.model.name, err)
        if _is_multirun():
            raise  # the sweep records this job as failed and goes on with the next one
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
