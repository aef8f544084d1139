"""Seeded punctuation of the spam corpus's normal training messages: marks only, training rows only."""

from __future__ import annotations

import re

import numpy as np
import pytest

from src.config import compose
from src.data import text as loaders
from src.data.sms_punctuation import END_MARKS, MID_MARKS, punctuate_share
from src.models.evaluate import make_split

MARKS = re.compile("[" + re.escape("".join(set(MID_MARKS + END_MARKS))) + "]")
TEXTS = ["我今天不回家吃饭了你们先吃", "明天上午开会记得带材料", "好的收到谢谢", "周末一起去看电影吧"] * 5


def test_punctuation_is_seeded_and_only_adds_marks() -> None:
    eligible = np.ones(len(TEXTS), dtype=bool)
    first = punctuate_share(TEXTS, eligible, 1.0, seed=7)
    assert first == punctuate_share(TEXTS, eligible, 1.0, seed=7)
    assert first != punctuate_share(TEXTS, eligible, 1.0, seed=8)
    assert [MARKS.sub("", t) for t in first] == TEXTS
    assert sum(bool(MARKS.search(t)) for t in first) > len(TEXTS) // 2


def test_punctuation_leaves_ineligible_texts_alone() -> None:
    eligible = np.arange(len(TEXTS)) % 2 == 0
    out = punctuate_share(TEXTS, eligible, 1.0, seed=7)
    assert [out[i] for i in np.flatnonzero(~eligible)] == [TEXTS[i] for i in np.flatnonzero(~eligible)]
    assert punctuate_share(TEXTS, eligible, 0.0, seed=7) == TEXTS
    with pytest.raises(ValueError, match="share"):
        punctuate_share(TEXTS, eligible, 1.5, seed=7)


@pytest.mark.slow
def test_loader_punctuates_normal_training_rows_only() -> None:
    share = "data.augment.punctuate_share"
    cfg = compose(["task=spam", "data.augment.per_template=1", f"{share}=0.5"])
    data = loaders.load_sms_spam(cfg)
    plain = loaders.load_sms_spam(compose(["task=spam", "data.augment.per_template=1", f"{share}=0"]))
    changed = (data.X["text"] != plain.X["text"]).to_numpy()
    split = make_split(data.y, 0, 0.1, 0.1, fixed=data.split)
    assert changed[split.train].sum() > 1000
    assert not changed[split.val].any() and not changed[split.test].any()
    assert (data.y.to_numpy()[changed] == "ham").all()
