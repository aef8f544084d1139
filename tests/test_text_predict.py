"""A deployed text model on raw rows: no_text, predict-time truncation, emoji, no machine state."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from src.features.text import JiebaTokenizer, TextNormalizer, make_text_features, split_signature
from src.models.keyword import KeywordMatcher
from src.models.text_output import model_max_chars, text_prediction_frame
from src.paths import PROJECT_ROOT

REVIEWS = {
    "positive": ["好吃👍", "味道不错👍", "送得快👍", "很满意👍", "分量足👍", "推荐👍"],
    "negative": ["难吃😡", "太慢了😡", "凉了😡", "很失望😡", "分量少😡", "差评😡"],
}


def _review_model(max_chars: int | None = None) -> Pipeline:
    texts = [t for label in REVIEWS for t in REVIEWS[label]]
    labels = [label for label in REVIEWS for _ in REVIEWS[label]]
    features = make_text_features(min_df=1, use_cache=False, max_chars=max_chars)
    return Pipeline([("features", features), ("model", LogisticRegression(random_state=0))]).fit(
        pd.DataFrame({"text": texts}), labels
    )


def test_thumbs_up_and_angry_face_give_different_satisfaction() -> None:
    model = _review_model()
    proba = model.predict_proba(pd.DataFrame({"text": ["👍", "😡"]}))
    positive = list(model.classes_).index("positive")
    assert proba[0, positive] > proba[1, positive]
    assert not np.allclose(proba[0], proba[1])


def test_empty_and_letterless_texts_are_flagged_no_text() -> None:
    model = _review_model()
    frame = pd.DataFrame({"text": ["好吃👍", "", "   \u3000", None, "12345", "难吃"]})
    out = text_prediction_frame(model, frame, no_text_label="no_text")
    assert out["no_text"].tolist() == [False, True, True, True, True, False]
    assert (out.loc[out["no_text"], "prediction"] == "no_text").all()
    assert out.loc[out["no_text"], ["proba_negative", "proba_positive"]].isna().all().all()
    assert out.loc[~out["no_text"], "prediction"].isin(["positive", "negative"]).all()
    np.testing.assert_allclose(
        out.loc[~out["no_text"], ["proba_negative", "proba_positive"]].sum(axis=1), 1.0
    )


def test_predict_truncates_as_in_training_and_counts_it(caplog: pytest.LogCaptureFixture) -> None:
    model = _review_model(max_chars=50)
    assert model_max_chars(model) == 50
    huge = "难吃" * 100_000  # 200,000 characters
    with caplog.at_level(logging.WARNING):
        out = text_prediction_frame(model, pd.DataFrame({"text": [huge, "好吃"]}))
    assert out["truncated"].tolist() == [True, False]
    assert "1 text(s) longer than 50 characters truncated" in caplog.text
    normalized = TextNormalizer(max_chars=50).transform([huge])[0]
    assert len(normalized) == 50
    tokens = JiebaTokenizer(max_chars=50, use_cache=False).transform([huge])[0]
    assert len("".join(tokens)) <= 50


def test_signature_is_a_separate_normalised_field() -> None:
    assert split_signature("【顺丰速运】取件码3-2-1101") == ("顺丰速运", "取件码3-2-1101")
    assert split_signature("您的验证码123456。【ＪＤ商城】") == ("jd商城", "您的验证码123456。")
    assert split_signature("今晚一起吃饭") == ("", "今晚一起吃饭")
    body = TextNormalizer(drop_signature=True).transform(["【某银行】您尾号1234的卡入账"])[0]
    assert "某银行" not in body and "入账" in body


def test_fitted_text_models_hold_no_path_of_this_machine() -> None:
    texts = [t for label in REVIEWS for t in REVIEWS[label]]
    labels = [label for label in REVIEWS for _ in REVIEWS[label]]
    for model in (_review_model(), KeywordMatcher(top_k=3, min_df=1).fit(texts, labels)):
        blob = pickle.dumps(model)
        assert str(PROJECT_ROOT).encode() not in blob
        params = model.get_params(deep=True)
        assert not [k for k, v in params.items() if isinstance(v, str) and v.startswith("/")]


def test_a_loaded_tokenizer_neither_writes_nor_reads_a_token_cache(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TELECOM_PROFILING_TOKEN_CACHE", raising=False)
    texts = [f"第{i}条短信内容" for i in range(30)]
    trained = JiebaTokenizer(cache_min_texts=10).fit(texts)
    trained.transform(texts)  # training writes the JSON cache into the user's cache folder
    written = list((tmp_path / "xdg" / "telecom-profiling" / "tokens").glob("*"))
    assert [f.suffix for f in written] == [".json"]
    for f in written:  # a planted, corrupt cache must not be used by a loaded model
        f.write_text('[["planted"]]', encoding="utf-8")
    loaded = pickle.loads(pickle.dumps(trained))
    fresh = [f"新的第{i}条" for i in range(30)]
    JiebaTokenizer.clear_memo()
    assert loaded.transform(texts)[0] != ["planted"]
    loaded.transform(fresh)
    assert sorted((tmp_path / "xdg" / "telecom-profiling" / "tokens").glob("*")) == sorted(written)
    assert not any(name.endswith("_") and name != "dictionary_checksums_" for name in vars(loaded))
