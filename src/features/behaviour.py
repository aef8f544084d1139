"""Per-user behaviour features from the simulated warehouse tables: Ibis expressions run on DuckDB or
PySpark (src/features/backends.py), the same expressions on either.

One row per subscriber, `user_id` first, then int64 counts and float64 values, sorted by user_id.
Events are deduplicated (exact duplicate rows count once) and kept in the window
[reference_date - window_days, reference_date); bills are monthly and kept by month
(`FeatureSpec.bill_months`). Events of users absent from `subscribers` are dropped; labels are never read.

Users without events get explicit values: counts, shares, duration statistics, entropies and ratios
are 0 (`n_calls == 0` etc. tells them apart), recencies are window_days + 1 ("never in the window").
NaN appears only in the subscriber columns where the registration lacks the value: `age`, `female`
and `province_nonlocal` (each with a 0/1 `*_missing` column).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from src.data.errors import DataValidationError
from src.data.layout import scan_source, table_exists, table_path
from src.data.warehouse import EVENT_SCHEMAS
from src.errors import ConfigError
from src.features import behaviour_aggregates as agg
from src.features.backends import connect
from src.features.behaviour_spec import FeatureSpec, default_spec

__all__ = [
    "FEATURES_VERSION",
    "INPUT_TABLES",
    "FeatureSpec",
    "SharedInputs",
    "build_behaviour_features",
    "default_spec",
    "feature_columns",
    "feature_families",
    "integer_columns",
    "population_inputs",
    "resolve_window",
    "shared_inputs",
]

log = logging.getLogger(__name__)

# Bump when a feature's definition changes: it is part of the cache key.
FEATURES_VERSION = "5"
ID = "user_id"
INPUT_TABLES: tuple[str, ...] = tuple(EVENT_SCHEMAS)  # the eight warehouse tables, not labels
TS_COLUMN = {
    "calls": "start_ts",
    "sms": "ts",
    "data_sessions": "ts",
    "web_visits": "ts",
    "sp_orders": "ts",
    "channel_contacts": "ts",
}
# Materialised once because several steps read them (web_visits too when titles are labelled).
MULTI_USE = ("calls", "sms", "data_sessions")

TitleLabeller = Callable[[list[str]], list[str]]
Step = Callable[[], tuple[ir.Table, dict[str, float]]]


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns of a behaviour table, in order (everything but user_id)."""
    return [c for c in frame.columns if c != ID]


def resolve_window(calls: ir.Table, spec: FeatureSpec) -> tuple[dt.datetime, dt.datetime]:
    """Window [start, end): end is spec.reference_date or the day after the latest call."""
    if spec.reference_date is not None:
        end = dt.datetime.fromisoformat(spec.reference_date)
    else:
        latest = calls.start_ts.max().execute()
        if latest is None or pd.isna(latest):
            raise DataValidationError(
                "no calls to infer the window end from", hint="set features.pipeline.reference_date"
            )
        end = dt.datetime.combine(pd.Timestamp(latest).date() + dt.timedelta(days=1), dt.time())
    return end - dt.timedelta(days=spec.window_days), end


@dataclass(frozen=True)
class SharedInputs:
    """What every user range of one population shares: the window and its trip cells (read once)."""

    start: dt.datetime
    end: dt.datetime
    trip_cells: ir.Table


@contextmanager
def shared_inputs(tables_dir: Path, spec: FeatureSpec, con: ibis.BaseBackend) -> Iterator[SharedInputs]:
    """The window and the trip cells of the whole population, cached on `con` until exit.

    Both come from every subscriber's calls. Pass them to `feature_families` for each block of a
    population, so that each block does not scan every call again (at 1M users, 20 blocks would
    read every call 20 times). The cached table is released on exit.
    """
    calls = _read(con, Path(tables_dir), "calls")
    start, end = resolve_window(calls, spec)
    cells = _trip_cells(calls, start, end, spec).cache()
    try:
        yield SharedInputs(start, end, cells)
    finally:
        cells.release()


