"""Spark parity: the behaviour features and the profile on Spark equal those on DuckDB, bad input alike."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from src.config import compose
from src.data.errors import DataValidationError
from src.data.warehouse import EVENT_SCHEMAS
from src.errors import ConfigError
from src.features.backends import configured_backend, connect, spark_missing
from src.features.behaviour import build_behaviour_features
from src.features.behaviour_spec import FeatureSpec, default_spec
from src.features.titles import title_labeller
from src.profile import build_profile
from src.scoring.output import sidecar_path
from tests.helpers.joined import joined_rows, spec_and_labeller
from tests.helpers.suite import SHORT_LIVED_JVM

RTOL = 1e-9


def _cfg(root: Path, tables: Path, output: Path, *extra: str):
    return compose(
        [
            f"input={tables}",
            f"output={output}",
            f"paths.mlruns_dir={root / 'mlruns'}",
            f"paths.cache_dir={root / 'cache'}",
            "features.titles.labeller=lookup",
            *extra,
        ],
        config_name="profile",
    )


@pytest.fixture(scope="module")
def spark_con(spark):
    """The Ibis PySpark backend on the tests' one session."""
    return ibis.pyspark.connect(spark)


def _assert_same_features(duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns)
    assert (spark.dtypes == duck.dtypes).all(), spark.dtypes[spark.dtypes != duck.dtypes]
    for column in duck.columns:
        if pd.api.types.is_integer_dtype(duck[column]):
            np.testing.assert_array_equal(spark[column], duck[column], err_msg=column)
        else:
            np.testing.assert_allclose(spark[column], duck[column], rtol=RTOL, atol=0, err_msg=column)


# ---- without Spark -----------------------------------------------------------------------------------


def test_unknown_backend_and_engine_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"features.backend must be one of \['duckdb', 'pyspark'\]"):
        connect("polars")
    with pytest.raises(ConfigError, match=r"engine must be one of \['local', 'spark'\], got 'flink'"):
        build_profile(_cfg(tmp_path, tmp_path, tmp_path / "p", "engine=flink"))
    with pytest.raises(ConfigError, match=r"features.backend must be one of .* got 'polars'"):
        build_profile(_cfg(tmp_path, tmp_path, tmp_path / "p", "features.backend=polars"))


def test_without_java_spark_is_refused_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert "no Java runtime" in spark_missing()
    with pytest.raises(ConfigError, match=r"^no Java runtime: install Java 17"):
        build_profile(_cfg(tmp_path, tmp_path, tmp_path / "p", "engine=spark"))


@pytest.mark.spark
def test_configured_backend_follows_features_backend(tmp_path: Path, spark) -> None:
    assert configured_backend(_cfg(tmp_path, tmp_path, tmp_path / "p")) is None  # DuckDB by default
    con = configured_backend(_cfg(tmp_path, tmp_path, tmp_path / "p", "features.backend=pyspark"))
    assert con.name == "pyspark"


# ---- features ----------------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.slow
def test_every_feature_column_equals_duckdb(tiny: Path, spark_con) -> None:
    cfg = _cfg(tiny, tiny, tiny / "unused")
    spec = FeatureSpec.from_config(cfg.features.pipeline)
    labeller = title_labeller(cfg).label  # the labelled build also joins titles to categories
    duck = build_behaviour_features(tiny, spec, labeller)
    spark = build_behaviour_features(tiny, spec, labeller, con=spark_con)
    assert len(duck) == 2000 and duck.shape[1] > 100
    _assert_same_features(duck, spark)


@pytest.mark.spark
@pytest.mark.slow
def test_joined_expression_on_spark_over_partitioned_tables_equals_duckdb(
    tiny: Path, tiny_partitioned: Path, spark_con
) -> None:
    """Spark reads the partitioned layout and its one job gives DuckDB's features (floats to 1e-9)."""
    spec, labeller = spec_and_labeller(tiny)
    duck = build_behaviour_features(tiny, spec, labeller)
    _assert_same_features(duck, joined_rows(tiny_partitioned, spec, labeller, spark_con))


