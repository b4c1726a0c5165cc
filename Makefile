# Targets a newcomer can guess. Everything runs from .venv, created on first use.
.PHONY: help venv run test lint format bench soak messages migrate seed clean mutation

PY := .venv/bin/python

help:
	@echo "make run       start the demo on http://127.0.0.1:8000 (SQLite, eager Celery, demo data)"
	@echo "make test      lint, migration check, full suite on PostgreSQL + Redis, fast suite on SQLite"
	@echo "make lint      ruff check, the import layers (lint-imports) and makemigrations --check"
	@echo "make format    ruff format and import sorting"
	@echo "make bench     performance benchmarks (bench/run)"
	@echo "make soak      long-running reliability test (.ci/soak.sh)"
	@echo "make messages  extract and compile the zh_Hans translation catalogue"
	@echo "make mutation  mutation testing of the pure modules (mutmut, a few minutes; not part of make test)"

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

# Modules and tests come from setup.cfg [mutmut]. Prints killed/total per module and fails when a
# module falls below 90% or a mutant survives that docs/testing.md does not list with its reason.
mutation: venv
	@test -x .venv/bin/mutmut || .venv/bin/python -m pip install --quiet --disable-pip-version-check mutmut==3.8.1
	@rm -rf mutants && mkdir mutants
	@echo "mutmut: mutating the modules in setup.cfg [mutmut] (a few minutes; progress in mutants/run.log)"
	@env -u DATABASE_URL .venv/bin/mutmut run > mutants/run.log 2>&1 || { tr '\r' '\n' < mutants/run.log | tail -20; exit 1; }
	@.venv/bin/mutmut results --all true > mutants/results.txt
	@awk -F': ' ' \
	    FNR == NR { line = $$0; while (match(line, /[a-z_]+\.[a-z_]+\.x[^ `:|]*__mutmut_[0-9]+/)) { \
	        listed[substr(line, RSTART, RLENGTH)] = 1; line = substr(line, RSTART + RLENGTH) }; next } \
	    { name = $$1; sub(/^ +/, "", name); split(name, part, "."); module = part[1] "." part[2]; total[module]++ } \
	    $$2 == "killed" { killed[module]++; next } \
	    !(name in listed) { print "survived, not listed in docs/testing.md: " name " (" $$2 ")"; failed = 1 } \
	    END { for (module in total) { score = 100 * killed[module] / total[module]; \
	        printf "%s: %d/%d mutants killed (%.1f%%)\n", module, killed[module], total[module], score; \
	        if (score < 90) failed = 1 }; exit failed }' docs/testing.md mutants/results.txt

clean:
	rm -rf .ruff_cache staticfiles
