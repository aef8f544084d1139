"""The suite's own scheduling: the files it runs first must exist."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import LONGEST_FILES


def test_every_file_named_longest_exists() -> None:
    here = Path(__file__).parent
    missing = [name for name in LONGEST_FILES if not (here / name).is_file()]
    assert not missing, f"tests/conftest.py LONGEST_FILES names files that do not exist: {missing}"
