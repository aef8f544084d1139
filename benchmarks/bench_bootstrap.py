"""Benchmark the run's metric intervals against scipy.stats.bootstrap with sklearn's metrics.

Example: python benchmarks/bench_bootstrap.py                 (2,000 binary rows, 1,000 resamples)
         python benchmarks/bench_bootstrap.py --rows 5000 --resamples 500
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Time both ways on the same synthetic scores and print their ROC-AUC intervals."""
    from scipy.stats import bootstrap
    from sklearn.metrics import accuracy_score, roc_auc_score

    from src.models.bootstrap import bootstrap_intervals
    from src.reports.bench_page import record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=args.rows)
    p = np.clip(y * 0.3 + rng.random(args.rows) * 0.7, 0.0, 1.0)
    pred = (p > 0.5).astype(int)

    started = time.perf_counter()
    ours = bootstrap_intervals(y, pred, np.column_stack([1 - p, p]), [0, 1], 1, args.resamples, 0.95, 42)
    ours_s = time.perf_counter() - started

    def accuracy_and_auc(rows: np.ndarray) -> np.ndarray:
        rows = rows.astype(int)
        return np.array([accuracy_score(y[rows], pred[rows]), roc_auc_score(y[rows], p[rows])])

    started = time.perf_counter()
    theirs = bootstrap(
        (np.arange(args.rows),),
        accuracy_and_auc,
        n_resamples=args.resamples,
        method="percentile",
        vectorized=False,
        rng=np.random.default_rng(42),
    ).confidence_interval
    scipy_s = time.perf_counter() - started
    print(f"rows {args.rows}, resamples {args.resamples}")
    print(f"src.models.bootstrap.bootstrap_intervals ({len(ours)} metrics): {ours_s:.2f} s")
    print(f"scipy.stats.bootstrap + sklearn (accuracy, roc_auc): {scipy_s:.2f} s")
    print(f"roc_auc interval: ours {ours['roc_auc']}, scipy ({theirs.low[1]}, {theirs.high[1]})")
    figures = [
        ("rows", args.rows), ("resamples", args.resamples),
        (f"src.models.bootstrap ({len(ours)} metrics): s", round(ours_s, 2)),
        ("scipy.stats.bootstrap + sklearn (2 metrics): s", round(scipy_s, 2)),
    ]  # fmt: skip
    record("bootstrap", figures, load_before)


if __name__ == "__main__":
    main()
