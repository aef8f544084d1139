"""Execute a report template with papermill and export it to HTML with the code hidden."""

from __future__ import annotations

import logging
import re
from html import escape as html_escape
from pathlib import Path
from typing import Any

import nbformat

from src.paths import PROJECT_ROOT

log = logging.getLogger(__name__)

# nbconvert's templates load MathJax and require.js from a CDN; the reports need neither and must open offline
_CDN_SCRIPT = re.compile(r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>", re.IGNORECASE)
REPORT_STYLE = """<style>
table.report-table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 13px; }
/* a table wider than the page scrolls sideways instead of pushing columns off-screen */
table.report-table { display: block; max-width: 100%; overflow-x: auto; }
.jp-RenderedHTMLCommon table.report-table th, .jp-RenderedHTMLCommon table.report-table td {
  border: 1px solid #ccc; padding: 3px 8px; text-align: left; white-space: nowrap; }
.jp-RenderedHTMLCommon table.report-table th { background: #f0f3f7; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif; }
</style>
"""


def execute(template: Path, output: Path, parameters: dict[str, Any]) -> bool:
    """Run a template into output with papermill (kernel python3, cwd root); False on a failed cell."""
    import papermill

    output.parent.mkdir(parents=True, exist_ok=True)
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
    except papermill.PapermillExecutionError as err:
        log.error("%s failed in cell %s: %s: %s", output.name, err.exec_count, err.ename, err.evalue)
        return False
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


def _with_alt(output: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A PNG output as an <img> with its alt text (nbconvert's template has no alt attribute)."""
    if output.output_type != "display_data" or "image/png" not in output.get("data", {}):
        return output
    alt = html_escape(str(output.get("metadata", {}).get("alt", "figure")))
    png = output.data["image/png"].replace("\n", "")
    output = nbformat.from_dict(dict(output))
    output.data = {
        "text/html": f'<img alt="{alt}" src="data:image/png;base64,{png}" style="max-width: 100%">'
    }
    return output


def to_html(notebook: Path, html: Path, title: str) -> Path:
    """Export an executed notebook to self-contained HTML: no inputs, prompts, stderr or CDN scripts."""
    from nbconvert import HTMLExporter

    book = nbformat.read(notebook, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                _with_alt(o) for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(book, resources={"metadata": {"name": title}})
    body = _CDN_SCRIPT.sub("", body).replace("</head>", REPORT_STYLE + "</head>", 1)
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(body, encoding="utf-8")
    return html
