"""Behaviour features on hand-made warehouse tables whose answers are worked out by hand below."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from src.data.errors import DataValidationError
from src.data.warehouse import EVENT_SCHEMAS
from src.errors import ConfigError
from src.features import behaviour_aggregates
from src.features.backends import connect
from src.features.behaviour import (
    SharedInputs,
    build_behaviour_features,
    default_spec,
    feature_columns,
    feature_families,
    population_inputs,
    shared_inputs,
)
from src.features.behaviour_cache import cached_behaviour_features
from src.features.behaviour_joined import joined_features
from src.features.behaviour_spec import SPEC_FILE, FeatureSpec
from src.features.feature_table import FeatureTableTransformer
from tests.helpers import behaviour_reference

# Window [2011-03-01, 2011-03-15): 2011-03-01 is a Tuesday, 03-05/03-06 the weekend.
SPEC = default_spec(reference_date="2011-03-15", window_days=14)
NEVER = 15.0  # window_days + 1


def T(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def D(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


CALL_C = (1, T("2011-03-05 20:00"), 180, 10, 200, "out", "省内", True)  # Saturday evening
ROWS: dict[str, list[tuple]] = {
    # user 1: a full history; user 2: no events at all; user 3: one call; user 99: not a subscriber
    "subscribers": [
        (3, 20, "男", 3, "动感地带", 20.0, 20, None, True),
        (1, 30, "女", 12, "全球通58", 58.0, 10, "广东", False),
        (2, None, None, 5, "神州行", 10.0, 20, "湖南", True),
    ],
    "calls": [  # out of order, one exact duplicate, two outside the window
        (1, T("2011-03-06 02:00"), 240, 12, 300, "out", "省际", False),  # Sunday night
        (1, T("2011-03-01 08:00"), 60, 10, 100, "out", "本地", False),  # morning
        CALL_C,
        (1, T("2011-03-01 10:00"), 120, 11, 100, "in", "本地", False),  # work
        CALL_C,
        (1, T("2011-02-28 23:59:59"), 999, 99, 999, "out", "国际", True),
        (1, T("2011-03-15 00:00:00"), 999, 98, 998, "in", "国际", True),  # end is exclusive
        (3, T("2011-03-07 09:30"), 45, 20, 500, "in", "国际", True),  # Monday, work
        (99, T("2011-03-02 12:00"), 30, 1, 1, "out", "本地", False),
    ],
    "sms": [
        (1, T("2011-03-03 12:00"), 100, "out"),
        (1, T("2011-03-04 12:00"), 400, "in"),
        (1, T("2011-03-04 12:00"), 400, "in"),
        (1, T("2011-02-01 00:00"), 1, "in"),
    ],
    "data_sessions": [
        (1, T("2011-03-01 12:00"), 1_500_000, 10),
        (1, T("2011-03-02 09:00"), 2_000_000, 13),
        (1, T("2011-03-02 18:00"), 500_000, None),
        (1, T("2011-03-01 12:00"), 1_500_000, 10),
        (1, T("2011-03-20 00:00"), 10_000_000, 77),
    ],
    "web_visits": [
        (1, T("2011-03-01 20:00"), "A"),
        (1, T("2011-03-02 20:00"), "B"),
        (1, T("2011-03-03 20:00"), "A"),
        (1, T("2011-03-03 20:00"), "A"),
        (3, T("2011-03-08 20:00"), "C"),
        (1, T("2011-02-20 20:00"), "D"),
    ],
    "sp_orders": [
        (1, T("2011-03-02 08:00"), "手机报", "新闻", 5.0),
        (1, T("2011-03-03 08:00"), "游戏点播", "游戏", 2.0),
        (1, T("2011-03-04 08:00"), "游戏点播", "游戏", 2.0),
        (1, T("2011-03-05 08:00"), "来电提醒", None, 3.0),
        (1, T("2011-01-05 08:00"), "彩铃", "娱乐", 5.0),
    ],
    "channel_contacts": [
        (1, T("2011-03-10 12:00"), "hotline", "投诉", "我要投诉", False),
        (1, T("2011-03-02 10:00"), "store", "办理", None, True),
        (1, T("2011-03-12 00:00"), "hotline", "咨询", "查话费", True),
        (1, T("2011-02-01 00:00"), "app", "咨询", None, True),
    ],
    "bills": [  # only Jan-Mar 2011 count (bill_months=3, window ends in March)
        (1, D("2011-03-01"), 150.0, 30.0),
        (1, D("2010-12-01"), 80.0, 8.0),
        (1, D("2011-01-01"), 100.0, 10.0),
        (1, D("2011-04-01"), 500.0, 50.0),
        (1, D("2011-02-01"), 120.0, None),
        (3, D("2011-03-01"), 20.0, 0.0),
    ],
}
TITLES = {"A": "新闻", "B": "游戏", "C": "新闻", "D": "财经"}


def write_tables(folder: Path, rows: dict[str, list[tuple]] = ROWS) -> Path:
    """The eight warehouse tables with the simulator's schemas (no labels file: it must not be read)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, schema in EVENT_SCHEMAS.items():
        columns = list(zip(*rows.get(name, []), strict=True)) or [[] for _ in schema.names]
        table = pa.table({f.name: pa.array(col, f.type) for f, col in zip(schema, columns, strict=True)})
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


