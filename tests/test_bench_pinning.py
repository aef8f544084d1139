"""The profile benchmark confines a local[N] Spark master to N CPUs, so 1 -> 2 cores means something."""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks.bench_profile import master_cores
from benchmarks.bench_simulate import measure_child


@pytest.mark.parametrize(
    ("master", "cores"), [("local[1]", 1), ("local[2]", 2), ("local[*]", None), ("yarn", None)]
)
def test_the_core_count_is_read_from_a_local_master_only(master: str, cores: int | None) -> None:
    assert master_cores(master) == cores


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_a_pinned_child_and_its_children_run_on_the_given_cpus_only() -> None:
    first = min(os.sched_getaffinity(0))
    grandchild = "import os, sys; sys.stderr.write(str(sorted(os.sched_getaffinity(0))))"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}])"
    status, _, _, _, stderr = measure_child([sys.executable, "-c", child], {first})
    assert status == 0 and stderr.strip() == str([first])
    status, _, _, _, stderr = measure_child([sys.executable, "-c", child])
    assert stderr.strip() == str(sorted(os.sched_getaffinity(0)))
