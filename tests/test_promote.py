"""Champion promotion: election on validation only, pins that stick, per-dataset election, model cards."""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from src.config import compose
from src.errors import ConfigError
from src.identity import identity_tags
from src.models.model_card import MAX_CARD_CHARS, model_card
from src.models.registry import PIN_BY_TAG, PIN_TAG, registered_name, update_champion
from src.promote import PREVIOUS_TAG, promote
from src.promote import main as promote_main
from src.tracking import configure_store, ensure_experiment
from tests.helpers.cli import run_cli


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """One private store for the module; each test registers under its own model-name prefix."""
    return tmp_path_factory.mktemp("promote")


def _cfg(root: Path, prefix: str = "profiling-", *overrides: str, config_name: str = "promote"):
    return compose(
        [
            f"paths.mlruns_dir={root / 'mlruns'}",
            f"paths.cache_dir={root / 'cache'}",
            "task=churn",
            "model=majority",
            "evaluation.n_bootstrap=50",
            f"mlflow.registered_model_prefix={prefix}",
            "mlflow.register=always",  # majority baselines register only when asked
            *overrides,
        ],
        config_name=config_name,
    )


def _version(cfg, val: float | None, test: float, status: str = "FINISHED", **tags: str) -> str:
    """Register a version whose run logged only the metrics promotion looks at (no model needed)."""
    configure_store(cfg)
    client = MlflowClient()
    run_tags = {**identity_tags(cfg), "model": "synthetic", **tags}
    run = client.create_run(ensure_experiment(cfg), tags=run_tags)
    run_id = run.info.run_id
    for key, value in {"task.selection_metric": "roc_auc", "task.selection_mode": "max"}.items():
        client.log_param(run_id, key, value)
    metrics = {"test_roc_auc": test, "test_roc_auc_lo": test - 0.05, "test_roc_auc_hi": test + 0.05}
    if val is not None:
        metrics["val_roc_auc"] = val
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    client.set_terminated(run_id, status)
    name = registered_name(cfg)
    with contextlib.suppress(MlflowException):  # registered by an earlier call
        client.create_registered_model(name)
    return str(client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id).version)


def _champion(name: str) -> str:
    return str(MlflowClient().get_model_version_by_alias(name, "champion").version)


def test_reelection_uses_validation_never_test_metrics(root):
    cfg = _cfg(root, "reelect-")
    _version(cfg, val=0.70, test=0.95)
    _version(cfg, val=0.80, test=0.60)
    _version(cfg, val=0.80, test=0.99)  # ties on validation, better on test: the earlier one keeps it
    _version(cfg, val=0.95, test=0.99, status="FAILED")
    MlflowClient().set_registered_model_alias("reelect-churn", "champion", "1")

    result = promote(cfg)

    assert (result.previous, result.current) == ("1", "2")
    assert str(result) == "reelect-churn@champion: 1 -> 2"
    assert _champion("reelect-churn") == "2"
    assert MlflowClient().get_model_version("reelect-churn", "2").tags[PREVIOUS_TAG] == "1"


def test_pinning_a_version_moves_the_alias_records_the_previous_and_sets_the_card(root):
    cfg = _cfg(root, "pin-")
    _version(cfg, val=0.90, test=0.70)
    _version(cfg, val=0.80, test=0.75)
    client = MlflowClient()

    first = promote(cfg)
    assert (first.previous, first.current) == (None, "1")
    assert client.get_model_version("pin-churn", "1").tags[PREVIOUS_TAG] == "none"

    pinned = promote(_cfg(root, "pin-", "version=2"))
    assert str(pinned) == "pin-churn@champion: 1 -> 2 (pinned)"
    assert _champion("pin-churn") == "2"
    second = client.get_model_version("pin-churn", "2")
    assert second.tags[PREVIOUS_TAG] == "1"
    assert "| `test_roc_auc` | 0.7500 | [0.7000, 0.8000] |" in second.description
    assert "`val_roc_auc` = 0.8000" in second.description

    again = promote(_cfg(root, "pin-", "version=2"))
    assert str(again).endswith("2 -> 2 (unchanged) (pinned)")
    assert client.get_model_version("pin-churn", "2").tags[PREVIOUS_TAG] == "1"  # history kept

    kept = promote(cfg)  # re-election without unpin keeps the human's pin
    assert (kept.previous, kept.current, kept.pinned) == ("2", "2", True)
    assert str(client.get_model_version_by_alias("pin-churn", "challenger").version) == "1"

    back = promote(_cfg(root, "pin-", "unpin=true"))  # unpinning returns the model to election
    assert (back.previous, back.current, back.pinned) == ("2", "1", False)
    assert PIN_TAG not in client.get_registered_model("pin-churn").tags
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias("pin-churn", "challenger")


