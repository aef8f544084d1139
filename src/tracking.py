"""MLflow store set-up, run lineage (config, commit, checksums, versions) and the sweep callback."""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from src.config import flatten
from src.data.checksums import sha256_file
from src.identity import COMMIT_TAG, Pair, identity_tags, pair_of
from src.paths import CONF_DIR, PROJECT_ROOT

log = logging.getLogger(__name__)
# the MLflow UI opens an experiment of this kind on its runs table, not on the GenAI overview
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
# MLflow 3.17's UI picks the experiment page from its GenAI / Model training switch (default GenAI,
# kept per browser), not from the kind tag (mlflow/mlflow#24498): links ask for model training
UI_WORKFLOW = "workflowType=machine_learning"
PARENT_TAG = "sweep_parent"  # marks a sweep's parent run (never a result)
ROOT_TEXT = "<project root>"  # how logged text shows the checkout's absolute path
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
    while PENDING_RUN_STARTS:  # a single run prepares the store when it first opens it
        PrepareMlflowStore().prepare(PENDING_RUN_STARTS.pop())


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
    tags = {"task": pair.task, "dataset": pair.dataset, **experiment_tags(pair)}
    try:
        return client.create_experiment(name, artifact_location=location, tags=tags)
    except MlflowException:  # another job created it a moment ago
        return client.get_experiment_by_name(name).experiment_id


def experiment_tags(pair: Pair) -> dict[str, str]:
    """The experiment kind (the UI opens on runs) and the description the UI shows above them."""
    description = (
        f"Runs of the `{pair.task}` task on the `{pair.dataset}` dataset: one run per task x model "
        "(hyper-parameters chosen on validation, test metrics with bootstrap intervals). Runs tagged "
        "run_set=study come from `make reproduce`; sweeps have a parent run holding their jobs."
    )
    return {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, "mlflow.note.content": description}


def experiment_page_url(server: str, experiment_id: str) -> str:
    """The MLflow UI link that opens an experiment on its runs table (e.g. after `make ui`)."""
    return f"{server.rstrip('/')}/#/experiments/{experiment_id}?{UI_WORKFLOW}"


def sweep_id() -> str:
    """The sweep folder's name under multirun/ in a Hydra sweep, else 'none'."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    try:
        hydra_cfg = HydraConfig.get()
        if hydra_cfg.mode == RunMode.MULTIRUN:
            return str(hydra_cfg.sweep.dir).rsplit("/multirun/", 1)[-1]
    except ValueError:  # not running under Hydra (tests, notebooks)
        pass
    return "none"


def sweep_parent_run(experiment_id: str, sweep: str, run_set: str) -> str:
    """The id of the sweep's parent run in one experiment, created on first use."""
    from mlflow import MlflowClient

    client = MlflowClient()
    query = f"tags.{PARENT_TAG} = 'true' and tags.sweep_id = '{sweep}'"
    found = client.search_runs([experiment_id], query, order_by=["attributes.start_time ASC"], max_results=1)
    if found:
        return found[0].info.run_id
    tags = {PARENT_TAG: "true", "sweep_id": sweep, "run_set": run_set, "mlflow.source.name": "src/run.py"}
    return client.create_run(experiment_id, run_name=f"sweep {sweep}", tags=tags).info.run_id


def end_sweep_parents(cfg: DictConfig, sweep: str) -> None:
    """End every parent run of the sweep: FINISHED, or FAILED when one of its jobs did not finish."""
    from mlflow import MlflowClient

    client = MlflowClient()
    for experiment in project_experiments(cfg):
        query = f"tags.{PARENT_TAG} = 'true' and tags.sweep_id = '{sweep}' and attributes.status = 'RUNNING'"
        for parent in client.search_runs([experiment.experiment_id], query):
            failed = client.search_runs(
                [experiment.experiment_id],
                f"tags.mlflow.parentRunId = '{parent.info.run_id}' and attributes.status != 'FINISHED'",
                max_results=1,
            )
            client.set_terminated(parent.info.run_id, "FAILED" if failed else "FINISHED")


def project_experiments(cfg: DictConfig) -> list[Any]:
    """Every experiment of the project (named with the configured prefix)."""
    import mlflow

    prefix = str(cfg.mlflow.experiment_prefix)
    return [e for e in mlflow.search_experiments() if e.name.startswith(prefix)]


