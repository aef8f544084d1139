"""The warehouse tables as input: checked before any model loads, subscribers chunked, window pinned.

Bad input is an error naming the file and column (missing folder, table or column, a column of the
wrong type, no subscribers). Extra columns are ignored and counted; plan and gender values the
features do not know are counted.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from src.data.errors import DataValidationError
from src.data.layout import scan_source, table_files, table_path
from src.data.population import verify_population
from src.data.warehouse import EVENT_SCHEMAS
from src.errors import ConfigError
from src.features.behaviour import ID, INPUT_TABLES, resolve_window
from src.features.behaviour_spec import FeatureSpec
from src.scoring.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class InputCheck:
    """What the input check found: rows and extra columns per table."""

    rows: dict[str, int]
    extra_columns: dict[str, list[str]]


def check_inputs(folder: Path) -> InputCheck:
    """Every table readable, with its declared columns of a compatible type; subscribers not empty."""
    if not folder.is_dir():
        raise DataValidationError(
            "input folder not found",
            file=folder,
            hint="pass input=<folder with subscribers.parquet, calls.parquet, ...>, "
            "e.g. input=data/simulated/default (make one with `python -m src.data.simulate`)",
        )
    verify_population(folder, require_manifest=False)  # a simulated population must be complete
    rows, extra = {}, {}
    for name in INPUT_TABLES:
        path = table_path(folder, name)
        expected = EVENT_SCHEMAS[name]
        files = table_files(path)
        if not files:
            raise DataValidationError(
                f"table '{name}' not found",
                file=path,
                hint=f"every one of {', '.join(INPUT_TABLES)} is needed; a source you lack can be an "
                f"empty table with the columns {', '.join(expected.names)}",
            )
        rows[name] = 0
        for file in files:  # every part of a partitioned table is checked
            actual, count = _footer(file)
            _check_columns(name, file, actual)
            rows[name] += count
        extra[name] = [c for c in actual.names if c not in expected.names]
    if rows["subscribers"] == 0:
        raise DataValidationError(
            "no subscribers: the table has no rows", file=table_path(folder, "subscribers"),
            hint="the profile has one row per subscriber; export the subscribers with the events",
        )  # fmt: skip
    return InputCheck(rows=rows, extra_columns=extra)


def subscriber_ids(folder: Path) -> np.ndarray:
    """The distinct user_ids of `subscribers`, sorted; a missing user_id is an error."""
    path = table_path(folder, "subscribers")
    column = pq.read_table([str(file) for file in table_files(path)], columns=[ID])[ID]
    if column.null_count:
        raise DataValidationError(
            f"{column.null_count} row(s) without a user_id", file=path, column=ID,
            hint="every subscriber needs an id to be profiled",
        )  # fmt: skip
    return np.unique(column.to_numpy())


def chunk_ranges(ids: np.ndarray, chunk_users: int) -> list[tuple[int, int, int]]:
    """(first user_id, last user_id, users) of consecutive chunks of `chunk_users` sorted distinct ids."""
    return [
        (
            int(ids[start]),
            int(ids[min(start + chunk_users, len(ids)) - 1]),
            min(chunk_users, len(ids) - start),
        )
        for start in range(0, len(ids), chunk_users)
    ]


def level_counts(folder: Path, settings: Settings) -> dict[str, dict[str, int]]:
    """Subscribers per plan and gender value the features do not know (missing values not counted)."""
    import duckdb

    known = {"plan": set(settings.spec.plans), "gender": set(settings.gender_levels)}
    if settings.spec.female_value not in known["gender"]:
        raise ConfigError(
            f"gender_levels {settings.gender_levels} lack features.pipeline.female_value "
            f"'{settings.spec.female_value}'"
        )
    con = duckdb.connect()
    try:
        out = {}
        for column, levels in known.items():
            rows = con.execute(
                f"SELECT {column}, count(DISTINCT user_id) FROM read_parquet(?) "
                f"WHERE {column} IS NOT NULL GROUP BY {column}",
                [scan_source(table_path(folder, "subscribers"))],
            ).fetchall()
            out[column] = {str(level): int(n) for level, n in sorted(rows) if level not in levels}
    finally:
        con.close()
    for column, unknown in out.items():
        if unknown:
            log.warning(
                "subscribers with a %s the features do not know (scored as none of them): %s", column, unknown
            )
    return out


def pin_window(folder: Path, spec: FeatureSpec) -> FeatureSpec:
    """The spec with its window end resolved once over every call, so all chunks share one window."""
    if spec.reference_date is not None:
        return spec
    import ibis

    con = ibis.duckdb.connect()
    try:
        calls = con.read_parquet(scan_source(table_path(folder, "calls")), table_name="calls")
        _, end = resolve_window(calls, spec)
    finally:
        con.disconnect()
    return dataclasses.replace(spec, reference_date=end.date().isoformat())


def _footer(file: Path) -> tuple[pa.Schema, int]:
    """The Arrow schema and row count of one Parquet file, from its footer."""
    try:
        metadata = pq.ParquetFile(file).metadata
        return metadata.schema.to_arrow_schema(), int(metadata.num_rows)
    except (pa.ArrowException, OSError) as err:
        raise DataValidationError(f"not a readable Parquet file ({err})", file=file) from None


def _check_columns(name: str, file: Path, actual: pa.Schema) -> None:
    """Every declared column of table `name` is in `file`, with a compatible type."""
    expected = EVENT_SCHEMAS[name]
    for column in expected:
        if column.name not in actual.names:
            raise DataValidationError(
                f"table '{name}' lacks a column", file=file, column=column.name,
                hint=f"expected columns: {', '.join(expected.names)}",
            )  # fmt: skip
        found = actual.field(column.name).type
        if not _compatible(column.type, found):
            raise DataValidationError(
                f"has type {found}, expected {_describe(column.type)}",
                file=file,
                column=column.name,
                hint="cast the column when exporting the table",
            )


def _compatible(expected: pa.DataType, actual: pa.DataType) -> bool:
    """Whether a column of type `actual` can stand for the declared `expected` one."""
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_integer(actual) or pa.types.is_floating(actual) or pa.types.is_decimal(actual)
    if pa.types.is_string(expected):
        return (
            pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_string_view(actual)
        )
    if pa.types.is_date(expected):
        return pa.types.is_date(actual) or pa.types.is_timestamp(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual)
    return actual == expected


def _describe(expected: pa.DataType) -> str:
    for test, text in (
        (pa.types.is_integer, "an integer"),
        (pa.types.is_floating, "a number"),
        (pa.types.is_string, "a string"),
        (pa.types.is_boolean, "a boolean"),
        (pa.types.is_timestamp, "a timestamp"),
        (pa.types.is_date, "a date"),
    ):
        if test(expected):
            return f"{text} ({expected})"
    return str(expected)
