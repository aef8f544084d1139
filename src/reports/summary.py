"""The summary of every (task, dataset) x model (claims, verdicts, provenance) as notebook cells, markdown.

Runs are keyed by report key: `<task>` on the task's default dataset, `<task>--<dataset>` on another;
the study's claims are about the default datasets, so only those keys can match a claim.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from IPython.display import HTML, Markdown, display
from omegaconf import DictConfig

from src import tracking
from src.config import compose
from src.reports import store, tables
from src.reports.claims import VERDICT_RULE, Claim, load_claims
from src.reports.figures import figure_path
from src.reports.provenance import commit_text, data_checksums, run_config_hash
from src.reports.runs import dataset_title, latest_runs, shown_run_set, unfinished_runs, wanted_run_set

NO_RUNS = (
    "No runs yet: run `make reproduce` (or `python -m src.run task=<task> model=<model>`), "
    "then `make reports`."
)


@dataclass
class Summary:
    """The runs of every (task, dataset) pair, keyed by report key, and what the summary was made from."""

    cfg: DictConfig
    runs_by_task: dict[str, pd.DataFrame]
    configured_tasks: list[str]
    claims: list[Claim]
    git: dict[str, str]
    config_hash: str
    titles: dict[str, str] = field(default_factory=dict)
    unfinished: dict[str, pd.DataFrame] = field(default_factory=dict)
    run_sets: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when no task has a finished run."""
        return not self.runs_by_task

    @property
    def tasks_without_runs(self) -> list[str]:
        """Tasks configured in conf/task/ (or claimed by the study) that have no finished run."""
        wanted = set(self.configured_tasks) | {c.task for c in self.claims}
        return sorted(wanted - set(self.runs_by_task))

    def run_ids(self) -> list[str]:
        """Every run the summary shows."""
        return [r for runs in self.runs_by_task.values() for r in runs["run_id"]]


def collect(overrides: list[str] | None = None, cfg: DictConfig | None = None) -> Summary:
    """Read the newest finished run per (task, dataset) pair and model from the store."""
    cfg = cfg if cfg is not None else compose(list(overrides or []))
    pairs = store.pairs_with_runs(cfg)
    runs_by_task = {pair.suffix: latest_runs(cfg, pair.task, pair.dataset) for pair in pairs}
    runs_by_task = {key: runs for key, runs in runs_by_task.items() if not runs.empty}
    titles = {
        pair.suffix: f"{pair.task} on {dataset_title(runs_by_task[pair.suffix], pair.dataset)}"
        for pair in pairs
        if pair.suffix in runs_by_task
    }
    unfinished = {pair.suffix: unfinished_runs(cfg, pair.task, pair.dataset) for pair in pairs}
    return Summary(
        titles=titles,
        unfinished={key: frame for key, frame in unfinished.items() if not frame.empty},
        cfg=cfg,
        runs_by_task=runs_by_task,
        configured_tasks=tracking.all_task_names(),
        claims=load_claims(),
        git=tracking.git_state(),
        config_hash=runs_config_hash([r for runs in runs_by_task.values() for r in runs["run_id"]]),
        run_sets={key: shown_run_set(runs) for key, runs in runs_by_task.items()},
    )


def runs_config_hash(run_ids: list[str]) -> str:
    """The config hash of the shown runs' composed configs: one hash when they agree, else a hash of all.

    Runs of different tasks and models differ in their `task`/`model` groups, so a summary of several
    usually has many configs: the value is then the hash of their sorted hashes, with the count.
    """
    hashes = sorted({run_config_hash(run_id) for run_id in run_ids})
    if not hashes:
        return "–"
    if len(hashes) == 1:
        return hashes[0]
    combined = hashlib.sha256(" ".join(hashes).encode("utf-8")).hexdigest()[:12]
    return f"{combined} (over {len(hashes)} distinct run configs)"


def overview(summary: Summary) -> pd.DataFrame:
    """Every task x model with the config hash of its run."""
    table = tables.overview_table(summary.runs_by_task, summary.claims)
    if table.empty:
        return table
    hashes = {run_id[:8]: run_config_hash(run_id) for run_id in summary.run_ids()}
    table["config"] = table["run"].map(hashes)
    return table


