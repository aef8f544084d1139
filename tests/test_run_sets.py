"""Run sets in reports; what each run records in MLflow: datasets, parent runs, params, no machine paths."""

from __future__ import annotations

import warnings
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from omegaconf import DictConfig

from src import audit, tracking
from src.config import compose
from src.errors import ConfigError
from src.experiment import pipeline_factory, run
from src.models.registry import should_register
from src.paths import PROJECT_ROOT
from src.report import task_table, write_results

SWEEP = "2026-11-30/10-00-00"


def _overrides(root: Path, *extra: str) -> list[str]:
    return [
        f"paths.mlruns_dir={root / 'mlruns'}",
        f"paths.reports_dir={root / 'reports'}",
        f"paths.cache_dir={root / 'cache'}",
        "evaluation.n_bootstrap=50",
        "task=churn",
        *extra,
    ]


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A study sweep (majority, logreg) then two ad-hoc runs (logreg seed=7, lightgbm with 20 trees)."""
    root = tmp_path_factory.mktemp("runsets")
    patch = pytest.MonkeyPatch()
    patch.setattr(tracking, "sweep_id", lambda: SWEEP)
    for model in ("majority", "logreg"):
        log_model = "true" if model == "logreg" else "false"  # one logged model to scan for paths
        run(
            compose(
                _overrides(root, f"model={model}", "mlflow.run_set=study", f"mlflow.log_model={log_model}")
            )
        )
    patch.undo()
    before = (root / "results-before.md").name
    write_results(compose(_overrides(root)), root / before)
    adhoc = ("model=logreg", "seed=7", "mlflow.log_model=false")
    run(compose(_overrides(root, *adhoc)))
    run(
        compose(_overrides(root, "model=lightgbm", "+model.params.n_estimators=20", "mlflow.log_model=false"))
    )
    return root, {"before": before}


def _runs(root: Path) -> object:
    cfg = compose(_overrides(root))
    tracking.configure_store(cfg)
    experiment = mlflow.get_experiment_by_name("profiling-churn")
    return mlflow.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


@pytest.mark.slow
def test_ad_hoc_runs_leave_the_study_report_unchanged_and_latest_shows_them(study) -> None:
    root, names = study
    cfg = compose(_overrides(root))
    after = write_results(cfg, root / "results-after.md").read_text(encoding="utf-8")
    assert after == (root / names["before"]).read_text(encoding="utf-8")
    assert f"Run set: study (sweep {SWEEP})" in after
    study_table = task_table(cfg, "churn")
    assert set(study_table["model"]) == {"majority", "logreg"}
    latest = task_table(compose(_overrides(root, "runs=latest")), "churn")
    assert set(latest["model"]) == {"majority", "logreg", "lightgbm"}
    runs = _runs(root)
    adhoc = runs[runs["tags.run_set"] == "adhoc"]
    assert len(adhoc) == 2 and set(adhoc["run_id"].str[:8]) <= set(latest["run"])
    assert not set(adhoc["run_id"].str[:8]) & set(study_table["run"])
    by_sweep = task_table(compose(_overrides(root, f"runs={SWEEP}")), "churn")
    assert set(by_sweep["run"]) == set(study_table["run"])
    text = write_results(compose(_overrides(root, "runs=latest")), root / "latest.md").read_text(
        encoding="utf-8"
    )
    assert "Run set: latest" in text


@pytest.mark.slow
def test_every_run_logs_its_train_validation_and_test_datasets(study) -> None:
    root, _ = study
    client = MlflowClient()
    jobs = _runs(root)
    jobs = jobs[jobs["tags.model"].notna()]
    assert len(jobs) == 4
    for run_id in jobs["run_id"]:
        inputs = client.get_run(run_id).inputs.dataset_inputs
        contexts = {tag.value for item in inputs for tag in item.tags if tag.key == "mlflow.data.context"}
        assert contexts == {"train", "validation", "test"}
        for item in inputs:
            assert item.dataset.digest and "tenure" in item.dataset.schema
            assert item.dataset.source.startswith('{"') and str(PROJECT_ROOT) not in item.dataset.source


@pytest.mark.slow
def test_a_sweep_has_a_parent_run_that_holds_its_jobs(study) -> None:
    root, _ = study
    runs = _runs(root)
    parents = runs[runs.get("tags.sweep_parent") == "true"]
    assert len(parents) == 1 and parents["tags.sweep_id"].iloc[0] == SWEEP
    children = runs[runs["tags.mlflow.parentRunId"] == parents["run_id"].iloc[0]]
    assert set(children["tags.model"]) == {"majority", "logreg"}
    assert runs.loc[runs["tags.run_set"] == "adhoc", "tags.mlflow.parentRunId"].isna().all()


@pytest.mark.slow
def test_the_experiment_opens_on_runs_and_has_a_description(study) -> None:
    root, _ = study
    _runs(root)
    tags = mlflow.get_experiment_by_name("profiling-churn").tags
    assert tags[tracking.EXPERIMENT_KIND_TAG] == "custom_model_development"
    assert "churn" in tags["mlflow.note.content"]


@pytest.mark.slow
def test_runs_log_only_the_variant_in_use_and_no_machine_path(study) -> None:
    root, _ = study
    runs = _runs(root)
    assert not [c for c in runs.columns if c.startswith("params.model.variants.")]
    assert set(runs.loc[runs["tags.model"].notna(), "tags.positive_label"]) == {"Yes"}  # curves' class
    lightgbm = runs[runs["tags.model"] == "lightgbm"].iloc[0]
    assert lightgbm["params.model.variant.kind"] == "tabular"
    assert lightgbm["params.model.params.n_estimators"] == "20"
    root_text = str(PROJECT_ROOT)
    for column in runs.columns:
        if column.startswith(("params.", "tags.")):
            leaks = [v for v in runs[column].dropna().astype(str) if root_text in v]
            assert not leaks, f"{column} logs a machine path: {leaks[0][:200]}"
    client = MlflowClient()
    logged = runs[(runs["tags.model"] == "logreg") & (runs["tags.run_set"] == "study")].iloc[0]
    folder = Path(client.download_artifacts(logged["run_id"], "", str(root / "download")))
    model = Path(mlflow.artifacts.download_artifacts(logged["tags.model_uri"], dst_path=str(root / "model")))
    for path in (
        folder / "config.yaml",
        folder / "overrides.txt",
        folder / "lineage.json",
        model / "MLmodel",
    ):
        text = path.read_text(encoding="utf-8")
        assert root_text not in text, f"{path.name} holds the checkout's path"
    assert "<project root>" in (folder / "config.yaml").read_text(encoding="utf-8")
    assert "dataset" in client.get_registered_model("profiling-churn").description


def test_short_model_params_reach_the_estimator_and_unknown_keys_are_refused() -> None:
    make, grid = pipeline_factory(compose(["model=lightgbm", "+model.params.n_estimators=7"]))
    assert make().named_steps["model"].n_estimators == 7
    make, grid = pipeline_factory(compose(["model=lightgbm", "+model.params.num_leaves=5"]))
    assert make().named_steps["model"].num_leaves == 5 and "num_leaves" not in grid
    with pytest.raises(ConfigError, match=r"model.params.n_estimatorz: LGBMClassifier .* no parameter"):
        pipeline_factory(compose(["model=lightgbm", "+model.params.n_estimatorz=7"]))
    with pytest.raises(ConfigError, match=r"model.n_estimators is not a model setting.*model.params"):
        pipeline_factory(compose(["model=lightgbm", "+model.n_estimators=7"]))


@pytest.mark.parametrize(
    ("policy", "run_set", "model", "expected"),
    [
        ("auto", "adhoc", "majority", False),
        ("auto", "study", "majority", False),
        ("auto", "adhoc", "logreg", True),
        ("study", "study", "logreg", True),
        ("study", "adhoc", "logreg", False),
        ("study", "study", "majority", False),
        ("always", "adhoc", "majority", True),
        ("never", "study", "logreg", False),
    ],
)
def test_registration_policy(policy: str, run_set: str, model: str, expected: bool) -> None:
    cfg: DictConfig = compose([f"mlflow.register={policy}", f"mlflow.run_set={run_set}", f"model={model}"])
    assert should_register(cfg) is expected


def test_by_default_only_the_studys_models_register() -> None:
    assert compose([]).mlflow.register == "study"
    assert should_register(compose(["model=logreg"])) is False, "an ad-hoc run registers only when asked"
    assert should_register(compose(["model=logreg", "mlflow.register=always"])) is True
    assert should_register(compose(["model=logreg", "mlflow.run_set=study"])) is True
    assert should_register(compose(["model=majority", "mlflow.run_set=study"])) is False


@pytest.mark.slow
def test_a_majority_run_registers_no_version_by_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = compose(_overrides(tmp_path, "model=majority"))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run(cfg)
    known = ("Inferred schema contains integer", "interpreted in multiple ways")
    assert not [w for w in seen if any(text in str(w.message) for text in known)]
    assert "CloudPickle" not in caplog.text
    client = MlflowClient()
    assert not client.search_model_versions("name = 'profiling-churn'")
    tagged = _runs(tmp_path).iloc[0]
    assert str(tagged["tags.model_uri"]).startswith("models:/")
    assert "tags.registered_version" not in tagged or tagged.isna()["tags.registered_version"]


@pytest.mark.slow  # the study fixture trains four churn runs
def test_the_audit_finds_no_machine_path_in_the_store(study) -> None:
    """Every param, tag and artifact file of the study's store (a logged model included) is path-free."""
    root, _ = study
    findings = audit.audit(compose(_overrides(root)))
    assert not findings, sorted({f"{f.where.split(' ', 2)[-1]}: {f.excerpt}" for f in findings})


