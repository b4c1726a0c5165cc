# Targets a newcomer can guess. Everything runs from .venv, created on first use.
.PHONY: help venv run test lint format bench soak messages migrate seed clean

PY := .venv/bin/python

help:
	@echo "make run       start the demo on http://127.0.0.1:8000 (SQLite, eager Celery, demo data)"
	@echo "make test      lint, migration check, full suite on PostgreSQL + Redis, fast suite on SQLite"
	@echo "make lint      ruff check, the import layers (lint-imports) and makemigrations --check"
	@echo "make format    ruff format and import sorting"
	@echo "make bench     performance benchmarks (bench/run)"
	@echo "make soak      long-running reliability test (.ci/soak.sh)"
	@echo "make messages  extract and compile the zh_Hans translation catalogue"

venv:
	@bash .ci/venv.sh

run:
	@bash .ci/serve.sh

test:
	@bash .ci/test.sh

lint: venv
	.venv/bin/ruff check .
	.venv/bin/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py makemigrations --check --dry-run

format: venv
	.venv/bin/ruff check --select I --fix .
	.venv/bin/ruff format .

migrate: venv
	DEBUG=1 $(PY) manage.py migrate

seed: venv
	DEBUG=1 $(PY) manage.py seed_demo

bench: venv
	@if [ -x bench/run ]; then bench/run; else echo "bench/run is not there yet"; fi

soak: venv
	@if [ -f .ci/soak.sh ]; then bash .ci/soak.sh; else echo ".ci/soak.sh is not there yet"; fi

messages: venv
	@command -v msgfmt >/dev/null || (apt-get update -qq && apt-get install -y -qq gettext)
	DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	DEBUG=1 $(PY) manage.py makemessages -d djangojs -l zh_Hans --ignore=.venv --ignore=staticfiles --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf .ruff_cache staticfiles
