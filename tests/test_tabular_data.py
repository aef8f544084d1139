"""Loading a tabular CSV: schema, blanks, checksum and encodings, each failure naming file/line/column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from src.data.errors import DataValidationError
from src.data.tabular import load_tabular
from src.experiment import load_task
from tests.helpers.cli import run_cli
from tests.helpers.data import TELCO


def _write(tmp_path: Path, text: str | bytes, name: str = "churn.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _telco_lines(n: int = 30) -> list[str]:
    return TELCO.read_text().splitlines()[: n + 1]


def test_ibm_telco_loads_with_checksum_and_keeps_raw_columns(make_cfg):
    data = load_task(make_cfg("task=churn"))
    assert len(data.X) == 7043 and data.y.value_counts()["Yes"] == 1869
    assert "Churn" not in data.X and "customerID" in data.X
    assert data.positive_label == "Yes"
    blanks = data.X["TotalCharges"].astype(str).str.strip().eq("")
    assert blanks.sum() == 11 and (data.X.loc[blanks, "tenure"] == 0).all()


def test_checksum_mismatch_names_the_file(make_cfg):
    cfg = make_cfg("task=churn", "data.sha256=" + "0" * 64)
    with pytest.raises(DataValidationError, match=r"Telco-Customer-Churn.csv.*checksum mismatch"):
        load_tabular(cfg)


def test_missing_column_names_the_column(make_cfg, tmp_path):
    lines = _telco_lines()
    header = lines[0].split(",")
    drop = header.index("tenure")
    rows = [",".join(v for i, v in enumerate(line.split(",")) if i != drop) for line in lines]
    path = _write(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(DataValidationError, match=r"churn.csv.*column 'tenure'.*missing column"):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))


def test_wrong_type_names_line_and_column(make_cfg, tmp_path):
    lines = _telco_lines()
    fields = lines[5].split(",")
    fields[5] = "twelve"  # tenure
    lines[5] = ",".join(fields)
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(
        DataValidationError, match=r"line 6, column 'tenure': expected an integer, got 'twelve'"
    ):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))


def test_undeclared_blank_is_an_error(make_cfg, tmp_path):
    lines = _telco_lines()
    fields = lines[3].split(",")
    fields[18] = " "  # MonthlyCharges
    lines[3] = ",".join(fields)
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match=r"line 4, column 'MonthlyCharges': blank value"):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))


@pytest.mark.parametrize("content", ["", "\n\n", "customerID,gender\n"])
def test_empty_file_is_an_error(make_cfg, tmp_path, content):
    path = _write(tmp_path, content)
    with pytest.raises(DataValidationError, match=r"churn.csv.*(empty|no data rows|missing column)"):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))


def test_non_utf8_file_names_the_line_and_suggests_the_encoding(make_cfg, tmp_path):
    lines = _telco_lines(10)
    lines[7] = lines[7].replace("Female", "女性", 1).replace("Male", "男性", 1)
    path = _write(tmp_path, ("\n".join(lines) + "\n").encode("gbk"))
    with pytest.raises(DataValidationError, match=r"line 8: not valid utf-8.*data.encoding=gbk"):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))
    data = load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null", "data.encoding=gbk"))
    assert data.X["gender"].iloc[6] in {"女性", "男性"}


def test_duplicate_id_is_an_error(make_cfg, tmp_path):
    lines = _telco_lines()
    lines.append(lines[2])
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match=r"line 32, column 'customerID': duplicate id"):
        load_tabular(make_cfg("task=churn", f"data.path={path}", "data.sha256=null"))


@pytest.mark.slow
def test_bad_data_on_the_cli_is_one_line_and_nonzero_exit(tmp_path):
    path = _write(tmp_path, "")
    result = run_cli(
        "src.run", "model=majority", f"data.path={path}", "data.sha256=null", f"paths.mlruns_dir={tmp_path}/m"
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: file") and "churn.csv" in last and "empty" in last
    assert "Traceback" not in result.stderr


def test_a_new_churn_csv_plugs_in_through_data_config_alone(make_cfg, tmp_path):
    frame = pd.DataFrame(
        {
            "sub_id": [f"u{i}" for i in range(60)],
            "minutes": [float(i % 17) for i in range(60)],
            "plan": ["a", "b", "c"] * 20,
            "left": ["yes" if i % 4 == 0 else "no" for i in range(60)],
        }
    )
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    cfg = make_cfg(
        "task=churn",
        f"data.path={path}",
        "data.sha256=null",
        "data.id_column=sub_id",
        "data.target=left",
        "data.positive_label=yes",
        "~data.blank_means",
        "+data.blank_means={}",
        "~data.columns",
        "+data.columns={sub_id: text, minutes: numeric, plan: categorical, left: categorical}",
    )
    data = load_task(cfg)
    assert list(data.X.columns) == ["sub_id", "minutes", "plan"] and data.positive_label == "yes"
