# The human entry points. Everything bootstraps from plain python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The demo needs the package and its dependencies only; its CAS server has a virtualenv of its own.
DEMO_STAMP := $(VENV)/.demo-stamp

# The newest Django needs Python 3.12+: taken from pyenv unless PYTHON312 names one.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo "$(HOME)/.pyenv")
PYTHON312 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.12.*/bin/python))),$(shell command -v python3.12 2>/dev/null))
DJ61_VENV := .venv-dj61
DJ61_STAMP := $(DJ61_VENV)/.installed-stamp
# django-mama-cas (the second real CAS server of tests/integration/test_mamacas.py) supports
# Django 3.1 and Python up to 3.9: taken from pyenv unless PYTHON39 names one.
PYTHON39 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.9.*/bin/python))),$(shell command -v python3.9 2>/dev/null))
MAMA_VENV := .venv-mamacas

# The whole suite with the given python: everything, then the live-server concurrency test on a
# database file (in-memory SQLite is one connection shared by every server thread).
define suite
	$(1) -m pytest $(PYTEST_ARGS)
	$(1) -m pytest --ds tests.integration.settings tests/integration/test_browser_concurrency.py $(PYTEST_ARGS)
endef

.PHONY: help demo test test-fast test-django61 test-release mamacas-venv messages lint format types docs check bench clean

help:
	@echo "make demo   - run the demo site, signing in through a real local CAS server"
	@echo "make test   - run the whole test suite"
	@echo "make test-django61 - the whole suite on Django 6.1 with Python 3.12 (PYTHON312=...)"
	@echo "make mamacas-venv - build .venv-mamacas so the suite also runs against django-mama-cas"
	@echo "make test-release  - build sdist and wheel, install the wheel, follow README, sign in"
	@echo "make check  - lint, types and docs (what CI runs besides the tests)"
	@echo "make messages - refresh and compile the translation catalogues"
	@echo "make bench  - benchmarks against django-cas-ng 5.1.1"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,docs]'
	touch $@

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

demo: $(DEMO_STAMP)
	$(BIN)/python -m demo

test: $(STAMP)
	$(call suite,$(BIN)/python)

$(DJ61_STAMP): pyproject.toml
	@test -n "$(PYTHON312)" || { echo "No Python 3.12 found: 'pyenv install 3.12' or run with PYTHON312=/path/to/python3.12" >&2; exit 1; }
	@"$(PYTHON312)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' || { echo "PYTHON312=$(PYTHON312) is not a working Python 3.12" >&2; exit 1; }
	rm -rf $(DJ61_VENV)
	"$(PYTHON312)" -m venv $(DJ61_VENV)
	$(DJ61_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DJ61_VENV)/bin/python -m pip install --quiet -e '.[test]' 'Django>=6.1,<6.2'
	touch $@

test-django61: $(DJ61_STAMP)
	$(DJ61_VENV)/bin/python -c 'import django, sys; print("Django", django.__version__, "on Python", sys.version.split()[0]); sys.exit(django.VERSION[:2] != (6, 1))'
	$(call suite,$(DJ61_VENV)/bin/python)

# Optional: without it the django-mama-cas tests are skipped.
mamacas-venv:
	@test -n "$(PYTHON39)" || { echo "No Python 3.9 found: 'pyenv install 3.9' or run with PYTHON39=/path/to/python3.9" >&2; exit 1; }
	rm -rf $(MAMA_VENV)
	"$(PYTHON39)" -m venv $(MAMA_VENV)
	$(MAMA_VENV)/bin/python -m pip install --quiet 'django-mama-cas==2.5.0' 'Django>=3.1,<3.2' defusedxml

test-release: $(STAMP)
	$(BIN)/python -m pytest -m release tests/release $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not cluster" $(PYTEST_ARGS)

messages: $(STAMP)
	cd django_cas_ng && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. $(abspath $(BIN))/django-admin makemessages --all --no-obsolete --add-location=file
	cd django_cas_ng && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. $(abspath $(BIN))/django-admin compilemessages

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
	rm -rf $(VENV) $(DJ61_VENV) .venv-cas $(MAMA_VENV) .venv-bench-* demo/db.sqlite3 docs/_build build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
