"""The portable TF-IDF: scikit-learn's values, and the same bits whatever vector instructions NumPy uses."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from src.features.portable_tfidf import PortableTfidfVectorizer, portable_idf, portable_sublinear_tf

ROOT = Path(__file__).resolve().parents[1]


def corpus(n_docs: int = 400, vocabulary: int = 900, seed: int = 0) -> list[str]:
    """Documents of Zipf-distributed words, so counts and document frequencies take many values."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    docs = []
    for _ in range(n_docs):
        ranks = np.minimum(rng.zipf(1.3, size=int(rng.integers(5, 120))), vocabulary) - 1
        docs.append(" ".join(words[r] for r in ranks))
    return docs


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"sublinear_tf": True},
        {"sublinear_tf": True, "smooth_idf": False, "ngram_range": (1, 2), "min_df": 2},
        {"sublinear_tf": True, "norm": None},
        {"use_idf": False, "norm": "l1"},
        {"sublinear_tf": True, "analyzer": "char", "ngram_range": (1, 3), "dtype": np.float32},
    ],
)
def test_the_portable_vectorizer_gives_scikit_learns_tfidf(params: dict) -> None:
    train, new = corpus(seed=1), corpus(n_docs=50, seed=2)
    ours, theirs = PortableTfidfVectorizer(**params), TfidfVectorizer(**params)
    fitted = ours.fit_transform(train)
    expected = theirs.fit_transform(train)
    assert ours.vocabulary_ == theirs.vocabulary_
    assert fitted.dtype == expected.dtype
    tolerance = 1e-6 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fitted.toarray(), expected.toarray(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(
        ours.transform(new).toarray(), theirs.transform(new).toarray(), rtol=tolerance, atol=tolerance
    )
    # fit then transform gives the bits of fit_transform
    assert (PortableTfidfVectorizer(**params).fit(train).transform(train) != fitted).nnz == 0


def test_the_pickled_vectorizer_transforms_the_same_bits() -> None:
    vectorizer = PortableTfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit(corpus())
    restored = pickle.loads(pickle.dumps(vectorizer))
    docs = corpus(n_docs=30, seed=5)
    assert (restored.transform(docs) != vectorizer.transform(docs)).nnz == 0


def test_the_logarithms_follow_their_definitions() -> None:
    counts = sp.csr_array(np.array([[1, 0, 3], [2, 0, 0], [7, 7, 1]], dtype=np.float32))
    weights = portable_sublinear_tf(counts)
    np.testing.assert_array_equal(
        weights.toarray(),
        np.where(counts.toarray() > 0, 1 + np.log(np.maximum(counts.toarray(), 1)), 0).astype(np.float32),
    )
    assert counts.toarray()[0, 2] == 3  # the input is left as it was
    # document frequencies 3, 1, 2 of 3 documents, smoothed: ln(4 / (df + 1)) + 1
    np.testing.assert_allclose(
        portable_idf(counts, True, np.float64), np.log(4 / np.array([4, 2, 3])) + 1, rtol=1e-15
    )
    np.testing.assert_allclose(
        portable_idf(counts, False, np.float64), np.log(3 / np.array([3, 1, 2])) + 1, rtol=1e-15
    )


def test_max_features_keeps_the_most_frequent_terms_and_breaks_ties_alphabetically() -> None:
    """Of the terms tied at the cut, the alphabetically first are kept, whatever NumPy's sort does."""
    rng = np.random.default_rng(3)
    counts = {f"w{i:04d}": int(c) for i, c in enumerate(rng.integers(1, 4, size=3000))}  # 1-3, interleaved
    words = [word for word, count in counts.items() for _ in range(count)]
    rng.shuffle(words)
    docs = [" ".join(words[i : i + 20]) for i in range(0, len(words), 20)]
    by_rank = sorted(counts, key=lambda word: (-counts[word], word))
    limit = sum(count == 3 for count in counts.values()) + 500  # the cut falls among the terms seen twice
    fitted = PortableTfidfVectorizer(max_features=limit).fit(docs)
    assert set(fitted.vocabulary_) == set(by_rank[:limit])
    assert sorted(fitted.vocabulary_.values()) == list(range(limit))


def test_pruning_by_document_frequency_matches_scikit_learn() -> None:
    """Without `max_features` the vocabulary is scikit-learn's; pruning every term still fails loudly."""
    docs = corpus(seed=4)
    for params in ({"min_df": 3}, {"max_df": 0.2}, {"min_df": 2, "max_df": 0.5, "max_features": None}):
        ours, theirs = PortableTfidfVectorizer(**params).fit(docs), TfidfVectorizer(**params).fit(docs)
        assert ours.vocabulary_ == theirs.vocabulary_
    with pytest.raises(ValueError, match="no terms remain"):
        PortableTfidfVectorizer(min_df=0.999).fit(docs)  # no term in every document


FINGERPRINT = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    sys.path.insert(0, {root!r})
    from sklearn.feature_extraction.text import TfidfVectorizer
    from src.features.portable_tfidf import PortableTfidfVectorizer
    from tests.test_portable_tfidf import corpus
    docs = corpus(n_docs=1500, vocabulary=5000)
    for cls in (PortableTfidfVectorizer, TfidfVectorizer):
        # max_features cuts through tied totals: scikit-learn's unstable sort breaks the ties
        vectorizer = cls(sublinear_tf=True, ngram_range=(1, 2), max_features=3001, dtype=np.float32)
        m = vectorizer.fit_transform(docs)
        print(hashlib.sha256(m.data.tobytes() + m.indices.tobytes()).hexdigest())
    """
)


def _fingerprints(env: dict[str, str]) -> list[str]:
    code = FINGERPRINT.format(root=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return result.stdout.split()


@pytest.mark.slow
def test_the_tfidf_bits_do_not_depend_on_numpys_vector_instructions() -> None:
    """NumPy's float32 `log` and its `argsort` differ between its vector code paths (AVX-512, AVX2 and
    the baseline); the portable vectorizer's output does not (scikit-learn's does, on this corpus)."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    if not features.get("AVX2"):
        pytest.skip("NumPy finds no AVX2 on this CPU: there is no second code path to compare with")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    # every code path this CPU offers: the default, then without AVX-512 (AVX2), then the baseline
    avx512 = " ".join(level for level in ("X86_V4", "AVX512_ICL") if features.get(level))
    disabled = ["", avx512, f"{avx512} X86_V3"] if avx512 else ["", "X86_V3"]
    runs = {off: _fingerprints({**env, "NPY_DISABLE_CPU_FEATURES": off}) for off in disabled}
    ours, theirs = {run[0] for run in runs.values()}, {run[1] for run in runs.values()}
    assert len(ours) == 1, f"the portable TF-IDF changed with NumPy's vector instructions: {runs}"
    if len(theirs) == 1:
        pytest.skip("scikit-learn's TF-IDF did not change either here: the comparison shows nothing")
