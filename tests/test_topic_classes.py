"""Topic's class count: the page's description, the config's vocabulary and the data table agree."""

from __future__ import annotations

import re

import pandas as pd
from omegaconf import OmegaConf

from src.config import compose
from src.reports.tables import data_table


def declared_topics(*overrides: str) -> set[str]:
    """The topics the topic task can predict: the config's topic vocabulary after `data.merge_labels`."""
    cfg = compose(["task=topic", *overrides])
    vocabulary = OmegaConf.to_container(cfg.data.content.toutiao_to_category, resolve=True)
    merge = OmegaConf.to_container(cfg.data.merge_labels, resolve=True) if cfg.data.merge_labels else {}
    return {merge.get(topic, topic) for topic in vocabulary}


def test_the_description_names_as_many_topics_as_the_config_declares() -> None:
    cfg = compose(["task=topic"])
    named = int(re.search(r"(\d+) topics", str(cfg.task.description)).group(1))
    topics = declared_topics()
    assert named == len(topics) == 15
    assert "stock" in topics and "stock" in str(cfg.task.description), "the rare 15th topic is named"
    assert len(declared_topics("data.merge_labels={stock: news_finance}")) == 14


def test_the_data_table_counts_the_classes_it_lists() -> None:
    topics = sorted(declared_topics())
    balance = pd.Series([100] * (len(topics) - 1) + [6], index=topics)
    runs = pd.DataFrame({"params.split_val": ["2794"], "params.split_test": ["2794"]})
    table = data_table(runs, balance)
    listed = table[table["what"].str.startswith("class ")]
    counted = table.loc[table["what"] == "classes (val+test)", "value"]
    assert len(listed) == int(counted.iloc[0]) == 15
