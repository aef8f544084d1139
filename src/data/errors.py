"""The one error type for bad input data: it names the file, the row and the column."""

from __future__ import annotations

from pathlib import Path

from src.errors import ProfilingError
from src.paths import PROJECT_ROOT


class DataValidationError(ProfilingError, ValueError):
    """Bad input data; the message says where (file, 1-based line, column) and what to do."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.hint = file, row, column, hint
        where = []
        if file is not None:
            where.append(f"file {_display(file)}")
        if row is not None:
            where.append(f"line {row}")
        if column is not None:
            where.append(f"column '{column}'")
        text = f"{', '.join(where)}: {message}" if where else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


def _display(path: str | Path) -> str:
    """Show paths relative to the project root when they are inside it."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)
