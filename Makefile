# Medborgarlöfte portal. `make help` lists the targets.
SHELL := /bin/sh
PYTHON := $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2
HOST ?= 127.0.0.1
PORT ?= 8000
# Development settings for `make run`; production sets its own environment.
DEV_ENV := DEBUG=true PORTAL_DEVELOPMENT=true PORTAL_REQUIRE_2FA=false
MANAGE := $(BIN)/python manage.py
# What needs a database runs under scripts/embedded-postgres: with
# DATABASE_URL set, on that server; without it, on the project's own
# PostgreSQL in var/postgres, started for the command (its data kept) and
# stopped when the last such command ends.
WITH_DB := scripts/embedded-postgres run --

.PHONY: help install run serve stop migrate demo test test-fast lint format messages bench loadtest backup restore lock clean browsers

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.lock requirements-dev.lock
	@test -n "$(PYTHON)" || exit 1
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(BIN)/.installed ## Create .venv and install the pinned dependencies

var:
	mkdir -p var

migrate: install var ## Apply database migrations
	$(DEV_ENV) $(WITH_DB) $(MANAGE) migrate --noinput

demo: install var ## Migrate and load (or refresh) the demo data
	$(DEV_ENV) $(WITH_DB) sh -c '$(MANAGE) migrate --noinput && $(MANAGE) load_demo'

# One database session for all four steps: the server starts once and stops
# when runserver ends (Ctrl-C).
run: install var ## Install, migrate, load the demo data and serve on http://127.0.0.1:8000
	$(DEV_ENV) $(WITH_DB) sh -c '$(MANAGE) migrate --noinput && $(MANAGE) load_demo \
		&& $(MANAGE) demo_info --url http://$(HOST):$(PORT) && exec $(MANAGE) runserver $(HOST):$(PORT)'

stop: ## Stop the project's own PostgreSQL (var/postgres) if it still runs
	@scripts/embedded-postgres stop

browsers: ## Install Debian's Chromium for the browser tests (needs root and apt)
	@scripts/ensure-chromium

test: install browsers var ## Run the whole test suite (browser tests included)
	$(WITH_DB) $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install ## ruff check, ruff format --check, the import layers, makemigrations --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	PORTAL_DEVELOPMENT=true $(WITH_DB) $(MANAGE) makemigrations --check --dry-run

format: install ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

messages: install ## Update and compile the translation catalogues (needs gettext)
	PORTAL_DEVELOPMENT=true $(BIN)/python manage.py makemessages -l sv -l en --no-obsolete --no-wrap --no-location -i pledges -i surveys -i followup -i .venv -i var -i tests -i bench
	for dir in pledges surveys followup; do mkdir -p $$dir/locale; (cd $$dir && PORTAL_DEVELOPMENT=true ../$(BIN)/python ../manage.py makemessages -l sv -l en --no-obsolete --no-wrap --no-location); done
	PORTAL_DEVELOPMENT=true $(BIN)/python manage.py compilemessages --ignore=.venv

backup: ## Back up the PostgreSQL database (DATABASE_URL) to var/backups/<time>.dump
	@scripts/backup

restore: ## Restore a backup into DATABASE_URL: make restore FILE=var/backups/....dump
	@scripts/restore "$(FILE)"

lock: ## Regenerate requirements.lock and requirements-dev.lock from pyproject.toml
	scripts/lock

clean: ## Stop the project's PostgreSQL, remove .venv and var/
	-test ! -x $(BIN)/python || scripts/embedded-postgres stop
	rm -rf $(VENV) var

bench: install ## Benchmark against this machine's ceilings (PostgreSQL; writes docs/bench-results.md)
	$(BIN)/python bench/run.py

loadtest: install ## nginx + two app servers through their faults under 20 000 submissions (writes docs/loadtest-results.md)
	$(BIN)/python bench/loadtest.py
