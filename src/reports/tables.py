"""Tables of the reports: model comparison with intervals, references (study figure or ceiling), claims."""

from __future__ import annotations

import html

import pandas as pd

from src.reports.claims import NO_RUN, Claim, verdict
from src.reports.metric_vocabulary import evaluation_metrics, table_metrics
from src.reports.provenance import commit_column
from src.reports.runs import metric_with_interval

TABLE_METRICS = table_metrics()  # conf/report/metrics.yaml
EVALUATION_METRICS = evaluation_metrics()  # the same file: run-level figures (the spam challenge set)


def _value(row: pd.Series, key: str) -> float | None:
    value = row.get(key)
    return None if value is None or pd.isna(value) else float(value)


def _param(row: pd.Series, key: str) -> str | None:
    value = row.get(f"params.{key}")
    return None if value is None or pd.isna(value) or value in ("None", "null", "") else str(value)


def study_figure(row: pd.Series, claims: list[Claim]) -> tuple[str, float] | None:
    """(metric, value) the study publishes for this run's task and model: claims file first, then the run."""
    for claim in claims:
        if claim.task == row.get("tags.task") and claim.model == row.get("tags.model"):
            return claim.metric, claim.value
    for key in row.index:
        if key.startswith("metrics.baseline_") and _value(row, key) is not None:
            return key.removeprefix("metrics.baseline_"), float(row[key])
    return None


def ceiling(row: pd.Series, metric: str = "accuracy") -> float | None:
    """The simulator's ceiling of a metric logged with the run, if any."""
    return _value(row, f"metrics.ceiling_{metric}")


def selection_metric(runs: pd.DataFrame) -> str:
    """The task's validation selection metric as logged in the runs' params (accuracy if absent)."""
    column = "params.task.selection_metric"
    if column in runs and runs[column].notna().any():
        return str(runs[column].dropna().iloc[0])
    return "accuracy"


def headline_metric(runs: pd.DataFrame) -> str:
    """The selection metric as the runs logged it on test: `<metric>`, or `<metric>_<series>` when the
    task's one named label series carries its name (content's stage-2 model: `accuracy_stage2`)."""
    metric = selection_metric(runs)
    if f"metrics.test_{metric}" in runs and runs[f"metrics.test_{metric}"].notna().any():
        return metric
    named = sorted(
        column.removeprefix("metrics.test_")
        for column in runs.columns
        if column.startswith(f"metrics.test_{metric}_")
        and not column.endswith(("_lo", "_hi"))
        and runs[column].notna().any()
    )
    return named[0] if named else metric


def present_metrics(runs: pd.DataFrame, metrics: tuple[str, ...] = TABLE_METRICS) -> list[str]:
    """The table metrics that at least one run logged on test, the task's headline metric included, then
    the run-level evaluation metrics (EVALUATION_METRICS) that at least one run logged."""
    found = [m for m in metrics if f"metrics.test_{m}" in runs and runs[f"metrics.test_{m}"].notna().any()]
    headline = headline_metric(runs)
    if headline not in found and f"metrics.test_{headline}" in runs:
        found.append(headline)
    logged = [m for m in EVALUATION_METRICS if f"metrics.{m}" in runs and runs[f"metrics.{m}"].notna().any()]
    return found + [m for m in logged if f"metrics.test_{m}" not in runs]


def series_table(runs: pd.DataFrame, metric: str, series: list[str]) -> pd.DataFrame:
    """One row per model, one column per label series (channel): `test_<metric>_<series>` with intervals."""
    if runs.empty:
        return pd.DataFrame()
    runs = runs.sort_values("tags.model").reset_index(drop=True)
    table = pd.DataFrame({"model": runs["tags.model"]})
    for name in series:
        if f"metrics.test_{metric}_{name}" in runs:
            table[name] = metric_with_interval(runs, f"{metric}_{name}").to_numpy()
    return table