class Labeller:
    """Looks titles up in TITLES and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, titles: list[str]) -> list[str]:
        self.calls.append(list(titles))
        return [TITLES[t] for t in titles]


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tables(tmp_path_factory.mktemp("behaviour") / "tables")


@pytest.fixture(scope="module")
def features(tables: Path) -> pd.DataFrame:
    return build_behaviour_features(tables, SPEC)


def row(frame: pd.DataFrame, user_id: int) -> pd.Series:
    return frame.set_index("user_id").loc[user_id]


def check(actual: pd.Series, expected: dict[str, float]) -> None:
    got = {k: float(actual[k]) for k in expected}
    assert got == pytest.approx(expected, abs=1e-9)


def test_one_sorted_row_per_subscriber_with_numeric_columns(features: pd.DataFrame) -> None:
    assert features.columns[0] == "user_id"
    assert features["user_id"].tolist() == [1, 2, 3]  # sorted; user 99 is not a subscriber
    assert feature_columns(features) == list(features.columns[1:])
    assert {str(t) for t in features.dtypes} <= {"int64", "float64"}
    assert all(c.isascii() and c == c.lower() for c in features.columns)
    assert not [c for c in features.columns if c.startswith("read_")]  # no labeller, no read_ columns
    assert features.columns.is_unique


def test_user_without_events_gets_zeros_and_never_recency(features: pd.DataFrame) -> None:
    user = row(features, 2)
    recency = [c for c in features.columns if "recency" in c]
    assert len(recency) == 1 + len(SPEC.channels)
    assert (user[recency] == NEVER).all()
    rest = user.drop(
        recency + ["age", "female", "province_nonlocal", "age_missing", "gender_missing"]
        + ["province_missing", "tenure_months", "monthly_fee", "prepaid"]
        + [c for c in features.columns if c.startswith("plan_")]
    )  # fmt: skip
    assert (rest == 0).all(), rest[rest != 0]
    assert user["n_calls"] == 0 and user["dur_std_s"] == 0 and user["peer_entropy"] == 0


def test_subscriber_columns(features: pd.DataFrame) -> None:
    check(
        row(features, 1), {"age": 30, "female": 1, "province_nonlocal": 0, "prepaid": 0, "plan_gotone58": 1}
    )
    unregistered = row(features, 2)
    assert math.isnan(unregistered["age"]) and math.isnan(unregistered["female"])
    check(unregistered, {"age_missing": 1, "gender_missing": 1, "province_nonlocal": 1, "plan_easyown": 1})
    check(unregistered, {"prepaid": 1, "tenure_months": 5, "monthly_fee": 10.0, "plan_gotone58": 0})
    no_province = row(features, 3)
    assert math.isnan(no_province["province_nonlocal"]) and no_province["province_missing"] == 1
    check(no_province, {"female": 0, "plan_mzone": 1})


def test_calls_are_deduplicated_windowed_and_order_free(features: pd.DataFrame) -> None:
    # four distinct calls in the window: 60 s out, 120 s in, 180 s out, 240 s out
    check(
        row(features, 1),
        {
            "n_calls": 4, "n_calls_out": 3, "call_out_share": 0.75,
            "call_share_night": 0.25, "call_share_morning": 0.25, "call_share_work": 0.25,
            "call_share_evening": 0.25, "call_share_late": 0.0, "call_weekend_share": 0.5,
            "dur_mean_s": 150.0, "dur_median_s": 150.0, "dur_std_s": math.sqrt(4500.0),
            "call_minutes_total": 10.0, "long_distance_share": 0.25,
            "roam_share_local": 0.5, "roam_share_intra": 0.25, "roam_share_inter": 0.25,
            "roam_share_intl": 0.0,
        },
    )  # fmt: skip


def test_single_call_user(features: pd.DataFrame) -> None:
    check(
        row(features, 3),
        {
            "n_calls": 1, "n_calls_out": 0, "call_out_share": 0.0, "call_share_work": 1.0,
            "call_weekend_share": 0.0, "dur_mean_s": 45.0, "dur_median_s": 45.0, "dur_std_s": 0.0,
            "call_minutes_total": 0.75, "long_distance_share": 1.0, "roam_share_intl": 1.0,
            "n_peers": 1, "peers_per_call": 1.0, "peer_entropy": 0.0, "top_peer_share": 1.0,
            "n_cells": 1, "cell_entropy": 0.0, "cell_change_days": 0, "daily_cells_mean": 1.0,
            "active_days": 1,
        },
    )  # fmt: skip


def test_peer_entropy_of_a_known_distribution(features: pd.DataFrame) -> None:
    # peers 100, 100, 200, 300: p = (1/2, 1/4, 1/4) -> H = 1.5 ln 2
    check(
        row(features, 1),
        {"n_peers": 3, "peers_per_call": 0.75, "peer_entropy": 1.5 * math.log(2), "top_peer_share": 0.5},
    )


def test_cells_from_calls_and_data(features: pd.DataFrame) -> None:
    # cells 10 x3 (two calls, one session), 11, 12, 13; null cell ignored; 03-01 sees cells 10 and 11
    entropy = 0.5 * math.log(2) + 3 * (1 / 6) * math.log(6)
    check(
        row(features, 1),
        {"n_cells": 4, "cell_entropy": entropy, "cell_change_days": 1, "daily_cells_mean": 1.25},
    )


def test_sms_data_and_active_days(features: pd.DataFrame) -> None:
    check(
        row(features, 1),
        {"n_sms_in": 1, "n_sms_out": 1, "n_data_sessions": 3, "data_mb_total": 4.0, "active_days": 6},
    )


def test_activity_rhythm_over_all_traffic(features: pd.DataFrame) -> None:
    # 4 calls (02, 08, 10, 20 h), 2 SMS (12, 12 h), 3 sessions (09, 12, 18 h); weekend: the two calls
    check(
        row(features, 1),
        {
            "activity_share_night": 1 / 9, "activity_share_early": 0.0, "activity_share_morning": 1 / 9,
            "activity_share_work": 5 / 9, "activity_share_evening": 2 / 9, "activity_share_late": 0.0,
            "activity_weekend_share": 2 / 9,
        },
    )  # fmt: skip
    check(row(features, 3), {"activity_share_work": 1.0, "activity_weekend_share": 0.0})


def test_trip_days_and_long_distance_peers(features: pd.DataFrame) -> None:
    # call days 03-01 (two local calls), 03-05 (intra-province), 03-06 (inter-province);
    # peers 100 (two local calls), 200 (long distance), 300: one peer in three is long distance
    check(
        row(features, 1),
        {
            "roam_day_share_local": 1 / 3, "roam_day_share_intra": 1 / 3, "roam_day_share_inter": 1 / 3,
            "roam_day_share_intl": 0.0, "peer_long_distance_share": 1 / 3,
        },
    )  # fmt: skip
    check(
        row(features, 3),
        {"roam_day_share_intl": 1.0, "roam_day_share_local": 0.0, "peer_long_distance_share": 1.0},
    )


def test_rhythm_by_day_type_over_every_timed_stream(features: pd.DataFrame) -> None:
    # weekdays: calls 08, 10 h; SMS 12, 12 h; sessions 12, 09, 18 h; web visits 20, 20, 20 h (the
    # duplicate counts once); weekend: calls Sun 02 h, Sat 20 h
    check(
        row(features, 1),
        {
            "weekday_events": 10, "weekend_events": 2,
            "weekday_activity_share_morning": 0.1, "weekday_activity_share_work": 0.5,
            "weekday_activity_share_evening": 0.4, "weekday_activity_share_night": 0.0,
            "weekend_activity_share_night": 0.5, "weekend_activity_share_evening": 0.5,
            "weekend_activity_share_work": 0.0,
        },
    )  # fmt: skip
    # one Monday call at 09:30 and one Tuesday web visit at 20 h; no weekend event: weekend shares 0
    check(
        row(features, 3),
        {
            "weekday_events": 2, "weekend_events": 0, "weekday_activity_share_work": 0.5,
            "weekday_activity_share_evening": 0.5, "weekend_activity_share_evening": 0.0,
        },
    )  # fmt: skip
    check(row(features, 2), {"weekday_events": 0, "weekend_activity_share_work": 0.0})


def test_outgoing_share_over_calls_and_sms(features: pd.DataFrame) -> None:
    # calls out, out, out, in; SMS out, in
    check(row(features, 1), {"n_directed": 6, "directed_out_share": 4 / 6})
    check(row(features, 3), {"n_directed": 1, "directed_out_share": 0.0})


def test_away_days_from_trip_cells_of_calls_and_sessions(features: pd.DataFrame) -> None:
    # trip cells (a call of a non-local roaming type was served there): 10, 12, 20.
    # user 1 located days: 03-01 (cells 10, 11), 03-02 (13; the session without a cell is ignored),
    # 03-05 (10), 03-06 (12): away on three of four
    check(row(features, 1), {"located_days": 4, "away_days": 3, "away_day_share": 0.75})
    check(row(features, 3), {"located_days": 1, "away_days": 1, "away_day_share": 1.0})
    check(row(features, 2), {"located_days": 0, "away_days": 0, "away_day_share": 0.0})


def test_trip_cells_come_from_every_subscriber_whatever_the_user_range(tmp_path: Path) -> None:
    # user 1's session on 03-09 is served by cell 20, where only user 3 made a roaming call
    rows = {**ROWS, "data_sessions": [*ROWS["data_sessions"], (1, T("2011-03-09 12:00"), 1_000, 20)]}
    tables = write_tables(tmp_path / "tables", rows)
    full = row(build_behaviour_features(tables, SPEC), 1)
    ranged = row(build_behaviour_features(tables, SPEC, user_range=(1, 1)), 1)
    check(full, {"located_days": 5, "away_days": 4})
    assert ranged.equals(full)


def _ranged_on_duckdb(tables: Path, user_range: tuple[int, int], shared_of: Callable) -> pd.DataFrame:
    """The joined features of `user_range` on one DuckDB, with the shared inputs `shared_of(con)` gives."""
    con = connect("duckdb")
    try:
        with (
            shared_of(con) as shared,
            feature_families(tables, SPEC, user_range=user_range, con=con, shared=shared) as steps,
        ):
            return joined_features(steps).to_pandas().sort_values("user_id", ignore_index=True)
    finally:
        con.disconnect()


def test_shared_inputs_serve_every_user_range_like_a_full_build(tmp_path: Path) -> None:
    rows = {**ROWS, "data_sessions": [*ROWS["data_sessions"], (1, T("2011-03-09 12:00"), 1_000, 20)]}
    tables = write_tables(tmp_path / "tables", rows)
    full = build_behaviour_features(tables, SPEC)
    for user_range in [(1, 1), (2, 3)]:
        ranged = _ranged_on_duckdb(tables, user_range, lambda con: shared_inputs(tables, SPEC, con))
        expected = full[full.user_id.between(*user_range)]
        pd.testing.assert_frame_equal(ranged, expected.reset_index(drop=True), check_exact=True)


def test_population_inputs_in_memory_serve_each_range_on_its_own_connection(tmp_path: Path) -> None:
    rows = {**ROWS, "data_sessions": [*ROWS["data_sessions"], (1, T("2011-03-09 12:00"), 1_000, 20)]}
    tables = write_tables(tmp_path / "tables", rows)
    full = build_behaviour_features(tables, SPEC)
    shared = population_inputs(tables, SPEC)  # its own DuckDB is closed by now
    for user_range in [(1, 1), (2, 3)]:
        ranged = build_behaviour_features(tables, SPEC, user_range=user_range, shared=shared)
        expected = full[full.user_id.between(*user_range)].reset_index(drop=True)
        pd.testing.assert_frame_equal(ranged, expected, check_exact=True)
    assert row(full, 1)["away_days"] == 4  # cell 20 is a trip cell only through user 3's call


def test_feature_families_take_the_trip_cells_they_are_given(tmp_path: Path) -> None:
    tables = write_tables(tmp_path / "tables")
    start, end = dt.datetime(2011, 3, 1), dt.datetime(2011, 3, 15)

    @contextlib.contextmanager
    def no_trip_cells(con):
        yield SharedInputs(start, end, ibis.memtable(pa.table({"cell_id": pa.array([], pa.int64())})))

    ranged = _ranged_on_duckdb(tables, (1, 3), no_trip_cells)
    assert row(build_behaviour_features(tables, SPEC), 1)["away_days"] == 3
    assert ranged["away_days"].eq(0).all()


def test_usage_trend_from_where_events_fall_in_the_window(features: pd.DataFrame) -> None:
    # user 3: a call 6 d 9.5 h and a web visit 7 d 20 h into the 14-day window
    window = 14 * 86_400
    position = (6 * 86_400 + 9.5 * 3600 + 7 * 86_400 + 20 * 3600) / (2 * window)
    check(row(features, 3), {"event_position_mean": position, "late_half_share": 0.5})
    check(row(features, 1), {"late_half_share": 0.0})  # every event of user 1 falls in 03-01..03-06
    check(row(features, 2), {"event_position_mean": 0.0, "late_half_share": 0.0})


def test_sp_orders_by_service_and_category(features: pd.DataFrame) -> None:
    check(
        row(features, 1),
        {
            "n_sp_orders": 4, "sp_mobile_paper": 1, "sp_game_on_demand": 2, "sp_call_reminder": 1,
            "sp_ringback": 0, "sp_cat_news": 1, "sp_cat_games": 2, "sp_cat_entertainment": 0,
            "sp_fee_total": 12.0,
        },
    )  # fmt: skip


def test_contacts_recency_and_complaints(features: pd.DataFrame) -> None:
    check(
        row(features, 1),
        {
            "n_contacts": 3, "contacts_hotline": 2, "contacts_store": 1, "contacts_app": 0,
            "purpose_transact": 1, "purpose_enquiry": 1, "purpose_complaint": 1,
            "n_unresolved": 1, "n_unresolved_complaints": 1,
            "contact_recency_days": 3.0, "recency_hotline_days": 3.0,
            "recency_store_days": 12 + 14 / 24, "recency_app_days": NEVER, "recency_web_days": NEVER,
        },
    )  # fmt: skip
    assert (row(features, 3)[[c for c in features.columns if "recency" in c]] == NEVER).all()


def test_bills_of_the_last_three_months(features: pd.DataFrame) -> None:
    check(
        row(features, 1),
        {"n_bills": 3, "bill_mean_total": 370 / 3, "bill_nb_share": 40 / 250, "bill_change_ratio": 0.5},
    )
    check(
        row(features, 3),
        {"n_bills": 1, "bill_mean_total": 20.0, "bill_nb_share": 0.0, "bill_change_ratio": 0},
    )


def test_labeller_sees_each_distinct_title_once_and_counts_reads(tables: Path) -> None:
    labeller = Labeller()
    frame = build_behaviour_features(tables, SPEC, title_labeller=labeller)
    assert labeller.calls == [["A", "B", "C"]]  # D is outside the window
    read = [f"read_{s}" for s in SPEC.categories.values()]
    assert [c for c in frame.columns if c.startswith("read_")] == read
    check(row(frame, 1), {"n_web_visits": 3, "read_news": 2, "read_games": 1, "read_finance": 0})
    check(row(frame, 3), {"n_web_visits": 1, "read_news": 1, "read_games": 0})
    assert (row(frame, 2)[read] == 0).all()


def test_labeller_with_an_unknown_category_is_an_error(tables: Path) -> None:
    with pytest.raises(ConfigError, match="体育新闻"):
        build_behaviour_features(tables, SPEC, title_labeller=lambda titles: ["体育新闻"] * len(titles))


def test_reference_date_defaults_to_the_day_after_the_latest_call(tables: Path) -> None:
    # the latest call starts 2011-03-15 00:00, so the window ends 2011-03-16
    inferred = build_behaviour_features(tables, dataclasses.replace(SPEC, reference_date=None))
    explicit = build_behaviour_features(tables, dataclasses.replace(SPEC, reference_date="2011-03-16"))
    pd.testing.assert_frame_equal(inferred, explicit)
    assert row(inferred, 1)["n_calls"] == 3  # both calls of 03-01 fell out, 03-15 00:00 came in


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "tables")
    (folder / "sms.parquet").unlink()
    with pytest.raises(DataValidationError, match=r"sms\.parquet"):
        build_behaviour_features(folder, SPEC)


def test_cache_hit_on_second_call(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "tables")
    first, path, hit = cached_behaviour_features(folder, SPEC, tmp_path / "cache")
    assert not hit and path.is_file() and path.parent == tmp_path / "cache" / "behaviour"
    again, path_again, hit_again = cached_behaviour_features(folder, SPEC, tmp_path / "cache")
    assert hit_again and path_again == path
    pd.testing.assert_frame_equal(first, again)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_cache_key_changes_with_an_input_file_or_the_spec(tmp_path: Path) -> None:
    folder = write_tables(tmp_path / "tables")
    cache = tmp_path / "cache"
    _, path, _ = cached_behaviour_features(folder, SPEC, cache)
    more_sms = {**ROWS, "sms": [*ROWS["sms"], (1, T("2011-03-09 12:00"), 100, "out")]}
    write_tables(folder, more_sms)
    frame, new_path, hit = cached_behaviour_features(folder, SPEC, cache)
    assert not hit and new_path != path and row(frame, 1)["n_sms_out"] == 2
    _, spec_path, hit = cached_behaviour_features(folder, dataclasses.replace(SPEC, window_days=10), cache)
    assert not hit and spec_path not in (path, new_path)
    _, labelled_path, hit = cached_behaviour_features(folder, SPEC, cache, Labeller(), labeller_key="v1")
    assert not hit and labelled_path not in (path, new_path, spec_path)


def test_cache_refuses_a_labeller_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="labeller_key"):
        cached_behaviour_features(write_tables(tmp_path / "t"), SPEC, tmp_path / "c", Labeller())


def test_spec_from_config_checks_names_and_keys() -> None:
    raw = OmegaConf.to_container(OmegaConf.load(SPEC_FILE)["pipeline"])
    assert FeatureSpec.from_config(raw) == default_spec()
    with pytest.raises(ConfigError, match="新闻"):
        FeatureSpec.from_config({**raw, "categories": {"新闻": "新闻"}})
    with pytest.raises(ConfigError, match="window"):
        FeatureSpec.from_config({**raw, "window": 3})
    with pytest.raises(ConfigError, match=r"hour_bands\.night"):
        FeatureSpec.from_config({**raw, "hour_bands": {"night": [24]}})
    with pytest.raises(ConfigError, match="home_roaming_type '本土'"):
        FeatureSpec.from_config({**raw, "home_roaming_type": "本土"})


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 2, 3, 4],
            "a": [1.0, np.nan, 3.0, 5.0],
            "b": [0, 1, 1, 0],
            "c": [True, False, True, True],
        }
    )


def test_transformer_imputes_training_median_and_ignores_id_and_extras() -> None:
    tf = FeatureTableTransformer(scale=False).fit(_table())
    assert list(tf.get_feature_names_out()) == ["a", "b", "c"]
    new = pd.DataFrame({"c": [1, 0], "b": [1, 1], "a": [np.nan, 2.0], "extra": ["x", "y"], "user_id": [7, 8]})
    out = tf.transform(new)
    np.testing.assert_allclose(out, [[3.0, 1.0, 1.0], [2.0, 1.0, 0.0]])  # median of 1, 3, 5 is 3
    assert tf.extra_columns(new) == ["extra"]


def test_transformer_scales_when_asked() -> None:
    out = FeatureTableTransformer(scale=True).fit_transform(_table())
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1.0)


def test_transformer_names_a_missing_column() -> None:
    tf = FeatureTableTransformer().fit(_table())
    with pytest.raises(DataValidationError, match="column 'b'"):
        tf.transform(_table().drop(columns="b"))


def test_transformer_names_a_non_numeric_column() -> None:
    tf = FeatureTableTransformer().fit(_table())
    bad = _table().assign(a=["1", "2", "three", None])
    with pytest.raises(DataValidationError, match=r"line 3, column 'a'.*three"):
        tf.transform(bad)
    np.testing.assert_allclose(tf.transform(_table().assign(a=["1", "2", "3", None]))[:, 0], [1, 2, 3, 3])


def test_transformer_instantiates_from_the_features_config() -> None:
    tf = instantiate(OmegaConf.load(SPEC_FILE)["transformer"])
    assert isinstance(tf, FeatureTableTransformer) and tf.scale and tf.id_column == "user_id"


def test_tiny_simulated_population(tiny: Path) -> None:
    """Smoke test: the tiny simulated population gives one sane row per subscriber."""
    import duckdb

    from src.config import compose

    n_users = compose(["simulate=tiny"], config_name="simulation").simulate.n_users
    folder = tiny
    frame = build_behaviour_features(folder, default_spec())
    assert len(frame) == n_users and frame["user_id"].is_monotonic_increasing
    nan_columns = {c for c in frame.columns if frame[c].isna().any()}
    assert nan_columns <= {"age", "female", "province_nonlocal"}
    shares = [c for c in frame.columns if "share" in c]
    assert ((frame[shares] >= 0) & (frame[shares] <= 1 + 1e-9)).all().all()
    called = frame[frame["n_calls"] > 0]
    bands = [f"call_share_{b}" for b in SPEC.hour_bands]  # the bands cover all 24 hours
    np.testing.assert_allclose(called[bands].sum(axis=1), 1.0)
    active = frame[frame["active_days"] > 0]
    np.testing.assert_allclose(active[[f"activity_share_{b}" for b in SPEC.hour_bands]].sum(axis=1), 1.0)
    distinct_calls = duckdb.sql(f"SELECT count(*) FROM (SELECT DISTINCT * FROM '{folder}/calls.parquet')")
    assert frame["n_calls"].sum() == distinct_calls.fetchone()[0]  # the window covers the whole history


def test_fused_families_equal_their_straightforward_definitions(tiny: Path, monkeypatch) -> None:
    """The families computed in fewer passes give the table the one-query-per-figure definitions give."""
    fast = build_behaviour_features(tiny, default_spec(), user_range=(1, 1500))
    monkeypatch.setattr(behaviour_aggregates, "peer_features", behaviour_reference.peer_features)
    monkeypatch.setattr(behaviour_aggregates, "cell_features", behaviour_reference.cell_features)
    monkeypatch.setattr(behaviour_aggregates, "activity_features", behaviour_reference.activity_features)
    reference = build_behaviour_features(tiny, default_spec(), user_range=(1, 1500))
    assert len(fast) > 1000 and (fast["n_peers"] > 0).mean() > 0.5 and (fast["cell_change_days"] > 0).any()
    assert fast["active_days"].nunique() > 3
    pd.testing.assert_frame_equal(fast, reference, check_exact=True)
