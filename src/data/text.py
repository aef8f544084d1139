"""Loaders of the Chinese text corpora (conf/data/*.yaml): checksum, strict decoding and the data traps.

Every loader returns a `TaskData` with X = DataFrame[`text`] and y = the label, and accounts for
every input row: kept, or quarantined with a reason. Quarantine reasons:
- `empty_text`: the text is missing, empty or whitespace-only;
- `no_text_content`: nothing but digits, emoji, symbols or punctuation is left after normalisation;
- `conflicting_labels`: the same text carries different labels (every copy is set aside);
- `duplicate`: a surplus copy of a text already kept with the same label.
Texts longer than `data.max_chars` are truncated (counted in `extras["truncated"]`), never dropped.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.data.checksums import verify_sha256
from src.data.errors import DataValidationError
from src.data.sms_punctuation import punctuate_share
from src.data.sms_transactional import AUGMENT_PER_TEMPLATE, augmentation_frame
from src.data.splits import make_split
from src.data.task_data import TaskData
from src.data.text_normalize import has_content, normalize_text

log = logging.getLogger(__name__)

REASONS = ("empty_text", "no_text_content", "conflicting_labels", "duplicate")
_RECORD_COLUMNS = ["source", "file", "line", "label", "text"]


def read_text_file(path: str | Path, sha256: str | None, encoding: str) -> str:
    """Verify the checksum, decode strictly (naming file and line on failure), drop a BOM."""
    path = Path(path)
    verify_sha256(path, sha256)
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        hint = "if the file is GBK-encoded, set data.encoding=gbk"
        if encoding.lower().replace("-", "") != "utf8":
            hint = f"check data.encoding (now {encoding}); most corpora here are utf-8"
        raise DataValidationError(
            f"not valid {encoding} (byte 0x{raw[err.start]:02x} at offset {err.start})",
            file=path,
            row=line,
            hint=hint,
        ) from None
    except LookupError:
        raise DataValidationError(f"unknown encoding '{encoding}'", file=path) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataValidationError("the file is empty", file=path, hint="expected labelled text rows")
    return text


def read_csv_records(
    text: str, path: Path, columns: list[str], header: bool, label_column: str, text_column: str
) -> pd.DataFrame:
    """Parse CSV text into (line, label, text) records; a header or a row of the wrong width is an error."""
    reader = csv.reader(io.StringIO(text, newline=""))
    names = list(columns)
    if header:
        found = [c.strip() for c in next(reader, [])]
        missing = [c for c in (label_column, text_column) if c not in found]
        if missing:
            raise DataValidationError(
                f"missing column(s) {missing}; the header has {found}",
                file=path,
                row=1,
                column=missing[0],
                hint="fix the header or data.format.columns",
            )
        names = found
    rows: list[tuple[int, str, str]] = []
    start = reader.line_num + 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not record:  # a blank line
            continue
        if len(record) != len(names):
            raise DataValidationError(
                f"expected {len(names)} fields ({','.join(names)}), found {len(record)}",
                file=path,
                row=line,
                hint="quote fields that contain commas",
            )
        values = dict(zip(names, record, strict=True))
        rows.append((line, values[label_column], values[text_column]))
    if not rows:
        raise DataValidationError("the file has no data rows", file=path)
    return pd.DataFrame(rows, columns=["line", "label", "text"])


def read_sep_records(text: str, path: Path, sep: str, fields: list[str]) -> pd.DataFrame:
    """Parse one-record-per-line text with a multi-character separator (toutiao `_!_`)."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(sep)
        if len(parts) != len(fields):
            raise DataValidationError(
                f"expected {len(fields)} fields separated by '{sep}', found {len(parts)}",
                file=path,
                row=number,
            )
        rows.append((number, *parts))
    if not rows:
        raise DataValidationError("the file has no data rows", file=path)
    return pd.DataFrame(rows, columns=["line", *fields])


def _file_specs(spec: DictConfig) -> dict[str, dict[str, Any]]:
    files = OmegaConf.to_container(spec.files, resolve=True)
    if not files:
        raise DataValidationError(f"data config '{spec.get('name')}' lists no files")
    return files


def _read_csv_corpus(spec: DictConfig) -> tuple[pd.DataFrame, list[Path]]:
    """All files of a CSV data spec as records tagged with their source."""
    fmt = spec.format
    frames, paths = [], []
    for source, file_spec in _file_specs(spec).items():
        path = Path(file_spec["path"])
        text = read_text_file(path, file_spec.get("sha256"), spec.get("encoding", "utf-8"))
        records = read_csv_records(
            text, path, list(fmt.columns), bool(fmt.header), fmt.label_column, fmt.text_column
        )
        records.insert(0, "file", path.name)
        records.insert(0, "source", source)
        frames.append(records)
        paths.append(path)
    return pd.concat(frames, ignore_index=True), paths


