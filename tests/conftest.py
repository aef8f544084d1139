"""Shared fixtures: configs composed with outputs, caches and the MLflow store under tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig, OmegaConf

from src.config import compose
from src.data.simulate import simulate
from src.features.backends import spark_missing, spark_session
from src.paths import PROJECT_ROOT

TELCO = PROJECT_ROOT / "data/raw/ibm_telco_customer_churn/Telco-Customer-Churn.csv"


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    """A private MLflow store for one test."""
    return tmp_path / "mlruns"


@pytest.fixture
def make_cfg(tmp_path: Path, store_dir: Path) -> Callable[..., DictConfig]:
    """Compose the project config with everything generated pointed at tmp_path."""

    def _make(*overrides: str) -> DictConfig:
        return compose(
            [
                f"paths.mlruns_dir={store_dir}",
                f"paths.cache_dir={tmp_path / 'cache'}",
                f"paths.reports_dir={tmp_path / 'reports'}",
                "evaluation.n_bootstrap=100",
                *overrides,
            ]
        )

    return _make


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `python -m <args>` in a fresh process, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd or PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny simulated population (2,000 users, 14 days), shared read-only by the test modules."""
    out = tmp_path_factory.mktemp("sim")
    simulate(compose(["simulate=tiny", f"paths.simulated_dir={out}"], config_name="simulation"))
    return out / "tiny"


@pytest.fixture(scope="session")
def tiny_partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny population written with `simulate.partitioned=true` (a folder of part files per table)."""
    out = tmp_path_factory.mktemp("sim_parts")
    overrides = ["simulate=tiny", f"paths.simulated_dir={out}", "simulate.partitioned=true"]
    simulate(compose(overrides, config_name="simulation"))
    return out / "tiny"


@pytest.fixture(scope="session")
def spark():
    """ONE local SparkSession (conf/spark/local.yaml) for every Spark test; they skip without Java."""
    reason = spark_missing()
    if reason is not None:
        pytest.skip(f"Spark tests skipped: {reason}")
    session = spark_session(OmegaConf.to_container(compose([]).spark, resolve=True))
    yield session
    session.stop()
