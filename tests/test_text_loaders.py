"""Text corpus loaders: real files (counts from data/raw/README.md) and bad input written to tmp_path."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from src.config import compose
from src.data import text as loaders
from src.data.errors import DataValidationError


def _cfg(name: str, *overrides: str):
    return compose([f"data={name}", *overrides])


def _accounted(data) -> None:
    assert data.extras["n_raw_rows"] == len(data.X) + sum(data.quarantine.values())
    assert len(data.quarantined) == sum(data.quarantine.values())
    assert list(data.X.columns) == ["text"]


@pytest.mark.slow
def test_sms_spam_real_file() -> None:
    data = loaders.load_sms_spam(_cfg("sms_spam", "data.augment.enabled=false"))
    _accounted(data)
    assert data.extras["n_raw_rows"] == 50_000
    assert data.quarantine["duplicate"] == 72  # data card: 72 surplus rows, no conflicts
    assert "conflicting_labels" not in data.quarantine
    assert set(data.y) == {"ham", "spam"} and data.positive_label == "spam"
    assert not data.X["text"].duplicated().any()


def test_smp2017_official_split() -> None:
    data = loaders.load_smp2017(_cfg("smp2017"))
    _accounted(data)
    assert data.split.value_counts().to_dict() == {"train": 2299, "val": 770, "test": 667}
    assert data.y.nunique() == 31
    assert (data.y[data.split == "test"] == "chat").sum() == 51


@pytest.mark.slow
@pytest.mark.parametrize(("merge", "n_labels"), [(None, 14), ("data.merge_labels=null", 15)])
def test_toutiao_dedup_conflicts_and_labels(merge: str | None, n_labels: int) -> None:
    data = loaders.load_toutiao(_cfg("toutiao", *([merge] if merge else [])))
    _accounted(data)
    # 20,000 rows - 1,351 surplus copies = 18,649 titles, minus the 23 conflicting ones
    assert len(data.X) == 18_626
    assert data.quarantine["conflicting_labels"] + data.quarantine["duplicate"] == 20_000 - 18_626
    assert data.quarantined.loc[data.quarantined["reason"] == "conflicting_labels", "text"].nunique() == 23
    assert not data.X["text"].duplicated().any()
    assert data.y.nunique() == n_labels
    assert data.extras["category"].nunique() == 8


@pytest.mark.slow
def test_toutiao_category_label() -> None:
    data = loaders.load_toutiao(_cfg("toutiao", "data.label=category"))
    assert set(data.y) == {"新闻", "商务", "财经", "体育", "娱乐", "生活", "文化", "游戏"}
    assert data.y.name == "category"


@pytest.mark.slow
def test_satisfaction_both_files_shuffled() -> None:
    data = loaders.load_waimai_chnsenticorp(_cfg("waimai_chnsenticorp"))
    _accounted(data)
    assert data.extras["n_raw_rows"] == 11_987 + 7_766
    assert data.quarantine == {"empty_text": 1, "conflicting_labels": 14}  # 7 waimai texts x 2 labels
    assert set(data.extras["source"]) == {"waimai", "chnsenticorp"}
    head = data.y.iloc[:200]
    assert head.nunique() == 2 and data.extras["source"].iloc[:200].nunique() == 2
    again = loaders.load_waimai_chnsenticorp(_cfg("waimai_chnsenticorp"))
    assert again.X["text"].tolist() == data.X["text"].tolist()  # same seed, same order
    other = loaders.load_waimai_chnsenticorp(_cfg("waimai_chnsenticorp", "seed=7"))
    assert other.X["text"].tolist() != data.X["text"].tolist()


# ---------------------------------------------------------------- bad input in tmp_path
def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _review_cfg(path: Path, **data):
    cfg = _cfg("waimai_chnsenticorp")
    cfg.data.files = {"mine": {"path": str(path), "sha256": None}}
    for key, value in data.items():
        OmegaConf.update(cfg, f"data.{key}", value)
    return cfg


GOOD = [
    ["label", "review"],
    ["1", "很好吃，送得快"],
    ["0", "太慢了，菜都凉了"],
    ["1", "服务周到"],
    ["0", "量太少"],
]


def test_gbk_file_names_file_and_line(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "gbk.csv", [*GOOD, ["1", "味道不错"]], encoding="gbk")
    with pytest.raises(DataValidationError, match=r"gbk\.csv.*line 2.*data\.encoding=gbk") as err:
        loaders.load_waimai_chnsenticorp(_review_cfg(path))
    assert err.value.row == 2
    data = loaders.load_waimai_chnsenticorp(_review_cfg(path, encoding="gbk"))
    assert len(data.X) == 5


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"empty\.csv.*empty"):
        loaders.load_waimai_chnsenticorp(_review_cfg(path))


def test_missing_column(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "cols.csv", [["label", "comment"], ["1", "好"]])
    with pytest.raises(DataValidationError, match=r"cols\.csv.*column 'review'"):
        loaders.load_waimai_chnsenticorp(_review_cfg(path))


def test_ragged_row_and_unknown_label(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "ragged.csv", [*GOOD, ["1", "好", "多余"]])
    with pytest.raises(DataValidationError, match=r"ragged\.csv, line 6"):
        loaders.load_waimai_chnsenticorp(_review_cfg(path))
    path = _write_csv(tmp_path / "label.csv", [*GOOD, ["2", "一般般吧"]])
    with pytest.raises(DataValidationError, match=r"label\.csv, line 6, column 'label'.*unknown label '2'"):
        loaders.load_waimai_chnsenticorp(_review_cfg(path))


def test_bad_texts_are_quarantined_with_counts(tmp_path: Path) -> None:
    rows = [
        *GOOD,
        ["1", ""],
        ["0", "   \u3000 "],
        ["1", "★☆"],  # symbols only (emoji now read as their names, so they are content)
        ["0", "\\ue310\\ue310"],
        ["1", "12345678"],
        ["0", "？？！！"],
        ["1", "很好吃，送得快"],  # exact duplicate
        ["0", "服务周到"],  # same text, other label
    ]
    data = loaders.load_waimai_chnsenticorp(_review_cfg(_write_csv(tmp_path / "bad.csv", rows)))
    assert data.quarantine == {
        "empty_text": 2,
        "no_text_content": 4,
        "conflicting_labels": 2,
        "duplicate": 1,
    }
    assert sorted(data.X["text"]) == sorted(["很好吃，送得快", "太慢了，菜都凉了", "量太少"])
    lines = data.quarantined.set_index("line")["reason"]
    assert lines[6] == "empty_text" and lines[12] == "duplicate"
    assert set(data.quarantined.columns) >= {"file", "line", "label", "text", "reason"}


def test_long_text_truncated_not_dropped(tmp_path: Path) -> None:
    long_text = "好" * 100_000
    path = _write_csv(tmp_path / "long.csv", [*GOOD, ["1", long_text]])
    data = loaders.load_waimai_chnsenticorp(_review_cfg(path, max_chars=5000))
    assert len(data.X) == 5 and data.extras["truncated"] == 1
    assert data.X["text"].str.len().max() == 5000


def test_checksum_mismatch_names_the_file(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "changed.csv", GOOD)
    cfg = _review_cfg(path)
    cfg.data.files.mine.sha256 = "0" * 64
    with pytest.raises(DataValidationError, match=r"changed\.csv.*checksum mismatch"):
        loaders.load_waimai_chnsenticorp(cfg)


def test_headerless_spam_format_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "sms.csv"
    path.write_bytes("\ufeff0,今晚一起吃饭\r\n1,回复xxx领取话费\r\n0,好的\r\n".encode())
    cfg = _cfg("sms_spam", "data.augment.enabled=false")
    cfg.data.files = {"sms": {"path": str(path), "sha256": None}}
    data = loaders.load_sms_spam(cfg)
    assert data.y.tolist() == ["ham", "spam", "ham"]
    assert data.X["text"].tolist()[1] == "回复xxx领取话费"


def test_toutiao_bad_separator_row(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("1_!_101_!_news_culture_!_标题一_!_\n2_!_101_!_news_culture_!_缺字段\n", encoding="utf-8")
    cfg = _cfg("toutiao")
    cfg.data.files = {"dev": {"path": str(path), "sha256": None}}
    with pytest.raises(DataValidationError, match=r"t\.txt, line 2.*5 fields"):
        loaders.load_toutiao(cfg)
