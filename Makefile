# Two commands for a fresh machine:  make demo   and   make test
# Everything is installed from this repository's pyproject.toml and uv.lock.

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# apt-get needs root: sudo when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Use this machine's Python; never download one.
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo ui test browser java lint portability fmt clean

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "uv==$(UV_VERSION)"

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on our machines), Python
# never caches bytecode, so every dbt process compiled dbt from source again: importing it
# took 5 to 7 s instead of 3 s, paid by each of the test suite's dbt runs and each build.
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --extra dev --extra spark --python "$$(command -v $(PYTHON))"
	touch $@

## Run the main job end to end on the embedded DuckDB warehouse.
demo: setup
	$(BIN)/cdp demo

## The Dagster UI (webserver and daemon) with the project loaded, on http://127.0.0.1:3000.
ui: setup
	$(BIN)/cdp ui

## Lint (ruff, sqlfluff), check SQL portability and run every test.
test: setup lint portability browser java
	$(BIN)/pytest

## Headless Chromium from Debian's packages, for the test that opens the Dagster UI.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium and chromium-driver for the browser test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

## Java 17+ for the local Spark of the Spark target's test (tests/test_targets.py).
java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || { \
		echo "installing Debian's openjdk-17-jre-headless for the Spark test"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

lint: setup
	$(BIN)/ruff check src tests orchestration
	$(BIN)/ruff format --check src tests orchestration
	$(BIN)/sqlfluff lint models --processes 2

## Compile the dbt project (no warehouse needed) and check its SQL carries over to DuckDB,
## Spark, Trino, Snowflake and BigQuery (about 20 s of CPU); README: "SQL portability gate".
portability: setup
	$(BIN)/cdp portability

fmt: setup
	$(BIN)/ruff check --fix src tests orchestration

clean:
	rm -rf target logs data warehouse/*.duckdb* .pytest_cache .dagster metastore_db spark-warehouse derby.log
