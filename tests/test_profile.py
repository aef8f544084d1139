"""The unified customer profile (src/profile.py): champions' scores, chunking, bad input and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mlflow import MlflowClient
from omegaconf import OmegaConf

from src import tracking
from src.config import compose
from src.data.errors import DataValidationError
from src.data.warehouse import EVENT_SCHEMAS
from src.errors import ConfigError
from src.features.behaviour import build_behaviour_features
from src.features.behaviour_spec import FeatureSpec, default_spec
from src.features.content_preference import attached_fusion
from src.features.rfm import rfm_segments
from src.features.tiers import grade
from src.features.titles import title_labeller
from src.profile import build_profile
from src.profile import main as profile_main
from src.scoring.inputs import chunk_ranges
from src.scoring.output import sidecar_path
from src.scoring.preference import population_rule_scores
from src.scoring.settings import load_settings
from src.tasks.content import rule_scores
from tests.helpers.cli import run_cli
from tests.helpers.profile import profile_cfg

# DuckDB sums floats in parallel, so two builds of one feature table differ by ~1e-15.
RTOL = 1e-9


def _tables(folder: Path, subscribers: pa.Table | None = None) -> Path:
    """Every warehouse table, empty but for one subscriber (or the given subscribers)."""
    folder.mkdir(parents=True)
    for name, schema in EVENT_SCHEMAS.items():
        table = schema.empty_table()
        if name == "subscribers":
            table = subscribers if subscribers is not None else _one_subscriber()
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def _one_subscriber(user_id: int | None = 1) -> pa.Table:
    row = {"user_id": [user_id], "age": [30], "gender": ["男"], "tenure_months": [12], "plan": ["神州行"]}
    row |= {"monthly_fee": [10.0], "home_cell": [5], "province": ["广东"], "prepaid": [True]}
    return pa.table(row, schema=EVENT_SCHEMAS["subscribers"])


def _replace_column(folder: Path, name: str, column: str, values: pa.Array | None) -> None:
    """Rewrite one table with a column replaced (values) or dropped (None)."""
    table = pq.read_table(folder / f"{name}.parquet")
    position = table.schema.get_field_index(column)
    table = table.remove_column(position)
    if values is not None:
        table = table.add_column(position, column, values)
    pq.write_table(table, folder / f"{name}.parquet")


# ---- pure helpers ---------------------------------------------------------------------------------


def test_chunk_ranges_cover_every_id_once() -> None:
    ids = np.array([1, 2, 5, 9, 10])
    assert chunk_ranges(ids, 2) == [(1, 2, 2), (5, 9, 2), (10, 10, 1)]
    assert chunk_ranges(ids, 50) == [(1, 10, 5)]


def test_user_range_must_be_ordered(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="first must be <= last"):
        build_behaviour_features(_tables(tmp_path / "t"), default_spec(), user_range=(5, 1))


def test_rule_scores_of_chunks_use_the_population_mix(tmp_path: Path) -> None:
    settings = load_settings(compose(["input=x", "output=y"], config_name="profile"))
    rng = np.random.default_rng(0)
    columns = [f"{p}{s}" for p in ("read_", "sp_cat_") for s in settings.suffixes.values()]
    features = pd.DataFrame(rng.poisson(0.7, size=(60, len(columns))), columns=columns)
    whole, evidence = rule_scores(features, settings.rules, settings.suffixes)
    totals = features.sum()
    for rows in (slice(0, 7), slice(7, 60)):
        scores, chunk_evidence = population_rule_scores(features.iloc[rows], settings, totals)
        np.testing.assert_array_equal(scores, whole.to_numpy()[rows])
        np.testing.assert_array_equal(chunk_evidence, evidence.to_numpy()[rows])


# ---- bad input: errors name the file and column, before any model is loaded ------------------------


def _missing_table(folder: Path) -> None:
    (folder / "sms.parquet").unlink()


def _missing_column(folder: Path) -> None:
    _replace_column(folder, "calls", "duration_s", None)


def _string_duration(folder: Path) -> None:
    _replace_column(folder, "calls", "duration_s", pa.array([], pa.string()))


def _no_subscribers(folder: Path) -> None:
    pq.write_table(EVENT_SCHEMAS["subscribers"].empty_table(), folder / "subscribers.parquet")


def _subscriber_without_id(folder: Path) -> None:
    pq.write_table(_one_subscriber(None), folder / "subscribers.parquet")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_missing_table, r"file .*sms\.parquet: table 'sms' not found \(every one of subscribers"),
        (_missing_column, r"calls\.parquet, column 'duration_s': table 'calls' lacks a column"),
        (_string_duration, r"calls\.parquet, column 'duration_s': has type string, expected an integer"),
        (_no_subscribers, r"subscribers\.parquet: no subscribers"),
        (_subscriber_without_id, r"subscribers\.parquet, column 'user_id': 1 row\(s\) without a user_id"),
    ],
)
def test_bad_input_is_named(tmp_path: Path, damage, message: str) -> None:
    folder = _tables(tmp_path / "tables")
    damage(folder)
    output = tmp_path / "profile.parquet"
    with pytest.raises(DataValidationError, match=message):
        build_profile(profile_cfg(tmp_path, folder, output))
    assert not output.exists()


def test_missing_folder_and_unset_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"nowhere: input folder not found \(pass input="):
        build_profile(profile_cfg(tmp_path, tmp_path / "nowhere", tmp_path / "p.parquet"))
    with pytest.raises(ConfigError, match="set input="):
        build_profile(compose(["output=p.parquet"], config_name="profile"))


def test_missing_champion_says_how_to_train_it(tmp_path: Path) -> None:
    folder = _tables(tmp_path / "tables")
    with pytest.raises(ConfigError, match=r"no champion models:/profiling-channel@champion .* task=channel"):
        build_profile(profile_cfg(tmp_path, folder, tmp_path / "p.parquet"))


# ---- the tiny population with its champions ---------------------------------------------------------


@pytest.mark.slow
def test_profile_matches_the_champions_own_predictions(profiled, tiny: Path) -> None:
    cfg, profile, sidecar = profiled
    tracking.configure_store(cfg)  # the session fixture may have been built before another file moved MLflow
    subscribers = pd.read_parquet(tiny / "subscribers.parquet")
    assert profile["user_id"].is_unique and set(profile["user_id"]) == set(subscribers["user_id"])
    assert sidecar["counts"]["users_scored"] == len(profile) == subscribers["user_id"].nunique()

    labeller = title_labeller(cfg).label
    features = build_behaviour_features(tiny, FeatureSpec.from_config(cfg.features.pipeline), labeller)
    assert features["user_id"].tolist() == profile["user_id"].tolist()
    models = {t: mlflow.pyfunc.load_model(f"models:/{n}@champion") for t, n in cfg.champions.items()}
    scored = {task: model.predict(features) for task, model in models.items()}

    tiers = compose(["task=channel"]).task.tiers
    for name in compose(["task=channel"]).task.channels:
        np.testing.assert_allclose(profile[f"p_{name}"], scored["channel"][f"proba_{name}"], rtol=RTOL)
        assert (profile[f"tier_{name}"] == grade(profile[f"p_{name}"], tiers.boundaries, tiers.labels)).all()

    occupation = scored["occupation"]
    assert (profile["occupation"] == occupation["prediction"]).all()
    chosen = [occupation.at[i, f"proba_{c}"] for i, c in enumerate(occupation["prediction"])]
    np.testing.assert_allclose(profile["occupation_proba"], chosen, rtol=RTOL)

    np.testing.assert_allclose(profile["churn_proba"], scored["churn"]["proba_churn"], rtol=RTOL)
    assert (
        profile["churn_risk"] == grade(profile["churn_proba"], [0.05, 0.15], ["low", "medium", "high"])
    ).all()

    # content: the rules fused with the champion by the weights its run learned, as the content task does
    rules = compose(["task=content"]).task.rules
    suffixes = dict(cfg.features.pipeline.categories)
    rule, evidence = rule_scores(features, rules, suffixes)
    model = 100.0 * scored["content"].reindex(columns=[f"proba_{c}" for c in suffixes], fill_value=0.0)
    fusion = attached_fusion(models["content"].unwrap_python_model().pipeline)
    assert fusion is not None
    explicit = (evidence >= float(rules.min_evidence)).to_numpy()
    weight = np.where(explicit, fusion.weights.weights["explicit"], fusion.weights.weights["latent"])[:, None]
    rule_n, model_n = rule.to_numpy(), model.to_numpy()
    rule_n, model_n = rule_n / rule_n.sum(axis=1, keepdims=True), model_n / model_n.sum(axis=1, keepdims=True)
    fused = 100.0 * (weight * rule_n + (1.0 - weight) * model_n)
    ours = profile[[f"content_{s}" for s in suffixes.values()]].to_numpy()
    np.testing.assert_allclose(ours, fused, rtol=RTOL)
    top = np.asarray(list(suffixes))[np.argsort(-fused, axis=1, kind="stable")[:, :3]]
    assert (profile[["content_top1", "content_top2", "content_top3"]].to_numpy() == top).all()

    rfm = rfm_segments(pd.read_parquet(tiny / "bills.parquet"), OmegaConf.to_container(cfg.rfm)).set_index(
        "user_id"
    )
    billed = profile.set_index("user_id").loc[rfm.index]
    assert (billed["rfm_segment"] == rfm["segment"]).all()
    assert (billed["frequency_months"] == rfm["frequency_months"]).all()
    np.testing.assert_allclose(billed["monetary_mean"], rfm["monetary_mean"])

    client = MlflowClient()
    versions = json.loads(pq.read_schema(cfg.output).metadata[b"profile.models"])
    for task, name in cfg.champions.items():
        champion = client.get_model_version_by_alias(name, "champion")
        assert versions[task] == {
            "name": name, "alias": "champion", "version": str(champion.version), "run_id": champion.run_id
        }  # fmt: skip
    assert json.loads(sidecar_path(Path(cfg.output)).read_text(encoding="utf-8"))["models"] == versions


@pytest.mark.slow
def test_chunked_profile_equals_one_chunk(profiled, tiny: Path, store: Path, tmp_path: Path) -> None:
    _, whole, _ = profiled
    chunked = profile_cfg(store, tiny, tmp_path / "chunked.parquet", "chunk_users=700")
    sidecar = build_profile(chunked)
    assert sidecar["settings"]["chunks"] == 3 and pq.ParquetFile(chunked.output).metadata.num_row_groups == 3
    pd.testing.assert_frame_equal(pd.read_parquet(chunked.output), whole, check_exact=False, rtol=RTOL)


@pytest.mark.slow
def test_messy_input_is_scored_and_counted(profiled, tiny: Path, store: Path, tmp_path: Path) -> None:
    _, clean, _ = profiled
    folder = tmp_path / "messy"
    shutil.copytree(tiny, folder)
    (folder / "manifest.json").unlink()  # a warehouse export, not a simulator's population: no manifest
    calls = pq.read_table(folder / "calls.parquet")
    pq.write_table(calls.append_column("note", pa.array(["x"] * len(calls))), folder / "calls.parquet")
    subscribers = pq.read_table(folder / "subscribers.parquet").to_pandas()
    odd_plan, odd_gender = subscribers["user_id"].iloc[:3], subscribers["user_id"].iloc[3:5]
    subscribers.loc[subscribers["user_id"].isin(odd_plan), "plan"] = "未知套餐"
    subscribers.loc[subscribers["user_id"].isin(odd_gender), "gender"] = "未说明"
    newcomer = subscribers.iloc[[10]].assign(user_id=int(subscribers["user_id"].max()) + 1)
    subscribers = pd.concat([subscribers, newcomer], ignore_index=True)
    table = pa.Table.from_pandas(subscribers, schema=EVENT_SCHEMAS["subscribers"], preserve_index=False)
    pq.write_table(table, folder / "subscribers.parquet")

    cfg = profile_cfg(store, folder, tmp_path / "messy.parquet", "chunk_users=1000")
    counts = build_profile(cfg)["counts"]
    profile = pd.read_parquet(cfg.output)
    assert len(profile) == len(clean) + 1 and profile["user_id"].is_unique
    assert counts["extra_columns_ignored"] == 1
    assert counts["unknown_plan_levels"] == {"未知套餐": 3} and counts["unknown_gender_levels"] == {
        "未说明": 2
    }
    assert counts["users_no_events"] == int(profile["no_events"].sum()) == 1
    assert profile.set_index("user_id").loc[newcomer["user_id"].iloc[0], "no_events"]

    features = build_behaviour_features(folder, FeatureSpec.from_config(cfg.features.pipeline))
    plans = [c for c in features if c.startswith("plan_")]
    assert (features.set_index("user_id").loc[odd_plan, plans] == 0).all().all()  # unknown plan: all 0
    # everyone left untouched scores as in the clean profile: the extra column changed nothing
    untouched = ~clean["user_id"].isin([*odd_plan, *odd_gender])
    mine = profile.set_index("user_id").loc[clean.loc[untouched, "user_id"]].reset_index()
    expected = clean[untouched].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected, check_exact=False, rtol=RTOL, check_dtype=False)


@pytest.mark.slow
def test_cli_writes_the_profile_and_reports_bad_input(tiny: Path, store: Path, tmp_path: Path) -> None:
    output = tmp_path / "cli" / "profile.parquet"
    common = [
        f"paths.mlruns_dir={store / 'mlruns'}",
        f"paths.cache_dir={store / 'cache'}",
        "features.titles.labeller=lookup",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    done = run_cli("src.profile", f"input={tiny}", f"output={output}", "chunk_users=900", *common)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2000 subscribers profiled" in done.stdout
    assert pq.ParquetFile(output).metadata.num_rows == 2000 and sidecar_path(output).is_file()

    # bad input through the same entry point, in this process (a second Python start would test nothing more)
    bad = compose([f"input={tmp_path / 'nowhere'}", f"output={output}.2", *common[:3]], config_name="profile")
    with pytest.raises(SystemExit) as failed:
        profile_main(bad)
    line = str(failed.value.code)
    assert line.startswith("error: file") and "input folder not found" in line and "\n" not in line
