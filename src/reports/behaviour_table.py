"""The README's behaviour table: every behaviour task x model of the study run set vs its tight ceiling."""

from __future__ import annotations

import pandas as pd
from omegaconf import DictConfig

from src.reports.runs import STUDY, column, metric_with_interval, pair_runs, select_run_set
from src.reports.tables import markdown_table

NO_RUNS = "No study runs yet: run `make reproduce`, then `python -m src.report` rewrites this table."
COLUMNS = [
    "task",
    "model",
    "headline (test) [95% CI]",
    "tight ceiling, same users",
    "paired gap [95% CI]",
    "within target?",
    "run",
]


def study_runs(cfg: DictConfig, task: str) -> pd.DataFrame:
    """The finished runs of the task's newest study sweep on its default dataset, one per model."""
    runs = pair_runs(cfg, task)
    if runs.empty:
        return runs
    finished = runs[runs["status"] == "FINISHED"]
    tagged = finished[column(finished, "tags.run_set").eq(STUDY).fillna(False).astype(bool)]
    if tagged.empty:
        return tagged
    chosen, _ = select_run_set(tagged, STUDY)
    return chosen.drop_duplicates(subset="tags.model", keep="first").reset_index(drop=True)


def gap_cell(run: pd.Series, metric: str) -> str:
    """'0.031 [0.022, 0.039]': the paired gap to the ceiling on the run's test users, or '–'."""
    key = f"gap_to_ceiling_{metric}"
    return str(metric_with_interval(run.to_frame().T, key).iloc[0])


def verdict(run: pd.Series, metric: str, target: float) -> str:
    """'yes' (interval below the target), 'point only' (estimate below, interval above), 'no' or '–'."""
    gap, high = (
        run.get(f"metrics.test_gap_to_ceiling_{metric}"),
        run.get(f"metrics.test_gap_to_ceiling_{metric}_hi"),
    )
    if gap is None or pd.isna(gap):
        return "–"
    if gap > target:
        return "no"
    return "yes" if high is None or pd.isna(high) or high <= target else "point only"


def ceiling_cell(run: pd.Series, metric: str) -> str:
    """The ceiling scored on the run's own test users, or '–'."""
    value = run.get(f"metrics.test_ceiling_{metric}")
    return "–" if value is None or pd.isna(value) else f"{value:.3f}"


def task_rows(runs: pd.DataFrame, task: str, metric: str, target: float) -> list[dict[str, str]]:
    """One row per model, the smallest paired gap first (runs without a gap last, then by model)."""
    gap = pd.to_numeric(column(runs, f"metrics.test_gap_to_ceiling_{metric}"), errors="coerce")
    order = runs.assign(_gap=gap.fillna(float("inf"))).sort_values(["_gap", "tags.model"], kind="stable")
    rows = []
    for _, run in order.iterrows():
        headline = metric_with_interval(run.to_frame().T, metric).iloc[0]
        rows.append(
            dict(
                zip(
                    COLUMNS,
                    [
                        task,
                        str(run["tags.model"]),
                        f"{metric} {headline}",
                        ceiling_cell(run, metric),
                        gap_cell(run, metric),
                        verdict(run, metric, target),
                        str(run["run_id"])[:8],
                    ],
                    strict=True,
                )
            )
        )
    return rows


def behaviour_table(cfg: DictConfig, settings: DictConfig) -> str:
    """The markdown table for `settings` (readme.yaml `behaviour`), or a one-line note without study runs."""
    target = float(settings.target_gap)
    rows = []
    for task, metric in settings.metrics.items():
        runs = study_runs(cfg, str(task))
        if not runs.empty:
            rows.extend(task_rows(runs, str(task), str(metric), target))
    return markdown_table(pd.DataFrame(rows, columns=COLUMNS)) if rows else NO_RUNS
