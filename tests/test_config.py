"""Every config group composes and instantiates; the entry point refuses unknown names clearly."""

from __future__ import annotations

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from src.config import compose
from src.paths import CONF_DIR, PROJECT_ROOT
from src.tracking import all_task_names
from tests.helpers.cli import run_cli

MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))


def test_paths_resolve_to_the_project_root_not_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    cfg = compose()
    assert cfg.paths.root == str(PROJECT_ROOT)
    assert cfg.mlflow.tracking_uri == f"sqlite:///{PROJECT_ROOT}/mlruns/mlflow.db"


@pytest.mark.parametrize("task", all_task_names())
def test_every_task_composes_with_its_data_and_features(task):
    cfg = compose([f"task={task}"])
    assert cfg.task.name == task
    assert cfg.features.kind in {"tabular", "text", "behaviour"}
    assert cfg.seed is not None
    OmegaConf.to_container(cfg, resolve=True)  # every interpolation resolves


@pytest.mark.parametrize("model", MODELS)
def test_every_model_variant_instantiates_an_estimator(model):
    # each variant is composed with a task of its kind: a variant may read that task's features settings
    task_of_kind = {"tabular": "churn", "text": "spam", "behaviour": "occupation"}
    kinds = compose([f"model={model}"]).model.variants
    for kind in kinds:
        variant = compose([f"model={model}", f"task={task_of_kind[kind]}"]).model.variants[kind]
        estimator = instantiate(variant.estimator, _convert_="all")
        assert hasattr(estimator, "fit"), (model, kind)
        grid_keys = set((variant.get("grid") or {}).keys())
        params = set(estimator.get_params())
        assert grid_keys <= params, f"{model}/{kind}: grid keys {grid_keys - params} are not parameters"


def test_tabular_features_instantiate():
    cfg = compose(["task=churn"])
    transformer = instantiate(cfg.features.transformer, _convert_="all")
    assert transformer.drop == ["customerID", "Churn"]


def test_experiment_paper_sweeps_every_task():
    cfg = OmegaConf.load(CONF_DIR / "experiment" / "paper.yaml")
    order = cfg.hydra.sweeper.params.task.split(",")
    assert set(order) == set(all_task_names())  # one command reproduces every task
    # the topic champion labels the titles read by simulated users: it must exist before them
    behaviour = ("occupation", "channel", "content", "churn_sim")
    assert all(order.index("topic") < order.index(task) for task in behaviour)
    models = set(cfg.hydra.sweeper.params.model.split(","))
    assert {"keyword", "decision_tree", "lightgbm", "svm", "majority"} <= models


@pytest.mark.slow
def test_unknown_config_name_is_a_clear_error_with_nonzero_exit():
    result = run_cli("src.run", "model=no_such_model", timeout=120)
    assert result.returncode != 0
    assert "Could not find 'model/no_such_model'" in result.stderr


def test_paper_experiment_composes_as_the_readme_writes_it():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = hydra_compose(config_name="config", overrides=["+experiment=paper"], return_hydra_config=True)
    assert "model" in cfg.hydra.sweeper.params


def test_compose_works_inside_a_running_hydra_app():
    """A sweep job that generates the simulated tables composes `simulation` while Hydra is live."""
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(["seed=3", "simulate=tiny"], "simulation")
    assert cfg.seed == 3 and cfg.simulate.name == "tiny"
