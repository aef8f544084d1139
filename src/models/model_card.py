"""Markdown model card for a registered version, built only from what its MLflow run recorded."""

from __future__ import annotations

import shlex
from typing import Any

from src.identity import run_commit

# the registry's description column is VARCHAR(5000) on server databases
MAX_CARD_CHARS = 5000
# headline metrics first, in the order docs/tracking.md lists them; the rest follow alphabetically
HEADLINE = ("accuracy", "macro_f1", "roc_auc", "pr_auc", "log_loss", "brier")


def model_card(run: Any) -> str:
    """Markdown card (task, model, lineage, selection, test metrics with intervals) for an MLflow run."""
    tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
    task = tags.get("task") or params.get("task.name", "?")
    model = tags.get("model") or params.get("model.name", "?")
    level = _level(params.get("evaluation.ci_level"))

    lines = [f"# {task} / {model}", ""]
    lines += ["| | |", "|---|---|"]
    lines.append(f"| task | {task} |")
    lines.append(f"| model | {model} |")
    dataset = tags.get("dataset") or params.get("data.name")
    if dataset:
        title = tags.get("dataset_title")
        lines.append(f"| dataset | {dataset}{f' ({title})' if title and title != dataset else ''} |")
    if "input_schema" in tags:
        lines.append(f"| input schema | `{tags['input_schema']}` |")
    lines.append(f"| run | `{run.info.run_id}` ({run.info.status}) |")
    commit = run_commit(tags)
    dirty = " (uncommitted changes)" if tags.get("git_dirty") == "true" else ""
    lines.append(f"| git commit | `{commit}`{dirty} |")
    if "seed" in tags:
        lines.append(f"| seed | {tags['seed']} |")
    selection = params.get("task.selection_metric")
    if selection:
        mode = params.get("task.selection_mode", "max")
        value = metrics.get(f"val_{selection}")
        shown = "not logged" if value is None else _fmt(value)
        lines.append(f"| selection | `val_{selection}` = {shown} ({mode}imised on validation) |")

    refit = params.get("evaluation.refit_on_train_val")
    if refit is not None:
        fitted = "train + validation (re-fit after selection)" if refit == "True" else "train"
        lines.append(f"| fitted on | {fitted} |")

    tests = _test_rows(metrics)
    if tests:
        lines += ["", f"## Test metrics ({level} bootstrap interval)", ""]
        lines += ["| metric | value | interval |", "|---|---|---|"]
        lines += tests

    context = _context_rows(metrics, tags)
    if context:
        lines += ["", "## Baseline and ceiling", "", "| metric | value |", "|---|---|", *context]

    checksums = {k.removeprefix("data_sha256."): v for k, v in tags.items() if k.startswith("data_sha256.")}
    if checksums:
        lines += ["", "## Data (sha256)", "", "| input | sha256 |", "|---|---|"]
        lines += [f"| {name} | `{digest}` |" for name, digest in sorted(checksums.items())]

    lines += ["", "## Reproduce", "", "```", _command(tags, task, model), "```", ""]
    card = "\n".join(lines)
    if len(card) > MAX_CARD_CHARS:
        note = "\n… (truncated; the run's lineage.json has everything)\n"
        card = card[: MAX_CARD_CHARS - len(note)] + note
    return card


def _test_rows(metrics: dict[str, float]) -> list[str]:
    names = {
        key.removeprefix("test_")
        for key in metrics
        if key.startswith("test_") and not key.endswith(("_lo", "_hi"))
    }
    order = [m for m in HEADLINE if m in names] + sorted(names - set(HEADLINE))
    rows = []
    for name in order:
        low, high = metrics.get(f"test_{name}_lo"), metrics.get(f"test_{name}_hi")
        interval = "" if low is None or high is None else f"[{_fmt(low)}, {_fmt(high)}]"
        rows.append(f"| `test_{name}` | {_fmt(metrics[f'test_{name}'])} | {interval} |")
    return rows


def _context_rows(metrics: dict[str, float], tags: dict[str, str]) -> list[str]:
    rows = []
    for key in sorted(k for k in metrics if k.startswith("baseline_")):
        source = tags.get("baseline_source")
        rows.append(f"| `{key}` | {_fmt(metrics[key])}{f' ({source})' if source else ''} |")
    if "delta_vs_baseline" in metrics:
        low, high = metrics.get("delta_vs_baseline_lo"), metrics.get("delta_vs_baseline_hi")
        interval = "" if low is None or high is None else f" [{low:+.4f}, {high:+.4f}]"
        rows.append(f"| `delta_vs_baseline` | {metrics['delta_vs_baseline']:+.4f}{interval} |")
    for key in sorted(k for k in metrics if k.startswith(("ceiling_", "gap_to_ceiling_"))):
        rows.append(f"| `{key}` | {_fmt(metrics[key])} |")
    return rows


def _command(tags: dict[str, str], task: str, model: str) -> str:
    """The run's command line: its Hydra overrides, with task and model spelled out if defaulted."""
    text = tags.get("overrides", "")
    try:
        overrides = shlex.split(text)
    except ValueError:  # an unbalanced quote inside a value: keep the words as logged
        overrides = text.split()
    given = {item.split("=", 1)[0].lstrip("+~") for item in overrides}
    implied = [f"{key}={value}" for key, value in (("task", task), ("model", model)) if key not in given]
    return shlex.join(["python", "-m", "src.run", *implied, *overrides])


def _level(value: str | None) -> str:
    try:
        return f"{float(value) * 100:g}%"
    except (TypeError, ValueError):
        return "95%"


def _fmt(value: float) -> str:
    return f"{value:.4f}"
