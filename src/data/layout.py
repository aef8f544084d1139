"""Where a warehouse table lives: one `<name>.parquet` file, or a `<name>.parquet` folder of part files.

The folder layout (the simulator's `partitioned=true`, and what Spark and Hive write) holds
`part-<number>.parquet` files whose concatenation, in name order, is the table. Every reader goes
through these functions, so both layouts read the same.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from src.data.checksums import sha256_cached

PART_GLOB = "*.parquet"


def table_path(folder: Path, name: str) -> Path:
    """The path of table `name` in `folder`: a file or a folder of parts, both `<name>.parquet`."""
    return Path(folder) / f"{name}.parquet"


def part_name(number: int) -> str:
    """The file name of part `number` inside a partitioned table's folder."""
    return f"part-{number:05d}.parquet"


def table_files(path: Path) -> list[Path]:
    """The Parquet files of a table, in row order: itself, or its folder's parts by name; [] if absent.

    Hidden files (`.name`) and Spark's markers (`_SUCCESS`) are not parts.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.glob(PART_GLOB) if p.is_file() and not p.name.startswith((".", "_")))
    return []


def table_exists(path: Path) -> bool:
    """Whether `path` is a Parquet file or a folder with at least one part."""
    return bool(table_files(path))


def scan_source(path: Path) -> str:
    """What DuckDB's or Spark's `read_parquet` is given: the file, or a glob over the folder's parts."""
    path = Path(path)
    return str(path / PART_GLOB) if path.is_dir() else str(path)


def table_sha256(path: Path) -> str:
    """The file's SHA-256; for a folder, the SHA-256 of its parts' names and SHA-256s (one line each)."""
    path = Path(path)
    if path.is_file():
        return sha256_cached(path)
    digest = hashlib.sha256()
    for part in table_files(path):
        digest.update(f"{part.name}={sha256_cached(part)}\n".encode())
    return digest.hexdigest()
