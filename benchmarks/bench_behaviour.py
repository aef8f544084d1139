"""Benchmark the behaviour features against a floor: one DuckDB pass per table over the same columns.

The floor reads every declared column of every input table (the build deduplicates whole rows, so it
reads them all) and aggregates them per user in one GROUP BY, fetching the result as Arrow. A bare
`SELECT count(*)` is also timed for reference, but DuckDB answers it from the Parquet footers.
It also times the build's exact deduplication alone (`SELECT DISTINCT` of every declared column, per
table, counted rather than kept): the part of the build that comes before any feature.

Example: python benchmarks/bench_behaviour.py --tables data/simulated/default --repeat 1
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from src.data.warehouse import EVENT_SCHEMAS  # noqa: E402
from src.features.behaviour import INPUT_TABLES, build_behaviour_features, default_spec  # noqa: E402
from src.reports.bench_page import record  # noqa: E402

# Event tables as counted in the simulator's manifest (subscribers and bills are not events).
EVENT_TABLES = ("calls", "sms", "data_sessions", "web_visits", "sp_orders", "channel_contacts")


def peak_rss_mib() -> int:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def count_per_file(tables: Path, query: Callable[[str], str]) -> dict[str, int]:
    """The single count `query(name)` returns for each input file, with plain DuckDB (one query per file)."""
    con = duckdb.connect()
    try:
        return {
            name: con.execute(query(name), [str(tables / f"{name}.parquet")]).fetchone()[0]
            for name in INPUT_TABLES
        }
    finally:
        con.close()


def scan(tables: Path) -> dict[str, int]:
    """Row count of every input file (`SELECT count(*)` per file)."""
    return count_per_file(tables, lambda _: "SELECT count(*) FROM read_parquet(?)")


def floor_query(name: str) -> str:
    """One pass over a table: per user, the row count and the max of every other declared column."""
    columns = [c for c in EVENT_SCHEMAS[name].names if c != "user_id"]
    aggregates = ", ".join(["count(*)", *(f'max("{c}")' for c in columns)])
    return f"SELECT user_id, {aggregates} FROM read_parquet(?) GROUP BY user_id"


def floor(tables: Path) -> dict[str, int]:
    """Per-user aggregates of every column the features read, one query per file; groups per table."""
    con = duckdb.connect()
    try:
        groups = {}
        for name in INPUT_TABLES:
            result = con.execute(floor_query(name), [str(tables / f"{name}.parquet")])
            groups[name] = result.to_arrow_table().num_rows
        return groups
    finally:
        con.close()


def dedup_query(name: str) -> str:
    """The build's exact deduplication of one table alone: its distinct rows (declared columns), counted."""
    columns = ", ".join(f'"{c}"' for c in EVENT_SCHEMAS[name].names)
    return f"SELECT count(*) FROM (SELECT DISTINCT {columns} FROM read_parquet(?))"


