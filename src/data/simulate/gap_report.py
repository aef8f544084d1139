"""Markdown of the behaviour gap analysis (src/data/simulate/ceiling_probe.py): one section per task."""

from __future__ import annotations

import math

from src.data.simulate.ceiling_probe import SOURCES, STEPS, TaskGap

WHAT = {
    "oracle": "the simulator's prediction given every latent",
    "ceiling": "the tight ceiling: Bayes posterior given the window",
    "probe": "LightGBM fitted to the ceiling's per-user prediction from the feature table",
    "outcome model": "LightGBM fitted to the realised outcomes from the feature table",
}
METRIC_NAMES = {
    "roc_auc": "ROC-AUC",
    "brier": "Brier (lower is better)",
    "pr_auc": "PR-AUC",
    "top1": "top-1",
    "top3": "top-3",
    "accuracy": "accuracy (observed label)",
}
HEADLINE_NAMES = {"channel": "mean ROC-AUC over 6 channels", "churn_sim": "ROC-AUC", "content": "top-1",
                  "occupation": "accuracy (observed label)"}  # fmt: skip


def number(value: float, signed: bool = False) -> str:
    """Three decimals (four for Brier-sized values), a dash for a missing figure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    digits = 4 if abs(value) < 0.1 and value != 0 else 3
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def with_interval(row: dict) -> str:
    """`distance [low, high]`, or the distance alone where a source has no per-user prediction."""
    text = number(row["distance"], signed=True)
    if row["paired"] and not math.isnan(row["low"]):
        text += f" [{number(row['low'], signed=True)}, {number(row['high'], signed=True)}]"
    return text


def summary(gaps: list[TaskGap]) -> list[str]:
    """One line per task: its headline metric from oracle to outcome model, and the three distances."""
    lines = [
        "| task | metric | oracle | ceiling | probe | outcome model "
        "| window does not reveal | table does not carry | learning from outcomes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for gap in gaps:
        metrics = [gap.headline, *(["brier"] if "brier" in gap.scores.columns else [])]
        for metric in metrics:
            steps = gap.steps[gap.steps["metric"] == metric].to_dict("records")
            scores = " | ".join(number(gap.scores.loc[s, metric]) for s in SOURCES)
            name = HEADLINE_NAMES[gap.task] if metric == gap.headline else METRIC_NAMES[metric]
            distances = " | ".join(number(r["distance"], signed=True) for r in steps)
            lines.append(f"| {gap.task} | {name} | {scores} | {distances} |")
    return lines


def section(gap: TaskGap) -> list[str]:
    """A task's scores per source, each step's distance with its interval, and the per-channel table."""
    metrics = list(gap.scores.columns)
    lines = [
        f"## {gap.task}",
        "",
        f"{gap.fitted_on:,} users fitted, {gap.held_out:,} held out and scored.",
        "",
        "| source | what it is | " + " | ".join(METRIC_NAMES[m] for m in metrics) + " |",
        "|---|---|" + "---:|" * len(metrics),
    ]
    for source in SOURCES:
        lines.append(
            f"| {source} | {WHAT[source]} | "
            + " | ".join(number(gap.scores.loc[source, m]) for m in metrics)
            + " |"
        )
    lines += ["", "| step | attributed to | " + " | ".join(METRIC_NAMES[m] for m in metrics) + " |",
              "|---|---|" + "---:|" * len(metrics)]  # fmt: skip
    for upper, lower, reason in STEPS:
        rows = gap.steps[gap.steps["step"] == f"{upper} -> {lower}"].set_index("metric")
        cells = " | ".join(with_interval(rows.loc[m].to_dict()) for m in metrics)
        lines.append(f"| {upper} → {lower} | {reason} | {cells} |")
    if gap.per_target is not None:
        lines += ["", "Per channel (held-out users):", "",
                  "| channel | prevalence | " + " | ".join(f"{s} ROC-AUC" for s in SOURCES) + " | "
                  + " | ".join(f"{s} Brier" for s in SOURCES) + " |",
                  "|---|---:|" + "---:|" * (2 * len(SOURCES))]  # fmt: skip
        for row in gap.per_target.to_dict("records"):
            cells = [number(row[f"{s} roc_auc"]) for s in SOURCES] + [
                number(row[f"{s} brier"]) for s in SOURCES
            ]
            lines.append(f"| {row['channel']} | {number(row['prevalence'])} | " + " | ".join(cells) + " |")
    if gap.notes:
        lines += ["", *(f"- {note}" for note in gap.notes)]
    return [*lines, ""]


def gap_report(gaps: list[TaskGap], header: list[str], extra: dict[str, str]) -> str:
    """The whole page: header lines, the summary, then each task's section (+ `extra[task]` Markdown)."""
    lines = ["# Behaviour tasks: where the distance to the tight ceiling comes from", "", *header, ""]
    lines += [
        "Four predictions of each task, scored on the same held-out users:",
        "",
        *(f"- **{s}**: {WHAT[s]}" for s in SOURCES),
        "",
        "The distance between consecutive ones is attributed as follows (positive: lost on the way; 95%",
        "intervals from a paired bootstrap over the held-out users where both sides are per-user",
        "predictions):",
        "",
        *(f"- {upper} → {lower}: {reason}" for upper, lower, reason in STEPS),
        "",
        *summary(gaps),
        "",
    ]
    for gap in gaps:
        lines += section(gap)
        if gap.task in extra:
            lines += [extra[gap.task], ""]
    return "\n".join(lines).rstrip("\n") + "\n"