def population_inputs(tables_dir: Path, spec: FeatureSpec) -> SharedInputs:
    """`shared_inputs` worked out once on a private DuckDB and held in memory, for any connection.

    The trip cells (a few thousand cell ids) become an in-memory table, so each block of a population
    can run on its own short-lived connection and still not read every call again.
    """
    con = connect("duckdb")
    try:
        with shared_inputs(tables_dir, spec, con) as shared:
            cells = shared.trip_cells.to_pyarrow()
            return SharedInputs(shared.start, shared.end, ibis.memtable(cells))
    finally:
        con.disconnect()


def build_behaviour_features(
    tables_dir: Path,
    spec: FeatureSpec,
    title_labeller: TitleLabeller | None = None,
    *,
    user_range: tuple[int, int] | None = None,
    con: ibis.BaseBackend | None = None,
    shared: SharedInputs | None = None,
) -> pd.DataFrame:
    """One row of behaviour features per subscriber in `tables_dir` (see the module docstring).

    `user_range` (first, last), inclusive, keeps only the subscribers with first <= user_id <= last
    and their events, so memory follows the range; their rows equal those of the full build (the
    window end is still resolved over every call). None builds every subscriber.
    `con` is the Ibis backend to run on (e.g. `backends.connect("pyspark", cfg.spark)`), left open;
    None runs on a private in-memory DuckDB. `shared` (from `population_inputs`, or `shared_inputs` on
    `con`) saves each user range reading every call again.
    """
    own = con is None
    con = connect("duckdb") if con is None else con
    try:
        with feature_families(
            tables_dir, spec, title_labeller, user_range=user_range, con=con, shared=shared
        ) as steps:
            results: list[tuple[pd.DataFrame, dict[str, float], set[str]]] = []
            for name, step in tqdm(steps, desc="behaviour features", unit="step", disable=None):
                began = time.perf_counter()
                expr, fill = step()
                frame = expr.to_pandas()
                log.info(
                    "behaviour %-16s %7d users, %2d columns, %.2f s",
                    name, len(frame), frame.shape[1] - 1, time.perf_counter() - began,
                )  # fmt: skip
                results.append((frame, fill, integer_columns(expr)))
    finally:
        if own:
            con.disconnect()
    return _assemble(results)


@contextmanager
def feature_families(
    tables_dir: Path,
    spec: FeatureSpec,
    title_labeller: TitleLabeller | None = None,
    *,
    user_range: tuple[int, int] | None = None,
    con: ibis.BaseBackend,
    shared: SharedInputs | None = None,
) -> Iterator[list[tuple[str, Step]]]:
    """The feature families as (name, step) in column order, on `con`; the cached tables are released on exit.

    Each step returns (per-user Ibis table, fill values other than 0 for users without a row).
    `user_range` as in `build_behaviour_features`. `shared` (from `shared_inputs` on the same `con`
    and tables) gives the window and trip cells; None works them out from every call here.
    """
    tables_dir = Path(tables_dir)
    if user_range is not None:
        first, last = (int(x) for x in user_range)
        if first > last:
            raise ValueError(f"user_range {user_range}: first must be <= last")
    tables: _Tables | None = None
    try:
        raw = {name: _read(con, tables_dir, name) for name in INPUT_TABLES}
        if shared is None:
            start, end = resolve_window(raw["calls"], spec)
            # trip cells come from every subscriber's calls, whatever the range
            trip_cells = _trip_cells(raw["calls"], start, end, spec)
        else:
            start, end, trip_cells = shared.start, shared.end, shared.trip_cells
        if user_range is not None:
            # a filter on the scan: DuckDB skips Parquet row groups by their user_id statistics
            raw = {name: t.filter(t.user_id.between(first, last)) for name, t in raw.items()}
            log.info("behaviour features of user_id %d..%d", first, last)
        log.info("behaviour window [%s, %s) over %s", start, end, tables_dir)
        multi_use = {*MULTI_USE, "web_visits"} if title_labeller else set(MULTI_USE)
        tables = _Tables(raw, start, end, spec, multi_use, trip_cells)
        yield _steps(tables, spec, end, title_labeller)
    finally:
        if tables is not None:
            tables.release()


