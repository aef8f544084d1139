"""Report figures go to the runs they were drawn from, and never to another dataset's runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from mlflow import MlflowClient
from omegaconf import DictConfig

from src import tracking
from src.identity import Pair
from src.reports import run_figures

CHURN = Pair(task="churn", dataset="ibm_telco")


def _figures(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder


def _runs(cfg: DictConfig, models: list[str]) -> pd.DataFrame:
    tracking.configure_store(cfg)
    experiment = tracking.ensure_experiment(cfg, "churn")
    client = MlflowClient()
    ids = [client.create_run(experiment, tags={"model": m}).info.run_id for m in models]
    return pd.DataFrame({"tags.model": models, "run_id": ids})


def _logged(run_id: str) -> set[str]:
    return {f.path for f in MlflowClient().list_artifacts(run_id, run_figures.ARTIFACT_DIR)}


def test_each_figure_goes_to_the_runs_it_shows(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    figures = _figures(
        tmp_path / "figures",
        "churn-compare-accuracy",  # every model of the page
        "churn-confusion-logreg",  # one model
        "churn-confusion-majority",
        "churn--orange-roc-pr",  # another dataset's page
        "churn_sim-roc-pr",  # another task
    )
    runs = _runs(make_cfg("task=churn"), ["logreg", "majority"])
    assert run_figures.log_figures(runs, figures, CHURN) == 4
    logreg, majority = runs["run_id"]
    folder = run_figures.ARTIFACT_DIR
    assert _logged(logreg) == {f"{folder}/churn-compare-accuracy.png", f"{folder}/churn-confusion-logreg.png"}
    assert _logged(majority) == {
        f"{folder}/churn-compare-accuracy.png",
        f"{folder}/churn-confusion-majority.png",
    }


def test_no_runs_no_figures(tmp_path: Path) -> None:
    figures = _figures(tmp_path / "figures", "churn-roc-pr")
    assert run_figures.figure_runs(pd.DataFrame(), figures, CHURN) == {}
    assert run_figures.page_figures(figures, Pair(task="churn", dataset="orange")) == []
