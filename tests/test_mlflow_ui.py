"""The MLflow UI on a project store: an experiment's page opens on its runs table, not the GenAI overview."""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import mlflow
import pytest
from omegaconf import DictConfig

from src import tracking
from src.experiment import run
from src.models.serving import LOOPBACK, free_port
from tests.helpers.screenshots import assert_not_blank, browser_or_skip, screenshot

# what only the GenAI overview shows, and what only the runs table shows
GENAI_OVERVIEW = ("Token Usage", "Tokens per Trace", "Cost Breakdown")
RUNS_TABLE = ("Run Name", "matching runs")


@contextmanager
def mlflow_ui(cfg: DictConfig, log_path: Path, timeout_s: float = 180.0) -> Iterator[str]:
    """`mlflow ui` on the config's store (as `make ui` starts it) on a free loopback port; yields its URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        str(cfg.mlflow.tracking_uri),
        "--default-artifact-root",
        str(cfg.mlflow.artifact_root),
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://{LOOPBACK}:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, f"mlflow ui not up after {timeout_s:.0f} s"
            with (
                suppress(urllib.error.URLError, ConnectionError, TimeoutError),
                opener.open(f"{url}/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            time.sleep(0.5)
        yield url
    finally:
        with suppress(ProcessLookupError):  # the CLI and its uvicorn worker share one process group
            os.killpg(process.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def visible_text(dom: str) -> str:
    """The text a reader sees in a dumped DOM (scripts and styles dropped, one line per text node)."""
    dom = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", "", dom, flags=re.S | re.I)
    nodes = (html.unescape(node).strip() for node in re.split(r"<[^>]+>", dom))
    return "\n".join(node for node in nodes if node)


@pytest.mark.slow
@pytest.mark.browser
def test_experiment_page_opens_on_the_runs_table(make_cfg: Callable[..., DictConfig], tmp_path: Path) -> None:
    browser = browser_or_skip()
    runs = {}
    for model in ("majority", "logreg"):
        cfg = make_cfg("task=churn", f"model={model}", "mlflow.log_model=false", "evaluation.n_bootstrap=20")
        run(cfg)
        runs[model] = mlflow.last_active_run().info
    experiment_id = runs["logreg"].experiment_id
    experiment = mlflow.get_experiment(experiment_id)
    assert experiment.tags[tracking.EXPERIMENT_KIND_TAG] == tracking.EXPERIMENT_KIND

    with mlflow_ui(cfg, tmp_path / "ui.log") as server:
        page = tracking.experiment_page_url(server, experiment_id)
        shot = tmp_path / "experiment.png"
        result = screenshot(
            browser, page, shot, tmp_path / "profile", size=(1280, 900), wait_ms=20_000, dump_dom=True
        )
        text = visible_text(result.stdout)

    assert experiment.name in text, text[:2000]
    assert all(marker in text for marker in RUNS_TABLE), f"no runs table on {page}:\n{text[:2000]}"
    assert not any(marker in text for marker in GENAI_OVERVIEW), f"the GenAI overview on {page}"
    for info in runs.values():
        assert info.run_name in text, f"run {info.run_name} missing from the runs table"
    assert shot.is_file(), result.stderr[-2000:]
    assert_not_blank(shot, size=(1280, 900), min_dark=0.003)  # a light UI: ~1% dark pixels with its table
