"""One list of report table metrics (conf/report/metrics.yaml): results.md and the task pages agree."""

from __future__ import annotations

import ast

import pandas as pd
import pytest

from src import report
from src.config import compose
from src.paths import PROJECT_ROOT
from src.reports import figures, tables
from src.reports.metric_vocabulary import metric_labels, table_metrics


def test_the_vocabulary_is_defined_once_in_the_config() -> None:
    metrics = table_metrics()
    assert metrics[:2] == ("accuracy", "macro_f1") and "top1_explicit" in metrics
    assert len(set(metrics)) == len(metrics)
    assert metrics == tables.TABLE_METRICS
    assert metric_labels() == figures.METRIC_LABELS and metric_labels()["accuracy"].startswith("准确率")
    for path in (PROJECT_ROOT / "src").rglob("*.py"):  # no module keeps a private copy of the list
        names = {
            target.id
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.List | ast.Dict)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert not names & {"TABLE_METRICS", "METRIC_LABELS"}, f"{path.name} defines its own list"


def test_results_and_task_tables_show_the_same_metric_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = pd.DataFrame(
        {
            "tags.model": ["lightgbm", "rules"],
            "run_id": ["a" * 32, "b" * 32],
            "params.task.selection_metric": ["top1", "top1"],
            **{f"metrics.test_{m}": [0.5, 0.6] for m in ("top1", "top3", "top1_explicit", "spearman")},
        }
    )
    monkeypatch.setattr(report.store, "store_exists", lambda cfg: True)
    monkeypatch.setattr(report, "latest_runs", lambda cfg, task, dataset=None: runs)
    results = report.task_table(compose([]), "content")  # the table of results.md
    page = tables.comparison_table(runs, [])  # the task page's table
    expected = ["top1", "top3", "top1_explicit", "spearman"]
    assert [c for c in results.columns if c in table_metrics()] == expected
    assert [c for c in page.columns if c in table_metrics()] == expected
