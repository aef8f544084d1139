"""Prediction threads of a loaded model: LightGBM boosters trained on one thread may predict on several.

The sweep fits every estimator on one thread (one job per core), and LightGBM keeps that
`num_threads` for prediction. A booster predicts each row on its own, so the number of threads
changes the speed, never the probabilities (tests/test_prediction_threads.py checks it bit for bit).
Only LightGBM is changed: a forest's `n_jobs` adds its trees' votes in whatever order the threads
finish, which can move the last bit of a probability.
"""

from __future__ import annotations

from typing import Any

from lightgbm import LGBMModel
from sklearn.base import BaseEstimator


def set_prediction_threads(model: Any, threads: int) -> int:
    """Set `num_threads` of every LightGBM estimator inside `model`; return how many were set.

    Looks through scikit-learn estimators' attributes (pipelines, project estimators such as the
    channel bundle), dicts, lists and tuples. `threads` >= 1.
    """
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    seen: set[int] = set()
    found = 0

    def visit(obj: Any) -> None:
        nonlocal found
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type)) or obj is None:
            return
        seen.add(id(obj))
        if isinstance(obj, LGBMModel):
            obj.set_params(num_threads=threads)
            found += 1
            return
        if isinstance(obj, dict):
            children = list(obj.values())
        elif isinstance(obj, (list, tuple)):
            children = list(obj)
        elif isinstance(obj, BaseEstimator):  # pipelines, column transformers, project estimators
            children = list(vars(obj).values())
        else:
            children = []
        for child in children:
            visit(child)

    visit(model)
    return found
