"""Benchmark the unified customer profile: subscribers profiled per second and peak RSS of the CLI process.

Example: python benchmarks/bench_profile.py --tables data/simulated/default --chunk-users 50000
With --engine spark it runs the profile on Spark once per --masters entry (default local[1] and
local[2]) and once on the single-machine (DuckDB) path, and prints the 1 -> 2 core scaling factor;
peak memory is given for the driver's Python process and for its whole tree (with the Spark JVM and
its Python workers).
Needs the champions (channel, content, occupation, churn_sim, and topic for the title labeller) in the
store; without them it prints what is missing and how to train it, and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_simulate import measure_child  # noqa: E402
from src.data.layout import table_exists, table_path  # noqa: E402
from src.reports.bench_page import record  # noqa: E402


def missing_champions(mlruns: Path, labeller: str) -> list[str]:
    """models:/<name>@<alias> URIs the profile needs that the store lacks."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from src import tracking
    from src.config import compose

    cfg = compose(
        ["input=-", "output=-", f"paths.mlruns_dir={mlruns}", f"features.titles.labeller={labeller}"],
        config_name="profile",
    )
    tracking.configure_store(cfg)
    wanted = [(str(name), str(cfg.alias)) for name in cfg.champions.values()]
    if labeller == "registry":
        wanted.append(tuple(str(cfg.features.titles.model_uri).removeprefix("models:/").split("@", 1)))
    client, missing = MlflowClient(), []
    for name, alias in wanted:
        try:
            client.get_model_version_by_alias(name, alias)
        except MlflowException:
            missing.append(f"models:/{name}@{alias}")
    return missing


def master_cores(master: str) -> int | None:
    """The core count of a `local[N]` master (None for `local[*]` or a cluster master)."""
    match = re.fullmatch(r"local\[(\d+)\]", master)
    return int(match.group(1)) if match else None


def run(
    tables: Path,
    chunk_users: int,
    mlruns: Path,
    labeller: str,
    out: Path,
    master: str | None = None,
    pin: bool = False,
) -> dict:
    """Run the CLI in a child process (on Spark with `master`), sampling its process tree's memory.

    With `pin`, a `local[N]` master's whole process tree (driver, JVM, Python workers) is confined to
    N CPUs, so `local[1]` cannot borrow the second core for the JVM's garbage collector and compiler.
    """
    output = out / ("profile.parquet" if master is None else "profile")
    engine = [] if master is None else ["engine=spark", f"spark.master='{master}'"]
    cmd = [
        sys.executable, "-m", "src.profile", f"input={tables}", f"output={output}", *engine,
        f"chunk_users={chunk_users}", f"paths.mlruns_dir={mlruns}", f"features.titles.labeller={labeller}",
        "hydra.run.dir=" + str(out / "hydra"),
    ]  # fmt: skip
    cores = master_cores(master) if (pin and master) else None
    available = sorted(os.sched_getaffinity(0))
    cpus = set(available[:cores]) if cores and cores <= len(available) else None
    status, wall, peak_tree, usage, stderr = measure_child(cmd, cpus)
    if status != 0:
        raise SystemExit(f"profile failed (status {status}):\n{stderr[-3000:]}")
    sidecar = json.loads(output.with_name(output.name + ".json").read_text(encoding="utf-8"))
    users, timings = sidecar["counts"]["users_scored"], sidecar["timings_s"]
    work = sum(timings.get(k, 0.0) for k in ("features", "prior", "scoring", "rfm", "write"))
    files = [output] if output.is_file() else list(output.glob("*.parquet"))
    return {
        "engine": "duckdb" if master is None else f"spark {master}",
        "cpus": len(cpus) if cpus else len(available),
        "users": users,
        "chunk_users": chunk_users,
        "chunks": sidecar["settings"]["chunks"],
        "wall_s": round(wall, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),  # every thread; does not grow with other load
        "users_per_s": round(users / wall),
        "users_per_s_excl_startup": round(users / work) if work else None,
        # an upper bound on the throughput: the champions' predict calls with every other step free
        "users_per_s_scoring_only": round(users / timings["scoring"]) if timings.get("scoring") else None,
        "timings_s": timings,
        "peak_rss_main_mib": round(usage.ru_maxrss / 1024),
        "peak_rss_tree_mib": round(max(peak_tree, usage.ru_maxrss) / 1024),
        "output_mib": round(sum(f.stat().st_size for f in files) / 2**20, 1),
    }


