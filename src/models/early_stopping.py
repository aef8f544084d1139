"""Early stopping of boosted trees on the validation split: the number of rounds chosen like a grid point.

A LightGBM variant with `early_stopping_rounds: N` is fitted on the training rows while its
validation log-loss is watched; training stops once the loss has not improved for N rounds, and the
model keeps its best round. `n_estimators` is then set to that round, so every later re-fit (on
train + validation, or a CV fold) grows exactly that many rounds and no more. Only the validation
split is read; the test split never is.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from src.errors import ConfigError

log = logging.getLogger(__name__)


def fit_early_stopped(model: Any, F_train: Any, y_train: Any, F_val: Any, y_val: Any, rounds: int) -> int:
    """Fit `model` (a LightGBM estimator) with early stopping on validation; return the rounds kept.

    Validation rows whose label the training rows lack are left out of the watched loss (LightGBM
    cannot score a class it never saw); they still count in the validation metrics.
    """
    import lightgbm

    if not isinstance(model, lightgbm.LGBMModel):
        raise ConfigError(
            f"early_stopping_rounds is set, but {type(model).__name__} is not a LightGBM model; "
            "turn it off with model.variants.<kind>.early_stopping_rounds=null (conf/model/)"
        )
    if int(rounds) < 1:
        raise ConfigError(f"early_stopping_rounds must be a positive number of rounds, got {rounds}")
    y_val = np.asarray(y_val)
    known = np.isin(y_val, np.unique(np.asarray(y_train)))
    watched_X, watched_y = (F_val, y_val) if known.all() else (F_val[known], y_val[known])
    with warnings.catch_warnings():
        # LightGBM 4.7 deprecates eval_set for eval_X/eval_y, but its classifier encodes string labels
        # (yes/no, topic names) only when they come through eval_set
        warnings.filterwarnings("ignore", message=".*'eval_set' is deprecated", category=FutureWarning)
        model.fit(
            F_train,
            y_train,
            eval_set=[(watched_X, watched_y)],
            callbacks=[lightgbm.early_stopping(int(rounds), first_metric_only=True, verbose=False)],
        )
    best = int(model.best_iteration_ or model.n_estimators)
    log.info("early stopping on validation: %d of at most %d rounds", best, model.n_estimators)
    model.set_params(n_estimators=best)  # a re-fit (train + validation, CV folds) grows the kept rounds
    return best
