# Machi+ — the two commands a new developer needs are `make run` and `make test`.
# Everything else here is what they are made of.

VENV       ?= .venv
PY         := $(VENV)/bin/python
PORT       ?= 8000
BIN        := $(abspath $(VENV))/bin
# Two stamps: `make run` needs the runtime dependencies only; the dev tools (pytest, mypy, ruff,
# djLint, Playwright…) are several hundred megabytes more and come with `make test`.
RUNTIME    := $(VENV)/.installed-runtime
DEV        := $(VENV)/.installed-dev

.DEFAULT_GOAL := help
.PHONY: help install install-dev run simulate demo web worker test lint typecheck pytest check-deploy lock messages vendor clean

help:  ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# requirements.lock pins runtime and dev dependencies alike; as a constraints file (-c) it
# pins whichever of them an install asks for, and installs nothing else.
# --no-compile: byte-compiling every module of every package (scipy, scikit-learn…) took most of
# the install's time; Python compiles the modules a process imports when it first imports them.
PIP_INSTALL := $(PY) -m pip install --quiet --no-compile -c requirements.lock

$(RUNTIME): pyproject.toml requirements.lock
	@test -x $(PY) || { python=$$(scripts/find_python.sh) && echo "Creating $(VENV) with $$python" && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e .
	@mkdir -p var
	@touch $@

$(DEV): $(RUNTIME)
	$(PIP_INSTALL) -e ".[dev]"
	@touch $@

install: $(RUNTIME)  ## Create .venv and install the locked runtime dependencies

install-dev: $(DEV)  ## Also install the locked dev tools (tests, linters, type checker)

# Links in emails and receipts are built from SITE_URL, so it follows the port the site runs on.
run: export DEBUG ?= 1
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: install  ## Run the site on http://127.0.0.1:$(PORT) with its worker, beat and an embedded Redis
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Starting Machi+ on http://127.0.0.1:$(PORT)/ with SITE_URL=$(SITE_URL)  (Ctrl-C stops everything)"
	PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)

simulate: export DEBUG ?= 1
simulate: install  ## With `make run` going, drive 20 simulated plows on /snow/ (VEHICLES=250 for a city)
	$(PY) manage.py simulate_plows --vehicles $${VEHICLES:-20} --interval 20 --url http://127.0.0.1:$(PORT)

test: install-dev lint typecheck pytest  ## Lint, type-check and run every test (unit, worker, browser)

lint: install-dev  ## ruff (lint + format check) and djLint on templates
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint

typecheck: install-dev  ## mypy with django-stubs
	DEBUG=1 $(BIN)/mypy .

pytest: install-dev  ## Only the pytest suite
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
