"""Text tasks through the harness: configs, model variants, the SVM wrapper, a registry round trip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient
from omegaconf import OmegaConf
from sklearn.svm import LinearSVC

from src.config import compose
from src.errors import IncompatibleModel
from src.experiment import baseline_for, pipeline_factory, run, variant_features
from src.models.keyword import KeywordMatcher
from src.models.svm import CalibratedLinearSVC
from src.paths import PROJECT_ROOT

SPAM_CSV = PROJECT_ROOT / "data/raw/chinese_sms_spam_50k/dataset.csv"
TEXT_TASKS = {
    "demand": "smp2017",
    "spam": "sms_spam",
    "topic": "toutiao",
    "satisfaction": "waimai_chnsenticorp",
}


@pytest.mark.parametrize("task", sorted(TEXT_TASKS))
def test_text_task_configs_pick_their_data_and_text_features(task: str) -> None:
    cfg = compose([f"task={task}", "model=svm"])
    assert cfg.data.name == TEXT_TASKS[task]
    assert cfg.features.kind == "text"
    assert cfg.task.loader == cfg.data.loader
    make, grid = pipeline_factory(cfg)
    assert make().named_steps["features"] is not None and "C" in grid


def test_study_baselines_per_model() -> None:
    assert baseline_for(compose(["task=demand", "model=keyword"]))[:2] == ("accuracy", 0.53)
    assert baseline_for(compose(["task=demand", "model=svm"]))[:2] == ("accuracy", 0.76)
    assert baseline_for(compose(["task=demand", "model=lightgbm"]))[:2] == ("accuracy", 0.76)
    assert baseline_for(compose(["task=spam", "model=svm"]))[:2] == ("accuracy", 0.92)
    assert baseline_for(compose(["task=satisfaction", "model=svm"])) is None


def test_topic_keeps_all_fifteen_topics() -> None:
    assert compose(["task=topic"]).data.merge_labels is None


def test_model_variants_adjust_or_bypass_the_features() -> None:
    keyword = pipeline_factory(compose(["task=spam", "model=keyword"]))[0]()
    assert keyword.named_steps["features"] == "passthrough"
    assert isinstance(keyword.named_steps["model"], KeywordMatcher)
    trees = pipeline_factory(compose(["task=spam", "model=lightgbm"]))[0]()
    words = trees.named_steps["features"].named_steps["union"].transformer_list[0][1].named_steps["tfidf"]
    assert words.max_features == 5000 and words.min_df == 3
    assert "select" not in trees.named_steps["features"].named_steps  # chi2 selection is off by default
    assert (
        variant_features(OmegaConf.create({"select_k": None}), OmegaConf.create({"select_k": 800})).select_k
        == 800
    )
    with pytest.raises(IncompatibleModel, match="no 'text' variant"):
        pipeline_factory(compose(["task=spam", "model=logreg"]))
    base = OmegaConf.create({"min_df": 1, "max_features": None})
    assert variant_features(base, OmegaConf.create({"min_df": 3})).min_df == 3
    assert variant_features(base, None) is base
    with pytest.raises(Exception, match="mapping or 'passthrough'"):
        variant_features(base, 5)


def test_the_majority_baseline_scores_raw_texts_without_tokenising_them(monkeypatch) -> None:
    from src.features.text import JiebaTokenizer, TextNormalizer

    def refuse(*args, **kwargs):
        raise AssertionError("the majority baseline must not read its texts")

    monkeypatch.setattr(JiebaTokenizer, "transform", refuse)
    monkeypatch.setattr(TextNormalizer, "transform", refuse)
    pipeline = pipeline_factory(compose(["task=spam", "model=majority"]))[0]()
    assert pipeline.named_steps["features"] == "passthrough"
    X = pd.DataFrame({"text": ["恭喜您中奖了", "明天开会", "晚上吃什么", None]})
    y = pd.Series(["spam", "ham", "ham", "ham"])
    pipeline.fit(X, y)
    assert list(pipeline.predict(X)) == ["ham"] * 4
    assert np.allclose(pipeline.predict_proba(X)[0], [0.75, 0.25])


def test_calibrated_linear_svc_decides_like_the_svm_and_gives_probabilities() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=400) > 1.0, "spam", "ham")  # skewed classes
    model = CalibratedLinearSVC(C=1.0, random_state=0).fit(X, y)
    plain = LinearSVC(C=1.0, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), plain.predict(X))
    proba = model.predict_proba(X)
    assert list(model.classes_) == ["ham", "spam"]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # calibrated probabilities rank like the margins
    order = np.argsort(model.decision_function(X))
    assert np.all(np.diff(proba[order, 1]) >= -1e-12)


def test_lift_weighting_gives_a_rare_class_its_telling_keywords(tmp_path: Path) -> None:
    common = ["今天 天气 不错", "晚上 一起 吃饭", "明天 开会 见"] * 30
    rare = ["中奖 领取 奖品 点击", "免费 中奖 优惠"] * 5
    texts = common + rare
    y = ["ham"] * len(common) + ["spam"] * len(rare)
    model = KeywordMatcher(top_k=5, min_df=1, weighting="lift", cache_dir=str(tmp_path)).fit(texts, y)
    table = model.keyword_table()
    assert set(table.loc[table["class"] == "spam", "keyword"]) >= {"中奖"}
    assert (table["weight"] > 0).all() and (table["precision"] > 0.5).all()
    assert list(model.predict(["恭喜 中奖 领取", "明天 一起 吃饭"])) == ["spam", "ham"]
    with pytest.raises(ValueError, match="weighting"):
        KeywordMatcher(weighting="bogus", cache_dir=str(tmp_path)).fit(texts, y)


@pytest.fixture(scope="module")
def spam_store(tmp_path_factory):
    """A keyword and an SVM run of the spam task on a 3,000-SMS sample, in a private store."""
    root = tmp_path_factory.mktemp("spam")
    sample = root / "sms_sample.csv"
    lines = SPAM_CSV.read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(7)
    sample.write_text("\n".join(lines[i] for i in sorted(rng.choice(len(lines), 3000, replace=False))) + "\n")

    def cfg(model: str):
        return compose(
            [
                f"paths.mlruns_dir={root / 'mlruns'}",
                f"paths.cache_dir={root / 'cache'}",
                "task=spam",
                f"model={model}",
                f"data.files.sms.path={sample}",
                "data.files.sms.sha256=null",
                "evaluation.n_bootstrap=100",
                "data.augment.per_template=20",
                "mlflow.register=always",  # ad-hoc runs register only when asked
            ]
        )

    metrics = {model: run(cfg(model), overrides=[f"model={model}"]) for model in ("keyword", "svm")}
    return cfg("svm"), metrics


@pytest.mark.slow
def test_spam_runs_log_baseline_keywords_and_dictionary_checksums(spam_store) -> None:
    _cfg, metrics = spam_store
    for model in ("keyword", "svm"):
        assert metrics[model]["baseline_accuracy"] == 0.92
        assert metrics[model]["delta_vs_baseline"] == pytest.approx(metrics[model]["test_accuracy"] - 0.92)
        assert {"test_f1_positive", "test_pr_auc", "test_majority_accuracy"} <= set(metrics[model])
        challenge = {"challenge_false_positive_rate", "challenge_spam_recall", "challenge_spam_recall_lo"}
        assert challenge <= set(metrics[model])
    assert metrics["svm"]["test_f1_positive"] > 0.8  # 3,000 SMS are enough to learn spam
    experiment = mlflow.get_experiment_by_name("profiling-spam")
    runs = mlflow.search_runs([experiment.experiment_id])
    keyword_run = runs[runs["tags.model"] == "keyword"].iloc[0]
    assert keyword_run["tags.dict_sha256.user_dict"] not in ("", "none", None)
    path = mlflow.artifacts.download_artifacts(
        run_id=keyword_run["run_id"], artifact_path="keywords/keywords.csv"
    )
    keywords = pd.read_csv(path)
    assert {"class", "keyword", "weight"} <= set(keywords.columns) and len(keywords) > 0


@pytest.mark.slow
def test_spam_champion_predicts_raw_strings_in_a_fresh_process(spam_store, tmp_path: Path) -> None:
    cfg, _ = spam_store
    champion = MlflowClient().get_model_version_by_alias("profiling-spam", "champion")
    script = (
        "import sys, mlflow, pandas as pd\n"
        f"mlflow.set_tracking_uri({cfg.mlflow.tracking_uri!r})\n"
        "model = mlflow.pyfunc.load_model('models:/profiling-spam@champion')\n"
        "texts = ['恭喜您中奖了，请点击链接领取奖品', '晚上一起吃饭吗', '', '🙂🙂']\n"
        "model.predict(pd.DataFrame({'text': texts})).to_json(sys.argv[1])\n"
    )
    target = tmp_path / "scores.json"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = pd.read_json(target)
    assert list(scores.columns) == ["prediction", "proba_ham", "proba_spam", "no_text", "truncated"]
    assert len(scores) == 4 and scores["no_text"].tolist()[2] is True  # the empty text: flagged, not guessed
    assert (
        scores.loc[2, "prediction"] == "no_text" and scores.loc[2, ["proba_ham", "proba_spam"]].isna().all()
    )
    assert set(scores.loc[[0, 1, 3], "prediction"]) <= {"ham", "spam"}
    local = mlflow.pyfunc.load_model(f"runs:/{champion.run_id}/model")
    expected = local.predict(
        pd.DataFrame({"text": ["恭喜您中奖了，请点击链接领取奖品", "晚上一起吃饭吗", "", "🙂🙂"]})
    )
    pd.testing.assert_frame_equal(expected, scores, check_dtype=False)


def _snapshot(folder: Path) -> dict[str, float]:
    """Every file under `folder` with its modification time (empty when the folder does not exist)."""
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


@pytest.mark.slow
def test_a_copied_text_model_predicts_with_the_training_store_and_checkout_gone(
    spam_store, tmp_path: Path
) -> None:
    """A deployer's copy of the model folder works alone; predicting never writes to the training side."""
    cfg, _ = spam_store
    copy = Path(
        mlflow.artifacts.download_artifacts(
            "models:/profiling-spam@champion", dst_path=str(tmp_path / "copy")
        )
    )
    store = Path(cfg.paths.mlruns_dir)
    cache = Path(cfg.paths.cache_dir)
    before = _snapshot(cache)
    gone = store.with_name(store.name + "-gone")
    store.rename(gone)  # the training store is no longer there
    try:
        home = tmp_path / "home"
        script = (
            "import sys, mlflow, pandas as pd\n"
            "model = mlflow.pyfunc.load_model(sys.argv[1])\n"
            "texts = ['【某银行】您尾号1234的账户于11月30日支出50.00元', '晚上一起吃饭吗']\n"
            "out = model.predict(pd.DataFrame({'text': texts}))\n"
            "out.to_json(sys.argv[2])\n"
        )
        # another folder, no PYTHONPATH to the checkout, a fresh home: the model brings its own code
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XDG_CACHE_HOME")}
        env["HOME"] = str(home)
        target = tmp_path / "scores.json"
        done = subprocess.run(
            [sys.executable, "-c", script, str(copy), str(target)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        gone.rename(store)
    assert done.returncode == 0, done.stderr[-2000:]
    scores = pd.read_json(target)
    assert len(scores) == 2 and set(scores["prediction"]) <= {"ham", "spam"}
    assert _snapshot(cache) == before  # the training cache was neither read into nor written
    assert not (home / ".cache" / "telecom-profiling" / "tokens").exists()  # no token cache by default
    for path in copy.rglob("*"):
        if (
            path.is_file()
            and path.suffix in (".yaml", ".json", ".txt", "")
            and path.stat().st_size < 1_000_000
        ):
            assert str(PROJECT_ROOT) not in path.read_text(errors="ignore"), (
                path
            )  # no machine path in the model
