"""Extras of the text tasks, called by the lifecycle after selection (`task.extras` in conf/task).

Each hook receives the composed config, the task's data and split, the final pipeline and the
metrics so far, and returns what it computed as `RunResults` (the lifecycle logs them).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from tqdm import tqdm

from src.data.task_data import TaskData
from src.features.negation import negation_mask
from src.features.text import dictionary_checksums
from src.models.bootstrap import mean_interval
from src.models.challenge import score_challenge
from src.models.evaluate import Split
from src.models.results import RunResults

log = logging.getLogger(__name__)


def log_dictionary_checksums(cfg: DictConfig, **_: Any) -> RunResults:
    """Tags with the sha256 of the jieba main dictionary, user dictionary and stop words."""
    transformer = cfg.features.transformer
    sums = dictionary_checksums(transformer.get("user_dict"), transformer.get("stopwords"))
    return RunResults(tags={f"dict_sha256.{name}": value or "none" for name, value in sums.items()})


def log_keywords(pipeline: Pipeline, **_: Any) -> RunResults | None:
    """The keyword matcher's readable keyword lists as keywords/keywords.csv (other models: nothing)."""
    model = pipeline.named_steps["model"]
    model = getattr(model, "estimator_", model)  # a model inside a decision-threshold wrapper
    if not hasattr(model, "keyword_table"):
        return None
    table = model.keyword_table()
    return RunResults(metrics={"n_keywords": float(len(table))}, csvs={"keywords/keywords.csv": table})


def stratified_cv(cfg: DictConfig, data: TaskData, pipeline: Pipeline, **_: Any) -> RunResults | None:
    """Accuracy of the selected configuration under stratified k-fold CV on the pooled corpus.

    The official test split's class mix differs from train's (SMP2017's `chat`), so this figure
    shows the score under a matched mix. The hyper-parameters stay those chosen on validation;
    CV only re-fits them, so it never influences selection. Logs `cv_accuracy_mean`/`_std`,
    a normal-approximation 95% interval over folds and the per-fold table.
    """
    folds = int(cfg.task.get("cv_folds") or 0)
    if folds < 2:
        return None
    y = data.y.reset_index(drop=True)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int(cfg.seed))
    rows = []
    started = time.perf_counter()
    for fold, (train, test) in enumerate(
        tqdm(splitter.split(np.zeros(len(y)), y), total=folds, desc=f"{cfg.task.name} CV", unit="fold")
    ):
        model = clone(pipeline).fit(data.X.iloc[train], y.iloc[train])
        predicted = model.predict(data.X.iloc[test])
        rows.append(
            {"fold": fold, "n_test": len(test), "accuracy": float(np.mean(predicted == y.iloc[test]))}
        )
    table = pd.DataFrame(rows)
    mean, std = float(table["accuracy"].mean()), float(table["accuracy"].std(ddof=1))
    half = 1.96 * std / np.sqrt(folds)
    log.info("%d-fold CV accuracy %.4f +- %.4f", folds, mean, std)
    metrics = {
        "cv_accuracy_mean": mean,
        "cv_accuracy_std": std,
        "cv_accuracy_lo": mean - half,
        "cv_accuracy_hi": mean + half,
        "time_cv_s": time.perf_counter() - started,
    }
    return RunResults(metrics=metrics, tables={"cv/folds.json": table})


def category_accuracy(
    cfg: DictConfig, data: TaskData, split: Split, pipeline: Pipeline, **_: Any
) -> RunResults:
    """Test accuracy after mapping predicted and true topics to the 8 content categories."""
    mapping = dict(cfg.data.content.toutiao_to_category)
    X, y = data.X.iloc[split.test], data.y.iloc[split.test]
    predicted = pd.Series(pipeline.predict(X)).map(mapping)
    truth = y.reset_index(drop=True).map(mapping)
    return RunResults(metrics={"test_category_accuracy": float((predicted == truth).mean())})


def challenge_scores(cfg: DictConfig, data: TaskData, pipeline: Pipeline, **_: Any) -> RunResults:
    """Spam: false-positive rate and spam recall on the generated challenge set (evaluation only)."""
    scores, table = score_challenge(
        pipeline,
        data.positive_label,
        n_boot=int(cfg.evaluation.n_bootstrap),
        level=float(cfg.evaluation.ci_level),
    )
    return RunResults(metrics=scores, tables={"challenge/families.json": table})


def negation_subset_accuracy(
    cfg: DictConfig, data: TaskData, split: Split, pipeline: Pipeline, **_: Any
) -> RunResults:
    """Satisfaction: test accuracy on the reviews with 不/没/别/无 before an adjective."""
    X, y = data.X.iloc[split.test], data.y.iloc[split.test].to_numpy()
    mask = negation_mask(X["text"].tolist())
    metrics = {"test_negation_n": float(mask.sum())}
    if not mask.any():
        return RunResults(metrics=metrics)
    correct = (np.asarray(pipeline.predict(X.loc[mask])) == y[mask]).astype(float)
    low, high = mean_interval(
        correct, int(cfg.evaluation.n_bootstrap), float(cfg.evaluation.ci_level), int(cfg.seed)
    )
    metrics.update(
        {
            "test_negation_accuracy": float(correct.mean()),
            "test_negation_accuracy_lo": low,
            "test_negation_accuracy_hi": high,
        }
    )
    return RunResults(metrics=metrics)
