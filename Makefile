# The human entry points. Everything bootstraps from plain python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help demo test test-fast lint format types docs check bench clean

help:
	@echo "make demo   - run the demo site, signing in through a real local CAS server"
	@echo "make test   - run the whole test suite"
	@echo "make check  - lint, types and docs (what CI runs besides the tests)"
	@echo "make bench  - benchmarks against django-cas-ng 5.1.1"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,docs]'
	touch $@

demo: $(STAMP)
	$(BIN)/python -m demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@# Parallel logins through the live server need a database file (in-memory SQLite is one
	@# connection shared by every server thread).
	$(BIN)/python -m pytest --ds tests.integration.settings tests/integration/test_browser_concurrency.py $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not cluster" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check django_cas_ng

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format django_cas_ng tests

types: $(STAMP)
	$(BIN)/mypy

docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

check: lint types docs

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-cas .venv-bench-* demo/db.sqlite3 docs/_build .pytest_cache .mypy_cache .ruff_cache
