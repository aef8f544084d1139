"""The documentation site and the README: strict build, screenshots, generated results table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from src.config import compose
from src.paths import PROJECT_ROOT
from src.reports import readme
from tests.helpers.screenshots import assert_not_blank, browser_or_skip, screenshot

README = PROJECT_ROOT / "README.md"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by `mkdocs build --strict` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_site_builds_strict_with_every_page_and_the_reports(site: Path) -> None:
    for page in (
        "index.html",
        "design/index.html",
        "tasks/index.html",
        "simulator/index.html",
        "troubleshooting/index.html",
        "changelog/index.html",
        "reports/summary/index.html",
    ):
        assert (site / page).is_file(), page
    simulator = (site / "simulator" / "index.html").read_text(encoding="utf-8")
    assert "Calibration sources" in simulator and "ceilings.json" in simulator, "the data card is included"
    assert (site / "reports" / "churn.html").is_file() and (site / "reports" / "report.css").is_file()


def test_nothing_points_outside_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "grep", "-lE", r"(DESIGN|CALIBRATION|DATASETS)\.md"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.stdout.strip() == "", f"files naming documents outside the repository:\n{tracked.stdout}"


def test_readme_is_a_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert "make reproduce" in text and "make test" in text
    assert readme.marked_block(text, readme.settings().marker) is not None, "the results markers are gone"
    assert not re.search(r"`[0-9a-f]{7,40}`", text), "commit hashes belong in CHANGELOG.md"


def _store(root: Path) -> object:
    """A tiny store: one churn run per model, the champion alias on logreg."""
    cfg = compose([f"paths.mlruns_dir={root / 'mlruns'}", f"paths.reports_dir={root / 'reports'}"])
    mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    mlflow.set_registry_uri(cfg.mlflow.registry_uri)
    experiment = mlflow.create_experiment("profiling-churn", artifact_location=str(root / "artifacts"))
    client = MlflowClient()
    client.create_registered_model("profiling-churn")
    runs = {}
    for model, auc in (("majority", 0.5), ("logreg", 0.85)):
        with mlflow.start_run(experiment_id=experiment, run_name=f"churn/{model}") as active:
            mlflow.set_tags({"task": "churn", "dataset": "ibm_telco", "model": model})
            mlflow.log_param("task.selection_metric", "roc_auc")
            mlflow.log_metrics(
                {"test_roc_auc": auc, "test_roc_auc_lo": auc - 0.03, "test_roc_auc_hi": auc + 0.03}
            )
            mlflow.log_metric("test_f1_positive", auc - 0.2)
        version = client.create_model_version("profiling-churn", active.info.artifact_uri, active.info.run_id)
        runs[model] = version.version
    client.set_registered_model_alias("profiling-churn", "champion", runs["logreg"])
    return cfg, client, runs


def test_readme_table_is_regenerated_from_the_store_and_a_stale_one_is_caught(tmp_path: Path) -> None:
    cfg, client, versions = _store(tmp_path)
    copy = tmp_path / "README.md"
    copy.write_text(README.read_text(encoding="utf-8"), encoding="utf-8")
    assert readme.readme_path(cfg) == copy

    readme.update_readme(cfg)
    assert readme.stale_markers(cfg, copy) == []
    table = readme.marked_block(copy.read_text(encoding="utf-8"), "results-table").group(2)
    assert "| churn | logreg | roc_auc 0.850 [0.820, 0.880]; f1_positive 0.650 |" in table
    assert "majority" not in table, "only the champion is shown"

    client.set_registered_model_alias("profiling-churn", "champion", versions["majority"])  # a human's pin
    assert readme.stale_markers(cfg, copy) == ["results-table"]
    readme.update_readme(cfg)
    assert "| churn | majority | roc_auc 0.500 [0.470, 0.530]" in copy.read_text(encoding="utf-8")
    assert readme.stale_markers(cfg, copy) == []


def test_an_empty_store_gives_a_note_not_a_table(tmp_path: Path) -> None:
    cfg = compose([f"paths.mlruns_dir={tmp_path / 'mlruns'}", f"paths.reports_dir={tmp_path / 'reports'}"])
    assert readme.results_table(cfg) == readme.NO_RUNS
    assert readme.update_readme(cfg) is None, "no README beside the reports: nothing is written"


@pytest.mark.browser
@pytest.mark.parametrize("page", ["index.html", "tasks/index.html"])
def test_site_screenshot_in_headless_chromium(site: Path, page: str, tmp_path: Path) -> None:
    browser = browser_or_skip()
    shot = tmp_path / "page.png"
    result = screenshot(browser, (site / page).as_uri(), shot, tmp_path / "profile")
    assert shot.is_file(), result.stderr[-2000:]
    assert_not_blank(shot)
