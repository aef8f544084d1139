"""mkdocs hooks: publish the generated reports/ and the CHANGELOG inside the documentation site."""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent
REPORT_SUFFIXES = (".md", ".html", ".css", ".png", ".ipynb")


def report_files(reports: Path) -> list[Path]:
    """The files of reports/ the site serves: pages, task reports, figures and notebooks."""
    return sorted(
        path
        for path in reports.rglob("*")
        if path.is_file() and path.suffix in REPORT_SUFFIXES and path.name != "README.md"
    )


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add reports/ under reports/ and CHANGELOG.md as changelog.md, read where they are."""
    reports = ROOT / "reports"
    for path in report_files(reports):
        uri = "reports/" + path.relative_to(reports).as_posix()
        files.append(File.generated(config, uri, abs_src_path=str(path)))
    files.append(File.generated(config, "changelog.md", abs_src_path=str(ROOT / "CHANGELOG.md")))
    return files