def comparison_table(runs: pd.DataFrame, claims: list[Claim]) -> pd.DataFrame:
    """One row per model: test metrics with 95% intervals, the study figure or ceiling, the verdict."""
    if runs.empty:
        return pd.DataFrame()
    runs = runs.sort_values("tags.model").reset_index(drop=True)
    table = pd.DataFrame({"model": runs["tags.model"]})
    # simulated tasks carry a ceiling of their headline metric (accuracy, or ROC-AUC for churn/channel)
    candidates = (selection_metric(runs), "top1", "roc_auc", "accuracy")
    top_metric = next((m for m in candidates if f"metrics.ceiling_{m}" in runs), "accuracy")
    for metric in present_metrics(runs):
        table[metric] = metric_with_interval(runs, metric).to_numpy()
    study, verdicts, ceilings, gaps = [], [], [], []
    for _, row in runs.iterrows():
        figure = study_figure(row, claims)
        if figure is None:
            study.append("–")
            verdicts.append("–")
        else:
            metric, value = figure
            study.append(f"{value:.2f} ({metric})")
            verdicts.append(
                verdict(
                    value, _value(row, f"metrics.test_{metric}_lo"), _value(row, f"metrics.test_{metric}_hi")
                )
            )
        top = ceiling(row, top_metric)
        ceilings.append("–" if top is None else f"{top:.3f}")
        gap = _value(row, f"metrics.gap_to_ceiling_{top_metric}")
        ours = _value(row, f"metrics.test_{top_metric}")
        if gap is None and top is not None and ours is not None:
            gap = top - ours
        gaps.append("–" if gap is None else f"{gap:.3f}")
    if any(s != "–" for s in study):
        table["study"] = study
        table["verdict"] = verdicts
    if any(c != "–" for c in ceilings):
        table[f"ceiling ({top_metric})"] = ceilings
        table["gap to ceiling"] = gaps
    paired = f"gap_to_ceiling_{top_metric}"  # ceiling scored on the run's own test users (occupation)
    if f"metrics.test_{paired}" in runs and runs[f"metrics.test_{paired}"].notna().any():
        table["gap on the same test users [95% CI]"] = metric_with_interval(runs, paired).to_numpy()
    table["run"] = runs["run_id"].str[:8].to_numpy()
    return table


def data_table(runs: pd.DataFrame, balance: pd.Series | None) -> pd.DataFrame:
    """Split sizes logged by the runs, and the class shares of the evaluated rows."""
    row = runs.iloc[0]
    rows = []
    for split in ("train", "val", "test"):
        size = _param(row, f"split_{split}")
        if size is not None:
            rows.append({"what": f"rows in {split}", "value": f"{int(float(size)):,}"})
    if rows:
        total = sum(int(r["value"].replace(",", "")) for r in rows)
        rows.append({"what": "rows in total", "value": f"{total:,}"})
    if balance is not None and balance.sum() > 0:
        shares = balance / balance.sum()
        rows.append(
            {"what": "classes (val+test)", "value": f"{len(balance)}"}
        )  # the page counts what it lists
        for label, count in balance.items():
            rows.append(
                {"what": f"class {label} (val+test)", "value": f"{int(count):,} ({shares[label]:.1%})"}
            )
    return pd.DataFrame(rows, columns=["what", "value"])


def class_balance(frames: list[pd.DataFrame]) -> pd.Series | None:
    """Label counts over the given prediction frames (y_true), largest first."""
    frames = [f for f in frames if f is not None and "y_true" in f]
    if not frames:
        return None
    labels = pd.concat([f["y_true"] for f in frames]).astype(str)
    return labels.value_counts()


CLAIMS_CONTEXT = (
    "The study measured its figures on its own data, which is not published: ours come from the public "
    "or simulated datasets named on each task page, so a verdict compares like tasks, not like data. "
    "`majority class alone` is the test accuracy of always answering the training majority class: an "
    "accuracy close to it (spam: most messages are not spam) says little."
)


