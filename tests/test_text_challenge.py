"""The spam challenge set and the training augmentation: determinism, disjointness, training-only use."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.config import compose
from src.data import sms_challenge, sms_transactional
from src.data import text as loaders
from src.data.sms_challenge import challenge_frame
from src.data.sms_transactional import augmentation_frame
from src.features.text import split_signature
from src.models.challenge import score_challenge
from src.models.evaluate import make_split

LEGITIMATE_FAMILIES = {
    "verification", "bank", "payment", "parcel", "travel", "utility",
    "government", "healthcare", "education", "operator", "personal",
}  # fmt: skip
SPAM_FAMILIES = {"loan", "gambling", "refund_phishing", "parcel_phishing", "marketing"}


def _skeleton(text: str) -> str:
    """A template's fixed wording: its literal text without fields."""
    return "".join(literal for literal, *_ in string.Formatter().parse(text))


def test_generator_is_deterministic_and_seeded() -> None:
    first, again = challenge_frame(7, 5), challenge_frame(7, 5)
    pd.testing.assert_frame_equal(first, again)
    assert not first["text"].equals(challenge_frame(8, 5)["text"])
    assert not first["text"].duplicated().any()


def test_command_writes_the_same_file_twice(tmp_path: Path) -> None:
    one, two = tmp_path / "a.csv", tmp_path / "b.csv"
    assert sms_challenge.main(["--seed", "3", "--per-template", "4", "--output", str(one)]) == 0
    assert sms_challenge.main(["--seed", "3", "--per-template", "4", "--output", str(two)]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert list(pd.read_csv(one).columns) == ["family", "template", "label", "text"]


def test_command_refuses_a_bad_count(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert sms_challenge.main(["--per-template", "0", "--output", str(tmp_path / "x.csv")]) == 1
    assert capsys.readouterr().err.startswith("error: --per-template")


def test_challenge_covers_the_families_and_signs_transactional_messages() -> None:
    frame = challenge_frame()
    assert set(frame.loc[frame["label"] == "ham", "family"]) == LEGITIMATE_FAMILIES
    assert set(frame.loc[frame["label"] == "spam", "family"]) == SPAM_FAMILIES
    transactional = frame[(frame["label"] == "ham") & (frame["family"] != "personal")]
    assert all(split_signature(t)[0] for t in transactional["text"])
    marketing = frame.loc[frame["family"] == "marketing", "text"]
    assert marketing.str.contains("退订|回T|拒收").all()


def test_augmentation_templates_and_signatures_are_disjoint_from_the_challenge() -> None:
    challenge, training = sms_challenge.TEMPLATES, sms_transactional.TEMPLATES
    assert not {t.text for t in challenge} & {t.text for t in training}
    assert not {_skeleton(t.text) for t in challenge} & {_skeleton(t.text) for t in training}
    assert not {s for t in challenge for s in t.signatures} & {s for t in training for s in t.signatures}
    # two challenge families have no training counterpart at all
    assert not {"government", "education"} & {t.family for t in training}
    texts = set(augmentation_frame(0, 20)["text"])
    assert not texts & set(challenge_frame()["text"])


@pytest.mark.slow
def test_augmentation_joins_the_training_split_only() -> None:
    # punctuation given back to normal training rows is tested in test_text_punctuation.py
    cfg = compose(["task=spam", "data.augment.per_template=2", "data.augment.punctuate_share=0"])
    data = loaders.load_sms_spam(cfg)
    plain = loaders.load_sms_spam(compose(["task=spam", "data.augment.enabled=false"]))
    n_corpus = len(plain.y)
    assert data.extras["n_augmented"] == len(data.y) - n_corpus > 0
    pd.testing.assert_frame_equal(data.X.iloc[:n_corpus], plain.X)
    assert (data.split.iloc[n_corpus:] == "train").all()
    expected = make_split(plain.y, int(cfg.seed), cfg.evaluation.val_size, cfg.evaluation.test_size)
    fixed = make_split(data.y, 0, 0.1, 0.1, fixed=data.split)
    np.testing.assert_array_equal(fixed.val, expected.val)
    np.testing.assert_array_equal(fixed.test, expected.test)
    assert (data.extras["source"].iloc[n_corpus:] == "augmentation").all()


class _CallsSpam:
    """A stand-in classifier that calls messages with a link or 退订 spam."""

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        flagged = X["text"].str.contains("http|退订|回T|\\.(?:cn|com|top|vip|xyz|cc)/", regex=True)
        return np.where(flagged, "spam", "ham")


def test_challenge_scores_count_false_positives_and_recall() -> None:
    metrics, table = score_challenge(_CallsSpam(), "spam", per_template=5, n_boot=50)
    frame = challenge_frame(per_template=5)
    assert metrics["challenge_n_legitimate"] == (frame["label"] == "ham").sum()
    assert metrics["challenge_false_positive_rate"] == 0.0  # no legitimate template carries a link
    assert 0.5 < metrics["challenge_spam_recall"] < 1.0  # some spam templates have none
    assert (
        metrics["challenge_spam_recall_lo"]
        <= metrics["challenge_spam_recall"]
        <= metrics["challenge_spam_recall_hi"]
    )
    assert set(table.columns) == {"label", "family", "n", "called_spam"}
