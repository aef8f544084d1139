"""Shared fixtures: configs with outputs under tmp_path, and the session's tiny population and champions.

Helpers that test modules import live in tests/helpers/. The tiny population, its partitioned copy and the
tiny champions are built once per run: under pytest-xdist (`make test`) the first worker that needs one
builds it in the run's shared temporary folder and the other workers wait for it and read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf

from src.config import compose
from src.data.simulate import simulate
from src.features.backends import spark_missing, spark_session
from src.profile import build_profile
from src.scoring.output import sidecar_path
from tests.helpers.champions import TinyChampions, train_champions, trained_champions
from tests.helpers.mlflow_store import stores_from_template
from tests.helpers.once import built_once
from tests.helpers.profile import profile_cfg
from tests.helpers.suite import LONGEST_FIRST, SHORT_LIVED_JVM, plain_traceback

# A test that needs one of these simulates, trains or starts Spark (directly or through another fixture),
# and a test with one of these markers starts Spark or a browser: all of them belong to the slow tier.
SLOW_FIXTURES = frozenset({"tiny", "tiny_partitioned", "tiny_champions", "spark"})
SLOW_MARKERS = ("spark", "browser")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark slow every test that needs the tiny population, the tiny champions, Spark or a browser.

    Then put the files of LONGEST_FIRST first (a stable sort: the tests of a file keep their order).
    """
    for item in items:
        needs = SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if needs or any(item.get_closest_marker(marker) for marker in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("xfail") and isinstance(item, pytest.Function):
            item.repr_failure = plain_traceback  # type: ignore[method-assign]
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def migrated_once(tmp_path_factory: pytest.TempPathFactory):
    """Every new MLflow store in this process starts as a copy of one migrated template."""
    with stores_from_template(tmp_path_factory.mktemp("mlflow-template")):
        yield


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


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny simulated population (2,000 users, 14 days), shared read-only by the test modules."""

    def build(out: Path) -> None:
        simulate(compose(["simulate=tiny", f"paths.simulated_dir={out}"], config_name="simulation"))

    return built_once(tmp_path_factory, "sim", build) / "tiny"


@pytest.fixture(scope="session")
def tiny_champions(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> TinyChampions:
    """The cheap champion of every behaviour task, trained once on the tiny population in a private store."""
    root = built_once(tmp_path_factory, "store", lambda folder: train_champions(folder, tiny))
    return trained_champions(root, tiny)


@pytest.fixture(scope="session")
def store(tiny_champions: TinyChampions) -> Path:
    """The root of the tiny champions' store (mlruns/ and cache/ under it)."""
    return tiny_champions.root


@pytest.fixture(scope="session")
def profiled(tiny: Path, store: Path, tmp_path_factory: pytest.TempPathFactory):
    """(config, profile, sidecar) of the tiny population in one chunk, scored by the tiny champions.

    Scored once per run like the population (test_profile.py and test_spark.py read it, often on two
    workers); every reader gets the sidecar build_profile wrote next to the profile (`<output>.json`).
    """

    def build(out: Path) -> None:
        build_profile(profile_cfg(store, tiny, out / "profile.parquet"))

    cfg = profile_cfg(store, tiny, built_once(tmp_path_factory, "profiled", build) / "profile.parquet")
    sidecar = json.loads(sidecar_path(Path(cfg.output)).read_text(encoding="utf-8"))
    return cfg, pd.read_parquet(cfg.output), sidecar


@pytest.fixture(scope="session")
def tiny_partitioned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny population written with `simulate.partitioned=true` (a folder of part files per table)."""

    def build(out: Path) -> None:
        overrides = ["simulate=tiny", f"paths.simulated_dir={out}", "simulate.partitioned=true"]
        simulate(compose(overrides, config_name="simulation"))

    return built_once(tmp_path_factory, "sim_parts", build) / "tiny"


@pytest.fixture(scope="session")
def spark():
    """ONE local SparkSession (conf/spark/local.yaml) for every Spark test; they skip without Java."""
    reason = spark_missing()
    if reason is not None:
        pytest.skip(f"Spark tests skipped: {reason}")
    settings = OmegaConf.to_container(compose([]).spark, resolve=True)
    settings["conf"]["spark.driver.extraJavaOptions"] = SHORT_LIVED_JVM  # the quick JIT only (see its note)
    session = spark_session(settings)
    yield session
    session.stop()
