"""Execute a report template with papermill and export it to HTML with the code hidden."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from html import escape as html_escape
from pathlib import Path
from typing import Any

import nbformat

from src.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

# The shared stylesheet of every report page, written once beside them (reports/report.css).
STYLESHEET = "report.css"
REPORT_STYLE = """body {
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  max-width: 1100px; margin: 1.5em auto; padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; white-space: nowrap; }
th { background: #f0f3f7; }
img { max-width: 100%; }
.output_subarea { overflow-x: auto; }
/* a table wider than the page scrolls sideways instead of pushing columns off-screen */
table.report-table { display: block; max-width: 100%; overflow-x: auto; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
.jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt { display: none; }
"""
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{stylesheet}">
</head>
<body>
{body}
</body>
</html>
"""


# Kernels of pages rendered at once (report_jobs) pick free TCP ports independently; two may pick the same
# one, and the second kernel dies at start ("Address already in use"). Such a start is tried again.
KERNEL_START_ATTEMPTS = 3
KERNEL_START_FAILURE = "Kernel died before replying to kernel_info"


def execute(template: Path, output: Path, parameters: dict[str, Any]) -> bool:
    """Run a template into output with papermill (kernel python3, cwd root); False on a failed cell."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        try:
            papermill.execute_notebook(
                str(template),
                str(output),
                parameters=parameters,
                kernel_name="python3",
                language="python",
                cwd=str(PROJECT_ROOT),
                progress_bar=False,
                log_output=False,
            )
            break
        except papermill.PapermillExecutionError as err:
            log.error("%s failed in cell %s: %s: %s", output.name, err.exec_count, err.ename, err.evalue)
            return False
        except RuntimeError as err:
            if KERNEL_START_FAILURE not in str(err) or attempt == KERNEL_START_ATTEMPTS:
                raise
            log.warning(
                "%s: the notebook kernel died at start (%s); starting it again (attempt %d of %d)",
                output.name, err, attempt + 1, KERNEL_START_ATTEMPTS,
            )  # fmt: skip
    _portable(output)
    return True


def _portable(path: Path) -> None:
    """Drop stderr streams and machine paths from an executed notebook, so the committed copy is portable."""
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    papermill_meta = book.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in papermill_meta:
            try:
                papermill_meta[key] = str(Path(papermill_meta[key]).resolve().relative_to(PROJECT_ROOT))
            except ValueError:
                papermill_meta[key] = Path(papermill_meta[key]).name
    nbformat.write(book, path)


def _figure_files(folder: Path) -> dict[str, str]:
    """sha256 of every PNG in folder -> its name, to link a notebook's figures instead of embedding them."""
    if not folder.is_dir():
        return {}
    return {hashlib.sha256(png.read_bytes()).hexdigest(): png.name for png in sorted(folder.glob("*.png"))}


def _linked_figure(output: nbformat.NotebookNode, figures: dict[str, str], prefix: str) -> str | None:
    """The relative path of the figures/ file that holds this PNG output, if one does."""
    if output.get("output_type") != "display_data" or "image/png" not in output.get("data", {}):
        return None
    digest = hashlib.sha256(base64.b64decode(output["data"]["image/png"])).hexdigest()
    return f"{prefix}/{figures[digest]}" if digest in figures else None


def _with_alt(output: nbformat.NotebookNode, figures: dict[str, str], prefix: str) -> nbformat.NotebookNode:
    """A PNG output as an <img> with its alt text, linking the figures/ file when one holds the same image."""
    if output.output_type != "display_data" or "image/png" not in output.get("data", {}):
        return output
    alt = html_escape(str(output.get("metadata", {}).get("alt", "figure")))
    source = _linked_figure(output, figures, prefix)
    if source is None:
        source = "data:image/png;base64," + output.data["image/png"].replace("\n", "")
    output = nbformat.from_dict(dict(output))
    output.data = {"text/html": f'<img alt="{alt}" src="{html_escape(source)}">'}
    return output


def _lighten(notebook: Path, figures: dict[str, str], prefix: str) -> None:
    """Replace the notebook's embedded PNGs that figures/ already holds by Markdown links to those files."""
    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        for output in cell.get("outputs", []):
            source = _linked_figure(output, figures, prefix)
            if source is not None:
                alt = str(output.get("metadata", {}).get("alt", "figure"))
                output["data"] = {"text/markdown": f"![{alt}]({source})"}
    nbformat.write(book, notebook)


def to_html(notebook: Path, html: Path, title: str) -> Path:
    """Export an executed notebook to a light HTML page: no code or stderr; figures and stylesheet linked."""
    from nbconvert import HTMLExporter

    figures_dir = html.parent / "figures"
    figures = _figure_files(figures_dir)
    prefix = os.path.relpath(figures_dir, html.parent).replace(os.sep, "/")
    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                _with_alt(o, figures, prefix)
                for o in cell.outputs
                if not (o.output_type == "stream" and o.name == "stderr")
            ]
    exporter = HTMLExporter(
        template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(book, resources={"metadata": {"name": title}})
    page = _PAGE.format(title=html_escape(title), stylesheet=STYLESHEET, body=body)
    html.parent.mkdir(parents=True, exist_ok=True)
    (html.parent / STYLESHEET).write_text(REPORT_STYLE, encoding="utf-8")
    html.write_text(page, encoding="utf-8")
    _lighten(notebook, figures, prefix)
    return html
