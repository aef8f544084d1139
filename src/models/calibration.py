"""Probability calibration of a task's models: scikit-learn's `CalibratedClassifierCV` on training folds.

The calibrator learns from out-of-fold predictions on the training rows only (shuffled, stratified
folds seeded by the run's seed), and the model itself is then fitted on every training row
(`ensemble=False`), so validation and test rows never shape the calibration. A sigmoid keeps the
ranking (ROC-AUC unchanged); isotonic may merge ties.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig
from sklearn.calibration import CalibratedClassifierCV
from sklearn.model_selection import StratifiedKFold

from src.errors import ConfigError

METHODS: tuple[str, ...] = ("none", "sigmoid", "isotonic")
NONE = "none"


def calibration_method(calibration: DictConfig | None, model_name: str) -> str:
    """`method`, or with `method: auto` the model's entry in `by_model` (none if it has none)."""
    if calibration is None:
        return NONE
    method = str(calibration.get("method", NONE))
    if method == "auto":
        method = str((calibration.get("by_model") or {}).get(model_name, NONE))
    if method not in METHODS:
        raise ConfigError(
            f"task.calibration.method: unknown method '{method}' for model '{model_name}' "
            f"(choose auto, {', '.join(METHODS)})"
        )
    return method


def calibrated(estimator: Any, method: str, folds: int, seed: int) -> Any:
    """`estimator` wrapped so its probabilities are calibrated on `folds` training folds (or as is)."""
    if method == NONE:
        return estimator
    if int(folds) < 2:
        raise ConfigError(f"task.calibration.cv must be at least 2 folds, got {folds}")
    cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
    return CalibratedClassifierCV(estimator, method=method, cv=cv, ensemble=False)


def calibrated_grid(grid: dict[str, list], method: str) -> dict[str, list]:
    """The model's grid addressed to the wrapped estimator (`C` -> `estimator__C`) when calibrating."""
    if method == NONE:
        return dict(grid)
    return {f"estimator__{key}": values for key, values in grid.items()}


def base_estimator(model: Any) -> Any:
    """The fitted estimator inside a calibration wrapper (the model itself when not wrapped)."""
    if isinstance(model, CalibratedClassifierCV) and hasattr(model, "calibrated_classifiers_"):
        return model.calibrated_classifiers_[0].estimator
    return model
