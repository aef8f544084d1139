"""Benchmark churn single-row latency through `mlflow models serve` on loopback (goal: p50 <= 25 ms).

Example: python benchmarks/bench_serving.py                   (LightGBM churn, 200 requests)
         python benchmarks/bench_serving.py --model logreg --requests 100

Trains one churn model in a temporary store, registers it as the champion, serves it on 127.0.0.1
(a free port, bounded start-up wait), posts the same raw IBM row (its feature columns)
`--requests` times after a few warm-up requests, and prints p50/p95/max of the client-side round
trip and of the in-process predict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TELCO = ROOT / "data/raw/ibm_telco_customer_churn/Telco-Customer-Churn.csv"
WARM_UP = 10


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50, p95 and max of latencies in milliseconds."""
    ordered = sorted(samples_ms)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "max_ms": ordered[-1],
    }


def main() -> None:
    """Train, register, serve and time single-row requests."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="lightgbm")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    import mlflow
    import pandas as pd

    from src.config import compose
    from src.experiment import run
    from src.models.registry import champion_uri
    from src.models.serving import post_frame, serving
    from src.reports.bench_page import record
    from src.tracking import configure_store

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as folder:
        root = Path(folder)
        cfg = compose(
            [
                f"paths.mlruns_dir={root / 'mlruns'}",
                f"paths.cache_dir={root / 'cache'}",
                "task=churn",
                f"model={args.model}",
                "evaluation.n_bootstrap=50",
                "mlflow.register=always",
            ]
        )
        run(cfg)
        uri = champion_uri(cfg, "churn")
        row = pd.read_csv(TELCO).drop(columns=["customerID", "Churn"]).head(1)  # what a deployer sends
        configure_store(cfg)
        local_model = mlflow.pyfunc.load_model(uri)
        local = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            local_model.predict(row)
            local.append(1000 * (time.perf_counter() - t0))
        with serving(uri, cfg.mlflow.tracking_uri, root / "server.log", timeout_s=180, cwd=root) as server:
            for _ in range(WARM_UP):
                post_frame(server.url, row)
            served = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                post_frame(server.url, row)
                served.append(1000 * (time.perf_counter() - t0))
    print(f"churn/{args.model}, one raw row, {args.requests} requests after {WARM_UP} warm-up")
    for label, samples in (("served (HTTP round trip)", served), ("in-process predict", local)):
        figures = percentiles(samples)
        print(f"  {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
    print(f"  goal p50 <= 25 ms: {'met' if percentiles(served)['p50_ms'] <= 25 else 'NOT met'}")
    figures = [("model", f"churn/{args.model}"), ("requests (after 10 warm-up)", args.requests)]
    for label, samples in (("HTTP round trip", served), ("in-process predict", local)):
        figures += [
            (f"{label}: {k.replace('_ms', ' ms')}", round(v, 1)) for k, v in percentiles(samples).items()
        ]
    record("serving", figures, load_before)


if __name__ == "__main__":
    main()
