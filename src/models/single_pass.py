"""Labels and class probabilities of a fitted pipeline from one preparation of its input.

Used wherever a model is scored: evaluation (src/models/evaluate.py), the deployed pyfunc
(src/models/pyfunc.py) and text models' predictions (src/models/text_output.py). Calling a pipeline's
`predict` and then its `predict_proba` would run its feature steps (for text: jieba and the n-grams)
twice, and a tree ensemble's trees twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier

# Classifiers whose `predict` is the argmax of their own `predict_proba` (checked in their source).
ARGMAX_CLASSIFIERS = (LGBMClassifier, DecisionTreeClassifier, RandomForestClassifier, ExtraTreesClassifier)


def labels_and_proba(pipeline: Any, frame: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Labels and class probabilities from ONE preparation of the input.

    A scikit-learn pipeline's feature steps run once; its final estimator then gives both the labels
    and the probabilities (calling `predict` and `predict_proba` on the pipeline would prepare twice).
    An estimator whose `predict` is by definition the class of the largest probability
    (`predicts_argmax`) is asked for the probabilities only, and the labels are read from them.
    """
    model, prepared = pipeline, frame
    if isinstance(pipeline, Pipeline) and len(pipeline.steps) > 1:
        model, prepared = pipeline.steps[-1][1], pipeline[:-1].transform(frame)
    if not hasattr(model, "predict_proba"):
        return np.asarray(model.predict(prepared)), None
    proba = np.asarray(model.predict_proba(prepared))
    if predicts_argmax(model) and proba.ndim == 2:
        return np.asarray(model.classes_)[proba.argmax(axis=1)], proba
    return np.asarray(model.predict(prepared)), proba


def predicts_argmax(model: Any) -> bool:
    """True when `model.predict` is, in its own code, `classes_[predict_proba(X).argmax(axis=1)]`.

    LightGBM's and scikit-learn's tree classifiers are (so were their labels before); a project
    estimator says so with a `predicts_argmax_proba = True` class attribute. Linear models and SVMs
    are not: their labels come from the decision function and may differ at a tie.
    """
    if callable(getattr(model, "objective", None)):  # LightGBM with a custom objective: raw scores
        return False
    return bool(getattr(model, "predicts_argmax_proba", False)) or isinstance(model, ARGMAX_CLASSIFIERS)
