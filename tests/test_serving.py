"""`mlflow models serve` on a champion answers on loopback HTTP with the scores of `pyfunc.load_model`."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from src.config import compose
from src.experiment import load_task, run
from src.models.evaluate import make_split
from src.models.registry import champion_uri
from src.models.serving import LOOPBACK, ServerError, post_frame, post_json, scripts_dir, serving
from src.tracking import configure_store

SERVER_PACKAGES = ("uvicorn", "fastapi", "starlette")  # what MLflow 3's scoring server runs on


def _serving_unavailable() -> str | None:
    """Why `mlflow models serve` cannot run here, or None when it can."""
    missing = [name for name in SERVER_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        return f"mlflow models serve needs {missing}, not installed in this environment"
    if shutil.which("uvicorn", path=str(scripts_dir())) is None:
        return f"no `uvicorn` executable in {scripts_dir()} (mlflow models serve runs it)"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((LOOPBACK, 0))
    except OSError as err:
        return f"cannot bind a TCP port on {LOOPBACK}: {err}"
    return None


_UNAVAILABLE = _serving_unavailable()
pytestmark = pytest.mark.skipif(_UNAVAILABLE is not None, reason=_UNAVAILABLE or "")


def _train(root: Path, *overrides: str):
    """Train and register one model in a private store under `root`; return its config."""
    cfg = compose(
        [
            f"paths.mlruns_dir={root / 'mlruns'}",
            f"paths.cache_dir={root / 'cache'}",
            f"paths.reports_dir={root / 'reports'}",
            "evaluation.n_bootstrap=50",
            "mlflow.register=always",  # ad-hoc runs register only when asked
            *overrides,
        ]
    )
    run(cfg, overrides=list(overrides))
    return cfg


def _test_rows(cfg, n: int) -> pd.DataFrame:
    """The first `n` raw rows of the task's test split, as a deployer would send them."""
    data = load_task(cfg)
    evaluation = cfg.evaluation
    split = make_split(data.y, int(cfg.seed), evaluation.val_size, evaluation.test_size, fixed=data.split)
    return data.X.iloc[split.test[:n]].reset_index(drop=True)


