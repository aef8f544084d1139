"""Splits, model selection on validation, metrics and bootstrap intervals, shared by every task."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
)
from sklearn.model_selection import FixedThresholdClassifier, ParameterGrid
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from src.data.splits import SPLITS, Split, make_split  # noqa: F401  (re-exported: the harness's split)
from src.models.bootstrap import bootstrap_intervals  # noqa: F401  (re-exported)
from src.models.early_stopping import fit_early_stopped
from src.models.single_pass import labels_and_proba

log = logging.getLogger(__name__)
SLOW_FIT_S = 2.0  # a fit longer than this is logged with its time (a sweep is never silent for long)
THRESHOLD_RULES = ("f1",)  # `task.decision_threshold`: null (the model's own decision) or one of these


def compute_metrics(
    y_true: Sequence,
    y_pred: Sequence,
    proba: np.ndarray | None,
    classes: Sequence,
    positive_label: Any = None,
) -> dict[str, float]:
    """Accuracy, macro-F1, per-class F1 and, with probabilities, ROC-AUC, PR-AUC, log-loss, Brier."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    classes = list(classes)
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)),
    }
    per_class = f1_score(y_true, y_pred, labels=classes, average=None, zero_division=0)
    for label, value in zip(classes, per_class, strict=True):
        metrics[f"f1_{label}"] = float(value)
    if positive_label is not None:
        metrics["f1_positive"] = metrics[f"f1_{positive_label}"]
    if proba is None:
        return metrics
    proba = np.clip(np.asarray(proba, dtype=float), 0.0, 1.0)
    present = np.isin(classes, np.unique(y_true))
    if len(classes) == 2:
        positive = positive_label if positive_label is not None else classes[1]
        column = classes.index(positive)
        is_positive = (y_true == positive).astype(int)
        score = proba[:, column]
        if present.all():
            metrics["roc_auc"] = float(roc_auc_score(is_positive, score))
            metrics["pr_auc"] = float(average_precision_score(is_positive, score))
        metrics["brier"] = float(brier_score_loss(is_positive, score))
    else:
        onehot = (y_true[:, None] == np.asarray(classes)[None, :]).astype(float)
        if present.all():
            metrics["roc_auc"] = float(roc_auc_score(onehot, proba, average="macro", multi_class="ovr"))
            metrics["pr_auc"] = float(average_precision_score(onehot, proba, average="macro"))
        metrics["brier"] = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    seen = np.isin(y_true, classes)
    if seen.all():
        metrics["log_loss"] = float(log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=classes))
    else:  # a label never seen in training has probability 0: scored as the worst clipped loss
        lookup = {label: position for position, label in enumerate(classes)}
        columns = np.array([lookup.get(label, 0) for label in y_true])
        p_true = np.where(seen, proba[np.arange(len(y_true)), columns], 0.0)
        metrics["log_loss"] = float(-np.log(np.clip(p_true, 1e-15, 1.0)).mean())
    return metrics


@dataclass
class Selection:
    """The pipeline refitted with the best grid point, and the validation score of every point."""

    pipeline: Pipeline
    best_params: dict[str, Any]
    table: pd.DataFrame


