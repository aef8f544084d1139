"""Atomic outputs: a killed simulator leaves the previous population; readers refuse partial folders."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from src.config import compose
from src.data.population import IncompletePopulation, verify_population
from src.data.simulate import simulate
from src.io_atomic import atomic_folder, atomic_output
from src.paths import PROJECT_ROOT
from src.scoring.inputs import check_inputs
from tests.helpers.cli import run_cli

INCOMPLETE = "incomplete population at "


def _checksums(folder: Path) -> dict[str, str]:
    """The manifest's checksums of a population folder."""
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files_sha256"]


def _start_simulator(out: Path, *overrides: str) -> subprocess.Popen:
    """`python -m src.data.simulate` in a fresh process, writing under `out`."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HYDRA_FULL_ERROR": "0"}
    args = ["simulate=tiny", f"paths.simulated_dir={out}", f"hydra.run.dir={out / 'hydra'}", *overrides]
    return subprocess.Popen(
        [sys.executable, "-m", "src.data.simulate", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for_partial_tables(out: Path, proc: subprocess.Popen, timeout: float = 120) -> Path:
    """The rerun's partial folder, once a table in it has bytes on disk (the rerun is mid-write)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for folder in out.glob(".tiny.*.partial"):
            if any(p.stat().st_size > 0 for p in folder.glob("*.parquet")):
                return folder
        assert proc.poll() is None, "the simulator finished before it could be killed mid-write"
        time.sleep(0.05)
    raise AssertionError("the simulator never started writing")


@pytest.mark.slow
def test_killed_rerun_keeps_previous_population_and_readers_refuse_the_partial_folder(
    tiny: Path, tmp_path: Path
) -> None:
    """SIGKILL while the rerun writes: the old population verifies unchanged; the partial one is refused."""
    target = Path(shutil.copytree(tiny, tmp_path / "tiny"))  # the previous population, as simulated
    before = _checksums(target)

    # a larger rerun with small chunks, so that it is surely still writing when killed
    proc = _start_simulator(tmp_path, "seed=7", "simulate.n_users=40000", "simulate.chunk_size=500")
    try:
        partial = _wait_for_partial_tables(tmp_path, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert verify_population(target)["files_sha256"] == before  # every file present, sizes and SHA-256
    assert not (partial / "manifest.json").exists()

    # a reader pointed at the partial folder gets the one-line error and exit code 1
    done = run_cli(
        "src.run", "task=occupation", "model=majority", f"data.tables_dir={partial}",
        f"paths.mlruns_dir={tmp_path / 'mlruns'}", f"paths.cache_dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'hydra-run'}",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {INCOMPLETE}"), done.stderr[-2000:]
    assert "no manifest.json" in last and "rerun `python -m src.data.simulate" in last
    assert "Traceback" not in done.stderr

    # the next run removes the killed run's leftover and replaces the population (a smaller one is enough)
    rerun = ["simulate=tiny", f"paths.simulated_dir={tmp_path}", "seed=7", "simulate.n_users=500"]
    simulate(compose(rerun, config_name="simulation"))
    assert not partial.exists()
    assert _checksums(target) != before


@pytest.fixture
def population(tiny: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny population that a test may damage."""
    return Path(shutil.copytree(tiny, tmp_path / "tiny"))


def test_truncated_table_is_refused_with_its_name(population: Path) -> None:
    """A table shorter than the manifest says is an incomplete population, named relative to the root."""
    calls = population / "calls.parquet"
    calls.write_bytes(calls.read_bytes()[:1000])
    with pytest.raises(IncompletePopulation, match=r"calls\.parquet has 1000 bytes, the manifest says \d+"):
        verify_population(population)


def test_same_size_but_changed_table_is_refused(population: Path) -> None:
    """Equal size, other bytes: the checksum catches it."""
    labels = population / "labels.parquet"
    data = bytearray(labels.read_bytes())
    data[len(data) // 2] ^= 0xFF
    labels.write_bytes(bytes(data))
    with pytest.raises(IncompletePopulation, match=r"labels\.parquet differs from the manifest's SHA-256"):
        verify_population(population)


def test_missing_table_is_refused_and_profile_check_names_it(population: Path) -> None:
    """The profile's input check verifies a simulated folder's manifest too."""
    (population / "sms.parquet").unlink()
    with pytest.raises(IncompletePopulation, match=r"sms\.parquet is missing\): rerun `python -m src\.data"):
        check_inputs(population)


def test_a_users_export_without_manifest_still_scores(population: Path) -> None:
    """The profile accepts a warehouse export that no simulator wrote (no manifest)."""
    (population / "manifest.json").unlink()
    assert check_inputs(population).rows["subscribers"] > 0
    with pytest.raises(IncompletePopulation, match=r"no manifest\.json"):
        verify_population(population)


def test_failed_folder_write_keeps_the_previous_content(tmp_path: Path) -> None:
    """An exception inside atomic_folder leaves the target as it was and no partial folder behind."""
    target = tmp_path / "out"
    with atomic_folder(target) as folder:
        (folder / "a.txt").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_folder(target) as folder:
        (folder / "a.txt").write_text("new", encoding="utf-8")
        raise RuntimeError("boom")
    assert (target / "a.txt").read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_failed_file_write_keeps_the_previous_file(tmp_path: Path) -> None:
    """An exception inside atomic_output leaves the old file and no temporary file."""
    target = tmp_path / "f.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_output(target) as partial:
        partial.write_text("new", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
