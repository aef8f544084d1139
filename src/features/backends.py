"""The Ibis backend the behaviour features run on: DuckDB in process, or PySpark from conf/spark."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Mapping
from typing import Any

import ibis

from src.errors import ConfigError

log = logging.getLogger(__name__)

BACKENDS = ("duckdb", "pyspark")


def connect(backend: str = "duckdb", spark: Mapping[str, Any] | None = None) -> ibis.BaseBackend:
    """An Ibis connection: DuckDB in memory, or PySpark on the session the `spark` settings describe."""
    if check_backend(backend) == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET enable_progress_bar = false")  # tqdm reports progress; a session setting only
        return con
    if spark is None:
        raise ConfigError("features.backend=pyspark needs the spark settings (conf/spark/local.yaml)")
    return ibis.pyspark.connect(spark_session(spark))


def configured_backend(cfg: Mapping[str, Any]) -> ibis.BaseBackend | None:
    """The connection `features.backend` asks for (Spark from `cfg.spark`); None: each build's own DuckDB."""
    backend = check_backend(str(cfg["features"].get("backend") or "duckdb"))
    return None if backend == "duckdb" else connect(backend, cfg.get("spark"))


def check_backend(backend: str) -> str:
    """`backend` if it is known (and, for pyspark, runnable here); else a ConfigError naming the choices."""
    if backend not in BACKENDS:
        raise ConfigError(f"features.backend must be one of {list(BACKENDS)}, got '{backend}'")
    if backend == "pyspark":
        require_spark()
    return backend


def spark_session(settings: Mapping[str, Any]) -> Any:
    """The SparkSession `settings` (conf/spark/*.yaml) describe; an already running one is reused."""
    require_spark()
    from pyspark.sql import SparkSession

    if settings.get("python"):  # Spark's Python workers need the project's packages
        os.environ["PYSPARK_PYTHON"] = str(settings["python"])
    else:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(str(settings.get("app_name") or "telecom-profiling"))
    if settings.get("master"):
        builder = builder.master(str(settings["master"]))
    for key, value in (settings.get("conf") or {}).items():
        builder = builder.config(str(key), str(value))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s on %s", session.version, session.sparkContext.master)
    return session


def spark_missing() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None if it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: install the spark extra, pip install -e '.[spark]'"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime: install Java 17 (e.g. Debian's openjdk-17-jre-headless) or set JAVA_HOME"
    return None


def require_spark() -> None:
    """Raise a ConfigError naming what is missing when Spark cannot run here."""
    reason = spark_missing()
    if reason is not None:
        raise ConfigError(reason)
