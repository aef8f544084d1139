"""scikit-learn's estimator checks over the text estimators (raw strings in).

As declared (input tag `string`), scikit-learn runs only the clone check on a text estimator.
So each estimator also runs the whole battery through a variant that declares 2-D array input:
the checks' numbers then reach it as texts ("0.42" -> "NUM"). The checks that cannot apply to
text input fail by design and are listed in `TEXT_ONLY` with the reason; every other check,
among them fit returning self, fit idempotence, no parameter or state change in
predict/transform, pickling and the classifier checks, must pass.
"""

from __future__ import annotations

import pytest
from sklearn.base import is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from src.features.text import JiebaTokenizer, TextNormalizer
from src.models.keyword import KeywordMatcher

_TEXT_OUT = "the output is a list of texts / token lists, not a numeric array the check can compare"
_NO_ARRAY_CHECKS = "reads texts of any shape of sequence; array validation (check_array) would refuse strings"
_COMMON = {
    "check_n_features_in_after_fitting": "one text column in, no numeric feature count to record",
    "check_n_features_in": "one text column in, no numeric feature count to record",
    "check_dtype_object": "object (string) input is exactly what a text estimator reads",
    "check_estimators_empty_data_messages": _NO_ARRAY_CHECKS,
    "check_estimators_nan_inf": "NaN stands for a missing text and is scored as an empty text, by design",
    "check_estimator_sparse_tag": "a sparse matrix is read as a sequence of rows like any other texts",
    "check_fit1d": "a 1-D sequence of texts is the normal input",
    "check_fit2d_predict1d": "a 1-D sequence of texts is the normal input",
}
TEXT_ONLY: dict[str, dict[str, str]] = {
    "TextNormalizer": {
        **_COMMON,
        "check_complex_data": _NO_ARRAY_CHECKS,
        "check_estimators_pickle": _TEXT_OUT + " (pickling is tested in test_text_tokenizer.py)",
        "check_pipeline_consistency": _TEXT_OUT,
        "check_transformer_data_not_an_array": _NO_ARRAY_CHECKS,
        "check_transformer_general": _TEXT_OUT,
        "check_transformer_preserve_dtypes": _TEXT_OUT,
        "check_transformers_unfitted_stateless": _TEXT_OUT,
        "check_methods_sample_order_invariance": _TEXT_OUT,
        "check_methods_subset_invariance": _TEXT_OUT,
        "check_fit_idempotent": _TEXT_OUT,
    },
    "KeywordMatcher": {
        **_COMMON,
        "check_estimator_sparse_array": "a sparse matrix is read as a sequence of rows like any other texts",
        "check_estimator_sparse_matrix": "a sparse matrix is read as a sequence of rows like any other texts",
        "check_classifier_data_not_an_array": _NO_ARRAY_CHECKS,
        "check_classifiers_classes": "numbers become the placeholder NUM: no keyword, only the prior decides",
        "check_classifiers_train": "numbers become NUM: no keyword, the accuracy bar is unreachable",
        "check_fit2d_1sample": "one text suffices to learn; two classes are needed, said in its own words",
    },
}
TEXT_ONLY["JiebaTokenizer"] = TEXT_ONLY["TextNormalizer"]


class _ArrayInput:
    """Declares 2-D array input so that scikit-learn runs its full battery of checks."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.string = False
        return tags


class ArrayTextNormalizer(_ArrayInput, TextNormalizer):
    """TextNormalizer under the array checks."""


class ArrayJiebaTokenizer(_ArrayInput, JiebaTokenizer):
    """JiebaTokenizer under the array checks."""


class ArrayKeywordMatcher(_ArrayInput, KeywordMatcher):
    """KeywordMatcher under the array checks."""


def expected_failures(estimator) -> dict[str, str]:
    """The checks that cannot apply to this text estimator, with their reasons."""
    name = type(estimator).__name__.removeprefix("Array")
    return TEXT_ONLY.get(name, {}) if type(estimator).__name__.startswith("Array") else {}


ESTIMATORS = [
    TextNormalizer(),
    JiebaTokenizer(use_cache=False),
    KeywordMatcher(top_k=5, min_df=1, use_cache=False),
    ArrayTextNormalizer(),
    ArrayJiebaTokenizer(use_cache=False),
    ArrayKeywordMatcher(top_k=5, min_df=1, use_cache=False),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.SkipTestWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_contract(estimator, check) -> None:
    check(estimator)


def test_keyword_matcher_is_a_classifier() -> None:
    assert is_classifier(KeywordMatcher())


@pytest.mark.parametrize("estimator", [TextNormalizer(), JiebaTokenizer()])
def test_transformers_list_the_mixin_first(estimator) -> None:
    bases = [c.__name__ for c in type(estimator).__mro__]
    assert bases.index("TransformerMixin") < bases.index("BaseEstimator")
