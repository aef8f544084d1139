"""normalize_text and TextNormalizer: placeholders, half-width output, idempotence (hypothesis)."""

from __future__ import annotations

import unicodedata

import emoji
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.text_normalize import demojize_zh, has_content, normalize_text
from src.features.text import TextNormalizer

FULL_WIDTH = {chr(c) for c in range(0xFF01, 0xFF5F)} | {"\u3000"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("回复xxx元抢购", "回复 NUM 元抢购"),
        ("致电xxxxxxxxxxx咨询", "致电 PHONE 咨询"),
        ("拨打13812345678或0571-88888888", "拨打 PHONE 或 PHONE"),
        ("热线400-800-1234", "热线 PHONE"),
        ("详见http://t.cn/abc点击", "详见 URL 点击"),
        ("访问www.10086.cn办理", "访问 URL 办理"),
        ("ＡＢＣ１２３全角", "abc123全角"),
        ("价格1.2亿，日期2018-05-01", "价格 NUM 亿,日期 NUM"),
        ("x月x日", "NUM 月 NUM 日"),
        ("xbox box tx", "xbox box tx"),
        ("4G流量 iPhone6 mp3", "4g流量 iphone6 mp3"),
        ("春装到店啦\\ue310 \\\\ue310", "春装到店啦 EMOJI EMOJI"),
        ("好评😀👍", "好评 嘿嘿 拇指向上"),
        ("a\tb\r\nc\x00d\u200be\ufeff", "a b cde"),
        ("  前后空白  ", "前后空白"),
        ("٣٤٥元", "NUM 元"),
        ("\\u0041 stays", "\\u0041 stays"),
    ],
)
def test_normalize_cases(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA])
def test_missing_is_empty(missing: object) -> None:
    assert normalize_text(missing) == ""


@pytest.mark.parametrize(
    ("raw", "content"),
    [
        ("12345", False),
        ("😀😀", True),  # emoji read as their names
        ("\\ue310\\ue310", False),
        ("？？？", False),
        ("", False),
        ("好x", True),
    ],
)
def test_has_content(raw: str, content: bool) -> None:
    assert has_content(normalize_text(raw)) is content


_pieces = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=4),
    st.sampled_from(
        [*"xX0123456789０１２ａＡ，。 \t\n-.:/\\u", "NUM", "http://", "www.", ".cn", "\\ue310", "中国移动"]
    ),
)
text_strategy = st.lists(_pieces, max_size=15).map("".join)


@settings(max_examples=300, deadline=None)
@given(text_strategy)
def test_idempotent(raw: str) -> None:
    once = normalize_text(raw)
    assert normalize_text(once) == once


@settings(max_examples=300, deadline=None)
@given(text_strategy)
def test_no_control_chars_and_half_width(raw: str) -> None:
    out = normalize_text(raw)
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in out)
    assert not (set(out) & FULL_WIDTH)
    assert out == out.strip()
    assert "  " not in out
    assert not any(c.isspace() and c != " " for c in out)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789x", min_size=1, max_size=30))
def test_digit_runs_have_no_content(raw: str) -> None:
    assert not has_content(normalize_text(raw))


def test_transformer_accepts_frame_series_list_and_logs_missing(caplog: pytest.LogCaptureFixture) -> None:
    frame = pd.DataFrame({"text": ["ＡＢ", None, "流量xx"]})
    normalizer = TextNormalizer().fit(frame)
    expected = ["ab", "", "流量 NUM"]
    with caplog.at_level("WARNING"):
        assert normalizer.transform(frame) == expected
    assert "1 missing text" in caplog.text
    assert not any(name.endswith("_") for name in vars(normalizer))  # transform stores nothing
    assert normalizer.transform(frame["text"]) == expected
    assert normalizer.transform(list(frame["text"])) == expected
    with pytest.raises(ValueError, match="text"):
        normalizer.transform(pd.DataFrame({"a": [1], "b": [2]}))
    with pytest.raises(TypeError, match="single string"):
        normalizer.transform("一条短信")


EMOJI_SAMPLE = sorted(emoji.EMOJI_DATA)[::50]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet="天气好不错1234#*abc ，。！", max_size=5),
            st.sampled_from(EMOJI_SAMPLE),
            st.sampled_from(["\ufe0f", "\ufe0e", "\u200d", "\u20e3", "©", "™"]),
        ),
        max_size=8,
    )
)
def test_the_emoji_shortcut_changes_nothing(parts: list[str]) -> None:
    text = "".join(parts)
    assert demojize_zh(text) == emoji.demojize(text, language="zh", delimiters=(" ", " "))


def test_normalisation_is_remembered_and_unchanged() -> None:
    text = "好评😀👍 拨打13812345678"
    assert normalize_text(text) == normalize_text(text) == "好评 嘿嘿 拇指向上 拨打 PHONE"
