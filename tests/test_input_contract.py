"""The input contract: declared kinds decide what a model accepts, not the dtypes pandas happened to read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from src.config import compose
from src.features.contract import InputContract, InputContractError
from src.identity import Pair, default_dataset, identity_tags, input_schema_fingerprint, pair_of, parse_suffix
from src.models.registry import registered_name
from src.tracking import experiment_name

DATA = {
    "id_column": "Phone",
    "target": "Churn",
    "columns": {
        "Phone": "text",
        "Area code": "categorical",
        "Call Failure": "integer",
        "Charge": "numeric",
        "Total": "numeric",
        "Note": "text",
        "Churn": "categorical",
    },
    "blank_means": {"Total": 0.0},
    "label_names": {"0": "No", "1": "Yes"},
}


@pytest.fixture
def contract() -> InputContract:
    found = InputContract.from_data_config(DATA)
    assert found is not None
    return found


def test_features_are_the_declared_non_text_columns_without_id_and_target(contract):
    assert contract.columns == {
        "Area code": "categorical",
        "Call Failure": "integer",
        "Charge": "numeric",
        "Total": "numeric",
    }
    assert InputContract.from_data_config({"format": {"kind": "csv"}}) is None  # text data: no contract


def test_coercion_accepts_what_read_csv_gives_and_drops_undeclared_columns(contract):
    rows = pd.DataFrame(
        {
            "Area code": [415, 408, 510],  # read as int64
            "Call Failure": [1.0, np.nan, 3.0],  # integral floats and a missing value
            "Charge": [10, 20, 30],  # ints in a numeric column
            "Total": [" ", "12.5", None],  # blank-able column as text
            "Complains": [0, 1, 0],  # undeclared: neither required nor used
        }
    )
    typed = contract.coerce(rows)
    assert list(typed.columns) == ["Area code", "Call Failure", "Charge", "Total"]
    assert typed["Area code"].tolist() == ["415", "408", "510"]
    assert typed["Call Failure"].tolist()[0] == 1.0 and np.isnan(typed["Call Failure"].iloc[1])
    assert typed["Charge"].dtype == "float64"
    assert np.isnan(typed["Total"].iloc[0]) and typed["Total"].iloc[1] == 12.5
    floats = contract.coerce(
        rows.assign(**{"Area code": [415.0, np.nan, 510.0], "Total": [1.0, 2.0, np.nan]})
    )
    assert floats["Area code"].tolist()[::2] == ["415", "510"] and floats["Area code"].iloc[1] is None


def test_unsafe_values_are_refused_naming_column_and_row(contract):
    rows = pd.DataFrame(
        {"Area code": [1, 2], "Call Failure": [1.0, 1.5], "Charge": [1.0, 2.0], "Total": [1, 2]}
    )
    with pytest.raises(
        InputContractError, match=r"column 'Call Failure', row 2: expected an integer, got 1.5"
    ):
        contract.coerce(rows)
    with pytest.raises(InputContractError, match=r"column 'Charge', row 1: expected a number, got 'abc'"):
        contract.coerce(rows.assign(**{"Call Failure": [1, 2], "Charge": ["abc", "2"]}))
    with pytest.raises(InputContractError, match=r"lacks declared column\(s\) \['Charge'\]"):
        contract.coerce(rows.drop(columns="Charge"))


def test_label_names_come_from_the_data_config_whatever_the_label_dtype(contract):
    assert [contract.label(v) for v in (0, 1.0, np.int64(1), "0")] == ["No", "Yes", "Yes", "No"]
    plain = InputContract.from_data_config({**DATA, "label_names": None})
    assert [plain.label(v) for v in (True, np.float64(0.0))] == ["True", "0"]


def test_fingerprint_changes_with_the_declared_schema_only(contract):
    same = InputContract.from_data_config({**DATA, "label_names": {}})
    other = InputContract.from_data_config({**DATA, "columns": {**DATA["columns"], "Charge": "integer"}})
    assert contract.fingerprint() == same.fingerprint() != other.fingerprint()


def test_default_dataset_keeps_todays_names_and_others_get_a_suffix(tmp_path):
    assert default_dataset("churn") == "ibm_telco" and default_dataset("spam") == "sms_spam"
    cfg = compose([f"paths.mlruns_dir={tmp_path}"])
    assert pair_of(cfg) == Pair("churn", "ibm_telco")
    assert experiment_name(cfg) == "profiling-churn" and registered_name(cfg) == "profiling-churn"
    assert registered_name(cfg, "spam") == "profiling-spam"
    other = compose([f"paths.mlruns_dir={tmp_path}", "data.name=orange"])
    assert experiment_name(other) == "profiling-churn--orange"
    assert registered_name(other) == "profiling-churn--orange"
    assert parse_suffix("churn--orange") == Pair("churn", "orange") and parse_suffix("churn").is_default
    tags = identity_tags(cfg)
    assert tags["dataset"] == "ibm_telco" and tags["input_schema"] == input_schema_fingerprint(cfg)
    assert InputContract.from_config(cfg).fingerprint() == tags["input_schema"]
    changed = OmegaConf.merge(cfg, {"data": {"columns": {"tenure": "numeric"}}})
    assert input_schema_fingerprint(changed) != tags["input_schema"]