def test_the_audit_finds_a_machine_path_planted_in_an_artifact(tmp_path: Path) -> None:
    """A machine path inside a binary artifact is found; a longer name starting the same way is not."""
    store = tmp_path / "mlruns"
    (store / "artifacts" / "1").mkdir(parents=True)
    (store / "artifacts" / "1" / "model.pkl").write_bytes(
        b"\x80\x04" + str(PROJECT_ROOT).encode() + b"/src\x00"
    )
    (store / "artifacts" / "1" / "notes.txt").write_text(f"see {PROJECT_ROOT}-backup and /tmpfs")
    files, findings = audit.find_in_files(store / "artifacts", audit.path_pattern(audit.machine_roots(store)))
    assert files == 2
    assert "file 1/model.pkl" in [finding.where for finding in findings]
    # `<root>-backup` is another folder; only the root's own pattern is used here, because a checkout
    # under the temporary folder (a CI clone in /tmp) makes `/tmp/<clone>-backup` a real temp path
    _, findings = audit.find_in_files(store / "artifacts", audit.path_pattern([str(PROJECT_ROOT)]))
    assert [finding.where for finding in findings] == ["file 1/model.pkl"]


def test_the_audit_command_exits_1_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m src.audit` reports a planted path in one line per finding and exits 1."""
    artifacts = tmp_path / "mlruns" / "artifacts"
    artifacts.mkdir(parents=True)
    (artifacts / "MLmodel").write_text(f"artifact_path: file://{tmp_path}/mlruns/artifacts\n")
    code = audit.main([f"paths.mlruns_dir={tmp_path / 'mlruns'}", f"paths.cache_dir={tmp_path / 'cache'}"])
    assert code == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: machine path in file MLmodel: ")


def test_checksums_of_files_outside_the_checkout_are_keyed_without_machine_paths(tmp_path: Path) -> None:
    """Same-named part files in two folders outside the checkout keep two keys, relative to their folder."""
    for table in ("calls", "sms"):
        (tmp_path / "pop" / table).mkdir(parents=True)
        (tmp_path / "pop" / table / "part-0.parquet").write_text(table)
    files = [tmp_path / "pop" / table / "part-0.parquet" for table in ("calls", "sms")]
    checksums = tracking.file_checksums([*files, PROJECT_ROOT / "pyproject.toml"])
    assert sorted(checksums) == ["calls/part-0.parquet", "pyproject.toml", "sms/part-0.parquet"]
    assert checksums["calls/part-0.parquet"] != checksums["sms/part-0.parquet"]
