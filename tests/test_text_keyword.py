"""KeywordMatcher: readable keywords, tie and no-match rules, probabilities and sklearn conventions."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from src.features.text import JiebaTokenizer
from src.models.keyword import KeywordMatcher

TRAIN = pd.DataFrame(
    {
        "text": [
            "查询流量套餐余额",
            "流量套餐怎么办理",
            "本月流量用完了",
            "宽带报修网速太慢",
            "宽带安装预约",
            "宽带断网了",
            "彩铃怎么设置",
            "开通彩铃业务",
        ]
    }
)
Y = ["flow", "flow", "flow", "broadband", "broadband", "broadband", "ringtone", "ringtone"]


@pytest.fixture
def matcher(tmp_path: Path) -> KeywordMatcher:
    JiebaTokenizer.clear_memo()
    return KeywordMatcher(top_k=3, min_df=1, cache_dir=str(tmp_path)).fit(TRAIN, Y)


def test_keywords_are_readable(matcher: KeywordMatcher) -> None:
    assert list(matcher.classes_) == ["broadband", "flow", "ringtone"]
    assert matcher.keywords_["flow"][0] == ("流量", 1.0)
    assert matcher.keywords_["broadband"][0][0] == "宽带"
    assert matcher.keywords_["ringtone"][0][0] == "彩铃"
    table = matcher.keyword_table()
    assert list(table.columns) == [
        "class",
        "rank",
        "keyword",
        "weight",
        "score",
        "docs_in_class",
        "precision",
    ]
    assert table.groupby("class").size().max() <= 3
    assert (table.groupby("class")["weight"].max() == 1.0).all()


def test_predict_list_series_frame(matcher: KeywordMatcher) -> None:
    texts = ["我的流量不够用", "宽带坏了", "换个彩铃"]
    expected = ["flow", "broadband", "ringtone"]
    assert matcher.predict(texts).tolist() == expected
    assert matcher.predict(pd.Series(texts)).tolist() == expected
    assert matcher.predict(pd.DataFrame({"text": texts})).tolist() == expected
    assert matcher.match_counts(texts)["n_no_match"] == 0


def test_no_match_falls_back_to_majority(matcher: KeywordMatcher) -> None:
    pred = matcher.predict(["今天天气不错", "", None])
    # flow and broadband both have 3 training texts: the alphabetically first wins the tie
    assert pred.tolist() == ["broadband"] * 3
    assert matcher.match_counts(["今天天气不错", "", None])["n_no_match"] == 3
    assert "n_no_match_" not in vars(matcher)  # predict stores no diagnostics
    proba = matcher.predict_proba(["今天天气不错"])
    np.testing.assert_allclose(proba[0], matcher.prior_)


def test_tie_rule_prefers_frequent_then_alphabetical(tmp_path: Path) -> None:
    texts = ["甲乙", "甲乙", "甲乙", "丙丁", "丙丁", "戊己"]
    labels = ["b", "b", "b", "a", "a", "c"]
    km = KeywordMatcher(top_k=1, min_df=1, char_ngram=1, stopwords=None, cache_dir=str(tmp_path)).fit(
        texts, labels
    )
    # one keyword per class with weight 1: a text holding keywords of two classes ties
    kw = {c: km.keywords_[c][0][0] for c in "abc"}
    assert km.predict([kw["a"] + kw["c"]]).tolist() == ["a"]  # a (2 texts) beats c (1 text)
    assert km.predict([kw["a"] + kw["b"]]).tolist() == ["b"]  # b (3 texts) beats a
    assert km.match_counts([kw["a"] + kw["b"], kw["a"]])["n_ties"] == 1


def test_predict_proba_rows_sum_to_one(matcher: KeywordMatcher) -> None:
    proba = matcher.predict_proba(["流量", "宽带彩铃", "没关系的话"])
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0].argmax() == list(matcher.classes_).index("flow")


def test_unseen_label_and_bad_targets(matcher: KeywordMatcher) -> None:
    # a test label never seen in training is simply never predicted (sklearn convention)
    assert matcher.score(["流量", "开通新业务"], ["flow", "unseen"]) == 0.5
    with pytest.raises(ValueError, match="at least 2 classes"):
        clone(matcher).fit(TRAIN, ["flow"] * len(TRAIN))
    with pytest.raises(ValueError, match="missing label"):
        clone(matcher).fit(TRAIN, [*Y[:-1], None])
    with pytest.raises(ValueError, match="method"):
        clone(matcher).set_params(method="bm25").fit(TRAIN, Y)
    with pytest.raises(ValueError, match=r"continuous|Unknown label type"):
        clone(matcher).fit(TRAIN, np.linspace(0, 1, len(TRAIN)))


def test_tfidf_method_and_pickle(matcher: KeywordMatcher, tmp_path: Path) -> None:
    km = clone(matcher).set_params(method="tfidf").fit(TRAIN, Y)
    assert km.keywords_["ringtone"][0][0] == "彩铃"
    again = pickle.loads(pickle.dumps(matcher))
    assert again.predict(["流量"]).tolist() == ["flow"]


def test_scales_without_per_keyword_loops(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = np.array(list("流量宽带彩铃套餐话费短信营业厅手机报充值漫游"))
    texts = ["".join(rng.choice(words, 6)) for _ in range(3000)]
    labels = rng.choice(["a", "b", "c", "d"], 3000)
    km = KeywordMatcher(top_k=500, min_df=1, char_ngram=2, cache_dir=str(tmp_path)).fit(texts, labels)
    assert km.weights_.shape[1] == 4 and km.weights_.format == "csr"
    assert len(km.predict(texts)) == 3000