def map_labels(records: pd.DataFrame, spec: DictConfig, path_of: dict[str, Path]) -> pd.Series:
    """Raw label strings -> names via `data.label_names`; an undeclared label is an error naming its row."""
    raw = records["label"].astype("str").str.strip()
    names = spec.get("label_names")
    if not names:
        return raw
    names = {str(k): str(v) for k, v in OmegaConf.to_container(names, resolve=True).items()}
    unknown = ~raw.isin(list(names))
    if unknown.any():
        row = records.loc[unknown].iloc[0]
        raise DataValidationError(
            f"unknown label '{row['label']}' (declared: {sorted(names)})",
            file=path_of.get(row["source"], row["file"]),
            row=int(row["line"]),
            column=spec.format.get("label_column", "label"),
            hint="add it to data.label_names or fix the row",
        )
    return raw.map(names)


def clean_records(records: pd.DataFrame, max_chars: int, conflict_label: str = "label") -> dict[str, Any]:
    """Apply the quarantine rules; return kept rows, quarantined rows, counts and the truncation count."""
    frame = records.copy()
    raw_text = frame["text"]
    missing = raw_text.isna()
    stripped = raw_text.fillna("").astype("str").str.strip()
    reason = pd.Series("", index=frame.index, dtype="object")
    reason[missing | stripped.eq("")] = "empty_text"

    normalized = stripped.map(normalize_text)
    no_content = reason.eq("") & ~normalized.map(has_content)
    reason[no_content] = "no_text_content"

    live = reason.eq("")
    labels_per_text = frame.loc[live].groupby(stripped[live], sort=False)[conflict_label].nunique()
    conflicted = set(labels_per_text.index[labels_per_text > 1])
    conflict = live & stripped.isin(conflicted)
    reason[conflict] = "conflicting_labels"

    # surplus copies among the rows still kept (copies of quarantined texts were handled above)
    live = reason.eq("")
    duplicate = live & stripped.where(live).duplicated(keep="first")
    reason[duplicate] = "duplicate"

    frame["text"] = stripped
    kept = frame.loc[reason.eq("")].copy()
    too_long = kept["text"].str.len() > max_chars
    truncated = int(too_long.sum())
    if truncated:
        kept.loc[too_long, "text"] = kept.loc[too_long, "text"].str.slice(0, max_chars)
        log.warning("%d text(s) longer than %d characters truncated", truncated, max_chars)
    quarantined = frame.loc[~reason.eq("")].copy()
    quarantined["reason"] = reason[~reason.eq("")]
    counts = {r: int((reason == r).sum()) for r in REASONS if (reason == r).any()}
    for r, n in counts.items():
        log.info("quarantined %d row(s): %s", n, r)
    return {
        "kept": kept,
        "quarantined": quarantined.reset_index(drop=True),
        "counts": counts,
        "truncated": truncated,
    }


def _build_task_data(
    cleaned: dict[str, Any],
    paths: list[Path],
    spec: DictConfig,
    label_column: str = "label",
    split: pd.Series | None = None,
    extra_columns: tuple[str, ...] = (),
) -> TaskData:
    kept = cleaned["kept"].reset_index(drop=True)
    X = pd.DataFrame({"text": kept["text"].astype("str")})
    y = kept[label_column].astype("str").rename(label_column if label_column != "label" else "label")
    extras: dict[str, Any] = {
        "source": kept["source"].astype("str"),
        "line": kept["line"].astype("int64"),
        "truncated": cleaned["truncated"],
        "n_raw_rows": int(len(kept) + len(cleaned["quarantined"])),
    }
    for column in extra_columns:
        extras[column] = kept[column].astype("str")
    positive = spec.get("positive_label")
    return TaskData(
        X=X,
        y=y,
        input_files=paths,
        split=split,
        positive_label=None if positive is None else str(positive),
        quarantine=cleaned["counts"],
        quarantined=cleaned["quarantined"],
        extras=extras,
    )


def _max_chars(spec: DictConfig) -> int:
    return int(spec.get("max_chars", 5000))


def _shuffle(cleaned: dict[str, Any], seed: int) -> None:
    kept = cleaned["kept"]
    order = np.random.default_rng(seed).permutation(len(kept))
    cleaned["kept"] = kept.iloc[order]


