"""Hydra entry point: `python -m src.run task=<task> model=<model> [data=<data>] [seed=…]`."""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver before Hydra composes)
from src import tracking
from src.errors import IncompatibleModel, ProfilingError
from src.settings import RunSettings, check_settings

log = logging.getLogger("src.run")


RESERVED_MODEL_KEYS = ("name", "variants")


def short_model_overrides(argv: list[str]) -> list[str]:
    """Let `model.params.<key>=<v>` (and a stray `model.<key>=<v>`) reach the config as additions.

    `model.params.n_estimators=100` sets the hyper-parameter on the estimator of the variant in use
    (src.experiment.model_params); any other `model.<key>` is added so that the settings check
    refuses it with one line instead of Hydra's "not in struct".
    """
    out = []
    for arg in argv:
        key = arg.split("=", 1)[0]
        plain = "=" in arg and key.startswith("model.") and not arg.startswith(("+", "~"))
        if plain and key.split(".")[1] not in RESERVED_MODEL_KEYS:
            arg = f"+{arg}"
        out.append(arg)
    return out


def _overrides() -> list[str]:
    return list(HydraConfig.get().overrides.task)


def _is_multirun() -> bool:
    return HydraConfig.get().mode == RunMode.MULTIRUN


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> dict | None:
    """Compose, run one experiment, and turn user-fixable errors into one line."""
    try:
        check_settings(cfg, RunSettings)  # every bad setting is one line before any work starts
        # imported here, not at the top: mlflow, sklearn and the estimators take seconds to import, which a
        # bad setting, `--help` or `--cfg job` should not wait for
        from src.experiment import run as run_experiment

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
    sys.argv = short_model_overrides(sys.argv)
    try:
        main()
    finally:
        tracking.finish_open_sweeps()  # a failed job makes Hydra skip on_multirun_end