def sweep_results(cfg: DictConfig, sweep: str) -> Any:
    """One row per job run of a sweep: task, dataset, model, status and its headline test metrics."""
    import mlflow
    import pandas as pd

    ids = [e.experiment_id for e in project_experiments(cfg)]
    runs = mlflow.search_runs(ids, f"tags.sweep_id = '{sweep}'", order_by=["attributes.start_time ASC"])
    if runs.empty or "tags.model" not in runs:
        return pd.DataFrame()
    runs = runs[runs["tags.model"].notna()]
    table = pd.DataFrame(
        {
            "task": runs["tags.task"],
            "dataset": runs.get("tags.dataset", pd.Series("–", index=runs.index)),
            "model": runs["tags.model"],
            "status": runs["status"],
        }
    )
    for metric in HEADLINE_METRICS:
        if f"metrics.test_{metric}" in runs:
            table[metric] = runs[f"metrics.test_{metric}"].round(4)
    return table.reset_index(drop=True)


HEADLINE_METRICS = ("accuracy", "macro_f1", "roc_auc", "top1")


def all_task_names() -> list[str]:
    """Every task with a config in conf/task/."""
    return sorted(path.stem for path in (CONF_DIR / "task").glob("*.yaml"))


class PrepareMlflowStore(Callback):
    """Create the store and every task's experiment before jobs start; end a sweep with its results table.

    The sweep's parent runs are created here, before parallel jobs start, so no two jobs race to make one.
    """

    def prepare(self, config: DictConfig) -> None:
        """Create the store and every task's experiment."""
        from hydra.core.hydra_config import HydraConfig

        HydraConfig.instance().set_config(config)
        configure_store(config)
        for task in all_task_names():
            ensure_experiment(config, task)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Prepare before the launcher forks or spawns jobs, and open the sweep's parent runs."""
        self.prepare(config)
        sweep = sweep_id()
        run_set = str(config.mlflow.get("run_set") or "adhoc")
        for task in swept_tasks(config):
            sweep_parent_run(ensure_experiment(config, task), sweep, run_set)

        OPEN_SWEEPS[sweep] = config

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Single runs prepare too, so the first run on a fresh clone works.

        Deferred to the run's first `configure_store`: a run refused by its settings check fails in one
        line without importing mlflow or creating a store.
        """
        PENDING_RUN_STARTS.append(config)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Close the sweep's parent runs and print one results table of its jobs."""
        finish_open_sweeps()


# single runs whose store is prepared by their first configure_store (PrepareMlflowStore.on_run_start)
PENDING_RUN_STARTS: list[DictConfig] = []

# sweeps this process started and has not closed: Hydra skips on_multirun_end when a job failed,
# so `python -m src.run` closes them on its way out (finish_open_sweeps)
OPEN_SWEEPS: dict[str, DictConfig] = {}


def finish_open_sweeps() -> None:
    """End the parent runs of every sweep this process opened and print each sweep's results table."""
    import pandas as pd

    while OPEN_SWEEPS:
        sweep, config = OPEN_SWEEPS.popitem()
        configure_store(config)
        end_sweep_parents(config, sweep)
        table = sweep_results(config, sweep)
        if table.empty:
            log.info("sweep %s: no run recorded", sweep)
            continue
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            log.info("sweep %s results (test split):\n%s", sweep, table.to_string(index=False))


def swept_tasks(config: DictConfig) -> list[str]:
    """The tasks a sweep runs: its `task=` override or sweeper parameter, else the composed task."""
    params = config.hydra.sweeper.get("params") or {}
    values = [str(params["task"])] if "task" in params else []
    values += [o.split("=", 1)[1] for o in config.hydra.overrides.task if o.split("=", 1)[0] == "task"]
    tasks = {t.strip() for value in values for t in value.split(",") if t.strip()}
    known = set(all_task_names())
    return sorted(tasks & known) or [str(config.task.name)]


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