def _csv_task(cfg: DictConfig, shuffle: bool = False) -> tuple[dict[str, Any], list[Path]]:
    spec = cfg.data
    records, paths = _read_csv_corpus(spec)
    records["label"] = map_labels(records, spec, _sources(spec))
    cleaned = clean_records(records, _max_chars(spec))
    if shuffle:
        _shuffle(cleaned, int(cfg.seed))
    return cleaned, paths


def _sources(spec: DictConfig) -> dict[str, Path]:
    return {name: Path(f["path"]) for name, f in _file_specs(spec).items()}


def load_sms_spam(cfg: DictConfig) -> TaskData:
    """chinese_sms_spam_50k: SMS -> spam/ham (digits masked as `x`, 72 surplus duplicates).

    With `data.augment.enabled`, seeded messages of `src.data.sms_transactional` join the
    training split only: the corpus is split exactly as the harness would split it (same seed
    and sizes) and the split is returned fixed, so validation and test stay pure corpus.
    """
    cleaned, paths = _csv_task(cfg, shuffle=bool(cfg.data.get("shuffle", False)))
    data = _build_task_data(cleaned, paths, cfg.data)
    augment = cfg.data.get("augment") or {}
    if not augment.get("enabled", False):
        return data
    return with_training_augmentation(
        data,
        cfg,
        int(augment.get("per_template", AUGMENT_PER_TEMPLATE)),
        float(augment.get("punctuate_share", 0.0)),
    )


def with_training_augmentation(
    data: TaskData, cfg: DictConfig, per_template: int, punctuate: float = 0.0
) -> TaskData:
    """The corpus plus augmentation rows fixed to the training split (validation and test untouched).

    `punctuate` is the share of the corpus's normal training messages that get seeded
    punctuation back (`src.data.sms_punctuation`); validation and test keep their rows as read.
    """
    evaluation = cfg.evaluation
    split = make_split(data.y, int(cfg.seed), float(evaluation.val_size), float(evaluation.test_size))
    labels = pd.Series("train", index=range(len(data.y)), dtype="object")
    labels.iloc[split.val] = "val"
    labels.iloc[split.test] = "test"
    extra = augmentation_frame(int(cfg.seed), per_template)
    extra = extra.loc[~extra["text"].isin(set(data.X["text"]))]  # never a copy of a corpus text
    n = len(extra)
    corpus_texts = data.X["text"].astype("str").tolist()
    if punctuate > 0:
        normal = data.y.astype("str").to_numpy() != str(data.positive_label)
        eligible = (labels.to_numpy() == "train") & normal
        corpus_texts = punctuate_share(corpus_texts, eligible, punctuate, int(cfg.seed))
        log.info("punctuation added to %.0f%% of %d normal training rows", 100 * punctuate, eligible.sum())
    corpus = pd.DataFrame({"text": pd.Series(corpus_texts, dtype="str")})
    X = pd.concat([corpus, pd.DataFrame({"text": extra["text"].astype("str")})], ignore_index=True)
    y = pd.concat([data.y, extra["label"].astype("str").rename(data.y.name)], ignore_index=True)
    extras = dict(data.extras)
    extras["source"] = pd.concat([data.extras["source"], pd.Series(["augmentation"] * n, dtype="str")])
    extras["source"] = extras["source"].reset_index(drop=True)
    extras["line"] = pd.concat([data.extras["line"], pd.Series(np.arange(1, n + 1), dtype="int64")])
    extras["line"] = extras["line"].reset_index(drop=True)
    extras["n_augmented"] = n
    log.info("training augmentation: %d generated message(s) %s", n, extra["label"].value_counts().to_dict())
    return TaskData(
        X=X,
        y=y,
        input_files=data.input_files,
        split=pd.concat([labels, pd.Series(["train"] * n, dtype="object")], ignore_index=True).rename(
            "split"
        ),
        positive_label=data.positive_label,
        quarantine=data.quarantine,
        quarantined=data.quarantined,
        extras=extras,
    )


