"""Fresh MLflow SQLite stores copied from one migrated template instead of migrating each one.

MLflow creates a new SQLite store by running every Alembic migration (seconds of CPU per store), and most
tests open a private store under their own `tmp_path`. The same migrations run once here, into a
template with no experiment; every later new store receives a copy of its pages (SQLite's backup API),
then MLflow adds the `Default` experiment as it would in a migrated store. Only this process is
affected: the commands that tests start in a fresh Python process still migrate their store themselves.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow.store.db.utils as db_utils
import mlflow.store.model_registry.sqlalchemy_store as registry_store
import pytest
import sqlalchemy

# the tracking store calls the function through db_utils, the registry store through its own import
INITIALIZERS = ((db_utils, "_initialize_tables"), (registry_store, "_initialize_tables"))


def build_template(path: Path, migrate: Callable[[sqlalchemy.Engine], None]) -> None:
    """Migrate an empty SQLite file at `path` to MLflow's latest schema, leaving no experiment in it."""
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("DELETE FROM experiments"))
    finally:
        engine.dispose()


def copy_template(template: Path, engine: sqlalchemy.Engine) -> None:
    """Write the template's pages into the empty database behind `engine`."""
    raw = engine.raw_connection()
    try:
        with sqlite3.connect(template) as source:
            source.backup(raw.driver_connection)
    finally:
        raw.close()


@contextmanager
def stores_from_template(folder: Path) -> Iterator[None]:
    """While open, a new SQLite store is a copy of a template migrated once into `folder`."""
    migrate = db_utils._initialize_tables
    template = folder / "mlflow-template.db"

    def initialize(engine: sqlalchemy.Engine) -> None:
        if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
            migrate(engine)
            return
        if not template.exists():
            partial = template.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            build_template(partial, migrate)
            partial.rename(template)
        copy_template(template, engine)

    with pytest.MonkeyPatch.context() as patch:
        for module, name in INITIALIZERS:
            patch.setattr(module, name, initialize)
        yield


def migrated_store(mlruns_dir: Path) -> Path:
    """Create `<mlruns_dir>/mlflow.db` here, before a command a test starts opens it.

    In a test process the new store is a copy of the migrated template (`stores_from_template`), so
    the command finds an up-to-date store instead of running every migration in its own process.
    """
    from mlflow import MlflowClient

    mlruns_dir.mkdir(parents=True, exist_ok=True)
    database = mlruns_dir / "mlflow.db"
    MlflowClient(
        tracking_uri=f"sqlite:///{database}", registry_uri=f"sqlite:///{database}"
    ).search_experiments()
    return database