def _served_and_local(cfg, task: str, rows: pd.DataFrame, workdir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scores of `rows` from the served champion over HTTP and from `pyfunc.load_model` in this process."""
    uri = champion_uri(cfg, task)
    # a clean process in an empty folder: the served model may rely only on what was logged with it
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    with serving(
        uri, cfg.mlflow.tracking_uri, workdir / "server.log", timeout_s=120, cwd=workdir, env=env
    ) as server:
        served = post_frame(server.url, rows, timeout_s=60)
    configure_store(cfg)
    local = mlflow.pyfunc.load_model(uri).predict(rows)
    return served, local


def _assert_same_scores(served: pd.DataFrame, local: pd.DataFrame) -> None:
    assert list(served.columns) == list(local.columns)
    assert len(served) == len(local)
    assert served["prediction"].astype(str).tolist() == local["prediction"].astype(str).tolist()
    proba = [c for c in local.columns if c.startswith("proba_")]
    assert proba, "the champion should give class probabilities"
    np.testing.assert_allclose(served[proba].to_numpy(float), local[proba].to_numpy(float), rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def churn_champion(tmp_path_factory):
    """A logistic-regression churn model registered as profiling-churn@champion in a private store."""
    root = tmp_path_factory.mktemp("serve_churn")
    return _train(root, "task=churn", "model=logreg"), root


@pytest.fixture(scope="module")
def churn_server(churn_champion):
    """One server of the churn champion for the tests that query it, started as _served_and_local does."""
    cfg, root = churn_champion
    workdir = root / "serve"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    uri = champion_uri(cfg, "churn")
    with serving(
        uri, cfg.mlflow.tracking_uri, workdir / "server.log", timeout_s=120, cwd=workdir, env=env
    ) as server:
        yield server


@pytest.mark.slow
def test_served_churn_champion_answers_like_pyfunc(churn_champion, churn_server):
    cfg, _ = churn_champion
    rows = _test_rows(cfg, 20)
    assert {"customerID", "tenure", "Contract", "TotalCharges"} <= set(rows.columns)
    assert "Churn" not in rows.columns  # raw input, target excluded
    served = post_frame(churn_server.url, rows, timeout_s=60)
    configure_store(cfg)
    local = mlflow.pyfunc.load_model(champion_uri(cfg, "churn")).predict(rows)
    assert list(local.columns) == ["prediction", "proba_No", "proba_Yes"]
    _assert_same_scores(served, local)


def _plain_request(rows: pd.DataFrame, tenure: list) -> dict:
    """A hand-written JSON request: plain numbers (ints, integral floats, null) as a client would send."""
    frame = rows.drop(columns=["customerID"]).assign(tenure=tenure)
    frame["TotalCharges"] = pd.to_numeric(frame["TotalCharges"]).fillna(0.0)
    data = [
        [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in row] for row in frame.values
    ]
    return {"dataframe_split": {"columns": list(frame.columns), "data": data}}


@pytest.mark.slow
def test_served_churn_champion_takes_plain_json_numbers_and_refuses_fractional_tenure(
    churn_champion, churn_server
):
    cfg, _ = churn_champion
    rows = _test_rows(cfg, 4)
    ok = _plain_request(rows, [12, 3.0, None, 0])
    assert ok["dataframe_split"]["data"][1][ok["dataframe_split"]["columns"].index("tenure")] == 3.0
    bad = _plain_request(rows, [12, 1.5, 2, 0])
    uri = champion_uri(cfg, "churn")
    served = post_json(churn_server.url, ok)
    with pytest.raises(ServerError, match=r"HTTP 400.*column 'tenure', row 2: expected an integer, got 1.5"):
        post_json(churn_server.url, bad)
    configure_store(cfg)
    split = ok["dataframe_split"]
    local = mlflow.pyfunc.load_model(uri).predict(pd.DataFrame(split["data"], columns=split["columns"]))
    assert list(served.columns) == ["prediction", "proba_No", "proba_Yes"]
    _assert_same_scores(served, local)


@pytest.mark.slow
def test_server_that_cannot_load_its_model_fails_with_its_log(churn_champion, tmp_path):
    cfg, _ = churn_champion
    started = time.monotonic()
    with (
        pytest.raises(ServerError, match=r"(?s)exited with code.*profiling-nonexistent"),
        serving("models:/profiling-nonexistent@champion", cfg.mlflow.tracking_uri, tmp_path / "log"),
    ):
        pass
    assert time.monotonic() - started < 120


@pytest.fixture(scope="module")
def demand_champion(tmp_path_factory):
    """A text SVM on SMP2017 demand requests (3.7k texts) registered as profiling-demand@champion.

    The spam SVM (50k SMS) takes over 90 s to train here, so the text model served is the demand one;
    the task's extras (k-fold CV, keyword tables) are skipped as serving does not depend on them.
    """
    root = tmp_path_factory.mktemp("serve_demand")
    return _train(root, "task=demand", "model=svm", "task.extras=[]"), root


@pytest.mark.slow
def test_served_text_champion_answers_like_pyfunc_on_raw_chinese(demand_champion):
    cfg, root = demand_champion
    asked = pd.DataFrame({"text": ["我想查一下话费", "明天北京天气怎么样"]})
    rows = pd.concat([asked, _test_rows(cfg, 18)], ignore_index=True)
    assert list(rows.columns) == ["text"] and len(rows) == 20
    workdir = root / "serve"
    workdir.mkdir()
    served, local = _served_and_local(cfg, "demand", rows, workdir)
    _assert_same_scores(served, local)
    classes = {c.removeprefix("proba_") for c in local.columns if c.startswith("proba_")}
    assert len(classes) == 31 and set(served["prediction"]) <= classes
    assert served.loc[1, "prediction"] == "weather"