def test_election_never_moves_a_pinned_champion_and_moves_the_challenger(root, caplog):
    cfg = _cfg(root, "stick-")
    _version(cfg, val=0.70, test=0.70)
    _version(cfg, val=0.60, test=0.60)
    pinned = promote(_cfg(root, "stick-", "version=2"))
    assert pinned.pinned and str(pinned).endswith("(pinned)")
    tags = MlflowClient().get_registered_model("stick-churn").tags
    assert tags[PIN_TAG] == "true" and tags[PIN_BY_TAG]

    _version(cfg, val=0.99, test=0.99)  # a later, better run
    with caplog.at_level("INFO", logger="src.models.registry"):
        assert update_champion(cfg) == "2"
    assert _champion("stick-churn") == "2"
    assert str(MlflowClient().get_model_version_by_alias("stick-churn", "challenger").version) == "3"
    assert "pinned to version 2: election did not move it" in caplog.text


def test_election_compares_only_versions_of_the_same_dataset_and_input_schema(root):
    cfg = _cfg(root, "pair-")
    _version(cfg, val=0.70, test=0.70)
    _version(cfg, val=0.99, test=0.99, dataset="another_table")  # legacy mix-up: another dataset
    _version(cfg, val=0.98, test=0.98, input_schema="0000000000000000")  # same data, other columns
    _version(cfg, val=0.97, test=0.97, status="RUNNING")  # stale RUNNING run
    assert promote(cfg).current == "1"


def test_unknown_or_unfinished_version_is_an_error_naming_the_choices(root):
    cfg = _cfg(root, "bad-")
    _version(cfg, val=0.9, test=0.9)
    _version(cfg, val=0.8, test=0.8, status="FAILED")
    with pytest.raises(ConfigError, match=r"'bad-churn' has no version 9; available versions: 1, 2"):
        promote(_cfg(root, "bad-", "version=9"))
    with pytest.raises(ConfigError, match="version 2 of 'bad-churn' comes from a FAILED run"):
        promote(_cfg(root, "bad-", "version=2"))
    with pytest.raises(MlflowException):
        MlflowClient().get_model_version_by_alias("bad-churn", "champion")  # nothing moved


def test_nothing_to_elect_is_an_error(root):
    with pytest.raises(ConfigError, match="no registered versions of 'empty-churn'"):
        promote(_cfg(root, "empty-"))
    cfg = _cfg(root, "noval-")
    _version(cfg, val=None, test=0.9)
    with pytest.raises(
        ConfigError,
        match=r"no finished version of 'noval-churn' for dataset 'ibm_telco' has val_roc_auc.*versions: 1",
    ):
        promote(cfg)


@pytest.fixture(scope="module")
def real_store(root):
    """Two tiny real experiments (majority class) registered as profiling-churn versions 1 and 2."""
    from src.experiment import run

    cfg = _cfg(root, config_name="config")  # what `python -m src.run` composes
    metrics = [run(cfg, overrides=["model=majority", "evaluation.n_bootstrap=50"]) for _ in range(2)]
    mlflow.set_tracking_uri(cfg.mlflow.tracking_uri)
    return cfg, metrics


@pytest.mark.slow  # real experiments / a fresh process
def test_each_run_describes_its_champion_with_the_model_card(real_store):
    _, (metrics, _) = real_store
    client = MlflowClient()
    version = client.get_model_version("profiling-churn", "1")
    assert _champion("profiling-churn") == "1"  # identical runs tie: the earliest wins
    card = version.description
    tags = client.get_run(version.run_id).data.tags
    assert card.startswith("# churn / majority")
    test_row = (
        f"| `test_accuracy` | {metrics['test_accuracy']:.4f} | "
        f"[{metrics['test_accuracy_lo']:.4f}, {metrics['test_accuracy_hi']:.4f}] |"
    )
    assert test_row in card
    assert "## Test metrics (95% bootstrap interval)" in card and "`test_roc_auc`" in card
    assert f"`val_roc_auc` = {metrics['val_roc_auc']:.4f} (maximised on validation)" in card
    assert f"`{tags['mlflow.source.git.commit']}`" in card
    assert "| data/raw/ibm_telco_customer_churn/Telco-Customer-Churn.csv | `16320c9c" in card
    assert "python -m src.run task=churn model=majority evaluation.n_bootstrap=50" in card
    assert "val_" not in card.split("## Test metrics")[1]  # the test table holds test metrics only


