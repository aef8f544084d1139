"""Load a tabular CSV described by conf/data/*.yaml: schema, blanks and checksum validated."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.data.checksums import verify_sha256
from src.data.errors import DataValidationError
from src.data.task_data import TaskData, check_targets, label_counts, quarantine_missing_targets
from src.errors import ConfigError

log = logging.getLogger(__name__)

KINDS = ("numeric", "integer", "categorical", "text")
_INTEGER = re.compile(r"^[+-]?\d+$")
_HEADER_LINES = 1
SPLITS = ("train", "val", "test")
FILE_SPLIT = "__split__"  # the split of each row read from `files`, dropped before the model sees X


def decode_strict(raw: bytes, path: Path, encoding: str) -> str:
    """Decode bytes, naming the line of the first undecodable byte."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataValidationError(
            f"not valid {encoding} (byte 0x{raw[err.start]:02x} at offset {err.start})",
            file=path,
            row=line,
            hint="if the file is GBK-encoded, set data.encoding=gbk",
        ) from None
    except LookupError:
        raise DataValidationError(f"unknown encoding '{encoding}'", file=path) from None


def read_validated_csv(
    spec: DictConfig, path: str | Path | None = None, sha256: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Read a CSV of a data spec (`spec.path` by default) as pandas would, after validating every column.

    `spec.rename` (old header -> declared name) is applied to the header first, so files that spell
    a column differently validate against one `columns:` list. A `path` other than `spec.path` is
    checked against `sha256` (None skips the check).
    """
    expected = spec.get("sha256") if path is None else sha256
    path = Path(spec.path if path is None else path)
    checksum = verify_sha256(path, expected)
    raw = path.read_bytes()
    text = decode_strict(raw, path, spec.get("encoding", "utf-8"))
    if not text.strip():
        raise DataValidationError("the file is empty", file=path, hint="expected a header and data rows")
    delimiter = spec.get("delimiter", ",")
    rename = dict(OmegaConf.to_container(spec.rename, resolve=True)) if spec.get("rename") else {}
    as_text = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False)
    as_text = as_text.rename(columns=rename)
    if as_text.empty:
        raise DataValidationError("the file has a header but no data rows", file=path)
    columns = OmegaConf.to_container(spec.columns, resolve=True)
    blanks = spec.get("blank_means")
    blank_means = OmegaConf.to_container(blanks, resolve=True) if blanks else {}
    _check_columns(as_text, columns, path)
    for column, kind in columns.items():
        # a blank target is quarantined by the loader, not rejected here
        _check_values(as_text[column], kind, column in blank_means or column == spec.get("target"), path)
    id_column = spec.get("id_column")
    if id_column:
        dup = as_text[id_column].duplicated()
        if dup.any():
            first = int(dup.to_numpy().nonzero()[0][0])
            raise DataValidationError(
                f"duplicate id '{as_text[id_column].iloc[first]}'",
                file=path,
                row=first + 1 + _HEADER_LINES,
                column=id_column,
            )
    typed = pd.read_csv(io.StringIO(text), sep=delimiter, keep_default_na=False, na_values=[""])
    typed = typed.rename(columns=rename)
    for column, kind in columns.items():
        if kind in ("categorical", "text"):
            typed[column] = as_text[column].astype("str")
    return typed, checksum


def _check_columns(frame: pd.DataFrame, columns: dict[str, str], path: Path) -> None:
    for column, kind in columns.items():
        if kind not in KINDS:
            raise DataValidationError(f"unknown column kind '{kind}' (use one of {KINDS})", column=column)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"missing column(s) {missing}; found {list(frame.columns)}",
            file=path,
            column=missing[0],
            hint="fix the file's header or the `columns:` list of the data config",
        )
    extra = [c for c in frame.columns if c not in columns]
    if extra:
        log.warning("%s: ignoring undeclared columns %s", path.name, extra)


def _check_values(values: pd.Series, kind: str, blank_allowed: bool, path: Path) -> None:
    stripped = values.str.strip()
    blank = stripped == ""
    if blank.any() and not blank_allowed:
        row = int(blank.to_numpy().nonzero()[0][0])
        raise DataValidationError(
            "blank value",
            file=path,
            row=row + 1 + _HEADER_LINES,
            column=values.name,
            hint="fill it, or declare what a blank means under `blank_means:` in the data config",
        )
    filled = stripped[~blank]
    if kind == "integer":
        bad = ~filled.str.match(_INTEGER)
    elif kind == "numeric":
        bad = pd.to_numeric(filled, errors="coerce").isna()
    else:
        return
    if bad.any():
        position = bad[bad].index[0]
        raise DataValidationError(
            f"expected {'an integer' if kind == 'integer' else 'a number'}, got '{values.loc[position]}'",
            file=path,
            row=int(position) + 1 + _HEADER_LINES,
            column=values.name,
        )


def load_tabular(cfg: DictConfig) -> TaskData:
    """Task loader for a tabular CSV (or one CSV per split) with a binary or multi-class target column."""
    spec = cfg.data
    frame, checksums, files = read_tables(spec)
    target = spec.target
    source = ", ".join(Path(f).name for f in files)
    if target not in frame.columns:
        raise DataValidationError(f"target column '{target}' is missing", file=files[0], column=target)
    frame, quarantined = quarantine_missing_targets(frame, target)
    if len(quarantined):
        log.warning("%s: %d row(s) without a '%s' label quarantined", source, len(quarantined), target)
    split = fixed_split(spec, frame, source)
    y = frame[target].astype("str")
    positive = spec.get("positive_label")
    if positive is not None and str(positive) not in set(y):
        raise DataValidationError(
            f"positive label '{positive}' never occurs; labels found: {label_counts(y)}",
            file=files[0],
            column=target,
        )
    X = frame.drop(columns=[c for c in (target, spec.get("split_column")) if c])
    log.info("loaded %s: %d rows, %d columns, sha256 %s", source, len(X), X.shape[1], checksums[0][:12])
    data = TaskData(
        X=X,
        y=y.rename(target),
        input_files=[Path(f) for f in files],
        split=split,
        positive_label=None if positive is None else str(positive),
        quarantine={"missing_target": len(quarantined)},
        quarantined=quarantined if len(quarantined) else None,
    )
    check_targets(data, source)
    return data


def read_tables(spec: DictConfig) -> tuple[pd.DataFrame, list[str], list[str]]:
    """(rows, sha256 per file, files) of `spec.path`, or of `spec.files` (split -> CSV) stacked."""
    files = spec.get("files")
    if not files:
        frame, checksum = read_validated_csv(spec)
        return frame, [checksum], [str(spec.path)]
    if spec.get("split_column"):
        raise ConfigError("data: give either `files` (one CSV per split) or `split_column`, not both")
    unknown = sorted(set(files) - set(SPLITS))
    if unknown:
        raise ConfigError(f"data.files has unknown split(s) {unknown}; use {list(SPLITS)}")
    expected = spec.get("sha256")
    if expected is not None and not isinstance(expected, DictConfig):
        raise ConfigError(
            "data.sha256: with `files`, give one checksum per split ({train: ..., test: ...}) or null"
        )
    frames, checksums = [], []
    for name, path in files.items():
        frame, checksum = read_validated_csv(spec, path, None if expected is None else expected.get(name))
        frames.append(frame.assign(**{FILE_SPLIT: name}))
        checksums.append(checksum)
    return pd.concat(frames, ignore_index=True), checksums, [str(p) for p in files.values()]


def fixed_split(spec: DictConfig, frame: pd.DataFrame, source: str) -> pd.Series | None:
    """The split each row belongs to (from `split_column` or `files`), or None for a seeded split."""
    column = FILE_SPLIT if spec.get("files") else spec.get("split_column")
    if not column:
        return None
    if column not in frame.columns:
        raise DataValidationError(f"split column '{column}' is missing", file=source, column=column)
    split = frame[column].astype("str").str.strip().str.lower()
    unknown = sorted(set(split) - set(SPLITS))
    if unknown:
        raise DataValidationError(
            f"split column '{column}' holds {unknown}; use {list(SPLITS)}", file=source, column=column
        )
    if column == FILE_SPLIT:
        frame.drop(columns=[FILE_SPLIT], inplace=True)
    return split.rename("split")
