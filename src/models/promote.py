"""Hydra entry point: `python -m src.models.promote task=<task> [version=<n>]` moves the champion alias.

Without a version the champion is re-elected on the validation selection metric (never on test
metrics); with one, the alias is pinned to that version. Either way the new champion's description
becomes its model card and, when the champion changes, its `previous_champion` tag names the old one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import hydra
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver before Hydra composes)
from src.errors import ConfigError, ProfilingError

log = logging.getLogger("src.models.promote")

PREVIOUS_TAG = "previous_champion"


@dataclass(frozen=True)
class Promotion:
    """Which registered model's champion moved, from which version (None: there was none) to which."""

    name: str
    alias: str
    previous: str | None
    current: str

    def __str__(self) -> str:
        change = "" if self.previous != self.current else " (unchanged)"
        return f"{self.name}@{self.alias}: {self.previous or 'none'} -> {self.current}{change}"


def promote(cfg: DictConfig) -> Promotion:
    """Re-elect the champion on validation (cfg.version null) or pin it to cfg.version."""
    from mlflow import MlflowClient

    from src.models.registry import describe_version, registered_name, update_champion
    from src.tracking import configure_store

    configure_store(cfg)
    client = MlflowClient()
    name = registered_name(cfg)
    alias = cfg.mlflow.champion_alias
    versions = {str(v.version): v for v in client.search_model_versions(f"name = '{name}'")}
    if not versions:
        raise ConfigError(
            f"no registered versions of '{name}' in {cfg.mlflow.tracking_uri}; "
            f"train one first with `python -m src.run task={cfg.task.name}`"
        )
    previous = _current_champion(client, name, alias)

    requested = cfg.get("version")
    if requested is None:
        current = update_champion(cfg)
        if current is None:
            raise ConfigError(
                f"no finished version of '{name}' has val_{cfg.task.selection_metric}; "
                f"pin one with version=<n> (available versions: {_listing(versions)})"
            )
    else:
        current = str(requested).strip()
        if current not in versions:
            raise ConfigError(
                f"'{name}' has no version {requested!r}; available versions: {_listing(versions)}"
            )
        run_id = versions[current].run_id
        status = client.get_run(run_id).info.status if run_id else "FINISHED"
        if status != "FINISHED":
            raise ConfigError(f"version {current} of '{name}' comes from a {status} run; pick a finished one")
        client.set_registered_model_alias(name, alias, current)
        describe_version(name, current)

    if previous != current:
        client.set_model_version_tag(name, current, PREVIOUS_TAG, previous or "none")
    return Promotion(name=name, alias=alias, previous=previous, current=current)


def _current_champion(client: Any, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:  # no alias yet
        return None


def _listing(versions: dict[str, object]) -> str:
    return ", ".join(sorted(versions, key=int))


@hydra.main(version_base="1.3", config_path="../../conf", config_name="promote")
def main(cfg: DictConfig) -> None:
    """Move the alias, print `old -> new`, and turn user-fixable errors into one line."""
    try:
        promotion = promote(cfg)
    except ProfilingError as err:
        raise SystemExit(f"error: {err}") from None
    print(promotion)


if __name__ == "__main__":
    main()
