"""The negation subset of a review corpus: texts where 不/没/别/无 comes right before an adjective.

Used to measure how a sentiment model reads negated praise and blame ("不难吃", "没有很好");
parts of speech come from jieba's tagger on a private tokenizer (the global jieba is untouched).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from src.data.text_normalize import normalize_text
from src.features.text import DEFAULT_USER_DICT, private_jieba

NEGATOR_CHARS = ("不", "没", "别", "无")
# review adjectives that jieba's tagger often tags otherwise (好吃 v, 新鲜 ns); POS "a" counts too
ADJECTIVES = frozenset(
    [
        "好",
        "差",
        "快",
        "慢",
        "贵",
        "贱",
        "难",
        "熟",
        "烂",
        "咸",
        "淡",
        "辣",
        "香",
        "脆",
        "硬",
        "软",
        "热",
        "凉",
        "冷",
        "多",
        "少",
        "大",
        "小",
        "错",
        "值",
        "对",
        "行",
        "新鲜",
        "好吃",
        "难吃",
        "满意",
        "干净",
        "热情",
        "方便",
        "舒服",
        "舒适",
        "便宜",
        "划算",
        "实惠",
        "好看",
        "好喝",
        "合适",
        "专业",
        "耐心",
        "安静",
        "卫生",
        "正宗",
        "地道",
        "准时",
        "及时",
        "新",
        "旧",
        "油腻",
        "清淡",
        "够味",
        "入味",
        "友好",
        "礼貌",
        "周到",
        "靠谱",
        "失望",
        "喜欢",
        "推荐",
        "值得",
        "好用",
        "美味",
        "可口",
        "到位",
    ]
)
_BRIDGES = frozenset({"有", "太", "很", "怎么", "那么", "是", "算", "够", "大", "特别", "一点", "也", "都"})


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import jieba.posseg

    return jieba.posseg.POSTokenizer(private_jieba(DEFAULT_USER_DICT))


def has_negated_adjective(text: str) -> bool:
    """True if 不/没/别/无 precedes an adjective, directly, inside one word (不难) or across 太/很/那么…."""
    pairs = [(p.word, p.flag) for p in _tagger().lcut(normalize_text(text)) if p.word.strip()]
    for i, (word, flag) in enumerate(pairs):
        if word[0] not in NEGATOR_CHARS:
            continue
        rest = word[1:].lstrip("有是太很")
        if rest and (_is_adjective(rest, "") or (len(word) > 1 and flag.startswith("a"))):
            return True
        for next_word, next_flag in pairs[i + 1 : i + 4]:
            if _is_adjective(next_word, next_flag):
                return True
            if next_word not in _BRIDGES:
                break
    return False


def _is_adjective(word: str, flag: str) -> bool:
    return flag.startswith("a") or word in ADJECTIVES


def negation_mask(texts: Sequence[str]) -> np.ndarray:
    """`has_negated_adjective` of every text."""
    return np.asarray([has_negated_adjective(t) for t in texts], dtype=bool)
