"""CLI: `python -m src.data.simulate simulate.n_users=100000 simulate.days=60 seed=7`."""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver)
from src.errors import ProfilingError
from src.paths import CONF_DIR
from src.settings import SimulationSettings, check_settings

log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="simulation")
def main(cfg: DictConfig) -> None:
    """Compose the config and run the simulator; user-fixable errors exit with one clear line."""
    from src.data.simulate import simulate

    try:
        check_settings(cfg, SimulationSettings)  # every bad setting is one line before any work starts
        simulate(cfg)
    except ProfilingError as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
