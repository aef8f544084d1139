"""Real text pools sampled (never edited) by the simulator: demand texts and news titles by category."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from src.data.checksums import sha256_file
from src.data.errors import DataValidationError


@dataclass(frozen=True)
class Corpora:
    """Demand texts, titles grouped by content category, and the source checksums."""

    demand: pa.Array
    titles: pa.Array  # titles of all categories, concatenated in category order
    title_start: np.ndarray  # first index of each category in `titles`
    title_count: np.ndarray
    sha256: dict[str, str]


def load_corpora(
    demand_csv: str, title_files: list[str], mapping: dict[str, str], categories: list[str]
) -> Corpora:
    """Read both corpora; titles are de-duplicated (first occurrence wins) and grouped by category."""
    demand_path = Path(demand_csv)
    if not demand_path.is_file():
        raise DataValidationError(
            "demand corpus not found", file=demand_path, hint="copy smp2017_ecdt_task1 into data/raw/"
        )
    with open(demand_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        if header != ["split", "label", "text"]:
            raise DataValidationError(f"unexpected header {header}", file=demand_path, row=1)
        demand = [row[2] for row in reader]
    by_cat: dict[str, list[str]] = {c: [] for c in categories}
    seen: set[str] = set()
    sha = {demand_path.name: sha256_file(demand_path)}
    for name in title_files:
        path = Path(name)
        if not path.is_file():
            raise DataValidationError(
                "news-title corpus not found", file=path, hint="copy toutiao_news_titles_20k into data/raw/"
            )
        sha[path.name] = sha256_file(path)
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            fields = line.split("_!_")
            if len(fields) != 5:
                raise DataValidationError(f"expected 5 fields, got {len(fields)}", file=path, row=lineno)
            topic, title = fields[2], fields[3]
            if topic not in mapping:
                raise DataValidationError(
                    f"topic '{topic}' has no content category",
                    file=path,
                    row=lineno,
                    hint="add it to content.toutiao_to_category in conf/content/",
                )
            if title not in seen:
                seen.add(title)
                by_cat[mapping[topic]].append(title)
    empty = [c for c in categories if not by_cat[c]]
    if empty:
        raise DataValidationError(f"no titles map to categories {empty}; fix content.toutiao_to_category")
    counts = np.array([len(by_cat[c]) for c in categories], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = [t for c in categories for t in by_cat[c]]
    return Corpora(
        demand=pa.array(demand, type=pa.string()),
        titles=pa.array(flat, type=pa.string()),
        title_start=starts,
        title_count=counts,
        sha256=sha,
    )
