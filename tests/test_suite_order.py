"""The suite's own scheduling and reporting: the files it hands out first must exist, and expected
failures are formatted cheaply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.suite import LONGEST_FIRST, plain_traceback


def test_every_file_named_longest_first_exists() -> None:
    here = Path(__file__).parent
    missing = [name for name in LONGEST_FIRST if not (here / name).is_file()]
    assert not missing, f"tests/conftest.py LONGEST_FIRST names files that do not exist: {missing}"


@pytest.mark.xfail(reason="an expected failure, for the test below", strict=True)
def test_an_expected_failure() -> None:
    raise AssertionError("expected")


def test_only_expected_failures_get_theplain_traceback(request: pytest.FixtureRequest) -> None:
    items = {item.name: item for item in request.session.items}
    if "test_an_expected_failure" not in items:
        pytest.skip("the expected failure above was not selected")
    expected = items["test_an_expected_failure"]
    assert getattr(expected.repr_failure, "__name__", "") == plain_traceback.__name__
    assert request.node.repr_failure.__name__ == "repr_failure"  # a real failure keeps pytest's long form
    try:
        raise ValueError("boom")
    except ValueError:
        text = str(plain_traceback(pytest.ExceptionInfo.from_current()))
    assert text.startswith("Traceback (most recent call last)") and "ValueError: boom" in text
