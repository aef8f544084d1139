"""Hydra entry point: `python -m src.promote task=<task> [data=<dataset>] [version=<n> | unpin=true]`.

With `version=<n>` the champion alias moves to that version and is pinned (who and when are
recorded as registered-model tags): automatic election never moves it, it only points `challenger`
at a better version. `unpin=true` lifts the pin and re-elects. Without either, the champion is
re-elected on the validation selection metric (never on test metrics) unless it is pinned. The new
champion's description becomes its model card and, when it changes, `previous_champion` names the old one.
"""

from __future__ import annotations

import getpass
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import hydra
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig

import src.config  # noqa: F401  (registers the ${project_root:} resolver before Hydra composes)
from src.errors import ConfigError, ProfilingError
from src.models.registry import (
    PIN_AT_TAG,
    PIN_BY_TAG,
    PIN_TAG,
    PIN_VERSION_TAG,
    describe_version,
    drop_alias,
    pinned_version,
    registered_name,
    update_champion,
)
from src.tracking import configure_store

log = logging.getLogger("src.promote")

PREVIOUS_TAG = "previous_champion"


@dataclass(frozen=True)
class Promotion:
    """Which registered model's champion moved, from which version (None: there was none) to which."""

    name: str
    alias: str
    previous: str | None
    current: str
    pinned: bool = False

    def __str__(self) -> str:
        change = "" if self.previous != self.current else " (unchanged)"
        pin = " (pinned)" if self.pinned else ""
        return f"{self.name}@{self.alias}: {self.previous or 'none'} -> {self.current}{change}{pin}"


def promote(cfg: DictConfig) -> Promotion:
    """Pin the champion to cfg.version, unpin it (cfg.unpin) or re-elect it on validation."""
    configure_store(cfg)
    client = MlflowClient()
    name = registered_name(cfg)
    alias = cfg.mlflow.champion_alias
    versions = {str(v.version): v for v in client.search_model_versions(f"name = '{name}'")}
    if not versions:
        raise ConfigError(
            f"no registered versions of '{name}' in {cfg.mlflow.tracking_uri}; "
            f"train one first with `python -m src.run task={cfg.task.name} data={cfg.data.name}`"
        )
    previous = current_champion(client, name, alias)
    requested = cfg.get("version")
    if requested is not None and cfg.get("unpin", False):
        raise ConfigError("give either version=<n> (pin) or unpin=true, not both")
    if requested is not None:
        current = pin(cfg, client, name, versions, str(requested).strip())
    else:
        if cfg.get("unpin", False):
            unpin(cfg, client, name)
        current = update_champion(cfg)
        if current is None:
            raise ConfigError(
                f"no finished version of '{name}' for dataset '{cfg.data.name}' has "
                f"val_{cfg.task.selection_metric}; pin one with version=<n> "
                f"(available versions: {_listing(versions)})"
            )
    if previous != current:
        client.set_model_version_tag(name, current, PREVIOUS_TAG, previous or "none")
    pinned = pinned_version(client, name) is not None
    return Promotion(name=name, alias=alias, previous=previous, current=current, pinned=pinned)


def pin(cfg: DictConfig, client: Any, name: str, versions: dict[str, Any], version: str) -> str:
    """Move the champion alias to a finished version and pin it there, recording who and when."""
    if version not in versions:
        raise ConfigError(f"'{name}' has no version {version}; available versions: {_listing(versions)}")
    run_id = versions[version].run_id
    status = client.get_run(run_id).info.status if run_id else "FINISHED"
    if status != "FINISHED":
        raise ConfigError(f"version {version} of '{name}' comes from a {status} run; pick a finished one")
    client.set_registered_model_alias(name, cfg.mlflow.champion_alias, version)
    for tag, value in {
        PIN_TAG: "true",
        PIN_VERSION_TAG: version,
        PIN_BY_TAG: who(),
        PIN_AT_TAG: datetime.now(UTC).isoformat(timespec="seconds"),
    }.items():
        client.set_registered_model_tag(name, tag, value)
    drop_alias(client, name, cfg.mlflow.challenger_alias)
    describe_version(name, version)
    log.info("%s@%s pinned to version %s by %s", name, cfg.mlflow.champion_alias, version, who())
    return version


def unpin(cfg: DictConfig, client: Any, name: str) -> None:
    """Lift a pin: the next election (run now by promote) may move the champion again."""
    for tag in (PIN_TAG, PIN_VERSION_TAG, PIN_BY_TAG, PIN_AT_TAG):
        with suppress(MlflowException):
            client.delete_registered_model_tag(name, tag)
    drop_alias(client, name, cfg.mlflow.challenger_alias)
    log.info("%s: champion unpinned, back to election on validation", name)


def who() -> str:
    """The user who pins (login name, or 'unknown' where none is set)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def current_champion(client: Any, name: str, alias: str) -> str | None:
    """The version the alias points at, or None when it is not set."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:  # no alias yet
        return None


def _listing(versions: dict[str, object]) -> str:
    return ", ".join(sorted(versions, key=int))


@hydra.main(version_base="1.3", config_path="../conf", config_name="promote")
def main(cfg: DictConfig) -> None:
    """Move the alias, print `old -> new`, and turn user-fixable errors into one line."""
    try:
        promotion = promote(cfg)
    except ProfilingError as err:
        raise SystemExit(f"error: {err}") from None
    print(promotion)


if __name__ == "__main__":
    main()
