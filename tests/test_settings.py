"""Bad settings: one `error:` line naming the key, the value and what is allowed; exit code 1; no work."""

from __future__ import annotations

from pathlib import Path

import pytest

from src.config import compose
from src.data.simulate.__main__ import main as simulate_main
from src.errors import ConfigError
from src.settings import ProfileSettings, RunSettings, SimulationSettings, check_settings
from tests.helpers.cli import run_cli


def _error_line(stderr: str) -> str:
    """The only `error:` line of a failed command (there must be exactly one)."""
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


def _run(tmp_path: Path, *args: str) -> str:
    """Run `python -m src.run …` with everything it writes under tmp_path; return its error line."""
    done = run_cli(
        "src.run", *args, f"paths.mlruns_dir={tmp_path / 'mlruns'}", f"paths.cache_dir={tmp_path / 'cache'}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    return _error_line(done.stderr)


def _run_error(*overrides: str) -> str:
    """The line `python -m src.run …` would print (the CLI test below covers its wrapper)."""
    with pytest.raises(ConfigError) as caught:
        check_settings(compose(["task=churn", "model=majority", *overrides]), RunSettings)
    line = f"error: {caught.value}"
    assert "\n" not in line
    return line


def test_seed_that_is_not_a_number() -> None:
    line = _run_error("seed=abc")
    assert line.startswith("error: seed='abc' is not allowed") and "whole number >= 0" in line


def test_val_size_that_is_not_a_number() -> None:
    line = _run_error("evaluation.val_size=abc")
    assert line.startswith("error: evaluation.val_size='abc' is not allowed")
    assert "between 0 and 1" in line


def test_val_size_above_one_names_val_size_not_the_derived_test_share() -> None:
    line = _run_error("evaluation.val_size=1.5")
    assert line.startswith("error: evaluation.val_size=1.5 is not allowed") and "between 0 and 1" in line
    assert "1.76" not in line and "test_size" not in line


@pytest.mark.slow
def test_removed_required_key(tmp_path: Path) -> None:
    line = _run(tmp_path, "task=churn", "model=majority", "~evaluation.test_size")
    assert line == "error: evaluation.test_size is missing: set it to a number between 0 and 1, both excluded"


def _simulate(tmp_path: Path, *args: str) -> str:
    """Run `python -m src.data.simulate …` into tmp_path; its error line, once sure nothing was written."""
    out = tmp_path / "sim"
    done = run_cli(
        "src.data.simulate", "simulate=tiny", f"paths.simulated_dir={out}", f"hydra.run.dir={tmp_path}", *args
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert not out.exists()  # refused before any work
    return _error_line(done.stderr)


@pytest.mark.slow
def test_simulate_n_users_that_is_not_a_number(tmp_path: Path) -> None:
    line = _simulate(tmp_path, "simulate.n_users=abc")
    assert line.startswith("error: simulate.n_users='abc' is not allowed") and "whole number >= 1" in line


def test_simulate_chunk_size_zero(tmp_path: Path) -> None:
    """The simulator's entry point in this process (the test above starts the real command)."""
    out = tmp_path / "sim"
    cfg = compose(["simulate=tiny", f"paths.simulated_dir={out}", "simulate.chunk_size=0"], "simulation")
    with pytest.raises(SystemExit) as caught:
        simulate_main(cfg)
    line = str(caught.value.code)
    assert line.startswith("error: simulate.chunk_size=0 is not allowed") and "whole number >= 1" in line
    assert "\n" not in line and not out.exists()  # refused before any work


@pytest.mark.slow
def test_profile_output_that_is_an_existing_folder_fails_before_the_work(tmp_path: Path) -> None:
    """Refused before the input is read (it does not exist, which would be the next error) or scored."""
    folder = tmp_path / "reports"
    folder.mkdir()
    done = run_cli(
        "src.profile", f"input={tmp_path / 'nowhere'}", f"output={folder}",
        f"paths.mlruns_dir={tmp_path / 'mlruns'}", f"hydra.run.dir={tmp_path / 'hydra'}",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    line = _error_line(done.stderr)
    assert line.startswith(f"error: output={folder} is an existing folder"), line
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    ("overrides", "schema", "config", "expected"),
    [
        (["evaluation.val_size=0.9"], RunSettings, "config", "leaves no rows to train on"),
        (["~seed"], RunSettings, "config", "seed is missing: set it to a whole number >= 0"),
        (["seed=1.5"], SimulationSettings, "simulation", "seed=1.5 is not allowed"),
        (["simulate.days=-1"], SimulationSettings, "simulation", "simulate.days=-1 is not allowed"),
        (["input=x"], ProfileSettings, "profile", "output is missing"),
        (
            ["input=x", "output=y.parquet", "chunk_users=0"],
            ProfileSettings,
            "profile",
            "chunk_users=0 is not",
        ),
    ],
)
def test_other_bad_settings_name_the_key(
    overrides: list[str], schema: type, config: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        check_settings(compose(overrides, config), schema)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "config", "overrides"),
    [
        (RunSettings, "config", []),
        (RunSettings, "config", ["task=occupation"]),
        (SimulationSettings, "simulation", []),
        (SimulationSettings, "simulation", ["simulate=tiny"]),
        (ProfileSettings, "profile", ["input=data/simulated/default", "output=reports/profile.parquet"]),
    ],
)
def test_shipped_configs_pass(schema: type, config: str, overrides: list[str]) -> None:
    check_settings(compose(overrides, config), schema)
