"""Report defects a reviewer found: wrong positive class, legends unlike the tables, cut-off tables."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from sklearn.metrics import average_precision_score, roc_auc_score

from src.reports import figures, notebooks, tables
from src.reports.task_report import TaskReport


def _binary(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    churn = rng.random(n) < 0.1
    p_churn = np.clip(np.where(churn, 0.6, 0.2) + rng.normal(0, 0.15, n), 0.01, 0.99)
    return pd.DataFrame(
        {
            "y_true": np.where(churn, "churn", "stay"),
            "y_pred": "stay",
            "proba_churn": p_churn,
            "proba_stay": 1 - p_churn,
        }
    )


def _legend(fig, axis: int) -> list[str]:
    return [text.get_text() for text in fig.axes[axis].get_legend().get_texts()]


def test_curves_are_drawn_for_the_logged_positive_class(tmp_path: Path) -> None:
    frame = _binary()
    runs = pd.DataFrame({"run_id": ["r1"], "tags.model": ["logreg"], "tags.positive_label": ["churn"]})
    report = TaskReport(
        task="churn_sim", cfg=None, runs=runs, claims=[], figures_dir=tmp_path, store_found=True
    )
    positive = report.positive_label()
    assert positive == "churn"  # not classes[1] ('stay' sorts after 'churn')
    fig = figures.roc_pr_curves({"logreg": frame}, positive, "churn_sim", tmp_path)
    is_churn = (frame["y_true"] == "churn").astype(int)
    expected_ap = average_precision_score(is_churn, frame["proba_churn"])
    assert "(churn)" in fig.axes[0].get_title()
    assert _legend(fig, 1) == [f"logreg (AP {expected_ap:.3f})"]
    assert expected_ap < 0.9  # the wrong class would give the high AP of the majority class
    assert _legend(fig, 0) == [f"logreg (AUC {roc_auc_score(is_churn, frame['proba_churn']):.3f})"]


def test_multiclass_legend_gives_the_tables_macro_auc(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(["a", "b", "c"], size=300, p=[0.6, 0.3, 0.1])
    prior = pd.DataFrame({"y_true": truth, "y_pred": "a", "proba_a": 0.6, "proba_b": 0.3, "proba_c": 0.1})
    fig = figures.roc_pr_curves({"majority": prior}, None, "demand", tmp_path)
    # a constant prior ranks nothing: macro AUC 0.5 as in the table (micro-averaging would say more)
    assert _legend(fig, 0) == ["majority (AUC 0.500)"]
    assert "macro AUC/AP as in the table" in fig.axes[0].get_title()


@pytest.mark.parametrize("rule", ["display: block", "overflow-x: auto", "max-width: 100%"])
def test_wide_tables_scroll_instead_of_running_off_the_page(rule: str) -> None:
    assert rule in notebooks.REPORT_STYLE


def test_confusion_matrix_column_labels_do_not_overlap(tmp_path: Path) -> None:
    labels = ["学生", "商务人士", "外来务工者", "年轻白领", "低收入人群", "司机"]  # the simulated occupations
    counts = pd.DataFrame(np.eye(len(labels), dtype=int) * 5 + 1, index=labels, columns=labels)
    models = {m: counts for m in ("majority", "logreg", "decision_tree", "lightgbm")}  # the study
    (fig,) = figures.confusion_heatmaps(models, "occupation", tmp_path)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes[: len(models)]:
        boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert len(boxes) == len(labels)
        overlaps = [
            (i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])
        ]
        assert not overlaps, f"column labels overlap: {overlaps}"


def _content_runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": ["aaaaaaaaaa", "bbbbbbbbbb"],
            "tags.model": ["lightgbm", "majority"],
            "tags.task": ["content", "content"],
            "params.task.selection_metric": ["accuracy", "accuracy"],
            "metrics.test_accuracy_stage2": [0.61, 0.32],
            "metrics.test_accuracy_stage2_lo": [0.58, 0.29],
            "metrics.test_accuracy_stage2_hi": [0.64, 0.35],
            "metrics.test_top1": [0.55, 0.30],
            "metrics.test_top3": [0.81, 0.62],
        }
    )


def test_content_tables_show_its_selection_metric_and_top_k() -> None:
    runs = _content_runs()
    table = tables.comparison_table(runs, [])
    assert {"accuracy_stage2", "top1", "top3"} <= set(table.columns)
    assert table.loc[table["model"] == "lightgbm", "accuracy_stage2"].iloc[0] == "0.610 [0.580, 0.640]"
    overview = tables.overview_table({"content": runs}, [])
    cells = overview.loc[overview["model"] == "lightgbm"].iloc[0]
    assert cells["selection metric (test)"] == "accuracy_stage2 0.610 [0.580, 0.640]"
    assert cells["top1"] == "0.550" and cells["top3"] == "0.810"
    markdown = tables.markdown_table(overview)
    assert "0.610 [0.580, 0.640]" in markdown and "nan" not in markdown


def test_results_md_shows_content_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    import src.report as report

    monkeypatch.setattr(report, "latest_runs", lambda cfg, task, dataset=None: _content_runs())
    monkeypatch.setattr(report.store, "store_exists", lambda cfg: True)
    table = report.task_table(None, "content")
    row = table.loc[table["model"] == "lightgbm"].iloc[0]
    assert row["accuracy_stage2"] == "0.610 [0.580, 0.640]" and row["top1"] == "0.550"
    assert not (table.drop(columns=["run"]) == "–").all().any(), "a metric column is empty for every model"


def test_channel_page_has_a_per_channel_roc_auc_table_with_the_champion_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from src.reports import task_report

    runs = pd.DataFrame(
        {
            "run_id": ["aaaaaaaaaa", "bbbbbbbbbb"],
            "tags.model": ["majority", "lightgbm"],
            "metrics.test_roc_auc_web": [0.5, 0.81],
            "metrics.test_roc_auc_web_lo": [0.5, 0.79],
            "metrics.test_roc_auc_web_hi": [0.5, 0.83],
            "metrics.test_roc_auc_hotline": [0.5, 0.74],
        }
    )
    report = TaskReport(
        task="channel", cfg=None, runs=runs, claims=[], figures_dir=tmp_path, store_found=True
    )
    shown: list[object] = []
    monkeypatch.setattr(task_report, "display", lambda item, **kwargs: shown.append(item))
    monkeypatch.setattr(task_report, "champion_run", lambda cfg, pair: "bbbbbbbbbb")
    monkeypatch.setattr(TaskReport, "artifacts", lambda self, loader: {})
    monkeypatch.setattr(TaskReport, "predictions", lambda self: {})
    task_report.show_curves(report)
    task_report.show_channel(report)
    text = " ".join(str(getattr(item, "data", item)) for item in shown)
    assert "No model of this task predicts probabilities" not in text
    assert 'id="channel-roc-auc-table"' in text and "0.810 [0.790, 0.830]" in text and "0.740" in text
    table = tables.series_table(runs, "roc_auc", report.series())
    assert list(table.columns) == ["model", "hotline", "web"] and list(table["model"]) == [
        "lightgbm",
        "majority",
    ]
    assert text.count("★ champion") == 1
    rows = text.split("<tr>")
    assert any("lightgbm" in row and "★ champion" in row for row in rows)


def test_claims_carry_context_and_the_majority_class_accuracy() -> None:
    from src.reports.claims import Claim

    claim = Claim(task="spam", model="svm", metric="accuracy", value=0.92, source="Study, spam SMS.")
    runs = pd.DataFrame(
        {
            "run_id": ["aaaaaaaaaa"],
            "tags.model": ["svm"],
            "tags.task": ["spam"],
            "metrics.test_accuracy": [0.95],
            "metrics.test_accuracy_lo": [0.94],
            "metrics.test_accuracy_hi": [0.96],
            "metrics.test_majority_accuracy": [0.899],
        }
    )
    table = tables.claims_table([claim], {"spam": runs})
    assert table["majority class alone"].iloc[0] == "0.899"
    assert "not published" in tables.CLAIMS_CONTEXT and "majority class alone" in tables.CLAIMS_CONTEXT


def test_report_jobs_below_one_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from src import report

    assert report.main([f"paths.reports_dir={tmp_path}", "report_jobs=0"]) == 1
    assert capsys.readouterr().err.strip() == "error: report_jobs must be at least 1, got 0"
    assert not any(tmp_path.iterdir())  # nothing rendered


def test_reports_render_in_parallel_workers_in_the_order_of_their_pairs(monkeypatch) -> None:
    from concurrent import futures

    from src import report
    from src.config import compose
    from src.reports.runs import pair_for

    pools: list[int] = []

    class RecordingPool(futures.ThreadPoolExecutor):
        def __init__(self, max_workers: int, mp_context: object) -> None:
            pools.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(report, "ProcessPoolExecutor", RecordingPool)
    monkeypatch.setattr(report, "render_task", lambda cfg, pair, overrides: pair.task != "spam")
    pairs = [pair_for(task) for task in ("churn", "spam", "topic")]
    rendered = report.render_tasks(compose(["report_jobs=2"]), pairs, [])
    assert pools == [2]
    assert [(pair.task, ok) for pair, ok in rendered] == [("churn", True), ("spam", False), ("topic", True)]
    sequential = report.render_tasks(compose(["report_jobs=1"]), pairs, [])
    assert pools == [2] and sequential == rendered


@pytest.mark.slow  # starts two worker processes
def test_spawned_report_workers_import_this_checkout_after_a_model_put_its_code_first(tmp_path, monkeypatch):
    """Loading a champion puts the `src/` copy it was logged with first on sys.path (MLflow code_paths);
    report workers spawned afterwards must still import this checkout (a copy has no conf/)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from src import report
    from src.config import compose

    decoy = tmp_path / "src"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('a model artifact copy of src/')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    context = multiprocessing.get_context("spawn")
    cfg = compose(["report_jobs=3"])
    # the defect: the worker imports the copy and dies
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool, pytest.raises(BrokenProcessPool):
        pool.submit(report.report_jobs, cfg).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        with report.checkout_first_on_path():
            future = pool.submit(report.report_jobs, cfg)
        assert future.result() == 3
    assert sys.path[0] == str(tmp_path)  # restored after the workers started
