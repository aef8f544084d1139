"""Seeded punctuation for the spam corpus's normal TRAINING messages, so punctuation stops meaning spam.

The corpus's normal class reached us with its full-width punctuation and spaces stripped (0 of
45,000 messages hold ，。！ or a space) while 84% of spam has a comma. A model that reads the
text as written learns "punctuation means spam" and flags every real message written with a
comma. Instead of deleting punctuation from every text (which also deletes what it says inside
spam), a share of the normal training messages gets punctuation back: commas, enumeration
commas, spaces or an exclamation mark at word boundaries (jieba) and a sentence end, drawn from
one seeded generator. Validation and test rows are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import jieba
import numpy as np

MID_MARKS: tuple[str, ...] = ("，", "，", "，", " ", "、", "！")
END_MARKS: tuple[str, ...] = ("。", "！", "？", "~", "", "，")
BOUNDARY_RATE = 0.12  # share of word boundaries that get a mark


def punctuate(text: str, rng: np.random.Generator, boundary_rate: float = BOUNDARY_RATE) -> str:
    """`text` with seeded marks at some word boundaries and one at the end (may be none)."""
    words = [w for w in jieba.cut(text, HMM=False) if w]
    out: list[str] = []
    for position, word in enumerate(words):
        out.append(word)
        if position < len(words) - 1 and rng.random() < boundary_rate:
            out.append(MID_MARKS[int(rng.integers(len(MID_MARKS)))])
    out.append(END_MARKS[int(rng.integers(len(END_MARKS)))])
    return "".join(out)


def punctuate_share(texts: Sequence[str], eligible: np.ndarray, share: float, seed: int) -> list[str]:
    """The texts with a seeded `share` of the `eligible` ones punctuated (the others unchanged)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"punctuate share must lie in [0, 1], got {share}")
    rng = np.random.default_rng(seed)
    chosen = np.asarray(eligible, dtype=bool) & (rng.random(len(texts)) < share)
    out = list(texts)
    for position in np.flatnonzero(chosen):
        out[position] = punctuate(str(out[position]), rng)
    return out
