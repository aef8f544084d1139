"""OmegaConf resolvers and config helpers shared by every entry point."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from src.paths import CONF_DIR, PROJECT_ROOT


def register_resolvers() -> None:
    """Register `${project_root:}` once per process."""
    if not OmegaConf.has_resolver("project_root"):
        OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT))


def flatten(cfg: DictConfig | dict, prefix: str = "") -> dict[str, Any]:
    """Flatten a nested config into dotted keys (lists kept as their string form)."""
    container = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    flat: dict[str, Any] = {}
    for key, value in container.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, prefix=f"{name}."))
        else:
            flat[name] = value
    return flat


def compose(overrides: list[str] | None = None, config_name: str = "config") -> DictConfig:
    """Compose the project config outside the CLI (tests, notebooks)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_resolvers()
    if GlobalHydra.instance().is_initialized():
        # inside a running Hydra app (e.g. a sweep job generating the simulated tables): same conf dir
        return hydra_compose(config_name=config_name, overrides=overrides or [], return_hydra_config=False)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=overrides or [], return_hydra_config=False)


register_resolvers()
