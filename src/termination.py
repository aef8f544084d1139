"""End the active MLflow run as KILLED when a scheduler stops the process with SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import mlflow

log = logging.getLogger(__name__)
KILLED = "KILLED"


def end_active_run_as_killed(signum: int, _frame: FrameType | None) -> None:
    """Signal handler: mark the active run KILLED, then exit with the conventional 128 + signal code."""
    active = mlflow.active_run()
    if active is not None:
        log.error("received signal %d: ending run %s as %s", signum, active.info.run_id, KILLED)
        mlflow.set_tag("error", f"killed by signal {signum}")
        mlflow.end_run(status=KILLED)
    raise SystemExit(128 + signum)


@contextmanager
def runs_end_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM ends the active run as KILLED (main thread only; else a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, end_active_run_as_killed)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
