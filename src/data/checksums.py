"""SHA-256 of input files, checked at load and logged with every run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from src.data.errors import DataValidationError


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def sha256_cached(path: str | Path) -> str:
    """SHA-256 of a file, computed once per process for each (path, size, modification time)."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256_file(path)
    return _DIGESTS[key]


_DIGESTS: dict[tuple[str, int, int], str] = {}


def verify_sha256(path: str | Path, expected: str | None) -> str:
    """Return the file's SHA-256; raise if it differs from `expected` (None skips the check)."""
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            "file not found", file=path, hint="check data.path or copy the file into data/raw/"
        )
    actual = sha256_file(path)
    if expected and actual != expected.lower():
        raise DataValidationError(
            f"checksum mismatch: expected sha256 {expected[:12]}…, got {actual[:12]}…",
            file=path,
            hint="the file changed; restore it, or set data.sha256=null / update the data config on purpose",
        )
    return actual