class _Tables:
    """Deduplicated, windowed tables; the multi-use ones materialised on first use."""

    def __init__(
        self,
        raw: dict[str, ir.Table],
        start: dt.datetime,
        end: dt.datetime,
        spec: FeatureSpec,
        multi_use: set[str],
        trip_cells: ir.Table,
    ) -> None:
        self.raw, self.start, self.end, self.spec, self.multi_use = raw, start, end, spec, multi_use
        self.trip_cells = trip_cells
        self._cached: dict[str, ir.Table] = {}

    def __getitem__(self, name: str) -> ir.Table:
        if name in self._cached:
            return self._cached[name]
        table = self.raw[name].distinct()
        if name in TS_COLUMN:
            ts = table[TS_COLUMN[name]]
            table = table.filter(ts >= ibis.literal(self.start), ts < ibis.literal(self.end))
        elif name == "bills":
            first, last = _bill_months(self.end, self.spec.bill_months)
            table = table.filter(table.month >= ibis.literal(first), table.month <= ibis.literal(last))
        if name in self.multi_use:
            table = table.cache()
            self._cached[name] = table
        return table

    def release(self) -> None:
        """Drop the materialised tables (before the connection closes)."""
        for table in self._cached.values():
            table.release()
        self._cached.clear()


def _steps(
    t: _Tables, spec: FeatureSpec, end: dt.datetime, title_labeller: TitleLabeller | None
) -> list[tuple[str, Step]]:
    """The aggregation steps in column order; each returns (per-user table, non-zero fill values)."""
    end_epoch = (end - dt.datetime(1970, 1, 1)).total_seconds()
    window_seconds = spec.window_days * 86_400
    start_epoch = int(end_epoch) - window_seconds
    return [
        ("subscribers", lambda: (agg.subscriber_features(t["subscribers"], spec), {})),
        ("calls", lambda: (agg.call_features(t["calls"], spec), {})),
        ("peers", lambda: (agg.peer_features(t["calls"]), {})),
        ("roaming_days", lambda: (agg.roaming_day_features(t["calls"], spec), {})),
        ("cells", lambda: (agg.cell_features(t["calls"], t["data_sessions"]), {})),
        ("activity", lambda: (agg.activity_features(t["calls"], t["sms"], t["data_sessions"], spec), {})),
        ("sms", lambda: (agg.sms_features(t["sms"]), {})),
        ("data_sessions", lambda: (agg.data_features(t["data_sessions"]), {})),
        ("web_visits", lambda: (_web(t["web_visits"], spec, title_labeller), {})),
        ("sp_orders", lambda: (agg.sp_features(t["sp_orders"], spec), {})),
        (
            "channel_contacts",
            lambda: (agg.contact_features(t["channel_contacts"], spec, end_epoch), agg.contact_fill(spec)),
        ),
        ("bills", lambda: (agg.bill_features(t["bills"]), {})),
        ("day_type_rhythm", lambda: (agg.day_type_rhythm_features(_timed(t), spec), {})),
        ("outgoing", lambda: (agg.outgoing_features(t["calls"], t["sms"]), {})),
        ("trips", lambda: (agg.trip_features(t["calls"], t["data_sessions"], t.trip_cells), {})),
        ("usage_trend", lambda: (agg.usage_trend_features(_timed(t), start_epoch, window_seconds), {})),
    ]


def _trip_cells(calls: ir.Table, start: dt.datetime, end: dt.datetime, spec: FeatureSpec) -> ir.Table:
    """Cells where some subscriber's call in the window had a roaming type other than the home one."""
    ts = calls.start_ts
    roaming = calls.filter(
        ts >= ibis.literal(start),
        ts < ibis.literal(end),
        calls.cell_id.notnull(),
        calls.roaming_type != spec.home_roaming_type,
    )
    return roaming.select("cell_id").distinct()


def _timed(t: _Tables) -> list[ir.Table]:
    """(user_id, ts) of every stream the daily rhythm times: calls, SMS, data sessions, web visits."""
    return [t[name].select("user_id", ts=t[name][TS_COLUMN[name]]) for name in (*MULTI_USE, "web_visits")]


