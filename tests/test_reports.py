"""Reports: notebooks executed by papermill on a tiny temporary store, HTML content, CJK font, empty store."""

from __future__ import annotations

import re
import warnings
from io import BytesIO
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from omegaconf import DictConfig

from src.config import compose
from src.paths import NOTEBOOKS_DIR
from src.reports import claims, figures, fonts, run_figures, store, tables, task_report
from tests.helpers.screenshots import assert_not_blank, browser_or_skip, screenshot

TIERS = ["基本不接触", "偶尔接触", "普通依赖", "较依赖", "依赖"]
INTERVAL = re.compile(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]")


def _overrides(root: Path) -> list[str]:
    return [
        f"paths.mlruns_dir={root / 'mlruns'}",
        f"paths.reports_dir={root / 'reports'}",
        f"paths.cache_dir={root / 'cache'}",
        "evaluation.n_bootstrap=50",
        "mlflow.log_model=false",
    ]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[DictConfig, list[str], list[str]]:
    """A tiny store (churn: majority, logreg) and every report rendered from it into a temporary folder."""
    from src.experiment import run
    from src.report import render_all

    root = tmp_path_factory.mktemp("reports")
    overrides = _overrides(root)
    for model in ("majority", "logreg"):
        run(compose([*overrides, "task=churn", f"model={model}"]))
    cfg = compose(overrides)
    failed = render_all(cfg, overrides)
    return cfg, overrides, failed


def _reports(cfg: DictConfig) -> Path:
    return Path(cfg.paths.reports_dir)


def test_templates_have_a_parameters_cell_and_the_python3_kernel() -> None:
    for name in ("10-task-report.ipynb", "20-summary.ipynb"):
        book = nbformat.read(NOTEBOOKS_DIR / name, as_version=4)
        assert book.metadata.kernelspec.name == "python3"
        assert any("parameters" in cell.metadata.get("tags", []) for cell in book.cells), name


def test_cjk_labels_use_the_bundled_noto_font_without_missing_glyphs() -> None:
    """The bundled file renders the labels, even where a system font has the same family name."""
    from matplotlib import font_manager, ft2font

    name = fonts.use_cjk_font()
    assert name == fonts.FAMILY
    assert not any(
        f.name == name and f.fname != str(fonts.cjk_font_path()) for f in font_manager.fontManager.ttflist
    )
    title = "渠道依赖等级 基本不接触 偶尔接触 普通依赖 较依赖 依赖"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, (ax,) = figures._new(6, 3)
        ax.bar(TIERS, [1, 2, 3, 4, 5])
        text = ax.set_title(title)
        fig.savefig(BytesIO(), format="png")
    resolved = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
    assert Path(resolved) == fonts.cjk_font_path()  # the title is drawn with the bundled file
    font = ft2font.FT2Font(resolved)
    missing = [
        ch for ch in set(title + "".join(TIERS)) if not ch.isspace() and font.get_char_index(ord(ch)) == 0
    ]
    assert not missing, missing
    glyph_warnings = [str(w.message) for w in caught if "glyph" in str(w.message).lower()]
    assert not glyph_warnings, glyph_warnings


def test_verdict_rule_and_the_claims_file() -> None:
    assert claims.verdict(0.76, 0.78, 0.82) == claims.BEATEN
    assert claims.verdict(0.76, 0.70, 0.74) == claims.NOT_REACHED
    assert claims.verdict(0.76, 0.74, 0.78) == claims.REPRODUCED
    assert claims.verdict(0.76, 0.76, 0.80) == claims.REPRODUCED  # the claim on the bound is inside
    assert claims.verdict(0.76, None, None) == claims.NO_INTERVAL
    found = {(c.task, c.model, c.metric): c.value for c in claims.load_claims()}
    assert found == {
        ("demand", "keyword", "accuracy"): 0.53,
        ("demand", "svm", "accuracy"): 0.76,
        ("spam", "svm", "accuracy"): 0.92,
    }
    assert all(c.source for c in claims.load_claims())


