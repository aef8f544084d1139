"""Run the project's entry points in a fresh process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from src.paths import PROJECT_ROOT


def run_cli(*args: str, cwd: Path | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `python -m <args>` in a fresh process, as a user would."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd or PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
