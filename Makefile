# Self-documenting targets: `make` or `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
# INSTALLER=pip forces plain pip; the default tries uv (same pins, ~8x faster) and falls back to pip.
# Both write the packages' bytecode at install (pip by default, uv with --compile-bytecode): where
# PYTHONDONTWRITEBYTECODE is set (as in many containers), every process would otherwise compile
# mlflow, sklearn & co. again, 4-5 s of CPU per process (docs/benchmarks.md).
INSTALLER ?= uv
STAMP := $(VENV)/.installed

.PHONY: help setup reproduce test test-fast lint docs audit reports ui gap occupation-gap bench clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@date +%s.%N > .install_start
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@if [ "$(INSTALLER)" = "uv" ] && $(PY) -m pip install -q "uv==$(UV_VERSION)" 2>/dev/null; then \
		echo "installing pinned packages with uv"; \
		$(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -c requirements.lock -e ".[dev,spark]"; \
	else \
		echo "installing pinned packages with pip"; \
		$(PY) -m pip install -q -c requirements.lock -e ".[dev,spark]"; \
	fi
	@printf '%s\t%s\n' "$$(cat .install_start)" "$$(date +%s.%N)" > $(VENV)/.install_times; rm -f .install_start
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install the pinned packages (uv if available, else pip)

# Stage timings for reports/timings.md: `$(call stage,name,command)` runs the command and appends
# name<TAB>start<TAB>end (epoch seconds) to $(TIMINGS).
TIMINGS := outputs/timings/stages.tsv
stage = @mkdir -p $(dir $(TIMINGS)); start=$$(date +%s.%N); $(2) && printf '%s\t%s\t%s\n' '$(1)' "$$start" "$$(date +%s.%N)" >> $(TIMINGS)

# Sweep jobs at once in `make reproduce` (src/study.py): each runs its estimators on one thread.
SWEEP_JOBS ?= 2
# Simulator processes in `make reproduce` (the tables do not depend on it, byte for byte).
SIM_WORKERS ?= 2

reproduce: setup ## run the whole study reproduction on the embedded data, write reports/ and reports/timings.md
	@rm -f $(TIMINGS)
	$(call stage,simulation,test -f data/simulated/default/manifest.json || $(PY) -m src.data.simulate simulate.workers=$(SIM_WORKERS))
	$(call stage,sweep (every task x model),$(PY) -m src.study --jobs $(SWEEP_JOBS))
	$(call stage,reports,$(PY) -m src.report)
	$(call stage,audit (no machine path in the store),$(PY) -m src.audit)
	$(PY) -m src.reports.timings

# pytest-xdist workers: one per core by default (TEST_WORKERS=0 runs every test in one process; two per
# core measured slower: 506 s wall and 749 s CPU against 486 s and 711 s). Each test file goes to one
# worker, so a module's fixtures are built once; files are handed out in collection order, longest first
# (tests/conftest.py LONGEST_FIRST), not xdist's most-tests-first.
TEST_WORKERS ?= auto
XDIST = -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test: setup ## run the whole test suite (CI) on every core; prints the 30 slowest tests
	$(PY) -m pytest $(XDIST) --durations=30

test-fast: setup ## the unit tests only (skips the tests marked slow), for the inner loop
	$(PY) -m pytest $(XDIST) -m "not slow" -q

lint: setup ## ruff check, format check and the import-layer contracts (lint-imports)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

docs: setup ## build the documentation site into site/ (strict: a broken link or reference fails)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

audit: setup ## scan every param, tag and artifact of the MLflow store for absolute paths of this machine
	$(PY) -m src.audit

reports: setup ## render reports/ from the current MLflow store
	$(PY) -m src.report

ui: setup ## open the MLflow UI on http://127.0.0.1:5000 for the project store
	@echo "experiments open on their runs with ?workflowType=machine_learning, e.g. http://127.0.0.1:5000/#/experiments/1?workflowType=machine_learning"
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlruns/mlflow.db --default-artifact-root $(CURDIR)/mlruns/artifacts --host 127.0.0.1 --port 5000

gap: setup ## where each behaviour task's distance to its tight ceiling comes from (reports/behaviour_gap.md)
	$(PY) -m src.gap

occupation-gap: gap ## the former name of `make gap`

# Each benchmark records its figures in benchmarks/results/; the last step writes them into docs/benchmarks.md.
# The profile benchmark needs the study's champions (`make reproduce`); without them it says so and is skipped.
bench: setup ## run the benchmarks, record their figures and write docs/benchmarks.md's tables from them
	test -f data/simulated/default/manifest.json || $(PY) -m src.data.simulate
	$(PY) benchmarks/bench_simulate.py --n-users 100000
	$(PY) benchmarks/bench_behaviour.py
	-$(PY) benchmarks/bench_profile.py --chunk-users 50000
	$(PY) benchmarks/bench_serving.py
	$(PY) benchmarks/bench_text.py
	$(PY) benchmarks/bench_text_models.py --task spam --model lightgbm --k 0 1000
	$(PY) benchmarks/bench_bootstrap.py
	$(PY) -m src.reports.bench_page

clean: ## remove generated outputs (keeps .venv and data/raw)
	rm -rf outputs multirun .cache data/simulated data/processed site
