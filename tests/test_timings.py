"""reports/timings.md: stages from the Makefile's file, runs from the store, totals that add up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src.reports.timings import clock, read_install, read_stages, render, run_times, write_timings
from tests.helpers.champions import CHAMPIONS, TinyChampions


def test_stages_are_read_in_order_and_a_bad_line_is_named(tmp_path: Path) -> None:
    stages = tmp_path / "stages.tsv"
    stages.write_text("simulation\t100.0\t130.5\nsweep\t130.5\t730.5\n", encoding="utf-8")
    frame = read_stages(stages)
    assert frame["stage"].tolist() == ["simulation", "sweep"]
    assert frame["seconds"].tolist() == pytest.approx([30.5, 600.0])
    stages.write_text("simulation\t100.0\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"stages.tsv line 1: expected name<TAB>start<TAB>end"):
        read_stages(stages)
    assert read_stages(tmp_path / "missing.tsv").empty


def test_install_time_is_end_minus_start_or_none(tmp_path: Path) -> None:
    stamp = tmp_path / "install"
    assert read_install(stamp) is None
    stamp.write_text("10.25\t55.75\n", encoding="utf-8")
    assert read_install(stamp) == pytest.approx(45.5)


def test_clock_switches_to_minutes_at_one_minute() -> None:
    assert clock(4.24) == "4.2 s"
    assert clock(65.0) == "1 min 05 s"
    assert clock(531.0) == "8 min 51 s"


def test_page_lists_every_stage_and_run_with_totals() -> None:
    stages = pd.DataFrame({"stage": ["simulation", "sweep"], "seconds": [30.0, 600.0]})
    runs = pd.DataFrame({"task": ["topic", "spam"], "dataset": ["a", "b"], "model": ["lightgbm", "svm"]})
    runs["seconds"] = [583.0, 56.0]
    page = render(stages, None, runs)
    assert "| install | not measured (already installed) |" in page
    assert "| **total, install excluded** | **10 min 30 s** |" in page
    assert "| topic | a | lightgbm | 9 min 43 s |" in page
    assert "| **sum of runs** | | | **10 min 39 s** |" in page


def test_empty_store_still_writes_the_page(make_cfg, tmp_path: Path) -> None:
    stages = tmp_path / "stages.tsv"
    stages.write_text("reports\t0\t12\n", encoding="utf-8")
    output = write_timings(make_cfg(), stages, tmp_path / "no-install")
    page = output.read_text(encoding="utf-8")
    assert output.name == "timings.md" and "| reports | 12.0 s |" in page
    assert "| **sum of runs** | | | **0.0 s** |" in page


@pytest.mark.slow
def test_the_tiny_champions_runs_are_timed_slowest_first(tiny_champions: TinyChampions) -> None:
    runs = run_times(tiny_champions.cfgs["channel"])
    assert dict(zip(runs["task"], runs["model"], strict=True)) == CHAMPIONS
    assert (runs["seconds"] > 0).all() and runs["seconds"].is_monotonic_decreasing
