"""Stream tables to Parquet with settings that make the bytes reproducible, and write the manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from src.data.checksums import sha256_file
from src.data.layout import part_name, table_files, table_path
from src.data.warehouse import TABLES


class ParquetTables:
    """Tables written chunk by chunk; no wall-clock data in the files, fixed row-group cap.

    One file per table (`<name>.parquet`), or with `partitioned` a folder `<name>.parquet/` holding
    one part file per chunk: the same rows in the same order either way.
    """

    def __init__(
        self, out_dir: Path, row_group_size: int, compression: str, partitioned: bool = False
    ) -> None:
        self.out_dir = out_dir
        self.row_group_size = row_group_size
        self.compression = compression
        self.partitioned = partitioned
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {name: 0 for name in TABLES}
        self.parts = 0

    def write(self, tables: dict[str, pa.Table]) -> None:
        """Append one chunk of every table (a new part file of each when partitioned)."""
        for name, table in tables.items():
            if self.partitioned:
                folder = table_path(self.out_dir, name)
                folder.mkdir(exist_ok=True)
                with self._writer(folder / part_name(self.parts), table.schema) as writer:
                    writer.write_table(table, row_group_size=self.row_group_size)
            else:
                if name not in self.writers:
                    self.writers[name] = self._writer(table_path(self.out_dir, name), table.schema)
                self.writers[name].write_table(table, row_group_size=self.row_group_size)
            self.rows[name] += table.num_rows
        self.parts += 1

    def _writer(self, path: Path, schema: pa.Schema) -> pq.ParquetWriter:
        """A Parquet writer with the population's settings."""
        return pq.ParquetWriter(path, schema, compression=self.compression, write_statistics=True)

    def close(self) -> None:
        """Close every file (footers are written here)."""
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def population_files(out_dir: Path) -> list[Path]:
    """The files a manifest vouches for: every table (each part of a partitioned one) and the ceilings."""
    tables = [file for name in TABLES for file in table_files(table_path(out_dir, name))]
    return [*tables, out_dir / "ceilings.json"]


def file_checksums(out_dir: Path) -> dict[str, str]:
    """SHA-256 of each population file by its path in `out_dir` (`calls.parquet/part-00000.parquet`)."""
    return {path.relative_to(out_dir).as_posix(): sha256_file(path) for path in population_files(out_dir)}


def file_sizes(out_dir: Path) -> dict[str, int]:
    """Size in bytes of every file of `file_checksums`."""
    return {path.relative_to(out_dir).as_posix(): path.stat().st_size for path in population_files(out_dir)}


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Deterministic JSON (sorted keys, UTF-8, trailing newline)."""
    path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