def main() -> None:
    """Check the champions, run once, print a JSON record and a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=ROOT / "data/simulated/default")
    parser.add_argument("--chunk-users", type=int, default=50_000)
    parser.add_argument("--mlruns", type=Path, default=ROOT / "mlruns", help="the MLflow store folder")
    parser.add_argument("--labeller", default="registry", choices=["registry", "lookup", "none"])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    parser.add_argument("--engine", default="local", choices=["local", "spark"])
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"], help="Spark masters to run")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false",
        help="do not confine a local[N] master's processes to N CPUs (pinned by default)",
    )  # fmt: skip
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if not table_exists(table_path(args.tables, "subscribers")):  # a file, or a partitioned folder
        raise SystemExit(f"no tables in {args.tables}: run `python -m src.data.simulate` first")
    missing = missing_champions(args.mlruns.resolve(), args.labeller)
    if missing:
        print(
            f"missing champions in {args.mlruns}: {', '.join(missing)}\n"
            "train them first: `python -m src.run task=topic model=svm`, then `python -m src.run -m "
            "task=occupation,channel,content,churn_sim model=lightgbm` (or the whole `make reproduce`)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    tmp = None if args.out else tempfile.TemporaryDirectory(prefix="bench_profile_")
    out = args.out or Path(tmp.name)
    out.mkdir(parents=True, exist_ok=True)
    masters = [None] if args.engine == "local" else [*args.masters, None]
    results = []
    try:
        for number, master in enumerate(masters):
            where = out / f"run-{number}"
            where.mkdir()
            tables, mlruns = args.tables.resolve(), args.mlruns.resolve()
            results.append(run(tables, args.chunk_users, mlruns, args.labeller, where, master, args.pin))
            print(json.dumps(results[-1]), flush=True)
    finally:
        if tmp:
            tmp.cleanup()
    keys = ("users", "chunk_users", "wall_s", "users_per_s", "users_per_s_excl_startup")
    for result in results:
        cells = [result[k] for k in keys] + [result["peak_rss_main_mib"], result["peak_rss_tree_mib"]]
        print(f"| {result['engine']} | " + " | ".join(f"{c:,}" for c in cells) + " |")
    speed = {r["engine"]: r["users_per_s_excl_startup"] for r in results}
    if speed.get("spark local[1]") and speed.get("spark local[2]"):
        factor = speed["spark local[2]"] / speed["spark local[1]"]
        print(f"scaling 1 -> 2 cores: x{factor:.2f} (users/s excluding startup)")
    figures = [("chunk users", args.chunk_users)]
    for result in results:
        engine = result["engine"]
        figures += [
            (f"{engine}: users", result["users"]), (f"{engine}: CPUs", result["cpus"]),
            (f"{engine}: wall s", result["wall_s"]),
            (f"{engine}: users/s", result["users_per_s"]),
            (f"{engine}: users/s excluding startup", result["users_per_s_excl_startup"]),
            (f"{engine}: features s", round(result["timings_s"].get("features", 0.0), 1)),
            (f"{engine}: scoring s", round(result["timings_s"].get("scoring", 0.0), 1)),
            (f"{engine}: users/s of the scoring alone", result["users_per_s_scoring_only"]),
            (f"{engine}: peak RSS MiB, main process", result["peak_rss_main_mib"]),
            (f"{engine}: peak RSS MiB, process tree", result["peak_rss_tree_mib"]),
        ]  # fmt: skip
    if speed.get("spark local[1]") and speed.get("spark local[2]"):
        figures.append(("Spark scaling 1 -> 2 cores (users/s excluding startup)", round(factor, 2)))
    record("profile_spark" if args.engine == "spark" else "profile", figures, load_before)


if __name__ == "__main__":
    main()
