"""One profile run's state (input, settings, chunks, champions) and its wall time per step."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from src.scoring.champions import Champion
from src.scoring.settings import Settings


@dataclass
class Job:
    """One profile run: the input, its chunks and what scores them; `timings` adds up wall time per step."""

    folder: Path
    settings: Settings
    champions: dict[str, Champion]
    labeller: Callable[[list[str]], list[str]] | None
    chunks: list[tuple[int, int, int]]
    reference_month: str | None
    timings: dict[str, float]


@contextmanager
def timed(timings: dict[str, float], step: str) -> Iterator[None]:
    """Add the block's wall time to timings[step]."""
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.perf_counter() - began
