"""How the suite runs: the order files are handed out in, how expected failures are reported, and the
JVM flags of the tests' one Spark session (used by tests/conftest.py, checked by the tests)."""

from __future__ import annotations

import pytest

# The longest test files (pytest --durations, summed per file), longest first. `make test` hands whole
# files to the workers in collection order (--dist loadfile --no-loadscope-reorder): these start first so
# that none of them is left running alone at the end while the other workers sit idle. The other files
# follow in their usual order; a file missing from this list only starts later.
LONGEST_FIRST = (
    "test_spark.py",
    "test_study.py",
    "test_serving.py",
    "test_experiment.py",
    "test_reports.py",
    "test_readme_commands.py",
    "test_profile.py",
    "test_atomic_outputs.py",
    "test_run_sets.py",
    "test_ceiling_probe.py",
    "test_mlflow_ui.py",
    "test_datasets.py",
    "test_behaviour_features.py",
    "test_text_tasks.py",
    "test_promote.py",
    "test_lifecycle.py",
    "test_simulate.py",
    "test_tabular_data.py",
    # the fast tier's longest files (make test-fast), after the slow tier's
    "test_config.py",
    "test_estimators.py",
    "test_settings.py",
    "test_ceilings_behaviour.py",
    "test_calibration.py",
)

# The tests' Spark jobs are short and tiny: the JVM's quick compiler alone (no C2 optimising compiler
# competing for the two cores) runs them sooner. It changes how the JVM compiles, never a result.
SHORT_LIVED_JVM = "-XX:TieredStopAtLevel=1"


def plain_traceback(excinfo: pytest.ExceptionInfo[BaseException]) -> object:
    """The traceback of an expected failure, formatted like Python's own.

    pytest shows an xfailed test's reason, never its traceback, yet formats one for every such test:
    in its long style, with the arguments of every frame, that took 13 of the 22 s of
    test_text_estimators.py (its scikit-learn checks hold large arrays).
    """
    return excinfo.getrepr(style="native")