def select_on_validation(
    make_pipeline: Callable[[], Pipeline],
    grid: dict[str, list],
    X_train: pd.DataFrame,
    y_train: pd.Series,
    X_val: pd.DataFrame,
    y_val: pd.Series,
    metric: str,
    mode: str = "max",
    positive_label: Any = None,
    threshold: str | None = None,
    early_stopping_rounds: int | None = None,
) -> Selection:
    """Fit every grid point on train, score it on validation, keep the best (first on ties).

    The grid only touches the model step, so the features step is fitted once on train and
    shared by every grid point (the returned pipeline holds it with the best model). With
    `threshold="f1"` (binary tasks), each grid point decides with the probability threshold of
    the positive class that maximises F1 on validation, is scored with it, and the best model is
    returned inside `FixedThresholdClassifier` (a re-fit keeps the threshold). With
    `early_stopping_rounds`, each grid point also chooses its number of boosting rounds on validation
    (`src.models.early_stopping`); the table shows it as `n_estimators`.
    """
    check_threshold_rule(threshold, positive_label)
    points = list(ParameterGrid({f"model__{k}": list(v) for k, v in (grid or {}).items()})) or [{}]
    template = make_pipeline()
    features = template.named_steps["features"]
    if features == "passthrough" or features is None:
        features, F_train, F_val = "passthrough", X_train, X_val
    else:
        started = time.perf_counter()
        features = clone(features).fit(X_train, y_train)
        F_train, F_val = features.transform(X_train), features.transform(X_val)
        log.info(
            "features (%s) fitted and applied to %d + %d rows in %.1f s",
            type(features).__name__, len(X_train), len(X_val), time.perf_counter() - started,
        )  # fmt: skip
    rows, best, best_score = [], None, None
    for params in tqdm(points, desc="grid", leave=False, disable=len(points) < 2):
        model = clone(template.named_steps["model"]).set_params(
            **{key.removeprefix("model__"): value for key, value in params.items()}
        )
        started = time.perf_counter()
        if early_stopping_rounds:
            rounds = fit_early_stopped(model, F_train, y_train, F_val, y_val, early_stopping_rounds)
            params = {**params, "model__n_estimators": rounds}
        else:
            model.fit(F_train, y_train)
        if (took := time.perf_counter() - started) > SLOW_FIT_S:
            log.info("fitted %s %s in %.1f s", type(model).__name__, params or "(defaults)", took)
        row = {k.removeprefix("model__"): v for k, v in params.items()}
        if threshold is None:
            scores = score_pipeline(model, F_val, y_val, positive_label)
        else:
            row["decision_threshold"], scores = score_at_f1_threshold(model, F_val, y_val, positive_label)
        if metric not in scores:
            raise KeyError(f"selection metric '{metric}' not computed; available: {sorted(scores)}")
        score = scores[metric]
        rows.append({**row, f"val_{metric}": score})
        better = best_score is None or (score > best_score if mode == "max" else score < best_score)
        if better:
            best, best_score = (model, row), score
    model, params = best
    log.info("selected %s on validation: %s = %.4f", params or "defaults", metric, best_score)
    if threshold is not None:
        # the same model again, now deciding with the validation threshold (fitted on train only)
        model = FixedThresholdClassifier(
            clone(model),
            threshold=params["decision_threshold"],
            pos_label=positive_label,
            response_method="predict_proba",
        ).fit(F_train, y_train)
    pipeline = Pipeline([("features", features), ("model", model)])
    return Selection(pipeline=pipeline, best_params=params, table=pd.DataFrame(rows))


def check_threshold_rule(threshold: str | None, positive_label: Any) -> None:
    """Raise a one-line error if `task.decision_threshold` is unknown or the task has no positive class."""
    if threshold is None:
        return
    if threshold not in THRESHOLD_RULES:
        raise ValueError(
            f"task.decision_threshold must be null or one of {list(THRESHOLD_RULES)}, got {threshold!r}"
        )
    if positive_label is None:
        raise ValueError(
            "task.decision_threshold needs a binary task with a positive label (data.positive_label)"
        )


def f1_optimal_threshold(y_true: Sequence, positive_proba: np.ndarray, positive_label: Any) -> float:
    """The probability threshold of the positive class with the highest F1 (the lowest such on ties)."""
    is_positive = np.asarray(y_true) == positive_label
    if not is_positive.any():
        raise ValueError(f"no '{positive_label}' row in the validation split: an F1 threshold is undefined")
    precision, recall, thresholds = precision_recall_curve(is_positive, positive_proba)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    return float(thresholds[int(np.argmax(f1))])


def score_at_f1_threshold(
    model: Any, X_val: Any, y_val: pd.Series, positive_label: Any
) -> tuple[float, dict[str, float]]:
    """(F1-optimal threshold on these rows, all metrics when the model decides with it)."""
    classes = list(model.classes_)
    if len(classes) != 2 or not hasattr(model, "predict_proba"):
        raise ValueError(
            f"task.decision_threshold needs a binary classifier with predict_proba; {type(model).__name__} "
            f"has classes {classes}"
        )
    proba = model.predict_proba(X_val)
    positive = classes.index(positive_label)
    threshold = f1_optimal_threshold(y_val, proba[:, positive], positive_label)
    labels = np.where(proba[:, positive] >= threshold, classes[positive], classes[1 - positive])
    return threshold, compute_metrics(y_val, labels, proba, classes, positive_label)


def predict_with_proba(pipeline: Pipeline, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """Predicted labels and, where the model has them, class probabilities (columns = classes_).

    A pipeline's features are computed once for both, and a tree model's probabilities give its
    labels (`single_pass.labels_and_proba`).
    """
    return labels_and_proba(pipeline, X)


def score_pipeline(pipeline: Any, X: Any, y: pd.Series, positive_label: Any = None) -> dict[str, float]:
    """All metrics of a fitted pipeline (or bare classifier on transformed features) on one split."""
    labels, proba = predict_with_proba(pipeline, X)
    return compute_metrics(y, labels, proba, list(pipeline.classes_), positive_label)


def confusion_table(y_true: Sequence, y_pred: Sequence, classes: Sequence) -> pd.DataFrame:
    """Confusion matrix with true classes as rows and predicted classes as columns."""
    matrix = confusion_matrix(y_true, y_pred, labels=list(classes))
    return pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="pred"))
