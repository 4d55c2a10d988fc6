# Machi+ — the two commands a new developer needs are `make run` and `make test`.
# Everything else here is what they are made of.

VENV       ?= .venv
PY         := $(VENV)/bin/python
PORT       ?= 8000
BIN        := $(CURDIR)/$(VENV)/bin
INSTALLED  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run demo web worker test lint typecheck pytest check-deploy lock messages vendor clean

help:  ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(PY) || { python=$$(scripts/find_python.sh) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	@mkdir -p var
	@touch $@

install: $(INSTALLED)  ## Create .venv and install the locked dependencies

run: export DEBUG ?= 1
run: install  ## Run the site on http://127.0.0.1:$(PORT) with its worker, beat and an embedded Redis
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Starting Machi+ on http://127.0.0.1:$(PORT)/  (Ctrl-C stops everything)"
	PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

test: install lint typecheck pytest  ## Lint, type-check and run every test (unit, worker, browser)

lint: install  ## ruff (lint + format check) and djLint on templates
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint

typecheck: install  ## mypy with django-stubs
	DEBUG=1 $(BIN)/mypy .

pytest: install  ## Only the pytest suite
	$(BIN)/pytest $(PYTEST_ARGS)

lock:  ## Re-resolve dependencies from pyproject.toml into requirements.lock
	rm -rf var/lock-venv
	"$$(scripts/find_python.sh)" -m venv var/lock-venv
	var/lock-venv/bin/pip install --quiet -e ".[dev]"
	var/lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock
	rm -rf var/lock-venv

messages: install  ## Extract and compile translations (needs GNU gettext)
	DEBUG=1 $(PY) manage.py makemessages -l ja -l en --no-obsolete --ignore=.venv --ignore=var --ignore=node_modules
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=var

vendor:  ## Re-vendor front-end assets from the npm registry into static/vendor/
	scripts/vendor_assets.sh

clean:  ## Remove the virtualenv and local state (SQLite database, Redis socket)
	rm -rf $(VENV) var
