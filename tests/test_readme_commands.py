"""Every `python -m src.…` command of the user-facing bash blocks composes and passes the settings check.

The blocks are those of the README and of the documentation pages that give commands to run
(docs/deployment.md, docs/extending.md).

Single runs are run as written in a fresh process with `--cfg job` appended (Hydra composes the
config, applies every override and prints it: exit 0), then their config is checked by the entry
point's settings schema. Sweeps (`-m`) cannot be combined with `--cfg`, so each of their jobs is
composed in-process from the sweep's choices and checked the same way. Skipped, with the reason:
- `make …` lines: they install the environment and run the whole suite or the 35-minute reproduction;
- `mlflow models serve` and `curl`: they need a running server and a registered champion.
"""

from __future__ import annotations

import itertools
import re
import shlex
import subprocess
import sys

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from src.config import compose
from src.paths import CONF_DIR, PROJECT_ROOT
from src.settings import ProfileSettings, RunSettings, SimulationSettings, check_settings

README = PROJECT_ROOT / "README.md"
# the README and the documentation pages whose bash blocks a user copies
DOCUMENTED = [README, PROJECT_ROOT / "docs" / "deployment.md", PROJECT_ROOT / "docs" / "extending.md"]


def documented_text() -> str:
    """The README and the command-giving documentation pages, one after the other."""
    return "\n".join(page.read_text(encoding="utf-8") for page in DOCUMENTED)


# module -> (primary config, settings schema checked at its start)
ENTRY_POINTS = {
    "src.run": ("config", RunSettings),
    "src.data.simulate": ("simulation", SimulationSettings),
    "src.profile": ("profile", ProfileSettings),
    "src.promote": ("promote", None),
}
# commands the README gives in its prose rather than in a bash block
PROSE_COMMANDS = [
    "python -m src.run task=occupation model=lightgbm features.titles.labeller=lookup",
    "python -m src.run -m +experiment=paper features.titles.labeller=lookup",
]


def bash_commands(text: str) -> list[str]:
    """The shell commands of every ```bash block (continuation lines joined, comments dropped)."""
    commands: list[str] = []
    for block in re.findall(r"^[ \t]*```bash\n(.*?)^[ \t]*```", text, flags=re.S | re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #")[0].strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def python_commands(commands: list[str]) -> list[str]:
    """The `python -m src.…` commands; the others are the documented skips of the module docstring."""
    return [c for c in commands if re.search(r"python -m src\.", c) and not c.startswith(("make", "PATH="))]


def test_the_readme_has_the_commands_this_test_runs() -> None:
    """The extraction finds the runs, sweeps, simulator, promotion and profile commands."""
    found = python_commands(bash_commands(documented_text()))
    modules = {shlex.split(c)[shlex.split(c).index("-m") + 1] for c in found}
    assert modules == set(ENTRY_POINTS), found
    assert any(" -m +experiment=paper" in c for c in found)


def _split(command: str) -> tuple[str, list[str], bool]:
    """(module, overrides, is a sweep) of a `python -m <module> …` command."""
    words = shlex.split(command)
    at = words.index("-m")
    module, rest = words[at + 1], words[at + 2 :]
    sweep = "-m" in rest or "--multirun" in rest
    return module, [w for w in rest if w not in ("-m", "--multirun", "--cfg", "job")], sweep


def _jobs(overrides: list[str]) -> list[list[str]]:
    """The override lists of a sweep's jobs: its command-line choices and its experiment's sweeper params."""
    choices: dict[str, list[str]] = {}
    for override in overrides:
        if override.startswith("+experiment="):
            experiment = OmegaConf.load(CONF_DIR / "experiment" / f"{override.split('=', 1)[1]}.yaml")
            for key, values in OmegaConf.select(experiment, "hydra.sweeper.params", default={}).items():
                choices[key] = [f"{key}={v.strip()}" for v in str(values).split(",")]
    for override in OverridesParser.create().parse_overrides(overrides):
        if override.is_sweep_override():
            choices[override.get_key_element()] = [
                f"{override.get_key_element()}={v}" for v in override.sweep_string_iterator()
            ]
        else:
            choices[override.input_line] = [override.input_line]
    return [list(job) for job in itertools.product(*choices.values())]


def _check(module: str, overrides: list[str]) -> None:
    """Compose the entry point's config with `overrides` and run its settings check."""
    config, schema = ENTRY_POINTS[module]
    cfg = compose(overrides, config)
    if schema is not None:
        check_settings(cfg, schema)


COMMANDS = python_commands(bash_commands(documented_text())) + PROSE_COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_as_written(command: str) -> None:
    module, overrides, sweep = _split(command)
    if sweep:
        jobs = _jobs(overrides)
        assert len(jobs) > 1, command
        for job in jobs:
            _check(module, job)
        return
    words = shlex.split(command)
    args = words[words.index("-m") + 1 :]
    done = subprocess.run(
        [sys.executable, "-m", *args, *([] if "--cfg" in args else ["--cfg", "job"])],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    _check(module, overrides)
