# One entry point for developers and CI. Every target installs what it needs first, so each one
# works on a fresh machine that has only Python 3.11 with pip.

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
# `python3 -m uv` rather than `uv`: right after a pip install the `uv` script may not be on PATH
# yet (pyenv shims, ~/.local/bin).
UV ?= $(PYTHON) -m uv
BIN := .venv/bin
# Use the machine's Python 3.11; never download an interpreter.
export UV_PYTHON_DOWNLOADS := never

PYTEST_ARGS ?=
DEV_ARGS ?=

.PHONY: setup uv check test pytest dev frontend

# uv is the one tool installed into the machine's Python; PIP_BREAK_SYSTEM_PACKAGES lets that
# happen on a Debian-packaged (PEP 668) Python and does nothing elsewhere.
uv:
	@$(UV) --version 2>/dev/null | grep -q "^uv $(UV_VERSION)" \
		|| PIP_BREAK_SYSTEM_PACKAGES=1 $(PYTHON) -m pip install --quiet \
			--disable-pip-version-check "uv==$(UV_VERSION)"

## setup: create .venv with every workspace member, exactly as pinned in uv.lock
setup: uv
	$(UV) sync --all-packages --frozen --python 3.11

## check: lock freshness, lint, formatting, types and the import contracts (pyproject.toml)
# setup installs with --frozen (exactly the lock, no resolution), so a pyproject.toml edited
# without `uv lock` would go unnoticed there: the lock check catches it.
check: setup
	$(UV) lock --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## pytest: the test suite alone, on the real services the fixtures start
# pytest exits 5 when it collected no test; that is a broken run, never a pass.
pytest: setup
	@rc=0; $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests (exit 5): failing the run" >&2; fi; \
	exit $$rc

## test: the static checks, then every test
test: check pytest

## frontend: install the dashboard's exact dependencies and build it into frontend/dist
frontend:
	cd frontend && npm ci --no-audit --no-fund && npm run build

## dev: start the whole platform locally (see `funnel dev --help`); Ctrl-C stops it
# The API serves the dashboard from frontend/dist: built once here when it is missing (with
# Node installed; without it the API explains how to build it).
dev: setup
	@if [ ! -f frontend/dist/index.html ] && command -v npm >/dev/null; then $(MAKE) frontend; fi
	$(BIN)/funnel dev $(DEV_ARGS)
