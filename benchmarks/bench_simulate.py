"""Benchmark the subscriber simulator: users/s, events/s and peak RSS of the real process tree.

Example: python benchmarks/bench_simulate.py --n-users 1000000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from src.reports.bench_page import record  # noqa: E402


def _children(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss(pid: int) -> int:
    """Summed RSS of a process and all its descendants, in KiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss_kib(p)
        todo.extend(_children(p))
    return total


def measure_child(cmd: list[str], cpus: set[int] | None = None) -> tuple[int, float, int, object, str]:
    """Run `cmd` from the project root, sampling its process tree's RSS every 0.2 s.

    With `cpus`, the child and everything it starts (a JVM, its Python workers) may run on those
    CPUs only (Linux CPU affinity, inherited by descendants).
    Returns (exit status, wall seconds, peak tree RSS in KiB, resource usage, stderr text).
    """
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=pin
    )
    peak_tree = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree
        while not stop.is_set():
            peak_tree = max(peak_tree, _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = proc.stderr.read() if proc.stderr else ""  # drain, so a chatty child never blocks
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    return status, wall, peak_tree, usage, stderr


def run(n_users: int, days: int, workers: int, chunk_size: int, out: Path, seed: int) -> dict:
    """Run the CLI in a child process, sampling the process tree's memory while it works."""
    cmd = [
        sys.executable, "-m", "src.data.simulate",
        f"simulate.n_users={n_users}", f"simulate.days={days}", f"simulate.workers={workers}",
        f"simulate.chunk_size={chunk_size}", f"simulate.name=bench_{n_users}", f"paths.simulated_dir={out}",
        f"seed={seed}", "hydra.run.dir=" + str(out / "hydra"),
    ]  # fmt: skip
    load = os.getloadavg()[0]
    status, wall, peak_tree, usage, stderr = measure_child(cmd)
    if status != 0:
        raise SystemExit(f"simulator failed (status {status}):\n{stderr[-2000:]}")
    manifest = json.loads((out / f"bench_{n_users}" / "manifest.json").read_text(encoding="utf-8"))
    return {
        "n_users": n_users,
        "days": days,
        "workers": workers,
        "chunk_size": chunk_size,
        "events": manifest["events"],
        "rows_total": sum(manifest["row_counts"].values()),
        "wall_s": round(wall, 1),
        # CPU seconds of the simulator and its workers: on a shared machine, wall time includes waiting
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        "load_average_at_start": round(load, 1),
        "users_per_s": round(n_users / wall),
        "events_per_s": round(manifest["events"] / wall),
        "peak_rss_main_mib": round(usage.ru_maxrss / 1024),
        "peak_rss_tree_mib": round(max(peak_tree, usage.ru_maxrss) / 1024),
    }


def main() -> None:
    """Parse arguments, run once, print a JSON record and a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated tables")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    tmp = None if args.out else tempfile.TemporaryDirectory(prefix="bench_simulate_")
    out = args.out or Path(tmp.name)
    try:
        result = run(args.n_users, args.days, args.workers, args.chunk_size, out, args.seed)
    finally:
        if tmp and not args.keep:
            tmp.cleanup()
    print(json.dumps(result))
    print(
        f"| {result['n_users']:,} | {result['days']} | {result['workers']} | {result['events']:,} | "
        f"{result['wall_s']} | {result['users_per_s']:,} | {result['events_per_s']:,} | "
        f"{result['peak_rss_tree_mib']:,} |"
    )
    figures = [
        ("users", result["n_users"]), ("days", result["days"]), ("workers", result["workers"]),
        ("events", result["events"]), ("wall s (goal <= 30 at 100,000 users)", result["wall_s"]),
        ("users/s", result["users_per_s"]), ("events/s", result["events_per_s"]),
        ("peak RSS MiB, process tree", result["peak_rss_tree_mib"]),
    ]  # fmt: skip
    record("simulate", figures, load_before)


if __name__ == "__main__":
    main()