def provenance_lines(summary: Summary) -> list[str]:
    """Commit, config hash and store of the summary, as markdown bullet lines."""
    return [
        f"- made at commit `{commit_text(summary.git)}` by `python -m src.report`",
        f"- config hash `{summary.config_hash}` (sha256 of the shown runs' logged configs without "
        "machine-specific paths and store URIs; each run's own config hash is in the `config` column)",
        f"- run set: `{wanted_run_set(summary.cfg)}` "
        f"({'; '.join(f'{key}: {label}' for key, label in summary.run_sets.items()) or 'no runs'})",
        f"- MLflow store `{_portable(summary.cfg.mlflow.tracking_uri, summary.cfg)}`",
    ]


def _portable(text: str, cfg: DictConfig) -> str:
    return str(text).replace(str(cfg.paths.root), "<project root>")


def markdown(summary: Summary) -> str:
    """reports/summary.md: the same content as the summary notebook, for reading on the repository."""
    lines = ["# Summary: every task and model", "", *provenance_lines(summary), ""]
    if summary.empty:
        return "\n".join([*lines, f"**{NO_RUNS}**", ""])
    lines += ["## The study's claims", "", f"Verdict: {VERDICT_RULE}.", "", tables.CLAIMS_CONTEXT, ""]
    lines += [tables.markdown_table(tables.claims_table(summary.claims, summary.runs_by_task)), ""]
    lines += ["## Every task and model", "", "Test-set figures, 95% bootstrap intervals in brackets.", ""]
    lines += [tables.markdown_table(overview(summary)), ""]
    if summary.tasks_without_runs:
        lines += [f"Tasks without runs yet: {', '.join(f'`{t}`' for t in summary.tasks_without_runs)}.", ""]
    lines += ["## Task reports", ""]
    reports_dir = Path(summary.cfg.paths.reports_dir)
    for task in summary.runs_by_task:
        title = summary.titles.get(task, task)
        lines.append(
            f"- `{task}` ({title}): [{task}.html]({task}.html) (code hidden), [{task}.ipynb]({task}.ipynb)"
        )
        chart = figure_path(reports_dir / "figures", task, "compare-accuracy")
        if chart.is_file():
            lines += ["", f"  ![{task} accuracy](figures/{chart.name})"]
    lines += unfinished_lines(summary)
    lines += ["", "## Data checksums (from the runs' lineage.json)", ""]
    lines += [tables.markdown_table(data_checksums(summary.run_ids())), ""]
    return "\n".join(lines)


def unfinished_lines(summary: Summary) -> list[str]:
    """Markdown listing the runs left out because they did not finish (stale RUNNING ones included)."""
    if not summary.unfinished:
        return []
    lines = ["", "## Runs left out (not FINISHED)", ""]
    for key, frame in summary.unfinished.items():
        lines += [f"`{key}`:", "", tables.markdown_table(frame), ""]
    return lines


def _md(text: str) -> None:
    display(Markdown(text))


def show_header(summary: Summary) -> None:
    """Title and provenance, or the plain no-runs message."""
    _md("# Summary: every task and model")
    _md("\n".join(provenance_lines(summary)))
    if summary.empty:
        _md(f"**{NO_RUNS}**")


def show_claims(summary: Summary) -> None:
    """The study's claims beside our figures, with verdicts."""
    if summary.empty:
        return
    _md("## The study's claims")
    _md(f"Verdict: {VERDICT_RULE}.")
    _md(tables.CLAIMS_CONTEXT)
    display(
        HTML(tables.html_table(tables.claims_table(summary.claims, summary.runs_by_task), "claims-table"))
    )


def show_overview(summary: Summary) -> None:
    """One table of every task x model, with links to the task reports."""
    if summary.empty:
        return
    _md("## Every task and model")
    _md("Test-set figures, 95% bootstrap intervals in brackets.")
    display(HTML(tables.html_table(overview(summary), "overview-table")))
    if summary.tasks_without_runs:
        _md(f"Tasks without runs yet: {', '.join(f'`{t}`' for t in summary.tasks_without_runs)}.")
    _md("Task reports: " + ", ".join(f"[{summary.titles.get(t, t)}]({t}.html)" for t in summary.runs_by_task))
    if summary.unfinished:
        _md("\n".join(unfinished_lines(summary)))


def show_checksums(summary: Summary) -> None:
    """The data files the runs read, with their sha256."""
    if summary.empty:
        return
    _md("## Data checksums (from the runs' lineage.json)")
    display(HTML(tables.html_table(data_checksums(summary.run_ids()), "checksums-table")))
