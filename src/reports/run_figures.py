"""Log a report page's figures to the runs they were drawn from (artifact folder `report_figures/`)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from src.identity import SEPARATOR, Pair

log = logging.getLogger(__name__)
ARTIFACT_DIR = "report_figures"


def page_figures(figures_dir: Path, pair: Pair) -> list[Path]:
    """The PNGs of one pair's page: `<key>-*.png`, never another dataset's `<key>--<dataset>-*.png`."""
    key = pair.suffix
    found = Path(figures_dir).glob(f"{key}-*.png")
    return sorted(path for path in found if not path.name.startswith(f"{key}{SEPARATOR}"))


def figure_models(figure: Path, pair: Pair, models: list[str]) -> list[str]:
    """The models a figure is about: the one its name names (`churn-confusion-logreg`), else all shown."""
    parts = figure.stem.removeprefix(f"{pair.suffix}-").split("-")
    named = [model for model in models if model in parts]
    return named or list(models)


def figure_runs(runs: pd.DataFrame, figures_dir: Path, pair: Pair) -> dict[str, list[Path]]:
    """run id -> the page's figures drawn from that run (a figure of several models goes to each run)."""
    if runs.empty:
        return {}
    run_of = dict(zip(runs["tags.model"].astype(str), runs["run_id"], strict=True))
    owners: dict[str, list[Path]] = {}
    for figure in page_figures(figures_dir, pair):
        for model in figure_models(figure, pair, list(run_of)):
            owners.setdefault(run_of[model], []).append(figure)
    return owners


def log_figures(runs: pd.DataFrame, figures_dir: Path, pair: Pair) -> int:
    """Attach the page's figures to their runs in the active store; returns how many were logged."""
    from mlflow import MlflowClient

    client = MlflowClient()
    logged = 0
    for run_id, figures in figure_runs(runs, figures_dir, pair).items():
        for figure in figures:
            client.log_artifact(run_id, str(figure), ARTIFACT_DIR)
            logged += 1
    log.info("%s: %d report figure(s) logged to %d run(s)", pair.suffix, logged, len(runs))
    return logged
