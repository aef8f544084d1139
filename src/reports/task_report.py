"""The sections of one (task, dataset) report (notebooks/10-task-report.ipynb calls one function per cell)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Image, Markdown, display
from omegaconf import DictConfig

from src import tracking
from src.config import compose
from src.identity import Pair
from src.reports import figures, store, tables
from src.reports.claims import VERDICT_RULE, Claim, load_claims
from src.reports.metric_vocabulary import evaluation_note
from src.reports.provenance import commit_column, commit_text, data_checksums, run_commits
from src.reports.runs import (
    champion_run,
    dataset_title,
    latest_runs,
    pair_for,
    recent_runs,
    shown_run_set,
    unfinished_runs,
)


@dataclass
class TaskReport:
    """Everything the sections of one (task, dataset) report share; `task` is the report key."""

    task: str
    cfg: DictConfig
    runs: pd.DataFrame
    claims: list[Claim]
    figures_dir: Path
    store_found: bool
    cache: dict = field(default_factory=dict)
    pair: Pair | None = None
    unfinished: pd.DataFrame = field(default_factory=pd.DataFrame)
    recent: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def empty(self) -> bool:
        """True when the store holds no finished run of the task."""
        return self.runs.empty

    def predictions(self) -> dict[str, pd.DataFrame]:
        """Test predictions per model (models without the artifact left out)."""
        if "predictions" not in self.cache:
            found = {row["tags.model"]: store.predictions(row["run_id"]) for _, row in self.runs.iterrows()}
            self.cache["predictions"] = {m: f for m, f in found.items() if f is not None}
        return self.cache["predictions"]

    def positive_label(self) -> str | None:
        """The positive class of a binary task as the runs logged it (tag, else the data config's param)."""
        for column in ("tags.positive_label", "params.data.positive_label"):
            if column in self.runs and self.runs[column].notna().any():
                return str(self.runs[column].dropna().iloc[0])
        return None

    def series(self) -> list[str]:
        """The label series of a task with several (channel: one per channel), from the logged ROC-AUCs."""
        found = {
            column.removeprefix("metrics.test_roc_auc_")
            for column in self.runs.columns
            if column.startswith("metrics.test_roc_auc_") and not column.endswith(("_lo", "_hi"))
        }
        return sorted(found)

    def artifacts(self, loader) -> dict[str, pd.DataFrame]:
        """One artifact per model via a store loader, models without it left out."""
        found = {
            row["tags.model"]: loader(row["run_id"])
            for _, row in self.runs.sort_values("tags.model").iterrows()
        }
        return {m: f for m, f in found.items() if f is not None and not f.empty}


def open_report(
    task: str,
    overrides: list[str] | None = None,
    figures_dir: str = "",
    tracking_uri: str = "",
    dataset: str = "",
) -> TaskReport:
    """Compose the config, read the pair's newest finished run per model and (default dataset) the claims."""
    overrides = list(overrides or [])
    if tracking_uri:
        overrides += [f"mlflow.tracking_uri={tracking_uri}", f"mlflow.registry_uri={tracking_uri}"]
    cfg = compose(overrides)
    pair = pair_for(task, dataset)
    found = store.store_exists(cfg)
    runs = latest_runs(cfg, pair.task, pair.dataset) if found else pd.DataFrame()
    unfinished = unfinished_runs(cfg, pair.task, pair.dataset) if found else pd.DataFrame()
    limit = int(cfg.get("recent_runs") or 0)
    recent = recent_runs(cfg, pair.task, pair.dataset, limit) if found and limit else pd.DataFrame()
    out = Path(figures_dir) if figures_dir else Path(cfg.paths.reports_dir) / "figures"
    claims = load_claims() if pair.is_default else []  # the study's figures are about the default datasets
    return TaskReport(
        task=pair.suffix,
        cfg=cfg,
        runs=runs,
        claims=claims,
        figures_dir=out,
        store_found=found,
        pair=pair,
        unfinished=unfinished,
        recent=recent,
    )


def _md(text: str) -> None:
    display(Markdown(text))


def _table(frame: pd.DataFrame, table_id: str) -> None:
    display(HTML(tables.html_table(frame, table_id)))


def _figure(fig) -> None:
    if fig is not None:
        alt = "; ".join(ax.get_title() for ax in fig.axes if ax.get_title()) or fig.saved_path.stem
        display(Image(filename=str(fig.saved_path)), metadata={"alt": alt})


def show_header(report: TaskReport) -> None:
    """Title, what the task is, where the runs come from, or a plain message when there are none."""
    git = tracking.git_state()
    pair = report.pair or pair_for(report.task)
    _md(f"# Task report: `{pair.task}` on `{pair.dataset}`")
    _md(f"Data: {dataset_title(report.runs, pair.dataset)}.")
    if not report.unfinished.empty:
        _md("Runs left out because they did not finish (a RUNNING one may be stale):")
        _table(report.unfinished, "unfinished-table")
    if report.empty:
        where = (
            "the MLflow store does not exist yet"
            if not report.store_found
            else "the store has no finished run"
        )
        _md(
            f"**No runs yet for `{report.task}`**: {where} (`{report.cfg.mlflow.tracking_uri}`). "
            f"Run `python -m src.run task={pair.task}"
            f"{'' if pair.is_default else ' data=' + pair.dataset} model=<model>` or `make reproduce`, "
            "then `make reports`."
        )
        _md(f"Report made at commit `{commit_text(git)}`.")
        return
    description = report.runs.get("params.task.description", pd.Series(dtype=str)).dropna()
    if not description.empty and pair.is_default:  # the task's description names its default dataset
        _md(str(description.iloc[0]))
    _md(f"**Run set: {shown_run_set(report.runs)}.** {RUN_SET_NOTE}")
    _md(
        f"Report made by `python -m src.report` at commit `{commit_text(git)}` from the newest finished "
        f"run of each model of that run set in `{report.cfg.mlflow.experiment_prefix}{report.task}`; runs "
        f"made at commit(s) {run_commits(report.runs)}. Test-set figures with 95% bootstrap intervals in "
        "brackets; hyper-parameters chosen on the validation split only."
    )
    if not report.recent.empty:
        _md("Recent runs of any run set (ad-hoc runs included; not part of the tables below):")
        _table(report.recent, "recent-runs-table")


RUN_SET_NOTE = (
    "Every table and figure on this page comes from this run set only; "
    "`python -m src.report runs=latest` (or `runs=<sweep id>`) shows another."
)


def show_data(report: TaskReport) -> None:
    """Split sizes and class balance."""
    if report.empty:
        return
    frames = [f for f in report.predictions().values()][:1]
    val = store.predictions(report.runs.iloc[0]["run_id"], "val")
    balance = tables.class_balance([*frames, val])
    _md("## Data")
    _table(tables.data_table(report.runs, balance), "data-table")


def show_comparison(report: TaskReport) -> None:
    """Every model's test metrics with intervals against the study's figure or the simulator's ceiling."""
    if report.empty:
        return
    _md("## Model comparison")
    _table(tables.comparison_table(report.runs, report.claims), "comparison-table")
    notes = []
    if any(c.task == report.task for c in report.claims) or "metrics.baseline_accuracy" in report.runs:
        notes.append(f"Verdict against the study's figure: {VERDICT_RULE}.")
    if any(str(c).startswith("metrics.ceiling_") for c in report.runs.columns):
        notes.append("Ceiling: the simulator's own best achievable figure (it knows the generating model).")
    if not notes:
        notes.append("The study publishes no figure for this task; models are compared with each other.")
    if any(f"metrics.{metric}" in report.runs for metric in tables.EVALUATION_METRICS):
        notes.append(evaluation_note())  # conf/report/metrics.yaml
    _md(" ".join(notes))


def show_comparison_chart(report: TaskReport) -> None:
    """Bar charts of accuracy (and the task's selection metric) with interval error bars."""
    if report.empty:
        return
    metrics = ["accuracy"]
    headline = tables.selection_metric(report.runs)
    if headline != "accuracy":
        metrics.append(headline)
    for metric in metrics:
        _figure(figures.comparison_bars(report.runs, metric, report.claims, report.task, report.figures_dir))


def show_confusions(report: TaskReport) -> None:
    """Row-normalised confusion matrix of each model on the test split."""
    if report.empty:
        return
    _md("## Confusion matrices (test)")
    found = report.artifacts(store.confusion)
    if not found:
        _md("No run of this task logged a confusion matrix.")
    for fig in figures.confusion_heatmaps(found, report.task, report.figures_dir):
        _figure(fig)


def show_curves(report: TaskReport) -> None:
    """ROC and precision-recall curves of the probabilistic models."""
    if report.empty:
        return
    _md("## ROC and precision-recall curves (test)")
    fig = figures.roc_pr_curves(
        report.predictions(), report.positive_label(), report.task, report.figures_dir
    )
    if fig is None and report.series():
        _md("This task has one model per label series: see the per-series tables and curves below.")
    elif fig is None:
        _md("No model of this task predicts probabilities.")
    _figure(fig)


def show_reliability(report: TaskReport) -> None:
    """Reliability (calibration) curves of the probabilistic models."""
    if report.empty:
        return
    fig = figures.reliability_curves(
        report.predictions(), report.positive_label(), report.task, report.figures_dir
    )
    if fig is None:
        return
    _md("## Reliability (test)")
    _figure(fig)


def show_importance(report: TaskReport) -> None:
    """Top features of the trees, LightGBM and linear models."""
    found = report.artifacts(store.importance) if not report.empty else {}
    if not found:
        return
    _md("## Feature importance")
    _figure(figures.importance_bars(found, report.task, report.figures_dir))


def show_keywords(report: TaskReport) -> None:
    """The keyword matcher's extracted keywords per class."""
    found = report.artifacts(store.keywords) if not report.empty else {}
    for model, keywords in found.items():
        _md(f"## Keywords of `{model}`")
        _table(tables.keyword_table(keywords), f"keywords-{model}")


def show_channel(report: TaskReport) -> None:
    """The channel task's tier shares (table and chart) and per-channel reliability."""
    if report.empty:
        return
    for model, shares in report.artifacts(store.tier_shares).items():
        _md(f"## Channel dependence tiers (`{model}`)")
        _table(tables.tier_share_table(shares, figures.TIER_ORDER), f"tiers-{model}")
        _figure(
            figures.tier_share_chart(shares, report.task, report.figures_dir, name=f"tier-shares-{model}")
        )
    if report.series():
        _md("## ROC-AUC per channel (test)")
        table = tables.series_table(report.runs, "roc_auc", report.series())
        champion = champion_run(report.cfg, report.pair or pair_for(report.task))
        runs = report.runs.sort_values("tags.model").reset_index(drop=True)
        table["champion"] = ["★ champion" if r == champion else "" for r in runs["run_id"]]
        _table(table, "channel-roc-auc-table")
        _md("★ marks the run of the registered `@champion` model, when it is among the runs shown.")
    for model, table in report.artifacts(store.channel_reliability).items():
        _md(f"## Channel reliability (`{model}`)")
        _figure(figures.channel_reliability_chart(table, f"{report.task}-{model}", report.figures_dir))


def show_content(report: TaskReport) -> None:
    """The content task's category x user-group heatmap."""
    if report.empty:
        return
    for model, scores in report.artifacts(store.category_by_group).items():
        _md(f"## Content preference by user group (`{model}`)")
        _figure(figures.content_heatmap(scores, f"{report.task}-{model}", report.figures_dir))


def show_lineage(report: TaskReport) -> None:
    """Runs, commits and data checksums the report was made from."""
    if report.empty:
        return
    _md("## Lineage")
    runs = report.runs.sort_values("tags.model")
    frame = pd.DataFrame(
        {
            "model": runs["tags.model"],
            "run": runs["run_id"],
            "commit": commit_column(runs).str[:12],
            "dirty": runs.get("tags.git_dirty", pd.Series("–", index=runs.index)),
            "seed": runs.get("tags.seed", pd.Series("–", index=runs.index)),
        }
    )
    _table(frame, "runs-table")
    _table(data_checksums(list(runs["run_id"])), "checksums-table")
