"""JiebaTokenizer: private jieba instance, user dictionary, stop words, pickling and the token cache."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import cloudpickle
import jieba
import pandas as pd
import pytest
from sklearn.base import clone

from src.features.text import (
    DEFAULT_STOPWORDS,
    DEFAULT_USER_DICT,
    JiebaTokenizer,
    dictionary_checksums,
    make_text_features,
    read_stopwords,
)
from src.paths import PROJECT_ROOT

TEXTS = ["我想订一个手机报，再去营业厅改套餐", "查一下本月流量和彩铃", "宽带到期了怎么续费"]


@pytest.fixture(autouse=True)
def _fresh_memo():
    JiebaTokenizer.clear_memo()
    yield
    JiebaTokenizer.clear_memo()


def test_user_dict_words_stay_whole_and_stopwords_go(tmp_path: Path) -> None:
    tokens = JiebaTokenizer(cache_dir=str(tmp_path)).fit(TEXTS).transform(TEXTS)
    flat = {t for doc in tokens for t in doc}
    for word in ("手机报", "营业厅", "套餐", "流量", "彩铃", "宽带"):
        assert word in flat
    assert not flat & {"的", "了", "，", ","}
    assert "怎么" in flat  # question words are kept on purpose


def test_global_jieba_is_untouched(tmp_path: Path) -> None:
    before = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    JiebaTokenizer(cache_dir=str(tmp_path)).transform(TEXTS)
    after = dict(jieba.dt.FREQ) if jieba.dt.initialized else None
    assert before == after
    assert "手机营业厅" not in jieba.dt.FREQ  # a user-dict-only word


def test_without_user_dict_words_differ(tmp_path: Path) -> None:
    plain = JiebaTokenizer(user_dict=None, cache_dir=str(tmp_path)).transform(["去手机营业厅办理携号转网"])[0]
    telecom = JiebaTokenizer(cache_dir=str(tmp_path)).transform(["去手机营业厅办理携号转网"])[0]
    assert "手机营业厅" in telecom and "携号转网" in telecom
    assert "手机营业厅" not in plain


def test_accepts_frame_series_list_and_nan(tmp_path: Path) -> None:
    tok = JiebaTokenizer(cache_dir=str(tmp_path))
    frame = pd.DataFrame({"text": [*TEXTS, None]})
    expected = tok.transform(frame)
    assert expected[-1] == []
    assert tok.transform(frame["text"]) == expected
    assert tok.transform(list(frame["text"])) == expected


def test_pickle_round_trip_holds_no_jieba_instance(tmp_path: Path) -> None:
    tok = JiebaTokenizer(cache_dir=str(tmp_path), use_cache=False).fit(TEXTS)
    before = dict(vars(tok))
    expected = tok.transform(TEXTS)
    assert vars(tok) == before  # the jieba instance lives in a module pool, not on the estimator
    for dumps, loads in ((pickle.dumps, pickle.loads), (cloudpickle.dumps, pickle.loads)):
        blob = dumps(tok)
        assert b"FREQ" not in blob
        again = loads(blob)
        assert again.transform(TEXTS) == expected


@pytest.mark.slow
def test_fitted_features_reload_in_a_fresh_process(tmp_path: Path) -> None:
    features = make_text_features(min_df=1, cache_dir=str(tmp_path)).fit(pd.DataFrame({"text": TEXTS}))
    expected = features.transform(pd.DataFrame({"text": TEXTS})).toarray().round(6).tolist()
    path = tmp_path / "features.pkl"
    path.write_bytes(cloudpickle.dumps(features))
    code = (
        "import pickle, sys, pandas as pd;"
        f"f = pickle.loads(open({str(path)!r}, 'rb').read());"
        f"print(f.transform(pd.DataFrame({{'text': {TEXTS!r}}})).toarray().round(6).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(expected)


def test_cache_hit_skips_jieba(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    original = JiebaTokenizer._cut

    def counting(self, texts):
        calls["n"] += len(texts)
        return original(self, texts)

    monkeypatch.setattr(JiebaTokenizer, "_cut", counting)
    corpus = [f"{t}{c}" for c in "甲乙丙丁戊" for t in TEXTS]  # 15 distinct texts
    tok = JiebaTokenizer(cache_dir=str(tmp_path), cache_min_texts=10)
    first = tok.transform(corpus)
    assert calls["n"] == len(corpus)
    files = list((tmp_path / "tokens").glob("*"))
    assert [f.suffix for f in files] == [".json"]  # a format that cannot run code
    assert json.loads(files[0].read_text(encoding="utf-8")) == first

    JiebaTokenizer.clear_memo()  # as in a new process: only the disk cache is left
    again = clone(tok)
    assert again.transform(corpus) == first
    assert calls["n"] == len(corpus)  # served from the disk cache
    assert not any(name.endswith("_") for name in vars(again))  # transform stores nothing fitted

    subset = corpus[:3]  # below cache_min_texts, served by the in-process memo
    assert again.transform(subset) == first[:3]
    assert calls["n"] == len(corpus)


def test_cache_key_changes_with_config_and_dictionaries(tmp_path: Path) -> None:
    base = JiebaTokenizer(cache_dir=str(tmp_path))
    key = base.cache_key(TEXTS)
    assert base.cache_key(list(TEXTS)) == key
    assert JiebaTokenizer(hmm=False).cache_key(TEXTS) != key
    assert JiebaTokenizer(user_dict=None).cache_key(TEXTS) != key
    assert JiebaTokenizer(stopwords=None).cache_key(TEXTS) != key
    assert base.cache_key([*TEXTS[:2], TEXTS[2] + "!"]) != key
    edited = tmp_path / "userdict.txt"
    edited.write_text(DEFAULT_USER_DICT.read_text(encoding="utf-8") + "靓号套餐 100 n\n", encoding="utf-8")
    assert JiebaTokenizer(user_dict=str(edited)).cache_key(TEXTS) != key


def test_dictionary_checksums() -> None:
    sums = dictionary_checksums()
    assert set(sums) == {"jieba_dict", "user_dict", "stopwords"}
    assert all(isinstance(v, str) and len(v) == 64 for v in sums.values())
    assert dictionary_checksums(user_dict=None)["user_dict"] is None
    assert "的" in read_stopwords(DEFAULT_STOPWORDS) and "不" not in read_stopwords(DEFAULT_STOPWORDS)


def test_make_text_features_word_and_char_union(tmp_path: Path) -> None:
    features = make_text_features(min_df=1, cache_dir=str(tmp_path))
    matrix = features.fit_transform(pd.DataFrame({"text": TEXTS}))
    names = features.named_steps["union"].get_feature_names_out()
    assert matrix.shape == (3, len(names))
    assert any(n == "words__手机报" for n in names)
    assert any(n.startswith("chars__") for n in names)
    words_only = make_text_features(min_df=1, char_ngram_range=None, cache_dir=str(tmp_path))
    assert words_only.fit_transform(TEXTS).shape[1] < matrix.shape[1]
    assert features.transform(pd.Series(["完全无关的句子"])).shape == (1, matrix.shape[1])


def test_select_k_keeps_the_columns_that_separate_the_training_labels(tmp_path: Path) -> None:
    texts = ["免费领取流量红包", "免费领取话费大奖", "明天一起吃饭吧", "明天开会记得带电脑"] * 3
    labels = ["spam", "spam", "ham", "ham"] * 3
    features = make_text_features(min_df=1, char_ngram_range=None, select_k=2, cache_dir=str(tmp_path))
    matrix = features.fit_transform(pd.DataFrame({"text": texts}), labels)
    names = list(features.get_feature_names_out())
    assert matrix.shape == (12, 2) and len(names) == 2
    assert {"words__免费", "words__领取", "words__明天"} & set(names)
    everything = make_text_features(min_df=1, char_ngram_range=None, cache_dir=str(tmp_path))
    assert everything.fit_transform(pd.DataFrame({"text": texts})).shape[1] > 2
    kept = features.named_steps["select"].get_support().copy()
    features.transform(pd.DataFrame({"text": ["明天免费吃饭"]}))  # scoring rows never change the selection
    assert (features.named_steps["select"].get_support() == kept).all()
