"""The study's keyword matcher, done properly: per-class keywords learnt from training texts, weighted match.

Fit: texts are normalised and cut by a private jieba tokenizer (optionally plus character
n-grams); each class's `top_k` keywords are the terms most associated with it, by one-vs-rest
chi-squared (`method="chi2"`, positive association only) or class-conditional TF-IDF
(`method="tfidf"`, c-TF-IDF: share of the class's documents holding the term x
log(1 + average class mass / the term's total mass)). A keyword's weight is its score divided by the
best score of its class (`weighting="relative"`), so every class's strongest keyword weighs 1 and
classes of different sizes compete on equal terms; or its log-lift over the class prior
(`weighting="lift"`: log(P(class | keyword) / P(class)), add-one smoothed, kept only where the
class holds most of the keyword's documents), which lets a rare class's telling keywords
outweigh a frequent class's common words (spam vs ham).

Predict: a text's score for a class is the sum of the weights of that class's keywords present in
the text (a sparse text x keyword matrix times a keyword x class weight matrix; no per-text loops).
- Tie rule: among classes sharing the highest score, the class more frequent in training wins, then
  the alphabetically first.
- No-match rule: a text with no keyword of any class gets the training majority class; `predict`
  logs how many texts matched nothing (`match_counts` returns the counts; nothing is stored).
- `predict_proba` = (score + alpha x prior) / (sum of scores + alpha), with the training class
  prior: a text without any match gets the prior, and `alpha` (default 0.1) keeps probabilities
  away from 0/1 when a single keyword matches. Its argmax agrees with `predict` except where two
  scores lie within alpha of each other.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from src.data.text_normalize import normalize_text
from src.features.text import TEXT_COLUMN, JiebaTokenizer, as_text_list, pass_through, prepare_texts

log = logging.getLogger(__name__)

METHODS = ("chi2", "tfidf")
WEIGHTINGS = ("relative", "lift")
_NOT_CHARS = re.compile(r"NUM|URL|PHONE|EMOJI|[\W_\d]")


def _char_ngrams(text: str, n: int) -> list[str]:
    """Character n-grams of the letters of a normalised text (placeholders, digits, punctuation removed)."""
    letters = _NOT_CHARS.sub("", text)
    return [letters[i : i + n] for i in range(len(letters) - n + 1)]


def chi2_scores(in_class: np.ndarray, class_sizes: np.ndarray, n_docs: int) -> np.ndarray:
    """One-vs-rest chi-squared per (class, term) from document counts; 0 for under-represented terms."""
    a = in_class.astype(np.float64)
    term_df = a.sum(axis=0, keepdims=True)
    b = term_df - a
    c = class_sizes[:, None] - a
    d = n_docs - class_sizes[:, None] - b
    numerator = n_docs * (a * d - b * c) ** 2
    denominator = (a + c) * (b + d) * (a + b) * (c + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(denominator > 0, numerator / denominator, 0.0)
    return np.where(a * d > b * c, score, 0.0)


def ctfidf_scores(in_class: np.ndarray) -> np.ndarray:
    """Class-conditional TF-IDF per (class, term) from document counts."""
    a = in_class.astype(np.float64)
    tf = a / np.maximum(a.sum(axis=1, keepdims=True), 1.0)
    mean_mass = a.sum() / a.shape[0]
    idf = np.log1p(mean_mass / np.maximum(a.sum(axis=0, keepdims=True), 1.0))
    return tf * idf


class KeywordMatcher(ClassifierMixin, BaseEstimator):
    """Weighted multi-keyword matching on raw texts (DataFrame `text` column, Series or list)."""

    def __init__(
        self,
        method: str = "chi2",
        top_k: int = 50,
        min_df: int = 2,
        char_ngram: int = 0,
        alpha: float = 0.1,
        weighting: str = "relative",
        hmm: bool = True,
        user_dict: str | None = "default",
        stopwords: str | None = "default",
        cache_dir: str | None = None,
        use_cache: bool = True,
        max_chars: int | None = None,
        drop_signature: bool = False,
        strip_punct: bool = False,
        column: str = TEXT_COLUMN,
    ) -> None:
        self.method = method
        self.top_k = top_k
        self.min_df = min_df
        self.char_ngram = char_ngram
        self.alpha = alpha
        self.weighting = weighting
        self.hmm = hmm
        self.user_dict = user_dict
        self.stopwords = stopwords
        self.cache_dir = cache_dir
        self.use_cache = use_cache
        self.max_chars = max_chars
        self.drop_signature = drop_signature
        self.strip_punct = strip_punct
        self.column = column

    def _tokenizer(self) -> JiebaTokenizer:
        return JiebaTokenizer(
            hmm=self.hmm,
            user_dict=self.user_dict,
            stopwords=self.stopwords,
            cache_dir=self.cache_dir,
            use_cache=self.use_cache,
            max_chars=self.max_chars,
            drop_signature=self.drop_signature,
            strip_punct=self.strip_punct,
            column=self.column,
        )

    def _documents(self, X: Any) -> list[list[str]]:
        """Each text as the set of its terms (words, plus character n-grams if asked)."""
        texts = as_text_list(X, self.column)
        tokenizer = self.__dict__.get("tokenizer_") or self._tokenizer()
        tokens = tokenizer.transform(texts)
        if not self.char_ngram:
            return [list(dict.fromkeys(t)) for t in tokens]
        prepared, _ = prepare_texts(texts, self.column, self.max_chars, bool(self.drop_signature))
        grams = [_char_ngrams(normalize_text(t), int(self.char_ngram)) for t in prepared]
        return [list(dict.fromkeys([*t, *g])) for t, g in zip(tokens, grams, strict=True)]

    def fit(self, X: Any, y: Any) -> KeywordMatcher:
        """Learn each class's keywords and weights from training texts."""
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got '{self.method}'")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got '{self.weighting}'")
        if int(self.top_k) < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        y = pd.Series(column_or_1d(y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y), warn=True))
        if y.isna().any():
            raise ValueError(f"y has {int(y.isna().sum())} missing label(s); quarantine them before fitting")
        check_classification_targets(y.to_numpy())
        self.tokenizer_ = self._tokenizer().fit(None)
        documents = self._documents(X)
        if len(documents) != len(y):
            raise ValueError(f"X has {len(documents)} texts but y has {len(y)} labels")
        self.classes_, y_index = np.unique(y.to_numpy(), return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"need at least 2 classes to learn keywords, got {list(self.classes_)}")
        counts = np.bincount(y_index, minlength=len(self.classes_)).astype(np.float64)
        self.class_count_ = counts
        self.prior_ = counts / counts.sum()
        # tie order: more frequent in training first, then alphabetical (classes_ is sorted)
        self._tie_rank = np.empty(len(counts), dtype=np.int64)
        self._tie_rank[np.lexsort((np.arange(len(counts)), -counts))] = np.arange(len(counts))
        self.majority_class_ = self.classes_[int(np.argmin(self._tie_rank))]

        min_df = min(self.min_df, len(documents))
        vectorizer = CountVectorizer(analyzer=pass_through, binary=True, min_df=min_df)
        doc_term = vectorizer.fit_transform(documents).tocsr()
        terms = vectorizer.get_feature_names_out()
        onehot = sp.csr_matrix(
            (np.ones(len(y_index)), (y_index, np.arange(len(y_index)))), shape=(len(counts), len(y_index))
        )
        in_class = np.asarray((onehot @ doc_term).todense())
        if self.method == "chi2":
            scores = chi2_scores(in_class, counts, len(y_index))
        else:
            scores = ctfidf_scores(in_class)
        self._select(scores, in_class, terms)
        return self

    def _select(self, scores: np.ndarray, in_class: np.ndarray, terms: np.ndarray) -> None:
        """Keep the top_k positive-scoring terms per class and build the keyword x class weight matrix."""
        rows = []
        term_df = in_class.sum(axis=0)
        for k, label in enumerate(self.classes_):
            order = np.argsort(-scores[k], kind="stable")[: int(self.top_k)]
            order = order[scores[k, order] > 0]
            best = scores[k, order[0]] if len(order) else 1.0
            if self.weighting == "lift":
                precision = (in_class[k, order] + 1.0) / (term_df[order] + len(self.classes_))
                weights = np.log(precision / self.prior_[k])
                # a keyword speaks for the class that holds most of its documents
                keep = (weights > 0) & (in_class[:, order].argmax(axis=0) == k)
                order, weights = order[keep], weights[keep]
            else:
                weights = scores[k, order] / best
            for rank, (j, weight) in enumerate(zip(order, weights, strict=True), start=1):
                rows.append(
                    {
                        "class": label,
                        "rank": rank,
                        "keyword": str(terms[j]),
                        "weight": float(weight),
                        "score": float(scores[k, j]),
                        "docs_in_class": int(in_class[k, j]),
                        "precision": float(in_class[k, j] / term_df[j]),
                    }
                )
        table = pd.DataFrame(
            rows, columns=["class", "rank", "keyword", "weight", "score", "docs_in_class", "precision"]
        )
        self._table = table
        vocabulary = {term: i for i, term in enumerate(dict.fromkeys(table["keyword"]))}
        class_index = {label: k for k, label in enumerate(self.classes_)}
        self.vocabulary_ = vocabulary
        self.weights_ = sp.csr_matrix(
            (
                table["weight"].to_numpy(dtype=np.float64),
                (
                    table["keyword"].map(vocabulary).to_numpy(dtype=np.int64),
                    table["class"].map(class_index).to_numpy(dtype=np.int64),
                ),
            ),
            shape=(len(vocabulary), len(self.classes_)),
        )
        self.keywords_ = {
            label: list(zip(group["keyword"], group["weight"].round(4), strict=True))
            for label, group in table.groupby("class", sort=False)
        }
        for label in self.classes_:
            if label not in self.keywords_:
                self.keywords_[label] = []
                log.warning(
                    "class %r has no keyword: it is only predicted through the tie/no-match rules", label
                )

    def keyword_table(self) -> pd.DataFrame:
        """Keywords per class (rank, weight, score, documents of the class holding it, precision)."""
        return self._table.copy()

    def decision_function(self, X: Any) -> np.ndarray:
        """Summed keyword weights per class (n_texts x n_classes)."""
        check_is_fitted(self, "weights_")
        documents = self._documents(X)
        if not self.vocabulary_:
            return np.zeros((len(documents), len(self.classes_)))
        matcher = CountVectorizer(analyzer=pass_through, binary=True, vocabulary=self.vocabulary_)
        return np.asarray((matcher.transform(documents) @ self.weights_).todense())

    def _choose(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(class index per text, no-match mask, tie mask) under the documented rules."""
        top = scores.max(axis=1, keepdims=True)
        tied = np.isclose(scores, top, rtol=1e-9, atol=1e-12)
        rank = np.where(tied, self._tie_rank[None, :], np.iinfo(np.int64).max)
        choice = rank.argmin(axis=1)
        no_match = top[:, 0] <= 0
        choice[no_match] = int(np.argmin(self._tie_rank))
        return choice, no_match, (tied.sum(axis=1) > 1) & ~no_match

    def match_counts(self, X: Any) -> dict[str, int]:
        """Diagnostics of scoring X: texts, texts matching no keyword, texts with tied top classes."""
        scores = self.decision_function(X)
        if not len(scores):
            return {"n_texts": 0, "n_no_match": 0, "n_ties": 0}
        _, no_match, ties = self._choose(scores)
        return {"n_texts": len(scores), "n_no_match": int(no_match.sum()), "n_ties": int(ties.sum())}

    def predict(self, X: Any) -> np.ndarray:
        """Class with the highest keyword score; documented tie and no-match rules."""
        scores = self.decision_function(X)
        if not len(scores):
            return self.classes_[:0]
        choice, no_match, _ = self._choose(scores)
        if no_match.any():
            log.info(
                "%d of %d text(s) matched no keyword: predicted the majority class",
                int(no_match.sum()),
                len(scores),
            )
        return self.classes_[choice]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Smoothed, normalised match scores: (score + alpha * prior) / (sum of scores + alpha)."""
        scores = self.decision_function(X)
        alpha = float(self.alpha)
        if alpha <= 0:
            raise ValueError("alpha must be > 0 so texts without a match get a probability")
        return (scores + alpha * self.prior_[None, :]) / (scores.sum(axis=1, keepdims=True) + alpha)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
