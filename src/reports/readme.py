"""The README's generated results table: read from the MLflow store, written between its markers."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src import tracking
from src.io_atomic import atomic_output
from src.paths import CONF_DIR
from src.reports import behaviour_table, store
from src.reports.runs import metric_column, metric_with_interval, pair_for, pair_runs
from src.reports.tables import markdown_table

log = logging.getLogger(__name__)

SETTINGS_FILE = CONF_DIR / "report" / "readme.yaml"
NO_RUNS = "No champion yet: run `make reproduce`, then `python -m src.report` rewrites this table."


def settings() -> DictConfig:
    """conf/report/readme.yaml: the marker name and the metrics shown per task."""
    return OmegaConf.load(SETTINGS_FILE)


def generated_tables(cfg: DictConfig) -> dict[str, str]:
    """marker -> generated markdown: the results table and the behaviour table."""
    shown = settings()
    behaviour = (
        behaviour_table.behaviour_table(cfg, shown.behaviour)
        if store.store_exists(cfg)
        else behaviour_table.NO_RUNS
    )
    return {shown.marker: results_table(cfg), shown.behaviour.marker: behaviour}


def readme_path(cfg: DictConfig) -> Path:
    """The README of the tree the reports belong to: the reports folder's parent holds it."""
    return Path(cfg.paths.reports_dir).parent / "README.md"


def champion_run(cfg: DictConfig, task: str) -> pd.Series | None:
    """The run behind the champion alias of the task's default-dataset model, or None without one."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    pair = pair_for(task)
    name = f"{cfg.mlflow.registered_model_prefix}{pair.suffix}"
    try:
        version = MlflowClient().get_model_version_by_alias(name, cfg.mlflow.champion_alias)
    except MlflowException:
        return None
    runs = pair_runs(cfg, task)
    match = runs[runs["run_id"] == version.run_id] if not runs.empty else runs
    return None if match.empty else match.iloc[0]


def metric_cells(run: pd.Series, metrics: list[str]) -> str:
    """'accuracy 0.909 [0.886, 0.931]; …' for the metrics the run logged on test."""
    frame = run.to_frame().T
    cells = [
        f"{metric} {metric_with_interval(frame, metric).iloc[0]}"
        for metric in metrics
        if pd.notna(run.get(metric_column(run, metric)))
    ]
    return "; ".join(cells) or "–"


def reference_cell(run: pd.Series, metrics: list[str]) -> str:
    """The study's figure when the run logged one, else the simulator's ceiling of the first metric."""
    baseline = run.get("metrics.baseline_accuracy")
    if baseline is not None and pd.notna(baseline):
        return f"study accuracy {baseline:.2f}"
    for metric in metrics:
        ceiling = run.get(f"metrics.ceiling_{metric}")
        if ceiling is not None and pd.notna(ceiling):
            return f"ceiling {metric} {ceiling:.3f}"
    return "–"


def results_table(cfg: DictConfig) -> str:
    """The markdown table of every configured task's champion, or a one-line note for an empty store."""
    if not store.store_exists(cfg):
        return NO_RUNS
    tracking.configure_store(cfg)
    shown = settings().metrics
    rows = []
    for task in [*shown, *(t for t in tracking.all_task_names() if t not in shown)]:
        run = champion_run(cfg, task)
        if run is None:
            continue
        metrics = list(shown.get(task) or [run.get("params.task.selection_metric") or "accuracy"])
        rows.append(
            {
                "task": task,
                "champion": run["tags.model"],
                "test metrics [95% CI]": metric_cells(run, metrics),
                "reference": reference_cell(run, metrics),
                "run": run["run_id"][:8],
            }
        )
    return markdown_table(pd.DataFrame(rows)) if rows else NO_RUNS


def marked_block(text: str, marker: str) -> re.Match[str] | None:
    """The span between `<!-- marker -->` and `<!-- /marker -->` in text (group 2; empty when they touch)."""
    return re.search(rf"(<!-- {re.escape(marker)} -->\n)(.*?)\n?(<!-- /{re.escape(marker)} -->)", text, re.S)


def with_table(text: str, marker: str, table: str) -> str:
    """text with the marked block replaced by table; unchanged when the markers are absent."""
    block = marked_block(text, marker)
    if block is None:
        return text
    return text[: block.start(2)] + table + "\n" + text[block.start(3) :]


def stale_markers(cfg: DictConfig, readme: Path) -> list[str]:
    """The markers whose table in readme differs from what the store gives (empty when up to date)."""
    text = readme.read_text(encoding="utf-8")
    stale = []
    for marker, table in generated_tables(cfg).items():
        block = marked_block(text, marker)
        if block is None or block.group(2) != table:
            stale.append(marker)
    return stale


def update_readme(cfg: DictConfig) -> Path | None:
    """Rewrite the README's marked tables from the store; None when there is no README to update."""
    readme = readme_path(cfg)
    if not readme.is_file():
        log.info("no %s: the results table is not written", readme)
        return None
    text = readme.read_text(encoding="utf-8")
    tables = generated_tables(cfg)
    missing = [marker for marker in tables if marked_block(text, marker) is None]
    for marker in missing:
        log.warning("%s has no <!-- %s --> markers: that table is not written", readme, marker)
    if len(missing) == len(tables):
        return None
    updated = text
    for marker, table in tables.items():
        updated = with_table(updated, marker, table)
    if updated != text:
        with atomic_output(readme) as partial:
            partial.write_text(updated, encoding="utf-8")
    return readme
