# The two newcomer commands are `make run` and `make test`; see README.md.
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: venv services stop status setup run test lint format bench

venv:
	@bash scripts/venv.sh

services: venv
	@bash scripts/services.sh start

stop:
	@bash scripts/services.sh stop

status:
	@bash scripts/services.sh status

setup:
	@bash scripts/setup.sh

run: setup
	@bash scripts/run.sh

test: venv services
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	@bash scripts/system-deps.sh --with-browser
	@bash scripts/browser-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .
