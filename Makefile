# Every target bootstraps its own environment: uv (installed with pip when missing) and the
# committed uv.lock. Nothing else needs installing by hand.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --frozen
# The demo needs the runtime only: no test or lint tools.
DEMO_RUN := $(UV) run --frozen --no-dev
DEMO_DIR ?= data/demo
DEMO_START ?= 2026-03-02
DEMO_NIGHTS ?= 7
DEMO_HOUSEHOLDS ?= 2000
DEMO_END = $(shell date -u -d "$(DEMO_START) + $(DEMO_NIGHTS) days - 1 day" +%F)
DEMO_ENV = REWATCH_EXPORTS_DIR=$(DEMO_DIR)/exports REWATCH_WAREHOUSE_DIR=$(DEMO_DIR)/warehouse

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := False
export SCARF_ANALYTICS := false

.PHONY: help env postgres chromium demo test lint format clean

help:
	@echo "make demo   generate $(DEMO_NIGHTS) sample nights, run them through Airflow, print a summary"
	@echo "make test   run the whole test suite"
	@echo "make lint   ruff + sqlfluff"

BOOTSTRAP_UV = command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

# Everything, dev tools included (tests, lint).
.venv/.synced: pyproject.toml uv.lock
	@$(BOOTSTRAP_UV)
	@echo "installing the locked environment (uv.lock), dev tools included"
	@$(UV) sync --frozen --compile-bytecode --quiet
	@touch $@ .venv/.synced-runtime

# The runtime only; an environment that already has the dev tools keeps them (--inexact).
# Not compiled up front (20 s for its 9,900 modules here): `make demo` lets Python write the
# bytecode of the modules it imports, about a third of them, as it first imports them.
.venv/.synced-runtime: pyproject.toml uv.lock
	@$(BOOTSTRAP_UV)
	@echo "installing the locked runtime (uv.lock)"
	@$(UV) sync --frozen --no-dev --inexact --quiet
	@touch $@

env: .venv/.synced

# Bytecode written as modules are first imported (an empty value is unset for Python), so that
# only the first process to import a module compiles it, even where the environment sets
# PYTHONDONTWRITEBYTECODE.
demo: export PYTHONDONTWRITEBYTECODE =
demo: .venv/.synced-runtime
	@rm -rf $(DEMO_DIR)
	@echo "generating $(DEMO_NIGHTS) nights of exports for $(DEMO_HOUSEHOLDS) households in $(DEMO_DIR)/exports"
	@$(DEMO_RUN) rewatch generate --out $(DEMO_DIR)/exports --truth $(DEMO_DIR)/ground_truth \
		--start $(DEMO_START) --nights $(DEMO_NIGHTS) --households $(DEMO_HOUSEHOLDS) --seed 42
	@echo "running nights $(DEMO_START) .. $(DEMO_END) through Airflow: rewatch run --from $(DEMO_START) --to $(DEMO_END)"
	@$(DEMO_ENV) $(DEMO_RUN) rewatch run --from $(DEMO_START) --to $(DEMO_END)
	@$(DEMO_ENV) $(DEMO_RUN) rewatch summary

# The real-Airflow test runs PostgreSQL from Debian's packages: install it when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
		echo "installing PostgreSQL (Debian packages) for the real-Airflow test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }

# The morning page's test opens it in a real browser: Debian's Chromium, installed when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Chromium (Debian packages) for the morning page's browser test"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium; }

# Two workers (the machine's two cores), one test file per worker: a file's module fixtures
# (a warehouse it builds once) stay on one worker.
test: env postgres chromium
	$(RUN) pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder --durations=15

lint: env
	$(RUN) ruff check src dags tests bench
	$(RUN) ruff format --check src dags tests bench
	$(RUN) sqlfluff lint dbt_project/models

format: env
	$(RUN) ruff format src dags tests bench
	$(RUN) ruff check --fix src dags tests bench

clean:
	rm -rf data .airflow dbt_project/target dbt_project/logs .pytest_cache
