"""End to end on IBM Telco: logging, determinism, registry champion, a fresh-process deployer.

A failing sweep job: test_sweep_failure.py (its own module, so that xdist can run it beside this one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from src.config import compose
from src.experiment import run
from src.paths import PROJECT_ROOT
from tests.helpers.data import TELCO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def churn_store(tmp_path_factory):
    """Two identical LightGBM runs and one majority run in a private store."""
    root = tmp_path_factory.mktemp("store")

    def cfg(model: str):
        return compose(
            [
                f"paths.mlruns_dir={root / 'mlruns'}",
                f"paths.cache_dir={root / 'cache'}",
                "task=churn",
                f"model={model}",
                "evaluation.n_bootstrap=200",
                "mlflow.register=always",  # ad-hoc runs register only when asked
            ]
        )

    results = {
        "first": run(cfg("lightgbm"), overrides=["model=lightgbm"]),
        "second": run(cfg("lightgbm"), overrides=["model=lightgbm"]),
        "majority": run(cfg("majority"), overrides=["model=majority"]),
    }
    return cfg("lightgbm"), results


def _runs(cfg) -> pd.DataFrame:
    experiment = mlflow.get_experiment_by_name("profiling-churn")
    return mlflow.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def test_same_command_twice_gives_identical_test_metrics(churn_store):
    _, results = churn_store
    test_keys = [k for k in results["first"] if k.startswith(("test_", "val_"))]
    assert test_keys
    assert {k: results["first"][k] for k in test_keys} == {k: results["second"][k] for k in test_keys}


def test_lightgbm_reaches_published_roc_auc_and_beats_majority(churn_store):
    _, results = churn_store
    lgbm, majority = results["first"], results["majority"]
    assert lgbm["test_roc_auc"] >= 0.84
    assert lgbm["test_roc_auc_lo"] < lgbm["test_roc_auc"] < lgbm["test_roc_auc_hi"]
    assert majority["test_roc_auc"] == pytest.approx(0.5)
    assert lgbm["test_accuracy_lo"] > majority["test_accuracy"]


def test_run_records_config_lineage_and_split_sizes(churn_store):
    cfg, _ = churn_store
    row = _runs(cfg).iloc[0]
    assert row["tags.mlflow.runName"] == "churn/lightgbm" and row["status"] == "FINISHED"
    assert row["tags.data_sha256.data/raw/ibm_telco_customer_churn/Telco-Customer-Churn.csv"].startswith(
        "16320c9c"
    )
    assert row["tags.seed"] == "42" and row["tags.pkg.lightgbm"] == "4.7.0"
    assert len(row["tags.mlflow.source.git.commit"]) == 40, "the commit goes to MLflow's own tag"
    assert "tags.git_commit" not in row.index, "no copy of mlflow.source.git.commit"
    assert (
        int(row["params.split_train"]) + int(row["params.split_val"]) + int(row["params.split_test"]) == 7043
    )
    assert row["params.model.variant.estimator.deterministic"] == "True"
    client = MlflowClient()
    artifacts = {a.path for a in client.list_artifacts(row["run_id"])}
    assert {
        "config.yaml",
        "overrides.txt",
        "lineage.json",
        "predictions",
        "confusion",
        "selection",
    } <= artifacts
    assert row["tags.model_uri"].startswith("models:/")  # MLflow 3 keeps logged models beside run artifacts
    lineage = json.loads(Path(client.download_artifacts(row["run_id"], "lineage.json")).read_text())
    assert lineage["packages"]["scikit-learn"] == "1.9.1"


def test_champion_is_best_on_validation_and_loads_in_a_fresh_process(churn_store, tmp_path):
    cfg, _ = churn_store
    client = MlflowClient()
    champion = client.get_model_version_by_alias("profiling-churn", "champion")
    versions = client.search_model_versions("name = 'profiling-churn'")
    scores = {int(v.version): client.get_run(v.run_id).data.metrics["val_roc_auc"] for v in versions}
    best = max(scores.values())
    assert scores[int(champion.version)] == best
    assert int(champion.version) == min(v for v, s in scores.items() if s == best)  # ties -> earliest
    assert client.get_run(champion.run_id).data.tags["model"] == "lightgbm"

    script = (
        "import sys, mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({cfg.mlflow.tracking_uri!r})\n"
        "model = mlflow.pyfunc.load_model('models:/profiling-churn@champion')\n"
        f"rows = pd.read_csv({str(TELCO)!r}).head(50)\n"
        "out = model.predict(rows)\n"
        "out.to_json(sys.argv[1])\n"
    )
    target = tmp_path / "scores.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = pd.read_json(target)
    assert list(scores.columns) == ["prediction", "proba_No", "proba_Yes"]
    assert len(scores) == 50 and set(scores["prediction"]) <= {"No", "Yes"}
    assert scores[["proba_No", "proba_Yes"]].sum(axis=1).round(6).eq(1.0).all()
    # the same rows scored in this process by the run's own logged predictions agree
    local = mlflow.pyfunc.load_model(f"runs:/{champion.run_id}/model").predict(pd.read_csv(TELCO).head(50))
    pd.testing.assert_frame_equal(local, scores, check_dtype=False)


def test_project_root_store_is_not_touched_by_tests(churn_store):
    cfg, _ = churn_store
    assert str(PROJECT_ROOT / "mlruns") not in cfg.mlflow.tracking_uri