def commit_tags(git: dict[str, str]) -> dict[str, str]:
    """The run tags of a git state: MLflow's commit tag (no copy of it) and the dirty flag."""
    commit = git.get("git_commit", "unknown")
    return {
        **({COMMIT_TAG: commit} if commit != "unknown" else {}),
        "git_dirty": git.get("git_dirty", "unknown"),
    }


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
    """sha256 of every input file, keyed by its path relative to the project root.

    Files outside the checkout are keyed relative to the folder they share (`calls/part-0.parquet`,
    `sms/part-0.parquet`), so no machine path is logged and same-named files never collide.
    """
    resolved = [Path(path).resolve() for path in paths]
    outside = [path for path in resolved if not path.is_relative_to(PROJECT_ROOT)]
    common = Path(os.path.commonpath([path.parent for path in outside])) if outside else None
    base = {path: PROJECT_ROOT if path.is_relative_to(PROJECT_ROOT) else common for path in resolved}
    return {str(path.relative_to(base[path])): sha256_file(path) for path in resolved}


def log_lineage(
    cfg: DictConfig,
    input_files: list[Path],
    overrides: list[str] | None,
    extra_checksums: dict[str, str] | None = None,
) -> dict[str, str]:
    """Log config, overrides, git state, data checksums, package versions and seed to the active run."""
    import mlflow

    locations = machine_locations(cfg)  # once: each lookup resolves every `paths.*` interpolation
    params = {k: without_locations(_short(v), locations) for k, v in flatten(run_params(cfg)).items()}
    items = list(params.items())
    for start in range(0, len(items), 100):
        mlflow.log_params(dict(items[start : start + 100]))
    mlflow.log_text(portable(OmegaConf.to_yaml(_without_hydra(cfg), resolve=True), cfg), "config.yaml")
    mlflow.log_text(portable("\n".join(overrides or []) + "\n", cfg), "overrides.txt")
    checksums = {**file_checksums(input_files), **(extra_checksums or {})}
    versions = package_versions()
    git = git_state()
    mlflow.log_dict({"data_sha256": checksums, "packages": versions, **git}, "lineage.json")
    mlflow.log_text(all_installed_packages(), "environment/packages.txt")
    overrides_text = portable(" ".join(overrides or []), cfg)[:5000]
    tags = {**commit_tags(git), **identity_tags(cfg), "seed": str(cfg.seed), "overrides": overrides_text}
    tags.update({f"data_sha256.{name}": digest for name, digest in checksums.items()})
    tags.update({f"pkg.{name}": version for name, version in versions.items()})
    mlflow.set_tags(tags)
    return checksums


def portable(text: str, cfg: DictConfig | None = None) -> str:
    """`text` with no machine path: the checkout shown as `<project root>`, a configured folder outside it
    (`paths.cache_dir=/data/cache`, say) as `<paths.cache_dir>`."""
    return without_locations(text, machine_locations(cfg))


def without_locations(text: str, locations: list[tuple[str, str]]) -> str:
    """`text` with each (absolute folder, placeholder) of `machine_locations` replaced, longest first."""
    text = str(text)
    for location, placeholder in locations:
        text = text.replace(location, placeholder)
    return text


def machine_locations(cfg: DictConfig | None) -> list[tuple[str, str]]:
    """(absolute folder, placeholder): the checkout and each `paths.*` folder outside it, longest first."""
    locations = {str(PROJECT_ROOT): ROOT_TEXT}
    for name, value in (cfg.get("paths") or {}).items() if cfg is not None else ():
        folder = Path(str(value))
        if folder.is_absolute() and not folder.is_relative_to(PROJECT_ROOT) and str(folder) != "/":
            locations.setdefault(str(folder), f"<paths.{name}>")
    return sorted(locations.items(), key=lambda item: len(item[0]), reverse=True)


def run_params(cfg: DictConfig) -> DictConfig:
    """What a run logs as params: the config without hydra, and only the model variant the run used."""
    container = OmegaConf.to_container(_without_hydra(cfg), resolve=True)
    model = container.get("model") or {}
    variants = model.pop("variants", None) or {}
    kind = (container.get("features") or {}).get("kind")
    if kind in variants:
        model["variant"] = {"kind": kind, **variants[kind]}
    return OmegaConf.create(container)


def _without_hydra(cfg: DictConfig) -> DictConfig:
    container = OmegaConf.to_container(cfg, resolve=True)
    container.pop("hydra", None)
    return OmegaConf.create(container)


def _short(value: Any, limit: int = 500) -> str:
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