def _web(web_visits: ir.Table, spec: FeatureSpec, title_labeller: TitleLabeller | None) -> ir.Table:
    """Web features; with a labeller, each distinct title is labelled once and joined back."""
    if title_labeller is None:
        return agg.web_features(web_visits, spec, None)
    titles_expr = web_visits.filter(web_visits.title.notnull()).select("title").distinct().order_by("title")
    titles = [str(x) for x in titles_expr.to_pyarrow()["title"].to_pylist()]
    labels = list(title_labeller(titles)) if titles else []
    if len(labels) != len(titles):
        raise ConfigError(f"title_labeller returned {len(labels)} labels for {len(titles)} titles")
    unknown = sorted({str(x) for x in labels} - set(spec.categories))
    if unknown:
        raise ConfigError(
            f"title_labeller returned categories {unknown[:5]} that are not in "
            f"features.pipeline.categories {list(spec.categories)}"
        )
    suffixes = [spec.categories[str(x)] for x in labels]
    mapping = ibis.memtable(pa.table({"title": pa.array(titles, pa.string()), "category": suffixes}))
    log.info("labelled %d distinct titles", len(titles))
    return agg.web_features(web_visits, spec, mapping)


def _assemble(results: list[tuple[pd.DataFrame, dict[str, float], set[str]]]) -> pd.DataFrame:
    """Align every family on the subscribers' user_id, fill users without events, fix dtypes."""
    base = results[0][0]
    if base[ID].duplicated().any():
        dup = base.loc[base[ID].duplicated(), ID].iloc[0]
        raise DataValidationError(f"user_id {dup} appears in several different rows", column=ID)
    ids = pd.Index(base[ID].astype("int64"), name=ID).sort_values()
    columns: dict[str, pd.Series] = {ID: pd.Series(ids, index=ids)}
    for i, (frame, fill, integers) in enumerate(results):
        aligned = frame.set_index(ID, verify_integrity=True).reindex(ids)
        for name in aligned.columns:
            values = aligned[name]
            if i > 0:  # event families: users without a row get the family's fill value
                values = values.fillna(fill.get(name, 0))
            columns[name] = _numeric(values, is_count=name in integers)
    return pd.DataFrame(columns).reset_index(drop=True)


def integer_columns(expr: ir.Table) -> set[str]:
    """Counts and flags by their Ibis type, not the dtype a backend hands pandas.

    `count(where=...)` is 0 on DuckDB but NULL (so a float column) on Spark for a user none of whose
    rows has a non-null condition; both become the family's fill value, 0.
    """
    return {name for name, dtype in expr.schema().items() if dtype.is_integer() or dtype.is_boolean()}


def _numeric(values: pd.Series, is_count: bool) -> pd.Series:
    """int64 for counts and flags without gaps, float64 (NaN for missing) otherwise."""
    as_float = pd.Series(values.to_numpy(dtype="float64", na_value=float("nan")), index=values.index)
    if is_count and not as_float.isna().any():
        return as_float.astype("int64")
    return as_float


def _read(con: ibis.BaseBackend, tables_dir: Path, name: str) -> ir.Table:
    """Register one Parquet table (a file or a folder of parts); it and its declared columns must exist."""
    path = table_path(tables_dir, name)
    if not table_exists(path):
        raise DataValidationError(
            "table not found", file=path, hint="run `python -m src.data.simulate` or fix features.tables_dir"
        )
    table = con.read_parquet(scan_source(path), table_name=name)
    for column in EVENT_SCHEMAS[name].names:
        if column not in table.columns:
            raise DataValidationError(f"table '{name}' lacks a declared column", file=path, column=column)
    return table.select(*EVENT_SCHEMAS[name].names)


def _bill_months(end: dt.datetime, n_months: int) -> tuple[dt.date, dt.date]:
    """First day of the first billed month and the window's last day (bills are dated by month start)."""
    last_day = (end - dt.timedelta(microseconds=1)).date()
    year, month = last_day.year, last_day.month - (n_months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return dt.date(year, month, 1), last_day