def test_task_specific_figures_and_tables(tmp_path: Path) -> None:
    shares = pd.DataFrame(
        [
            {"channel": "热线", "tier": t, "share": s}
            for t, s in zip(TIERS, [0.4, 0.3, 0.2, 0.05, 0.05], strict=True)
        ]
    )
    fig = figures.tier_share_chart(shares, "channel", tmp_path)
    assert fig.saved_path.is_file()
    assert list(tables.tier_share_table(shares, TIERS).columns) == ["channel", *TIERS]
    scores = pd.DataFrame(
        {"group": ["学生", "学生", "司机"], "category": ["游戏", "新闻", "新闻"], "score": [0.8, 0.1, 0.6]}
    )
    assert figures.content_heatmap(scores, "content", tmp_path).saved_path.is_file()
    words = pd.DataFrame(
        {"class": ["话费", "话费", "流量"], "keyword": ["余额", "充值", "套餐"], "weight": [0.9, 0.5, 0.7]}
    )
    keyword_rows = tables.keyword_table(words)
    assert (
        keyword_rows.loc[keyword_rows["class"] == "话费", "top 10 (weight)"].iloc[0]
        == "余额 (0.90), 充值 (0.50)"
    )


@pytest.mark.slow
def test_reports_are_rendered_from_the_store(rendered: tuple[DictConfig, list[str], list[str]]) -> None:
    cfg, _, failed = rendered
    out = _reports(cfg)
    assert failed == []
    page = (out / "churn.html").read_text(encoding="utf-8")
    assert 'id="comparison-table"' in page and "majority" in page and "logreg" in page
    assert INTERVAL.search(page), "no '0.800 [0.780, 0.820]' interval in the comparison table"
    images = re.findall(r'<img alt="([^"]+)" src="(figures/[^"]+\.png)"', page)
    assert len(images) >= 4 and any("准确率" in alt for alt, _ in images)
    assert all((out / source).is_file() for _, source in images), "a linked figure is missing"
    assert "data:image/png;base64," not in page and "<style" not in page, "figures and CSS are linked"
    assert (out / "report.css").is_file()
    assert "open_report" not in page and "tr.show_" not in page, "code cells must be hidden"
    assert "Traceback" not in page
    assert (out / "churn.ipynb").is_file()
    assert (out / "figures" / "churn-compare-accuracy.png").is_file()
    assert (out / "figures" / "churn-roc-pr.png").is_file()
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert 'id="overview-table"' in summary and 'id="claims-table"' in summary
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "| churn | logreg |" in markdown and "no run yet" in markdown
    assert "config hash `" in markdown and "made at commit `" in markdown
    assert "16320c9c1ec72448db59aa0a26a0b95401046bef5d02fd3aeb906448e3055e91" in markdown
    assert "## churn" in (out / "results.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_page_figures_are_logged_to_their_runs(rendered: tuple[DictConfig, list[str], list[str]]) -> None:
    from mlflow import MlflowClient

    _, overrides, _ = rendered
    report = task_report.open_report("churn", overrides)
    shown = {f"figures/{p.name}" for p in (_reports(report.cfg) / "figures").glob("churn-*.png")}
    assert shown, "the churn page drew no figure"
    for _, row in report.runs.iterrows():
        logged = {
            f"figures/{Path(a.path).name}"
            for a in MlflowClient().list_artifacts(row["run_id"], run_figures.ARTIFACT_DIR)
        }
        assert "figures/churn-compare-accuracy.png" in logged, f"{row['tags.model']}: {logged}"
        others = {m for m in report.runs["tags.model"] if m != row["tags.model"]}
        assert not any(name.endswith(f"-{m}.png") for name in logged for m in others)
        assert logged <= shown


@pytest.mark.slow
def test_missing_artifacts_load_as_none(rendered: tuple[DictConfig, list[str], list[str]]) -> None:
    _, overrides, _ = rendered
    report = task_report.open_report("churn", overrides)
    majority = report.runs.loc[report.runs["tags.model"] == "majority", "run_id"].iloc[0]
    assert store.keywords(majority) is None and store.tier_shares(majority) is None
    assert store.importance(majority) is None and store.category_by_group(majority) is None
    assert store.confusion(majority) is not None and store.predictions(majority) is not None


@pytest.mark.slow
def test_a_task_without_runs_says_so(
    rendered: tuple[DictConfig, list[str], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, overrides, _ = rendered
    shown: list[object] = []
    monkeypatch.setattr(task_report, "display", shown.append)
    report = task_report.open_report("demand", overrides)
    for section in (task_report.show_header, task_report.show_comparison, task_report.show_confusions):
        section(report)
    text = " ".join(str(getattr(item, "data", item)) for item in shown)
    assert "No runs yet for `demand`" in text and "python -m src.run task=demand" in text


@pytest.mark.slow
def test_an_empty_store_gives_a_plain_no_runs_summary(tmp_path: Path) -> None:
    from src.report import render_all

    overrides = _overrides(tmp_path)
    cfg = compose(overrides)
    assert render_all(cfg, overrides) == []
    out = _reports(cfg)
    assert "No runs yet: run `make reproduce`" in (out / "summary.md").read_text(encoding="utf-8")
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "No runs yet" in page and "Traceback" not in page
    assert not list(out.glob("churn.*"))
    assert not (tmp_path / "mlruns" / "mlflow.db").exists(), "rendering must not create a store"


@pytest.mark.slow
@pytest.mark.browser
def test_report_screenshot_in_headless_chromium(
    rendered: tuple[DictConfig, list[str], list[str]], tmp_path: Path
) -> None:
    browser = browser_or_skip()
    cfg, _, _ = rendered
    shot = tmp_path / "churn.png"
    page = (_reports(cfg) / "churn.html").resolve().as_uri()
    result = screenshot(browser, page, shot, tmp_path / "profile", size=(1280, 2000))
    assert shot.is_file(), result.stderr[-2000:]
    assert_not_blank(shot, size=(1280, 2000))


def test_comparison_table_shows_the_paired_gap_to_the_ceiling() -> None:
    runs = pd.DataFrame(
        {
            "run_id": ["aaaaaaaaaa", "bbbbbbbbbb"],
            "tags.model": ["lightgbm", "majority"],
            "metrics.test_accuracy": [0.69, 0.24],
            "metrics.ceiling_accuracy": [0.729, 0.729],
            "metrics.gap_to_ceiling_accuracy": [0.039, 0.489],
            "metrics.test_gap_to_ceiling_accuracy": [0.041, float("nan")],
            "metrics.test_gap_to_ceiling_accuracy_lo": [0.029, float("nan")],
            "metrics.test_gap_to_ceiling_accuracy_hi": [0.053, float("nan")],
        }
    )
    table = tables.comparison_table(runs, [])
    assert table["ceiling (accuracy)"].tolist() == ["0.729", "0.729"]
    assert table["gap on the same test users [95% CI]"].tolist() == ["0.041 [0.029, 0.053]", "–"]


def test_the_spam_challenge_figures_follow_the_test_metrics_with_their_intervals() -> None:
    runs = pd.DataFrame(
        {
            "run_id": ["aaaaaaaaaa", "bbbbbbbbbb"],
            "tags.model": ["lightgbm", "svm"],
            "metrics.test_f1_positive": [0.963, 0.972],
            "metrics.challenge_false_positive_rate": [0.0, 0.097],
            "metrics.challenge_false_positive_rate_lo": [0.0, 0.082],
            "metrics.challenge_false_positive_rate_hi": [0.0, 0.113],
            "metrics.challenge_spam_recall": [0.957, float("nan")],
        }
    )
    table = tables.comparison_table(runs, [])
    metrics = [c for c in table.columns if c not in ("model", "run")]
    assert metrics == ["f1_positive", "challenge_false_positive_rate", "challenge_spam_recall"]
    assert table["challenge_false_positive_rate"].tolist() == ["0.000 [0.000, 0.000]", "0.097 [0.082, 0.113]"]
    assert table["challenge_spam_recall"].tolist() == ["0.957", "–"]
    without = runs.drop(columns="metrics.challenge_spam_recall")
    assert "challenge_spam_recall" not in tables.comparison_table(without, [])


def test_a_kernel_that_dies_at_start_is_started_again(tmp_path: Path, monkeypatch) -> None:
    import papermill

    from src.reports import notebooks

    calls: list[int] = []

    def flaky(template: str, output: str, **_: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError(notebooks.KERNEL_START_FAILURE)  # a port taken by a kernel starting beside it
        nbformat.write(nbformat.v4.new_notebook(), output)

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    assert notebooks.execute(tmp_path / "t.ipynb", tmp_path / "out.ipynb", {}) is True
    assert len(calls) == 2

    def broken(template: str, output: str, **_: object) -> None:
        raise RuntimeError("something else")

    monkeypatch.setattr(papermill, "execute_notebook", broken)
    with pytest.raises(RuntimeError, match="something else"):  # only a failed start is tried again
        notebooks.execute(tmp_path / "t.ipynb", tmp_path / "out.ipynb", {})
