"""A second churn table plugged into `task=churn`: its own experiment, model, champion and report section.

The IBM Telco champion stays what it was and still scores raw IBM rows in a fresh process; the second
table (built here, other columns, numeric-looking categories, 0/1 labels) gets `profiling-churn--telco2`;
a human's pin survives a later, better run; unfinished runs are listed and never elected or reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from src.config import compose
from src.experiment import run
from src.promote import promote
from src.report import render_task, write_results
from src.reports import store
from src.reports.runs import latest_runs, unfinished_runs
from src.reports.summary import collect
from src.tracking import configure_store, ensure_experiment
from tests.helpers.data import TELCO

TITLE = "Second churn table built by the test (600 customers, 0/1 labels)"


def _second_table(folder: Path, rows: int = 600, seed: int = 7) -> Path:
    """A churn CSV with another schema: numeric-looking categories, an undeclared column, 0/1 labels."""
    rng = np.random.default_rng(seed)
    area = rng.choice([408, 415, 510], rows)
    plan = rng.choice([1, 2], rows, p=[0.8, 0.2])
    failures = rng.poisson(2.0, rows)
    charge = rng.gamma(2.0, 20.0, rows).round(2)
    logit = -2.5 + 0.6 * failures + 1.2 * (plan == 2) + 0.8 * (area == 510)
    churn = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(
        {
            "Phone": [f"P{i:05d}" for i in range(rows)],
            "Area code": area,
            "Tariff Plan": plan,
            "Call Failure": failures,
            "Charge Amount": charge,
            "Complains": rng.choice([0, 1], rows),  # not declared: ignored in training and scoring
            "Churn": churn,
        }
    )
    path = folder / "telco2.csv"
    frame.to_csv(path, index=False)
    return path


def _data_config(conf: Path, csv: Path) -> None:
    (conf / "data").mkdir(parents=True)
    config = f"""
        name: telco2
        description: {TITLE}
        loader: src.data.tabular.load_tabular
        path: {csv}
        sha256: null
        encoding: utf-8
        delimiter: ","
        id_column: Phone
        target: Churn
        positive_label: "1"
        columns:
          Phone: text
          Area code: categorical
          Tariff Plan: categorical
          Call Failure: integer
          Charge Amount: numeric
          Churn: categorical
        blank_means: {{}}
        label_names: {{"0": "No", "1": "Yes"}}
        """
    (conf / "data" / "telco2.yaml").write_text(textwrap.dedent(config), encoding="utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """IBM champion (logreg), then telco2: majority (pinned as champion) and a later, better logreg."""
    root = tmp_path_factory.mktemp("datasets")
    csv = _second_table(root)
    _data_config(root / "conf", csv)
    base = [
        f"paths.mlruns_dir={root / 'mlruns'}",
        f"paths.cache_dir={root / 'cache'}",
        f"paths.reports_dir={root / 'reports'}",
        "evaluation.n_bootstrap=30",
        "mlflow.register=always",  # the pinned majority version: baselines register only when asked
    ]
    second = [*base, f"hydra.searchpath=[file://{root / 'conf'}]", "data=telco2"]
    ibm = compose([*base, "model=logreg"])
    ibm_metrics = run(ibm, overrides=["model=logreg"])
    first = run(compose([*second, "model=majority"]), overrides=["data=telco2", "model=majority"])
    pinned = promote(compose([*second, "version=1"], config_name="promote"))
    better = run(compose([*second, "model=logreg"]), overrides=["data=telco2", "model=logreg"])
    other = compose(second)
    configure_store(other)
    stale = MlflowClient().create_run(
        ensure_experiment(other), tags={"task": "churn", "dataset": "telco2", "model": "lightgbm"}
    )  # killed without a trace: stays RUNNING
    return {
        "root": root,
        "csv": csv,
        "ibm": ibm,
        "other": other,
        "ibm_metrics": ibm_metrics,
        "first": first,
        "better": better,
        "pinned": pinned,
        "stale": stale.info.run_id,
    }


def _score_in_fresh_process(world, folder: Path) -> dict:
    """Load both champions with mlflow.pyfunc in a new interpreter that cannot import the project."""
    script = textwrap.dedent(
        f"""
        import json, sys
        import mlflow, numpy as np, pandas as pd

        out = {{}}
        ibm = mlflow.pyfunc.load_model("models:/profiling-churn@champion")
        raw = pd.read_csv({str(TELCO)!r}, nrows=50)
        out["ibm_dtypes"] = {{c: str(raw[c].dtype) for c in ("tenure", "TotalCharges")}}
        scored = ibm.predict(raw)
        out["ibm_columns"] = list(scored.columns)
        out["ibm_rows"] = len(scored)
        out["ibm_first"] = scored["proba_Yes"].round(6).tolist()[:5]
        whole = pd.read_csv({str(TELCO)!r})  # blank TotalCharges further down: read as text
        out["ibm_text_rows"] = len(ibm.predict(whole.head(500)))
        odd = raw.head(5).assign(tenure=[1.0, np.nan, 24.0, 5.0, 0.0])
        out["ibm_float_tenure"] = ibm.predict(odd)["proba_Yes"].notna().all().item()
        empty = ibm.predict(raw.head(0))
        out["ibm_empty"] = [len(empty), list(empty.columns)]
        try:
            ibm.predict(raw.head(3).assign(tenure=[1.0, 1.5, 2.0]))
            out["ibm_fraction"] = "accepted"
        except Exception as err:
            out["ibm_fraction"] = str(err)
        second = mlflow.pyfunc.load_model("models:/profiling-churn--telco2@champion")
        table = pd.read_csv({str(world["csv"])!r}, nrows=30)
        out["second_dtypes"] = {{c: str(table[c].dtype) for c in ("Area code", "Churn")}}
        scored = second.predict(table)
        out["second_columns"] = list(scored.columns)
        out["second_predictions"] = sorted(set(scored["prediction"]))
        bare = table.drop(columns=["Phone", "Churn", "Complains"])
        out["second_bare_rows"] = len(second.predict(bare))
        try:
            second.predict(raw.head(3))
            out["second_on_ibm"] = "accepted"
        except Exception as err:
            out["second_on_ibm"] = str(err)
        print(json.dumps(out))
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MLFLOW_TRACKING_URI")}
    env["MLFLOW_TRACKING_URI"] = world["ibm"].mlflow.tracking_uri
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_each_dataset_has_its_own_experiment_model_and_champion(world):
    client = MlflowClient()
    configure_store(world["ibm"])
    ibm_champion = client.get_model_version_by_alias("profiling-churn", "champion")
    assert str(ibm_champion.version) == "1"
    assert client.get_run(ibm_champion.run_id).data.tags["dataset"] == "ibm_telco"
    ibm_runs = mlflow.search_runs(experiment_names=["profiling-churn"])
    assert set(ibm_runs["tags.dataset"]) == {"ibm_telco"} and len(ibm_runs) == 1
    second_runs = mlflow.search_runs(experiment_names=["profiling-churn--telco2"])
    assert set(second_runs["tags.dataset"]) == {"telco2"} and len(second_runs) == 3  # two + the stale one
    named = second_runs[second_runs["status"] == "FINISHED"]["tags.mlflow.runName"]
    assert set(named) == {"churn--telco2/majority", "churn--telco2/logreg"}
    versions = client.search_model_versions("name = 'profiling-churn--telco2'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert {v.tags["dataset"] for v in versions} == {"telco2"}
    assert len({v.tags["input_schema"] for v in versions}) == 1
    assert versions[0].tags["input_schema"] != ibm_champion.tags["input_schema"]


@pytest.mark.slow
def test_a_pinned_champion_survives_a_later_better_run(world):
    client = MlflowClient()
    assert world["better"]["val_roc_auc"] > world["first"]["val_roc_auc"]  # the later run is better
    assert str(world["pinned"]).endswith("none -> 1 (pinned)") or world["pinned"].current == "1"
    champion = client.get_model_version_by_alias("profiling-churn--telco2", "champion")
    challenger = client.get_model_version_by_alias("profiling-churn--telco2", "challenger")
    assert (str(champion.version), str(challenger.version)) == ("1", "2")
    assert f"| dataset | telco2 ({TITLE}) |" in champion.description
    assert client.get_registered_model("profiling-churn--telco2").tags["champion_pinned"] == "true"
    assert "champion_pinned" not in client.get_registered_model("profiling-churn").tags


@pytest.mark.slow
def test_champions_score_raw_rows_in_a_fresh_process(world, tmp_path):
    out = _score_in_fresh_process(world, tmp_path)
    assert out["ibm_dtypes"] == {"tenure": "int64", "TotalCharges": "float64"}
    assert out["ibm_columns"] == ["prediction", "proba_No", "proba_Yes"] and out["ibm_rows"] == 50
    assert out["ibm_text_rows"] == 500
    assert out["ibm_float_tenure"] is True
    assert out["ibm_empty"] == [0, ["prediction", "proba_No", "proba_Yes"]]
    assert "column 'tenure', row 2: expected an integer, got 1.5" in out["ibm_fraction"]
    assert out["second_dtypes"] == {"Area code": "int64", "Churn": "int64"}
    assert out["second_columns"] == ["prediction", "proba_No", "proba_Yes"]  # label_names of its config
    assert set(out["second_predictions"]) <= {"No", "Yes"}
    assert out["second_bare_rows"] == 30  # id, target and undeclared columns are not required
    assert "lacks declared column(s)" in out["second_on_ibm"]


@pytest.mark.slow
def test_reports_give_each_pair_its_own_section_and_list_unfinished_runs(world):
    cfg = world["ibm"]
    pairs = store.pairs_with_runs(cfg)
    assert [(p.task, p.dataset) for p in pairs] == [("churn", "ibm_telco"), ("churn", "telco2")]
    ibm_ids = set(latest_runs(cfg, "churn")["run_id"])
    second = latest_runs(cfg, "churn", "telco2")
    assert set(second["tags.model"]) == {"majority", "logreg"} and not ibm_ids & set(second["run_id"])
    left_out = unfinished_runs(cfg, "churn", "telco2")
    assert left_out["status"].tolist() == ["RUNNING"] and left_out["run"].iloc[0] == world["stale"][:8]

    results = write_results(cfg, Path(cfg.paths.reports_dir) / "results.md").read_text(encoding="utf-8")
    ibm_part, second_part = results.split("## churn on ibm_telco")[1].split("## churn on telco2")
    ibm_part = ibm_part.split("\n## ")[0]
    second_part = second_part.split("\n## ")[0]
    assert f"Data: {TITLE}." in second_part and TITLE not in ibm_part
    assert all(run_id[:8] not in second_part for run_id in ibm_ids)
    assert all(run_id[:8] in second_part for run_id in second["run_id"])
    assert "Runs left out" in second_part and world["stale"][:8] in second_part

    summary = collect(cfg=cfg)
    assert set(summary.runs_by_task) == {"churn", "churn--telco2"}
    assert summary.titles["churn--telco2"] == f"churn on {TITLE}"
    assert list(summary.unfinished) == ["churn--telco2"]


@pytest.mark.slow  # papermill: one notebook
def test_the_second_pair_gets_its_own_report_page(world):
    cfg = world["ibm"]
    pair = store.pairs_with_runs(cfg)[1]
    overrides = [f"paths.mlruns_dir={cfg.paths.mlruns_dir}", f"paths.reports_dir={cfg.paths.reports_dir}"]
    assert render_task(cfg, pair, overrides)
    figures = sorted(p.name for p in (Path(cfg.paths.reports_dir) / "figures").glob("*.png"))
    assert figures and all(name.startswith("churn--telco2-") for name in figures)
    page = (Path(cfg.paths.reports_dir) / "churn--telco2.html").read_text(encoding="utf-8")
    assert TITLE in page and "profiling-churn--telco2" in page
    assert "IBM Telco" not in page
    assert all(run_id[:8] not in page for run_id in latest_runs(cfg, "churn")["run_id"])
