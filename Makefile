# Quick start: `make run` (serve the app with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres bench lint typecheck system-deps install install-test browser-deps translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(PIP) install -e '.[test]'
	touch $@

system-deps:
	./scripts/install-system-deps

install: system-deps $(VENV)/.installed translations

install-test: install $(VENV)/.installed-test browser-deps
	./scripts/install-system-deps --test

# axe-core for the browser tests' accessibility checks, from the npm registry into
# tests/browser/node_modules (not committed); without npm the tests install nothing and skip.
browser-deps:
	@if [ -f tests/browser/node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  npm install --prefix tests/browser --no-package-lock --no-audit --no-fund --silent; \
	else echo "npm is not installed: the browser tests' accessibility checks will be skipped"; fi

translations: $(VENV)/.installed
	@if [ -d web/translations ]; then $(BIN)/pybabel -q compile -d web/translations; fi

run: install
	$(BIN)/mediation db upgrade
	$(BIN)/mediation demo --if-empty
	MEDIATION_VERIFY_BASE_URL="$${MEDIATION_VERIFY_BASE_URL:-http://$(HOST):$(PORT)}" \
	  $(BIN)/mediation serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite; then the database tests again on PostgreSQL when
# MEDIATION_TEST_DATABASE_URL names a database the suite may wipe.
test: install-test
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$MEDIATION_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "MEDIATION_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

test-sqlite:
	env -u MEDIATION_TEST_DATABASE_URL $(BIN)/python -m pytest -n auto --dist loadfile

test-postgres:
	$(BIN)/python -m pytest -m db -n auto --dist loadfile

bench: install-test
	$(BIN)/python -m bench

lint: install-test
	$(BIN)/ruff check mediation web workflows tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