def claims_table(claims: list[Claim], runs_by_task: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every study claim beside our figure with its interval and the verdict."""
    rows = []
    for claim in claims:
        runs = runs_by_task.get(claim.task, pd.DataFrame())
        match = runs[runs["tags.model"] == claim.model] if not runs.empty else runs
        ours, verdict_text, run, majority = "–", NO_RUN, "–", "–"
        if not match.empty:
            row = match.iloc[0]
            if claim.metric == "accuracy" and _value(row, "metrics.test_majority_accuracy") is not None:
                majority = f"{float(row['metrics.test_majority_accuracy']):.3f}"
            ours = metric_with_interval(match.head(1), claim.metric).iloc[0]
            verdict_text = verdict(
                claim.value,
                _value(row, f"metrics.test_{claim.metric}_lo"),
                _value(row, f"metrics.test_{claim.metric}_hi"),
            )
            run = row["run_id"][:8]
        rows.append(
            {
                "task": claim.task,
                "model": claim.model,
                "metric": claim.metric,
                "study": f"{claim.value:.2f}",
                "ours [95% CI]": ours,
                "majority class alone": majority,
                "verdict": verdict_text,
                "run": run,
                "source": claim.source,
            }
        )
    return pd.DataFrame(rows)


def overview_table(runs_by_task: dict[str, pd.DataFrame], claims: list[Claim]) -> pd.DataFrame:
    """Every task x model: accuracy, macro-F1 and the task's selection metric, the reference and verdict."""
    rows = []
    for task, runs in sorted(runs_by_task.items()):
        if runs.empty:
            continue
        headline = headline_metric(runs)
        table = comparison_table(runs, claims)
        commits = commit_column(runs.sort_values("tags.model"))
        for position, (_, row) in enumerate(runs.sort_values("tags.model").iterrows()):
            entry = {
                "task": task,
                "model": row["tags.model"],
                "accuracy": table["accuracy"].iloc[position] if "accuracy" in table else "–",
                "macro_f1": table["macro_f1"].iloc[position] if "macro_f1" in table else "–",
                "selection metric (test)": (
                    f"{headline} {table[headline].iloc[position]}" if headline in table else headline
                ),
                **{m: table[m].iloc[position] for m in ("top1", "top3") if m in table},
                "study": table["study"].iloc[position] if "study" in table else "–",
                "verdict": table["verdict"].iloc[position] if "verdict" in table else "–",
                "ceiling": next(
                    (f"{c[9:-1]} {table[c].iloc[position]}" for c in table if c.startswith("ceiling (")), "–"
                ),
                "commit": "–" if commits.iloc[position] == "unknown" else commits.iloc[position][:12],
                "run": row["run_id"][:8],
            }
            rows.append(entry)
    frame = pd.DataFrame(rows).fillna("–")  # top-k columns exist for the content task only
    empty = [c for c in ("study", "verdict", "ceiling") if c in frame and (frame[c] == "–").all()]
    return frame.drop(columns=empty)


def keyword_table(keywords: pd.DataFrame, top: int = 10) -> pd.DataFrame:
    """The top keywords per class with their weights, one row per class."""
    rows = []
    ordered = keywords.sort_values(["class", "weight"], ascending=[True, False], kind="stable")
    for label, group in ordered.groupby("class", sort=True):
        words = ", ".join(
            f"{k} ({w:.2f})"
            for k, w in zip(group["keyword"].head(top), group["weight"].head(top), strict=True)
        )
        rows.append({"class": label, "keywords": len(group), f"top {top} (weight)": words})
    return pd.DataFrame(rows)


def tier_share_table(shares: pd.DataFrame, tiers: list[str] | None = None) -> pd.DataFrame:
    """Share of users per channel (rows) and tier (columns), tiers in their grade order."""
    pivot = shares.pivot_table(index="channel", columns="tier", values="share", aggfunc="sum").fillna(0.0)
    if tiers:
        pivot = pivot.reindex(
            columns=[t for t in tiers if t in pivot.columns] + [t for t in pivot if t not in tiers]
        )
    return pivot.map(lambda v: f"{v:.1%}").reset_index().rename_axis(columns=None)


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table (no extra dependency)."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def html_table(frame: pd.DataFrame, table_id: str = "") -> str:
    """An HTML table for the notebook output (escaped, no index)."""
    attrs = f' id="{html.escape(table_id)}"' if table_id else ""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in frame.itertuples(index=False))
    return f'<table class="report-table"{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cell(value: object) -> str:
    text = str(value)
    wrap = (
        ' style="white-space: normal; min-width: 24em"' if len(text) > 60 else ""
    )  # prose wraps, figures don't
    return f"<td{wrap}>{html.escape(text)}</td>"
