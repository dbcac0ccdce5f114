# Shafaf — two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: setup system-packages run serve test test-sqlite test-postgres lint messages demo bench clean

## setup: the virtual environment with pinned dependencies, the system packages the tests need, compiled translations
setup: $(VENV)/.installed system-packages locale/ar/LC_MESSAGES/django.mo

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## system-packages: Debian's chromium (end-to-end tests) and gettext (translations), installed when missing
system-packages:
	@bash scripts/install_system_packages.sh

locale/ar/LC_MESSAGES/django.mo: locale/ar/LC_MESSAGES/django.po $(VENV)/.installed
	$(PY) manage.py compilemessages --ignore=.venv -v0

messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l ar -l en --ignore=.venv --ignore=var --no-obsolete --add-location=file
	$(PY) manage.py compilemessages --ignore=.venv -v0

## run: migrate, load the demo data into an empty database, serve the platform and its worker
run: setup
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py seed_demo --if-empty
	PORT=$(PORT) bash scripts/serve.sh

## test: lint, Django's checks, and the whole suite on SQLite, then on PostgreSQL where its binaries are installed
test: setup lint test-sqlite test-postgres

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run -v1
	$(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

test-sqlite: setup
	$(VENV)/bin/pytest -q

test-postgres: setup
	@if bash scripts/with_postgres.sh --available; then \
		bash scripts/with_postgres.sh $(VENV)/bin/pytest -q; \
	else \
		echo "PostgreSQL binaries not found: the suite ran on SQLite only."; \
	fi

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
