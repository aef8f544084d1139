"""A CJK font for matplotlib from the pip-installed mplfonts package (no system fonts, no downloads).

The bundled file is registered under a family name of its own, so that a system font of the same
family (e.g. Debian's fonts-noto-cjk, which also calls itself "Noto Sans CJK SC") cannot win.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path

FONT_FILE = "NotoSansCJKsc-Regular.otf"
FAMILY = "Profiling Bundled Noto Sans CJK SC"  # no system font carries this name


class FontMissingError(RuntimeError):
    """The bundled CJK font file cannot be found (mplfonts not installed)."""


def cjk_font_path() -> Path:
    """Path of Noto Sans CJK SC inside the installed mplfonts package."""
    spec = find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissingError(
            "mplfonts is not installed: `make setup` installs it (pinned in pyproject.toml)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT_FILE
    if not path.is_file():
        raise FontMissingError(f"{path} is missing from the mplfonts package")
    return path


@cache
def use_cjk_font() -> str:
    """Register the bundled Noto Sans CJK SC as FAMILY and make it matplotlib's default; return FAMILY."""
    import dataclasses

    import matplotlib as mpl
    from matplotlib import font_manager, ft2font

    path = cjk_font_path()
    entry = font_manager.ttfFontProperty(ft2font.FT2Font(str(path)))
    font_manager.fontManager.ttflist.append(dataclasses.replace(entry, name=FAMILY))
    mpl.rcParams["font.family"] = "sans-serif"
    mpl.rcParams["font.sans-serif"] = [FAMILY, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212; use ASCII minus
    return FAMILY