def dedup(tables: Path) -> dict[str, int]:
    """Distinct rows of every input table, one query per file (what `distinct()` costs in the build)."""
    return count_per_file(tables, dedup_query)


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """Median wall time and median process CPU time (every thread) over `repeat` runs, and the last result.

    The CPU time does not grow when other processes share the cores, so it compares runs on a busy machine.
    """
    times, cpu_times, result = [], [], None
    for _ in range(repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return statistics.median(times), statistics.median(cpu_times), result


def run(tables: Path, repeat: int) -> dict:
    """Scan first (it needs little memory), then build, reading the peak RSS after each."""
    rss_start = peak_rss_mib()
    scan_s, _, rows = timed(lambda: scan(tables), repeat)
    rss_scan = peak_rss_mib()
    floor_s, floor_cpu_s, _ = timed(lambda: floor(tables), repeat)
    rss_floor = peak_rss_mib()
    dedup_s, dedup_cpu_s, distinct = timed(lambda: dedup(tables), repeat)
    spec = default_spec()
    build_s, build_cpu_s, frame = timed(lambda: build_behaviour_features(tables, spec), repeat)
    rss_build = peak_rss_mib()
    events = sum(rows[name] for name in EVENT_TABLES)
    return {
        "tables": str(tables),
        "repeat": repeat,
        "users": len(frame),
        "feature_columns": frame.shape[1] - 1,
        "events": events,
        "rows_total": sum(rows.values()),
        "scan_s": round(scan_s, 3),
        "build_s": round(build_s, 2),
        "scan_events_per_s": round(events / scan_s),
        "build_events_per_s": round(events / build_s),
        "floor_s": round(floor_s, 3),
        "floor_events_per_s": round(events / floor_s),
        "build_over_scan": round(build_s / scan_s, 1),
        "build_over_floor": round(build_s / floor_s, 2),
        "floor_cpu_s": round(floor_cpu_s, 2),
        "build_cpu_s": round(build_cpu_s, 2),
        "build_over_floor_cpu": round(build_cpu_s / floor_cpu_s, 2),
        "duplicate_rows": sum(rows.values()) - sum(distinct.values()),
        "dedup_s": round(dedup_s, 3),
        "dedup_cpu_s": round(dedup_cpu_s, 2),
        "dedup_over_floor": round(dedup_s / floor_s, 2),
        "dedup_over_floor_cpu": round(dedup_cpu_s / floor_cpu_s, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "peak_rss_start_mib": rss_start,
        "peak_rss_scan_mib": rss_scan,
        "peak_rss_floor_mib": rss_floor,
        "peak_rss_build_mib": rss_build,
    }


def main() -> None:
    """Parse arguments, run, print a JSON record and a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=ROOT / "data/simulated/default")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is reported")
    parser.add_argument("--verbose", action="store_true", help="log the time of each aggregation step")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    r = run(args.tables, max(1, args.repeat))
    print(json.dumps(r))
    files = len(INPUT_TABLES)
    print(f"\n{r['users']:,} users, {r['events']:,} events ({r['rows_total']:,} rows in {files} files)\n")
    print("| step | wall s | events/s | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    print(
        f"| DuckDB `count(*)` per file | {r['scan_s']} | {r['scan_events_per_s']:,} | "
        f"{r['peak_rss_scan_mib']:,} |"
    )
    print(
        f"| floor: per-user max of every column read, one pass per file | {r['floor_s']} | "
        f"{r['floor_events_per_s']:,} | {r['peak_rss_floor_mib']:,} |"
    )
    print(
        f"| build_behaviour_features ({r['feature_columns']} columns) | {r['build_s']} | "
        f"{r['build_events_per_s']:,} | {r['peak_rss_build_mib']:,} |"
    )
    print(f"| exact deduplication alone (`SELECT DISTINCT`, per file) | {r['dedup_s']} | | |")
    print(f"| ratio build / floor (goal <= 3x) | {r['build_over_floor']}x | | |")
    print(f"| ratio deduplication alone / floor | {r['dedup_over_floor']}x | | |")
    print(f"| ratio build / count(*) (footers only, not a floor) | {r['build_over_scan']}x | | |")
    print(
        f"\nCPU s (every thread): floor {r['floor_cpu_s']}, build {r['build_cpu_s']}, "
        f"ratio {r['build_over_floor_cpu']}x; deduplication alone {r['dedup_cpu_s']} "
        f"({r['dedup_over_floor_cpu']}x); load average (1 min) {r['load_average_1min']}"
    )
    figures = [
        ("users", r["users"]), ("events", r["events"]), ("feature columns", r["feature_columns"]),
        ("floor: wall s", r["floor_s"]), ("floor: CPU s", r["floor_cpu_s"]),
        ("feature build: wall s", r["build_s"]), ("feature build: CPU s", r["build_cpu_s"]),
        ("build / floor, wall (goal <= 3)", r["build_over_floor"]),
        ("build / floor, CPU", r["build_over_floor_cpu"]),
        ("duplicate rows the build drops", r["duplicate_rows"]),
        ("exact deduplication alone: wall s", r["dedup_s"]),
        ("deduplication alone / floor, wall", r["dedup_over_floor"]),
        ("deduplication alone / floor, CPU", r["dedup_over_floor_cpu"]),
        ("feature build: peak RSS MiB", r["peak_rss_build_mib"]),
    ]  # fmt: skip
    record("behaviour", figures, load_before)


if __name__ == "__main__":
    main()
