"""Partitioned simulator output: the same tables as one file each, verified part by part, read by everyone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from src.data.layout import table_files, table_path
from src.data.population import IncompletePopulation, verify_population
from src.data.warehouse import TABLES
from src.features.behaviour import build_behaviour_features, default_spec
from src.scoring.inputs import check_inputs, subscriber_ids
from src.scoring.rfm import read_bills


@pytest.fixture
def partitioned(tiny_partitioned: Path) -> Path:
    """The tiny population written with `simulate.partitioned=true`."""
    return tiny_partitioned


def _concatenated(path: Path) -> pa.Table:
    """A table's rows in order: its file, or its parts one after the other."""
    return pa.concat_tables([pq.read_table(file) for file in table_files(path)])


def test_every_table_is_a_folder_of_parts_with_the_same_rows_in_order(tiny: Path, partitioned: Path) -> None:
    """Each table is a folder of one part per chunk; concatenated, the parts equal the single file."""
    for name in TABLES:
        folder = table_path(partitioned, name)
        assert folder.is_dir(), name
        assert len(table_files(folder)) == 2, name  # tiny: 2,000 users in chunks of 1,000
        assert _concatenated(folder).equals(pq.read_table(table_path(tiny, name))), name


def test_manifest_lists_every_part(tiny: Path, partitioned: Path) -> None:
    """The manifest vouches for every part file; row counts equal the single-file population's."""
    manifest = verify_population(partitioned)
    single = verify_population(tiny)
    assert manifest is not None and single is not None
    parts = {
        p.relative_to(partitioned).as_posix() for n in TABLES for p in table_files(table_path(partitioned, n))
    }
    assert parts | {"ceilings.json"} == set(manifest["files_sha256"])
    assert manifest["row_counts"] == single["row_counts"]
    assert manifest["config"]["simulate"]["partitioned"] is True


@pytest.fixture
def damaged(partitioned: Path, tmp_path: Path) -> Path:
    """A private copy of the partitioned population that a test may damage."""
    return Path(shutil.copytree(partitioned, tmp_path / "tiny"))


def test_missing_changed_or_extra_part_is_refused(damaged: Path) -> None:
    """A part that is gone, altered or unlisted makes the population incomplete, named by its path."""
    calls = table_files(table_path(damaged, "calls"))
    extra = calls[0].with_name("part-00099.parquet")
    shutil.copy(calls[0], extra)
    with pytest.raises(
        IncompletePopulation, match=r"calls\.parquet/part-00099\.parquet is not in the manifest"
    ):
        verify_population(damaged)
    extra.unlink()
    data = bytearray(calls[1].read_bytes())
    data[len(data) // 2] ^= 0xFF
    calls[1].write_bytes(bytes(data))
    with pytest.raises(IncompletePopulation, match=r"calls\.parquet/part-00001\.parquet differs"):
        verify_population(damaged)
    calls[1].unlink()
    with pytest.raises(IncompletePopulation, match=r"calls\.parquet/part-00001\.parquet is missing"):
        check_inputs(damaged)


def test_readers_see_the_same_population(tiny: Path, partitioned: Path) -> None:
    """Input checks, subscriber ids, bills and the behaviour features are equal for both layouts."""
    assert check_inputs(partitioned) == check_inputs(tiny)
    assert (subscriber_ids(partitioned) == subscriber_ids(tiny)).all()
    assert read_bills(partitioned, 0, 10**12).equals(read_bills(tiny, 0, 10**12))
    spec = default_spec()
    one = build_behaviour_features(tiny, spec)
    parts = build_behaviour_features(partitioned, spec, user_range=(0, 10**12))
    assert parts.equals(one)
