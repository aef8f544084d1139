"""Subscriber simulator: schema, determinism, intended signals, non-trivial tasks, ceilings."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from src.config import compose
from src.data.simulate import simulate
from src.data.simulate.params import CHANNELS
from src.data.warehouse import EVENT_SCHEMAS, TABLES
from src.errors import ConfigError

CATEGORIES = ["新闻", "商务", "财经", "体育", "娱乐", "生活", "文化", "游戏"]
DEMAND_SHA = "dc3dbcb2c038cb6cd2a4ad9f7ae6c31ae77ba275c21990dc86987357c97a0534"


def run(out: Path, *overrides: str) -> tuple[Path, dict]:
    """Simulate the tiny population into `out`; return its folder and manifest."""
    cfg = compose(["simulate=tiny", f"paths.simulated_dir={out}", *overrides], config_name="simulation")
    manifest = simulate(cfg)
    return out / cfg.simulate.name, manifest


@pytest.fixture(scope="module")
def sim(tiny: Path) -> tuple[Path, dict]:
    """The session's tiny population (read-only) and its manifest."""
    return tiny, json.loads((tiny / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def con(sim: tuple[Path, dict]) -> duckdb.DuckDBPyConnection:
    """DuckDB views over every table."""
    folder, _ = sim
    connection = duckdb.connect()
    for name in TABLES:
        connection.sql(f"create view {name} as select * from read_parquet('{folder / name}.parquet')")
    return connection


def scalar(con: duckdb.DuckDBPyConnection, query: str) -> float:
    """First value of a query."""
    return con.sql(query).fetchone()[0]


# --- schema ---------------------------------------------------------------------------------


def test_every_table_has_its_declared_schema(sim: tuple[Path, dict]) -> None:
    """Column names and Arrow types match schema.py for every event table."""
    folder, manifest = sim
    for name, schema in EVENT_SCHEMAS.items():
        assert pq.read_schema(folder / f"{name}.parquet").remove_metadata() == schema, name
        assert manifest["row_counts"][name] == pq.ParquetFile(folder / f"{name}.parquet").metadata.num_rows


def test_key_columns_and_dtypes(sim: tuple[Path, dict]) -> None:
    """Warehouse column names (docs/design.md), timestamps in seconds, int64 ids, string categoricals."""
    folder, _ = sim
    calls = pq.read_schema(folder / "calls.parquet")
    assert calls.names == [
        "user_id", "start_ts", "duration_s", "cell_id", "peer_id",
        "direction", "roaming_type", "long_distance",
    ]  # fmt: skip
    assert calls.field("start_ts").type == pa.timestamp("ms")
    assert calls.field("peer_id").type == pa.int64()
    assert calls.field("roaming_type").type == pa.string()
    assert pq.read_schema(folder / "bills.parquet").field("month").type == pa.date32()
    labels = pq.read_schema(folder / "labels.parquet")
    expected = (
        ["user_id", "occupation", "occupation_observed", "observed_occupation"]
        + [f"pref_{c}" for c in CATEGORIES]
        + ["explicit_content"]
        + [f"next_{c}" for c in CHANNELS]
        + [f"p_next_{c}" for c in CHANNELS]
        + ["churned_next_period", "p_churn"]
    )
    assert labels.names[: len(expected)] == expected
    assert any(n.startswith("latent_") for n in labels.names)


def test_value_domains(con: duckdb.DuckDBPyConnection) -> None:
    """Categorical values, probability ranges, preference mixes summing to 1."""
    assert {r[0] for r in con.sql("select distinct roaming_type from calls").fetchall()} <= {
        "本地",
        "省内",
        "省际",
        "国际",
    }
    assert {r[0] for r in con.sql("select distinct channel from channel_contacts").fetchall()} == set(
        CHANNELS
    )
    assert {r[0] for r in con.sql("select distinct purpose from channel_contacts").fetchall()} == {
        "办理",
        "咨询",
        "投诉",
    }
    pref_sum = " + ".join(f'"pref_{c}"' for c in CATEGORIES)
    assert scalar(con, f"select max(abs({pref_sum} - 1)) from labels") < 1e-9
    assert scalar(con, "select min(p_churn) > 0 and max(p_churn) < 1 from labels")
    assert (
        scalar(
            con, "select count(*) from labels where occupation_observed <> (observed_occupation is not null)"
        )
        == 0
    )
    assert (
        scalar(
            con,
            "select count(*) from channel_contacts"
            " where text is not null and channel not in ('hotline','web')",
        )
        == 0
    )
    assert (
        scalar(
            con, "select count(*) from channel_contacts where text is null and channel in ('hotline','web')"
        )
        == 0
    )


def test_mess_is_present(con: duckdb.DuckDBPyConnection) -> None:
    """Missing values, exact duplicates and out-of-order rows exist on purpose."""
    assert scalar(con, "select count(*) from subscribers where age is null") > 0
    assert scalar(con, "select count(*) from calls where cell_id is null") > 0
    dup = "select count(*) - (select count(*) from (select distinct * from calls)) from calls"
    assert scalar(con, dup) > 0
    backwards = """select count(*) from (
                   select user_id, start_ts, lag(start_ts) over w prev, lag(user_id) over w pu
                   from (select *, row_number() over () rn from calls) window w as (order by rn))
                   where pu = user_id and start_ts < prev"""
    assert scalar(con, backwards) > 0


def test_corpus_text_is_sampled_unchanged(con: duckdb.DuckDBPyConnection, sim: tuple[Path, dict]) -> None:
    """Every title and demand text occurs verbatim in its corpus; checksums recorded."""
    from src.paths import RAW_DIR

    titles: set[str] = set()
    for f in sorted((RAW_DIR / "toutiao_news_titles_20k").glob("*.txt")):
        titles |= {line.split("_!_")[3] for line in f.read_text(encoding="utf-8").splitlines()}
    used = {r[0] for r in con.sql("select distinct title from web_visits").fetchall()}
    assert used and used <= titles
    demand = duckdb.sql(f"select text from read_csv('{RAW_DIR}/smp2017_ecdt_task1/smp2017_task1_all.csv')")
    texts = {r[0] for r in demand.fetchall()}
    assert {
        r[0] for r in con.sql("select distinct text from channel_contacts where text is not null").fetchall()
    } <= texts
    assert sim[1]["corpora_sha256"]["smp2017_task1_all.csv"] == DEMAND_SHA


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_gives_byte_identical_files(sim: tuple[Path, dict], tmp_path: Path) -> None:
    """Two runs with the same seed and config write the same bytes."""
    _, again = run(tmp_path)
    assert again["files_sha256"] == sim[1]["files_sha256"]


@pytest.mark.slow
def test_chunk_size_and_workers_do_not_change_content(sim: tuple[Path, dict], tmp_path: Path) -> None:
    """Same sorted rows with another chunk size; same bytes with two worker processes."""
    folder, manifest = sim
    other, _ = run(tmp_path / "chunks", "simulate.chunk_size=500")
    for name in TABLES:
        a = pq.read_table(folder / f"{name}.parquet")
        b = pq.read_table(other / f"{name}.parquet")
        keys = [(c, "ascending") for c in a.column_names]
        assert a.sort_by(keys).equals(b.sort_by(keys)), name
    _, parallel = run(tmp_path / "workers", "simulate.workers=2")
    assert parallel["files_sha256"] == manifest["files_sha256"]


@pytest.mark.slow
def test_other_seed_changes_content(sim: tuple[Path, dict], tmp_path: Path) -> None:
    """The seed matters."""
    _, other = run(tmp_path, "seed=7")
    assert other["files_sha256"]["calls.parquet"] != sim[1]["files_sha256"]["calls.parquet"]


def test_bad_chunk_size_names_the_fix(tmp_path: Path) -> None:
    """A chunk size that is not a multiple of the block size is refused with the keys to change."""
    with pytest.raises(ConfigError, match=r"chunk_size=700 must be a multiple of simulate.block_size=500"):
        run(tmp_path, "simulate.chunk_size=700")


# --- intended signals -----------------------------------------------------------------------

PER_USER_CELLS = """
select l.occupation, avg(n) v from labels l join (
  select user_id, count(distinct cell_id) / count(distinct cast(start_ts as date)) n from calls group by 1
) c using (user_id) group by 1
"""


def by_occupation(con: duckdb.DuckDBPyConnection, query: str) -> dict[str, float]:
    """Occupation -> value."""
    return dict(con.sql(query).fetchall())


def test_drivers_move_more_than_students(con: duckdb.DuckDBPyConnection) -> None:
    """Drivers see several times more distinct cells per active day than campus-bound students."""
    cells = by_occupation(con, PER_USER_CELLS)
    assert cells["司机"] > 1.5 * cells["学生"]


def test_migrants_call_long_distance_and_business_travels(con: duckdb.DuckDBPyConnection) -> None:
    """Migrant workers call other provinces most; business people roam out of province most."""
    ld = by_occupation(
        con, "select occupation, avg(long_distance::int) from calls join labels using (user_id) group by 1"
    )
    assert ld["外来务工者"] == max(ld.values())
    roam = by_occupation(
        con,
        "select occupation, avg((roaming_type in ('省际','国际'))::int)"
        " from calls join labels using (user_id) group by 1",
    )
    assert roam["商务人士"] > 2 * roam["学生"]


def test_students_text_more_and_business_spends_more(con: duckdb.DuckDBPyConnection) -> None:
    """SMS volume and bills differ by occupation in the intended direction."""
    sms = by_occupation(
        con,
        """select occupation, avg(coalesce(n, 0)) from labels left join
           (select user_id, count(*) n from sms group by 1) using (user_id) group by 1""",
    )
    assert sms["学生"] > sms["低收入人群"] * 1.3
    fee = by_occupation(
        con, "select occupation, avg(total_fee) from bills join labels using (user_id) group by 1"
    )
    assert fee["商务人士"] > 1.5 * fee["低收入人群"]


def test_explicit_content_users_exist_for_every_category(con: duckdb.DuckDBPyConnection) -> None:
    """Content-bearing SP orders cover all 8 categories; explicit flag matches the orders."""
    cats = {
        r[0] for r in con.sql("select distinct category from sp_orders where category is not null").fetchall()
    }
    assert cats == set(CATEGORIES)
    with_orders = scalar(con, "select count(distinct user_id) from sp_orders where category is not null")
    assert scalar(con, "select sum(explicit_content::int) from labels") == with_orders


def test_content_preference_drives_what_users_read(con: duckdb.DuckDBPyConnection) -> None:
    """Users whose top preference is games order game on-demand far more often than others."""
    game_fans = """select avg((user_id in (select user_id from sp_orders where service = '游戏点播'))::int)
                   from labels where "pref_游戏" {} 0.4"""
    assert scalar(con, game_fans.format(">")) > 3 * scalar(con, game_fans.format("<"))


def test_churners_complain_more(con: duckdb.DuckDBPyConnection) -> None:
    """Users who churn next period filed more complaints; complainers have a higher true hazard."""
    q = """select churned_next_period, avg(coalesce(n, 0)) from labels left join
           (select user_id, count(*) n from channel_contacts where purpose = '投诉' group by 1)
           using (user_id)
           group by 1"""
    rate = dict(con.sql(q).fetchall())
    assert rate[1] > 1.5 * rate[0]
    q = """select (user_id in (select user_id from channel_contacts where purpose = '投诉'))::int,
           avg(p_churn)
           from labels group by 1"""
    hazard = dict(con.sql(q).fetchall())
    assert hazard[1] > 1.5 * hazard[0]


def test_older_users_prefer_the_store_over_the_app(con: duckdb.DuckDBPyConnection) -> None:
    """Channel propensities depend on age as the Beijing/Guangzhou surveys suggest."""
    q = "select avg(p_next_app) / avg(p_next_store) from labels where latent_age {}"
    assert scalar(con, q.format("< 30")) > 2 * scalar(con, q.format("> 55"))


# --- ceilings and non-triviality ------------------------------------------------------------


def test_ceilings_file(sim: tuple[Path, dict]) -> None:
    """ceilings.json holds every task with sensible values."""
    ceil = json.loads((sim[0] / "ceilings.json").read_text(encoding="utf-8"))
    occ = ceil["occupation"]
    assert occ["majority_class_accuracy"] + 0.3 < occ["accuracy"] < 0.99
    assert 0.5 < ceil["churn"]["roc_auc"] < 0.95
    for ch in CHANNELS:
        assert 0.55 < ceil["channel"][ch]["oracle_roc_auc"] < 0.95
        assert 0.5 < ceil["channel"][ch]["roc_auc"] < ceil["channel"][ch]["oracle_roc_auc"] + 0.02
    assert ceil["content"]["prior_top1"] < ceil["content"]["top1"] <= 1.0
    # every tight ceiling keeps its latent oracle beside it
    assert ceil["churn"]["roc_auc"] <= ceil["churn"]["oracle_roc_auc"] + 0.02
    assert ceil["channel"]["mean_brier"] >= ceil["channel"]["oracle_mean_brier"] - 0.005
    for who in ("", "_explicit", "_latent"):
        for metric in ("top1", "top3", "spearman"):
            assert ceil["content"][f"{metric}{who}"] <= ceil["content"][f"oracle_{metric}{who}"] + 0.02


def test_simple_occupation_model_stays_below_ceiling(
    sim: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    """A depth-3 tree on calls per day, distinct cells and SMS count is far below the Bayes ceiling."""
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    df = con.sql(
        """select l.occupation, coalesce(c.n, 0) calls, coalesce(c.cells, 0) cells, coalesce(s.n, 0) sms
           from labels l left join
           (select user_id, count(*) n, count(distinct cell_id) cells from calls group by 1) c
           using (user_id) left join (select user_id, count(*) n from sms group by 1) s using (user_id)
           order by user_id"""
    ).fetchnumpy()
    X = np.column_stack([df["calls"], df["cells"], df["sms"]]).astype(float)
    y = np.asarray(df["occupation"]).astype(str)
    acc = cross_val_score(DecisionTreeClassifier(max_depth=3, random_state=0), X, y, cv=5).mean()
    ceiling = json.loads((sim[0] / "ceilings.json").read_text(encoding="utf-8"))["occupation"]["accuracy"]
    assert acc < ceiling - 0.15
    assert (
        acc
        > json.loads((sim[0] / "ceilings.json").read_text(encoding="utf-8"))["occupation"][
            "majority_class_accuracy"
        ]
    )


def test_complaint_count_alone_stays_below_churn_ceiling(
    sim: tuple[Path, dict], con: duckdb.DuckDBPyConnection
) -> None:
    """Ranking churn by complaint count alone reaches a clearly lower AUC than the true hazard."""
    from sklearn.metrics import roc_auc_score

    df = con.sql(
        """select churned_next_period y, coalesce(n, 0) n from labels left join
           (select user_id, count(*) n from channel_contacts where purpose = '投诉' group by 1)
           using (user_id)"""
    ).fetchnumpy()
    auc = roc_auc_score(df["y"], df["n"])
    ceiling = json.loads((sim[0] / "ceilings.json").read_text(encoding="utf-8"))["churn"]["roc_auc"]
    assert 0.5 < auc < ceiling - 0.05
