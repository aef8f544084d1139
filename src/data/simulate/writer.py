"""Stream tables to Parquet with settings that make the bytes reproducible, and write the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from src.data.checksums import sha256_file
from src.data.warehouse import TABLES


class ParquetTables:
    """One ParquetWriter per table; no wall-clock data in the files, fixed row-group cap."""

    def __init__(self, out_dir: Path, row_group_size: int, compression: str) -> None:
        self.out_dir = out_dir
        self.row_group_size = row_group_size
        self.compression = compression
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {name: 0 for name in TABLES}

    def write(self, tables: dict[str, pa.Table]) -> None:
        """Append one chunk of every table."""
        for name, table in tables.items():
            if name not in self.writers:
                self.writers[name] = pq.ParquetWriter(
                    self.out_dir / f"{name}.parquet",
                    table.schema,
                    compression=self.compression,
                    write_statistics=True,
                )
            self.writers[name].write_table(table, row_group_size=self.row_group_size)
            self.rows[name] += table.num_rows

    def close(self) -> None:
        """Close every file (footers are written here)."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def population_files(out_dir: Path) -> list[Path]:
    """The files a manifest vouches for: every table and the ceilings."""
    return [out_dir / f"{name}.parquet" for name in TABLES] + [out_dir / "ceilings.json"]


def file_checksums(out_dir: Path) -> dict[str, str]:
    """SHA-256 of every table file and of the ceilings."""
    return {path.name: sha256_file(path) for path in population_files(out_dir)}


def file_sizes(out_dir: Path) -> dict[str, int]:
    """Size in bytes of every file of `file_checksums`."""
    return {path.name: path.stat().st_size for path in population_files(out_dir)}


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Deterministic JSON (sorted keys, UTF-8, trailing newline)."""
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