@pytest.mark.spark
def test_bad_tables_on_spark_fail_like_duckdb(tmp_path: Path, spark_con) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    for name, schema in EVENT_SCHEMAS.items():
        pq.write_table(schema.empty_table(), folder / f"{name}.parquet")
    table = pq.read_table(folder / "calls.parquet")
    pq.write_table(table.drop_columns(["duration_s"]), folder / "calls.parquet")
    for con in (None, spark_con):
        with pytest.raises(
            DataValidationError, match=r"calls\.parquet, column 'duration_s': table 'calls' lacks"
        ):
            build_behaviour_features(folder, default_spec(reference_date="2011-03-16"), con=con)
    pq.write_table(table, folder / "calls.parquet")
    (folder / "sms.parquet").unlink()
    for con in (None, spark_con):
        with pytest.raises(DataValidationError, match=r"sms\.parquet: table not found"):
            build_behaviour_features(folder, default_spec(reference_date="2011-03-16"), con=con)


# ---- the profile -------------------------------------------------------------------------------------


@pytest.mark.spark
@pytest.mark.slow
def test_spark_profile_equals_the_local_profile(
    profiled,
    store: Path,
    tiny: Path,
    spark,
    tmp_path: Path,
) -> None:
    _, local, local_sidecar = profiled
    cfg = _cfg(store, tiny, tmp_path / "profile", "engine=spark", "chunk_users=1000")
    sidecar = build_profile(cfg)
    output = Path(cfg.output)
    files = sorted(output.glob("*.parquet"))
    assert len(files) == 2  # one file per block of users
    ranges = [pq.read_table(f, columns=["user_id"])["user_id"].to_numpy() for f in files]
    assert all(a.max() < b.min() for a, b in itertools.pairwise(ranges))

    table = ds.dataset(output, format="parquet").to_table()
    expected = pq.read_schema(local_sidecar["output"]).remove_metadata()
    assert table.schema.equals(expected), (table.schema, expected)
    mine = table.to_pandas().sort_values("user_id", ignore_index=True)
    pd.testing.assert_frame_equal(mine, local, check_exact=False, rtol=RTOL, check_dtype=False)

    assert sidecar_path(output).is_file()
    assert json.loads(sidecar_path(output).read_text(encoding="utf-8"))["models"] == local_sidecar["models"]
    assert sidecar["counts"] == local_sidecar["counts"]
    assert sidecar["input"] == local_sidecar["input"]


def _missing_table(folder: Path) -> None:
    (folder / "sms.parquet").unlink()


def _missing_column(folder: Path) -> None:
    table = pq.read_table(folder / "calls.parquet")
    pq.write_table(table.drop_columns(["duration_s"]), folder / "calls.parquet")


def _string_duration(folder: Path) -> None:
    table = pq.read_table(folder / "calls.parquet")
    position = table.schema.get_field_index("duration_s")
    strings = pa.array([str(x) for x in table["duration_s"].to_pylist()], pa.string())
    pq.write_table(table.set_column(position, "duration_s", strings), folder / "calls.parquet")


def _no_subscribers(folder: Path) -> None:
    pq.write_table(EVENT_SCHEMAS["subscribers"].empty_table(), folder / "subscribers.parquet")


@pytest.mark.spark
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_missing_table, r"file .*sms\.parquet: table 'sms' not found \(every one of subscribers"),
        (_missing_column, r"calls\.parquet, column 'duration_s': table 'calls' lacks a column"),
        (_string_duration, r"calls\.parquet, column 'duration_s': has type string, expected an integer"),
        (_no_subscribers, r"subscribers\.parquet: no subscribers"),
    ],
)
def test_bad_input_on_spark_is_named_as_locally(
    tiny: Path, tmp_path: Path, spark, damage, message: str
) -> None:
    folder = tmp_path / "tables"
    shutil.copytree(tiny, folder)
    (folder / "manifest.json").unlink()  # a warehouse export, not a simulator's population: no manifest
    damage(folder)
    for engine in ("local", "spark"):
        output = tmp_path / f"profile-{engine}"
        with pytest.raises(DataValidationError, match=message):
            build_profile(_cfg(tmp_path, folder, output, f"engine={engine}"))
        assert not output.exists()


def test_the_tests_session_compiles_with_the_quick_jvm_compiler(spark) -> None:
    """The suite's time on two cores counts on it (tests/helpers/suite.py); results never do."""
    bean = spark.sparkContext._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    assert SHORT_LIVED_JVM in list(bean.getInputArguments())
