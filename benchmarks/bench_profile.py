"""Benchmark the unified customer profile: subscribers profiled per second and peak RSS of the CLI process.

Example: python benchmarks/bench_profile.py --tables data/simulated/default --chunk-users 50000
Needs the champions (channel, content, occupation, churn_sim, and topic for the title labeller) in the
store; without them it prints what is missing and how to train it, and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_simulate import measure_child  # noqa: E402


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


def run(tables: Path, chunk_users: int, mlruns: Path, labeller: str, out: Path) -> dict:
    """Run the CLI in a child process, sampling its process tree's memory while it works."""
    output = out / "profile.parquet"
    cmd = [
        sys.executable, "-m", "src.profile", f"input={tables}", f"output={output}",
        f"chunk_users={chunk_users}", f"paths.mlruns_dir={mlruns}", f"features.titles.labeller={labeller}",
        "hydra.run.dir=" + str(out / "hydra"),
    ]  # fmt: skip
    status, wall, peak_tree, usage, stderr = measure_child(cmd)
    if status != 0:
        raise SystemExit(f"profile failed (status {status}):\n{stderr[-3000:]}")
    sidecar = json.loads((out / "profile.parquet.json").read_text(encoding="utf-8"))
    users, timings = sidecar["counts"]["users_scored"], sidecar["timings_s"]
    work = sum(timings.get(k, 0.0) for k in ("features", "scoring", "rfm", "write"))
    return {
        "users": users,
        "chunk_users": chunk_users,
        "chunks": sidecar["settings"]["chunks"],
        "wall_s": round(wall, 1),
        "users_per_s": round(users / wall),
        "users_per_s_excl_startup": round(users / work) if work else None,
        "timings_s": timings,
        "peak_rss_main_mib": round(usage.ru_maxrss / 1024),
        "peak_rss_tree_mib": round(max(peak_tree, usage.ru_maxrss) / 1024),
        "output_mib": round((out / "profile.parquet").stat().st_size / 2**20, 1),
    }


def main() -> None:
    """Check the champions, run once, print a JSON record and a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=ROOT / "data/simulated/default")
    parser.add_argument("--chunk-users", type=int, default=50_000)
    parser.add_argument("--mlruns", type=Path, default=ROOT / "mlruns", help="the MLflow store folder")
    parser.add_argument("--labeller", default="registry", choices=["registry", "lookup", "none"])
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one)")
    args = parser.parse_args()
    if not (args.tables / "subscribers.parquet").is_file():
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
    try:
        result = run(args.tables.resolve(), args.chunk_users, args.mlruns.resolve(), args.labeller, out)
    finally:
        if tmp:
            tmp.cleanup()
    print(json.dumps(result))
    cells = [result[k] for k in ("users", "chunk_users", "wall_s", "users_per_s", "users_per_s_excl_startup")]
    print("| " + " | ".join(f"{c:,}" for c in [*cells, result["peak_rss_tree_mib"]]) + " |")


if __name__ == "__main__":
    main()
