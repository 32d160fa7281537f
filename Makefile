# ShopSmart POS — the project's vocabulary. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# pytest-xdist workers for `make test` (auto: one per CPU; 0 runs the suite in one process)
PYTEST_WORKERS ?= auto

.PHONY: help run run-till run-server test lint typecheck bench screenshots dist demo clean

help:
	@echo "make run          create .venv, install, start a local server (SQLite) and the till"
	@echo "make run-till     just the till, on its own data directory"
	@echo "make test         create .venv, install, start PostgreSQL, lint and run the whole suite"
	@echo "make lint         ruff, import-linter contracts and mypy --strict on app/ and sync/"
	@echo "make bench        run the benchmarks in bench/ (results: docs/benchmarks.md)"
	@echo "make screenshots  render every screen at 1024x768, 1366x768, 1920x1080 to docs/screenshots/<size>/ (offscreen)"
	@echo "make dist         build the desktop app with PyInstaller (build.spec)"

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	bash scripts/ensure_desktop_deps.sh
	$(PY) scripts/run_embedded.py

run-till: $(STAMP)
	bash scripts/ensure_desktop_deps.sh
	$(VENV)/bin/shopsmart run

run-server: $(STAMP)
	$(VENV)/bin/shopsmart-server run

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: $(STAMP)
	$(MAKE) --no-print-directory lint
	bash scripts/ensure_test_deps.sh
	$(PY) scripts/with_postgres.py -- $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=20 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) scripts/with_postgres.py -- $(PY) -m bench $(BENCH_ARGS)

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

dist: $(STAMP)
	$(VENV)/bin/pyinstaller --noconfirm build.spec

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
