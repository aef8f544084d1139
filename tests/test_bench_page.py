"""The benchmarks page's tables come from the recorded results, never from hand-copied figures."""

from __future__ import annotations

import json

import pytest

from src.reports import bench_page


@pytest.fixture
def page(tmp_path):
    """A page with two markers and a results folder with one recorded benchmark."""
    results = tmp_path / "results"
    text = (
        "# Benchmarks\n\n<!-- bench:demo -->\nold\n<!-- /bench:demo -->\n\n"
        "<!-- bench:other -->\n<!-- /bench:other -->\n"
    )
    target = tmp_path / "benchmarks.md"
    target.write_text(text, encoding="utf-8")
    bench_page.record("demo", [("users", 100000), ("wall s", 25.04), ("engine", "duckdb")], 1.5, results)
    return target, results


def test_a_recorded_benchmark_is_written_between_its_markers(page):
    target, results = page
    assert bench_page.stale_markers(target, results) == ["bench:demo"]
    assert bench_page.write_page(target, results) == []
    text = target.read_text(encoding="utf-8")
    assert "| users | 100,000 |" in text and "| wall s | 25.0 |" in text and "| engine | duckdb |" in text
    assert "old" not in text and "load average 1.5 before" in text
    assert "<!-- bench:other -->\n<!-- /bench:other -->" in text  # nothing recorded: left as it was
    assert bench_page.stale_markers(target, results) == []
    bench_page.record("other", [("rows", 3)], 0.0, results)  # an empty block fills like any other
    assert bench_page.write_page(target, results) == []
    assert "<!-- bench:other -->\n`python" in target.read_text(encoding="utf-8")
    assert "| rows | 3 |\n<!-- /bench:other -->" in target.read_text(encoding="utf-8")


def test_the_record_names_its_command_without_machine_paths(page):
    _, results = page
    result = json.loads((results / "demo.json").read_text(encoding="utf-8"))
    assert result["command"].startswith("python ") and "/" + "work" not in result["command"]
    assert set(result) >= {"commit", "date", "cores", "load_before", "load_after", "figures"}


@pytest.mark.parametrize(
    ("argument", "shown"),
    [
        ("/srv/data/m1", "<m1>"),
        ("--out=/srv/runs/bench", "--out=<bench>"),
        (str(bench_page.PROJECT_ROOT / "data/simulated/default"), "data/simulated/default"),
        ("spark.master=local[2]", "spark.master=local[2]"),
        ("50000", "50000"),
    ],
)
def test_absolute_paths_in_the_command_are_made_portable(argument, shown):
    assert bench_page.portable_argument(argument) == shown


def test_a_result_without_markers_is_reported(page):
    target, results = page
    bench_page.record("unplaced", [("x", 1)], 0.0, results)
    assert bench_page.write_page(target, results) == ["bench:unplaced"]


def test_the_committed_page_matches_the_committed_results():
    """Edit benchmarks/results/ by running a benchmark, then `python -m src.reports.bench_page`."""
    assert bench_page.stale_markers() == []
