"""Time one text model fit on the task's train split, with and without chi2 column selection.

The features (the model variant's capped TF-IDF) are fitted once on train; each variant then fits
the model on train (after `SelectKBest(chi2, k)` fitted on train, when k is given) and is scored on
validation. The test split is never read. Wall and process CPU time (every thread) are printed.

Example: python benchmarks/bench_text_models.py --task spam --model lightgbm --k 0 1000 2000
         (k 0: every column, as the variant was before chi2 selection)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    """Fit the model once per k and print fit times and the validation selection metric."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", default="spam")
    parser.add_argument("--model", default="lightgbm")
    parser.add_argument("--k", type=int, nargs="+", default=[0, 1000], help="columns kept (0: all)")
    parser.add_argument("--max-train-rows", type=int, default=0, help="first n train rows only (0: all)")
    args = parser.parse_args()

    from omegaconf import OmegaConf
    from sklearn.base import clone
    from sklearn.feature_selection import SelectKBest, chi2

    from src.config import compose
    from src.data.splits import make_split
    from src.experiment import learning_split, load_task, pipeline_factory
    from src.models.evaluate import score_pipeline
    from src.reports.bench_page import record

    cfg = compose([f"task={args.task}", f"model={args.model}"])
    data = load_task(cfg)
    evaluation = cfg.evaluation
    full = make_split(data.y, int(cfg.seed), evaluation.val_size, evaluation.test_size, fixed=data.split)
    split = learning_split(full, data.learn_rows)
    train = split.train[: args.max_train_rows] if args.max_train_rows else split.train
    X_train, y_train = data.X.iloc[train], data.y.iloc[train]
    X_val, y_val = data.X.iloc[split.val], data.y.iloc[split.val]
    # every capped column reaches the loop below, which applies each k itself
    OmegaConf.update(cfg, f"model.variants.{cfg.features.kind}.features.select_k", None, force_add=True)
    make_pipeline, _ = pipeline_factory(cfg)
    template = make_pipeline()
    started = time.perf_counter()
    features = clone(template.named_steps["features"]).fit(X_train, y_train)
    F_train, F_val = features.transform(X_train), features.transform(X_val)
    took = time.perf_counter() - started
    print(f"features: {F_train.shape[0]} train rows x {F_train.shape[1]} columns in {took:.1f} s")
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.1f}")
    figures = [("train rows", F_train.shape[0]), ("feature columns", F_train.shape[1])]
    metric = str(cfg.task.selection_metric)
    for k in args.k:
        wall, cpu = time.perf_counter(), time.process_time()
        if k:
            selector = SelectKBest(chi2, k=k).fit(F_train, y_train)
            A_train, A_val = selector.transform(F_train), selector.transform(F_val)
        else:
            A_train, A_val = F_train, F_val
        model = clone(template.named_steps["model"]).fit(A_train, y_train)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        score = score_pipeline(model, A_val, y_val, data.positive_label)[metric]
        label = k or "all"
        print(f"k={label}: fit wall {wall:.1f} s, CPU {cpu:.1f} s, validation {metric} {score:.4f}")
        figures += [
            (f"k={label}: fit wall s", round(wall, 1)), (f"k={label}: fit CPU s", round(cpu, 1)),
            (f"k={label}: validation {metric}", round(float(score), 4)),
        ]  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    record(f"text_models_{args.task}_{args.model}", figures, load_before)


if __name__ == "__main__":
    main()
