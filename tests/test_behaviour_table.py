"""The README's behaviour table: filled from the study runs of a store, a note without them."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from src.config import compose
from src.paths import PROJECT_ROOT
from src.reports import behaviour_table, readme
from tests.helpers.champions import TinyChampions


def _cfg(root: Path, mlruns: Path):
    """A config whose store is `mlruns` and whose README sits in `root`."""
    cfg = compose([f"paths.mlruns_dir={mlruns}", f"paths.reports_dir={root / 'reports'}"])
    mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    mlflow.set_registry_uri(cfg.mlflow.registry_uri)
    return cfg


@pytest.fixture
def study_store(tiny_champions: TinyChampions, tmp_path: Path):
    """A copy of the tiny champions' store whose runs are tagged as one study sweep."""
    copy = tmp_path / "mlruns"
    shutil.copytree(tiny_champions.root / "mlruns", copy)
    cfg = _cfg(tmp_path, copy)
    adhoc = behaviour_table.behaviour_table(cfg, readme.settings().behaviour)
    runs = mlflow.search_runs(search_all_experiments=True)
    client = MlflowClient()
    for run_id in runs["run_id"]:
        client.set_tag(run_id, "run_set", "study")
        client.set_tag(run_id, "sweep_id", "2026-11-30/12-00-00")
    return cfg, adhoc, mlflow.search_runs(search_all_experiments=True)


def test_ad_hoc_runs_are_not_the_study(study_store) -> None:
    _, adhoc, _ = study_store
    assert adhoc == behaviour_table.NO_RUNS


def test_the_table_shows_every_behaviour_task_with_its_logged_paired_gap(study_store, tmp_path: Path) -> None:
    cfg, _, runs = study_store
    shown = readme.settings().behaviour
    table = behaviour_table.behaviour_table(cfg, shown)
    lines = table.splitlines()
    assert lines[0].startswith("| task | model |")
    for task, metric in shown.metrics.items():
        run = runs[runs["tags.task"] == task].iloc[0]
        gap = run[f"metrics.test_gap_to_ceiling_{metric}"]
        low, high = (run[f"metrics.test_gap_to_ceiling_{metric}_{end}"] for end in ("lo", "hi"))
        assert pd.notna(gap) and low <= gap <= high, f"{task} logs no paired gap with an interval"
        row = [line for line in lines if line.startswith(f"| {task} | {run['tags.model']} |")]
        assert len(row) == 1, f"{task}: {table}"
        assert f"| {gap:.3f} [{low:.3f}, {high:.3f}] |" in row[0]
        assert f"| {run[f'metrics.test_ceiling_{metric}']:.3f} |" in row[0]
        assert run["run_id"][:8] in row[0]

    copy = tmp_path / "README.md"
    copy.write_text((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert readme.readme_path(cfg) == copy
    assert "behaviour-table" in readme.stale_markers(cfg, copy)
    readme.update_readme(cfg)
    assert readme.stale_markers(cfg, copy) == []
    assert readme.marked_block(copy.read_text(encoding="utf-8"), "behaviour-table").group(2) == table


def test_the_verdict_reads_the_point_and_the_interval() -> None:
    run = pd.Series(
        {"metrics.test_gap_to_ceiling_roc_auc": 0.02, "metrics.test_gap_to_ceiling_roc_auc_hi": 0.04}
    )
    assert behaviour_table.verdict(run, "roc_auc", 0.03) == "point only"
    assert behaviour_table.verdict(run, "roc_auc", 0.05) == "yes"
    assert behaviour_table.verdict(run, "roc_auc", 0.01) == "no"
    assert behaviour_table.verdict(run, "top1", 0.03) == "–"


def test_the_readme_holds_the_behaviour_markers_with_the_note_or_a_generated_table() -> None:
    """Before a reproduction the note; after one, the generator's header and a row per behaviour task."""
    block = readme.marked_block((PROJECT_ROOT / "README.md").read_text(encoding="utf-8"), "behaviour-table")
    assert block is not None, "the behaviour-table markers are gone"
    content = block.group(2).strip()
    if content != behaviour_table.NO_RUNS:
        header, *rows = content.splitlines()
        assert header == "| " + " | ".join(behaviour_table.COLUMNS) + " |"
        tasks = {row.split("|")[1].strip() for row in rows[1:]}
        assert tasks == set(readme.settings().behaviour.metrics)
