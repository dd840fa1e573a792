# Two commands for a fresh machine:  make demo   and   make test
# Everything is installed from this repository's pyproject.toml and uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# Use this machine's Python; never download one.
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo test lint fmt clean

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python "$$(command -v $(PYTHON))"
	touch $@

## Run the main job end to end on the embedded DuckDB warehouse.
demo: setup
	$(BIN)/cdp demo

## Lint (ruff, sqlfluff) and run every test.
test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/sqlfluff lint models --processes 2

fmt: setup
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf target logs data warehouse/*.duckdb* .pytest_cache
