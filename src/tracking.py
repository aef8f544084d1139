"""MLflow store set-up, run lineage (config, commit, checksums, versions) and the sweep callback."""

from __future__ import annotations

import json
import logging
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from src.config import flatten
from src.data.checksums import sha256_file
from src.identity import Pair, identity_tags, pair_of
from src.paths import CONF_DIR, PROJECT_ROOT

log = logging.getLogger(__name__)
UNTRACKED_COUNTS = ("conf", "src")  # folders whose untracked files make a checkout dirty

KEY_PACKAGES = (
    "mlflow",
    "scikit-learn",
    "lightgbm",
    "pandas",
    "numpy",
    "scipy",
    "hydra-core",
    "jieba",
    "ibis-framework",
    "duckdb",
    "pyarrow",
    "cloudpickle",
)


def configure_store(cfg: DictConfig) -> None:
    """Point MLflow at the project's SQLite store (created on first use)."""
    import mlflow

    Path(cfg.paths.mlruns_dir).mkdir(parents=True, exist_ok=True)
    Path(cfg.mlflow.artifact_root).mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    mlflow.set_registry_uri(cfg.mlflow.registry_uri)


def experiment_name(cfg: DictConfig, task: str | None = None) -> str:
    """One experiment per (task, dataset): profiling-<task>, or profiling-<task>--<dataset> off-default."""
    return pair_experiment_name(cfg, pair_of(cfg, task))


def pair_experiment_name(cfg: DictConfig, pair: Pair) -> str:
    """The experiment that holds a (task, dataset) pair's runs."""
    return f"{cfg.mlflow.experiment_prefix}{pair.suffix}"


def ensure_experiment(cfg: DictConfig, task: str | None = None) -> str:
    """Create the pair's experiment (artifact location explicit, tagged task/dataset) if it does not exist."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    name = experiment_name(cfg, task)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    location = (Path(cfg.mlflow.artifact_root) / name).as_uri()
    pair = pair_of(cfg, task)
    tags = {"task": pair.task, "dataset": pair.dataset}
    try:
        return client.create_experiment(name, artifact_location=location, tags=tags)
    except MlflowException:  # another job created it a moment ago
        return client.get_experiment_by_name(name).experiment_id


def all_task_names() -> list[str]:
    """Every task with a config in conf/task/."""
    return sorted(path.stem for path in (CONF_DIR / "task").glob("*.yaml"))


class PrepareMlflowStore(Callback):
    """Create the store and every task's experiment (the run's own dataset for its task) before jobs start."""

    def _prepare(self, config: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig

        HydraConfig.instance().set_config(config)
        configure_store(config)
        for task in all_task_names():
            ensure_experiment(config, task)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Prepare before the launcher forks or spawns jobs."""
        self._prepare(config)

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Single runs prepare too, so the first run on a fresh clone works."""
        self._prepare(config)


def git_state() -> dict[str, str]:
    """Commit hash and dirty flag of the project checkout ('unknown' outside git).

    Generated reports (reports/) do not count as changes: `python -m src.report` rewrites them
    while it runs, and a report should not call its own checkout dirty. Untracked files under
    conf/ or src/ do count: a new config or module changes what runs.
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports"))
        dirty = dirty or bool(git("status", "--porcelain", "--untracked-files=all", "--", *UNTRACKED_COUNTS))
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": "unknown", "git_dirty": "unknown"}
    return {"git_commit": commit, "git_dirty": str(dirty).lower()}


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that decide results."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def all_installed_packages() -> str:
    """`name==version` of every installed distribution, sorted (the full environment)."""
    lines = {f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]}
    return "\n".join(sorted(lines, key=str.lower)) + "\n"


def file_checksums(paths: list[Path]) -> dict[str, str]:
    """sha256 of every input file, keyed by its path relative to the project root."""
    out = {}
    for path in paths:
        path = Path(path)
        try:
            key = str(path.resolve().relative_to(PROJECT_ROOT))
        except ValueError:
            key = path.name
        out[key] = sha256_file(path)
    return out


def log_lineage(
    cfg: DictConfig,
    input_files: list[Path],
    overrides: list[str] | None,
    extra_checksums: dict[str, str] | None = None,
) -> dict[str, str]:
    """Log config, overrides, git state, data checksums, package versions and seed to the active run."""
    import mlflow

    params = {k: _short(v) for k, v in flatten(_without_hydra(cfg)).items()}
    items = list(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start : start + 100]))
    mlflow.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
    mlflow.log_text("\n".join(overrides or []) + "\n", "overrides.txt")
    checksums = {**file_checksums(input_files), **(extra_checksums or {})}
    versions = package_versions()
    git = git_state()
    mlflow.log_dict({"data_sha256": checksums, "packages": versions, **git}, "lineage.json")
    mlflow.log_text(all_installed_packages(), "environment/packages.txt")
    tags = {**git, **identity_tags(cfg), "seed": str(cfg.seed), "overrides": " ".join(overrides or [])[:5000]}
    tags.update({f"data_sha256.{name}": digest for name, digest in checksums.items()})
    tags.update({f"pkg.{name}": version for name, version in versions.items()})
    mlflow.set_tags(tags)
    return checksums


def _without_hydra(cfg: DictConfig) -> DictConfig:
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    return OmegaConf.create(container)


def _short(value: Any, limit: int = 500) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
