"""TF-IDF whose values are the same bits on every x86-64 CPU.

scikit-learn's `TfidfVectorizer` takes the logarithms of the term counts (`sublinear_tf`) and of the
document frequencies (`idf_`) with `np.log`, and NumPy picks a different implementation of `log` for
each set of vector instructions it finds (AVX2, AVX-512...). The last bits of the TF-IDF values then
depend on the machine, and so do the splits of every tree model fitted on them: the spam decision tree's
challenge false-positive rate moved from 0.123 to 0.037 between two machines of the same kind.

`PortableTfidfVectorizer` takes those logarithms with Python's `math.log` (the C library's, the same
code path on any of these CPUs), once per distinct count or document frequency. Every other step (the
product with the idf and the row norms) is exact elementwise arithmetic or a scalar loop in scikit-learn;
each row's columns are sorted first, so the norms add up in one order.

`max_features` is the other machine-dependent step: scikit-learn keeps the most frequent terms with
NumPy's default `argsort`, which is not stable and has one implementation per set of vector
instructions, so terms tied at the cut were kept on one machine and dropped on another (the spam
LightGBM's features and test F1 differed between an AVX2 and an AVX-512 machine). Here a tie at the
cut is broken by the terms' alphabetical order, with a stable sort.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer, TfidfVectorizer

__all__ = ["PortableTfidfVectorizer", "portable_idf", "portable_sublinear_tf"]


def _log_of_distinct(values: np.ndarray, offset: float, dtype: np.dtype) -> np.ndarray:
    """`offset + ln(values)` elementwise, with one `math.log` per distinct value, cast to `dtype`."""
    distinct, positions = np.unique(values, return_inverse=True)
    logs = np.array([offset + math.log(float(v)) for v in distinct], dtype=np.float64)
    return logs.astype(dtype)[positions].reshape(values.shape)


def portable_sublinear_tf(counts: Any) -> Any:
    """1 + ln(count) for every stored count of a sparse matrix (a new matrix, same dtype)."""
    weights = sp.csr_array(counts, dtype=counts.dtype, copy=True)
    if weights.nnz:
        weights.data = _log_of_distinct(weights.data, 1.0, weights.data.dtype)
    return weights


def portable_idf(counts: Any, smooth_idf: bool, dtype: np.dtype) -> np.ndarray:
    """scikit-learn's idf, ln(n / df) + 1 (n and df each + 1 when smoothing), from the counts' columns."""
    csc = sp.csc_array(counts)
    df = np.diff(csc.indptr).astype(np.float64) + float(smooth_idf)
    n_samples = counts.shape[0] + int(smooth_idf)
    return _log_of_distinct(n_samples / df, 1.0, dtype)


class PortableTfidfVectorizer(TfidfVectorizer):
    """`TfidfVectorizer` with its logarithms taken the same way on every CPU (see the module docstring).

    Same parameters, vocabulary and idf formula; the values differ from scikit-learn's only where its
    `np.log` is not correctly rounded.
    """

    def fit(self, raw_documents: Any, y: Any = None) -> PortableTfidfVectorizer:
        """Learn the vocabulary and the idf."""
        self._fit_counts(raw_documents)
        return self

    def fit_transform(self, raw_documents: Any, y: Any = None) -> Any:
        """Learn the vocabulary and the idf; return the TF-IDF matrix of `raw_documents`."""
        return self._weigh(self._fit_counts(raw_documents))

    def transform(self, raw_documents: Any) -> Any:
        """TF-IDF matrix of `raw_documents` with the fitted vocabulary and idf."""
        counts = CountVectorizer.transform(self, raw_documents)
        return self._weigh(counts)

    def _fit_counts(self, raw_documents: Any) -> Any:
        """Fit the vocabulary, then the idf from the document frequencies; return the term counts."""
        self._check_params()
        counts = CountVectorizer.fit_transform(self, raw_documents)
        # the inner transformer only weighs and normalises: the sublinear tf is taken here
        self._tfidf = TfidfTransformer(norm=self.norm, use_idf=self.use_idf, smooth_idf=self.smooth_idf)
        self._tfidf.fit(counts)
        if self.use_idf:
            self._tfidf.idf_ = portable_idf(counts, self.smooth_idf, counts.dtype)
        return counts

    def _limit_features(
        self,
        X: Any,
        vocabulary: dict[str, int],
        high: float | None = None,
        low: float | None = None,
        limit: int | None = None,
    ) -> Any:
        """scikit-learn's pruning by document frequency and `max_features`, with ties broken stably.

        The counts' columns are in alphabetical order here (scikit-learn sorts them before limiting),
        so of the terms tied at the `limit`-th total count the alphabetically first are kept.
        """
        dfs = np.bincount(sp.csr_array(X).indices, minlength=X.shape[1])
        mask = np.ones(len(dfs), dtype=bool)
        if high is not None:
            mask &= dfs <= high
        if low is not None:
            mask &= dfs >= low
        if limit is not None and mask.sum() > limit:
            totals = np.asarray(X.sum(axis=0)).ravel()[mask]  # integer counts: exact
            kept = np.flatnonzero(mask)[np.argsort(-totals, kind="stable")[:limit]]
            mask = np.zeros(len(dfs), dtype=bool)
            mask[kept] = True
        new_indices = np.cumsum(mask) - 1
        for term, old_index in list(vocabulary.items()):
            if mask[old_index]:
                vocabulary[term] = int(new_indices[old_index])
            else:
                del vocabulary[term]
        if not mask.any():
            raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
        return X[:, np.flatnonzero(mask)]

    def _weigh(self, counts: Any) -> Any:
        """Sublinear tf (if set), idf and norm of a count matrix (ours: sorted in place).

        Sorting each row's columns makes `fit_transform` and `fit(...).transform` the same bits: the
        vocabulary sort leaves the fitted counts unsorted, and the row norms add up in column order.
        """
        counts.sort_indices()
        if self.sublinear_tf:
            counts = portable_sublinear_tf(counts)
        return self._tfidf.transform(counts, copy=False)