def load_smp2017(cfg: DictConfig) -> TaskData:
    """smp2017_ecdt_task1: requests -> 31 domains; official split train/develop/test -> train/val/test."""
    spec = cfg.data
    path = Path(_file_specs(spec)["all"]["path"])
    text = read_text_file(path, _file_specs(spec)["all"].get("sha256"), spec.get("encoding", "utf-8"))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None) or []
    fmt = spec.format
    needed = [fmt.split_column, fmt.label_column, fmt.text_column]
    missing = [c for c in needed if c not in header]
    if missing:
        raise DataValidationError(
            f"missing column(s) {missing}; the header has {header}", file=path, row=1, column=missing[0]
        )
    rows = []
    for record in reader:
        if not record:
            continue
        if len(record) != len(header):
            raise DataValidationError(
                f"expected {len(header)} fields, found {len(record)}", file=path, row=reader.line_num
            )
        values = dict(zip(header, record, strict=True))
        rows.append(
            (reader.line_num, values[fmt.split_column], values[fmt.label_column], values[fmt.text_column])
        )
    records = pd.DataFrame(rows, columns=["line", "split", "label", "text"])
    records.insert(0, "file", path.name)
    records.insert(0, "source", "all")
    split_map = {str(k): str(v) for k, v in OmegaConf.to_container(spec.split_map, resolve=True).items()}
    unknown = ~records["split"].isin(list(split_map))
    if unknown.any():
        row = records.loc[unknown].iloc[0]
        raise DataValidationError(
            f"unknown split '{row['split']}' (expected {sorted(split_map)})",
            file=path,
            row=int(row["line"]),
            column=fmt.split_column,
        )
    records["split"] = records["split"].map(split_map)
    records["label"] = map_labels(records, spec, {"all": path})
    cleaned = clean_records(records, _max_chars(spec))
    split = cleaned["kept"]["split"].astype("str").reset_index(drop=True).rename("split")
    return _build_task_data(cleaned, [path], spec, split=split)


def load_toutiao(cfg: DictConfig) -> TaskData:
    """toutiao_news_titles_20k: titles -> 15 topics (or 8 content categories), de-duplicated across files.

    The label is `task.label` if the task sets it, else `data.label` (`topic` or `category`).
    `data.merge_labels` folds rare topics into others before anything else (stock -> news_finance);
    conflicts are judged on the topic, so topic and category tasks see the same rows.
    """
    spec = cfg.data
    fmt = spec.format
    frames, paths = [], []
    for source, file_spec in _file_specs(spec).items():
        path = Path(file_spec["path"])
        text = read_text_file(path, file_spec.get("sha256"), spec.get("encoding", "utf-8"))
        records = read_sep_records(text, path, fmt.sep, list(fmt.fields))
        records.insert(0, "file", path.name)
        records.insert(0, "source", source)
        frames.append(records)
        paths.append(path)
    records = pd.concat(frames, ignore_index=True)
    records = records.rename(columns={fmt.label_field: "topic", fmt.text_field: "text"})
    merge_spec = spec.get("merge_labels")
    merge = OmegaConf.to_container(merge_spec, resolve=True) if merge_spec else {}
    records["topic"] = records["topic"].astype("str").str.strip().replace(merge)
    mapping = OmegaConf.to_container(spec.content.toutiao_to_category, resolve=True)
    unmapped = ~records["topic"].isin(list(mapping))
    if unmapped.any():
        row = records.loc[unmapped].iloc[0]
        raise DataValidationError(
            f"topic '{row['topic']}' has no content category",
            file=dict(zip(_file_specs(spec), paths, strict=True))[row["source"]],
            row=int(row["line"]),
            column=fmt.label_field,
            hint="add it to content.toutiao_to_category (conf/content/default.yaml)",
        )
    records["category"] = records["topic"].map(mapping)
    cleaned = clean_records(records, _max_chars(spec), conflict_label="topic")
    label = _toutiao_label(cfg)
    cleaned["kept"] = cleaned["kept"].assign(label=cleaned["kept"][label])
    cleaned["quarantined"]["label"] = cleaned["quarantined"][label]
    data = _build_task_data(cleaned, paths, spec, extra_columns=("topic", "category"))
    data.y = data.y.rename(label)
    data.extras["label_kind"] = label
    return data


def _toutiao_label(cfg: DictConfig) -> str:
    task = cfg.get("task") or {}
    label = task.get("label") if hasattr(task, "get") else None
    label = label or cfg.data.get("label", "topic")
    if label not in ("topic", "category"):
        raise DataValidationError(f"label must be 'topic' or 'category', got '{label}'", column="label")
    return str(label)


def load_waimai_chnsenticorp(cfg: DictConfig) -> TaskData:
    """waimai_10k + chnsenticorp_htl_all: reviews -> positive/negative, both files, shuffled with the seed."""
    cleaned, paths = _csv_task(cfg, shuffle=True)
    return _build_task_data(cleaned, paths, cfg.data)
