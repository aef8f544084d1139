"""Headless Chromium for the screenshot tests: find the browser, take a screenshot (and the rendered DOM)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_BROWSER = "chromium not installed: `apt-get install chromium` (done by .ci/run) enables this check"
# flags that keep a headless run quiet, offline and free of first-run dialogs
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def browser_or_skip() -> str:
    """The path of a headless-capable Chromium, or skip the calling test with the reason."""
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(NO_BROWSER)
    return found


def browser_command(browser: str, url: str, profile: Path, *flags: str, size: tuple[int, int]) -> list[str]:
    """The Chromium command line that loads `url` headless with a private profile at a window size."""
    window = f"--window-size={size[0]},{size[1]}"
    return [browser, *QUIET_FLAGS, f"--user-data-dir={profile}", window, *flags, url]


def screenshot(
    browser: str,
    url: str,
    shot: Path,
    profile: Path,
    size: tuple[int, int] = (1280, 1600),
    wait_ms: int = 0,
    dump_dom: bool = False,
) -> subprocess.CompletedProcess:
    """Save a PNG of `url` to `shot`; `wait_ms` lets a script-driven page render first (virtual time).

    With `dump_dom`, the same browser run also prints the rendered DOM (the result's stdout): one
    Chromium start instead of two.
    """
    flags = [
        f"--screenshot={shot}",
        *(["--dump-dom"] if dump_dom else []),
        *([f"--virtual-time-budget={wait_ms}"] if wait_ms else []),
    ]
    command = browser_command(browser, url, profile, *flags, size=size)
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def assert_not_blank(shot: Path, size: tuple[int, int] | None = None, min_dark: float = 0.01) -> None:
    """Fail when the PNG has another size than expected or almost no dark pixels (text, rules, bars)."""
    from PIL import Image

    with Image.open(shot) as image:
        gray = image.convert("L")
        if size is not None:
            assert gray.size == size
        dark = sum(gray.histogram()[:128])
        assert dark > min_dark * gray.size[0] * gray.size[1], "the screenshot is blank"