@pytest.mark.slow  # real experiments / a fresh process
def test_cli_pins_a_version_and_prints_old_to_new(real_store, tmp_path):
    cfg, _ = real_store
    done = run_cli(
        "src.promote",
        "task=churn",
        "version=2",
        f"paths.mlruns_dir={cfg.paths.mlruns_dir}",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "profiling-churn@champion: 1 -> 2 (pinned)" in done.stdout
    client = MlflowClient()
    assert _champion("profiling-churn") == "2"
    version = client.get_model_version("profiling-churn", "2")
    assert version.tags[PREVIOUS_TAG] == "1" and version.description.startswith("# churn / majority")


@pytest.mark.slow  # real experiments
def test_main_unpin_returns_the_model_to_election(root, real_store, capsys):
    """The entry point in this process (the pin test above starts the real command): pin, both, unpin."""
    promote_main(_cfg(root, "profiling-", "version=2"))
    with pytest.raises(SystemExit) as both:
        promote_main(_cfg(root, "profiling-", "version=2", "unpin=true"))
    assert both.value.code == "error: give either version=<n> (pin) or unpin=true, not both"
    capsys.readouterr()
    promote_main(_cfg(root, "profiling-", "unpin=true"))
    out = capsys.readouterr().out
    assert "profiling-churn@champion: 2 -> 1" in out and "(pinned)" not in out
    assert PIN_TAG not in MlflowClient().get_registered_model("profiling-churn").tags


@pytest.mark.slow  # real experiments
def test_main_bad_version_exits_with_one_line_naming_the_versions(root, real_store):
    """A user's mistake leaves through SystemExit with one `error:` line (exit code 1), no traceback."""
    with pytest.raises(SystemExit) as bad:
        promote_main(_cfg(root, "profiling-", "version=7"))
    assert bad.value.code == "error: 'profiling-churn' has no version 7; available versions: 1, 2"


def _fake_run(metrics: dict[str, float], tags: dict[str, str] | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        info=SimpleNamespace(run_id="abc123", status="FINISHED"),
        data=SimpleNamespace(
            tags={"task": "news", "model": "logreg", "overrides": "task=news", **(tags or {})},
            params={
                "task.selection_metric": "accuracy",
                "evaluation.ci_level": "0.9",
                "evaluation.refit_on_train_val": "True",
            },
            metrics=metrics,
        ),
    )


def test_card_shows_baseline_delta_and_ceiling_when_logged():
    run = _fake_run(
        {
            "val_accuracy": 0.81,
            "test_accuracy": 0.8,
            "test_accuracy_lo": 0.78,
            "test_accuracy_hi": 0.82,
            "baseline_accuracy": 0.76,
            "delta_vs_baseline": 0.04,
            "delta_vs_baseline_lo": 0.02,
            "delta_vs_baseline_hi": 0.06,
            "ceiling_accuracy": 0.9,
            "gap_to_ceiling_accuracy": 0.1,
        },
        {"baseline_source": "study table 3"},
    )
    card = model_card(run)
    assert "## Test metrics (90% bootstrap interval)" in card
    assert "| fitted on | train + validation (re-fit after selection) |" in card
    assert "| `baseline_accuracy` | 0.7600 (study table 3) |" in card
    assert "| `delta_vs_baseline` | +0.0400 [+0.0200, +0.0600] |" in card
    assert "| `ceiling_accuracy` | 0.9000 |" in card and "| `gap_to_ceiling_accuracy` | 0.1000 |" in card
    assert "python -m src.run model=logreg task=news" in card


def test_card_without_extras_skips_their_sections_and_stays_within_the_registry_limit():
    plain = model_card(_fake_run({"val_accuracy": 0.8, "test_accuracy": 0.8}))
    assert "Baseline" not in plain and "Data (sha256)" not in plain
    many = {f"data_sha256.data/file_{i:03d}.parquet": "f" * 64 for i in range(200)}
    long = model_card(_fake_run({"test_accuracy": 0.8}, many))
    assert len(long) <= MAX_CARD_CHARS and "truncated" in long
