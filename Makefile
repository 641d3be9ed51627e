VENV := .venv
PYTHON := $(VENV)/bin/python
# checkov has its own venv: its many pinned dependencies must not move the app's.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
CHECKOV := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

STAGE ?= dev
STACK ?= nps-$(STAGE)
AWS_REGION ?= $(or $(AWS_DEFAULT_REGION),us-east-1)
# S3 bucket that `aws cloudformation package` uploads dist/deployment.zip to (deploy only).
CODE_BUCKET ?=

.DEFAULT_GOAL := test
.PHONY: run test bench package deploy destroy import

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'pip<26.3'
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

$(CHECKOV):
	test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet 'pip<26.3'
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# The local stack: moto in-process, tables from infra/, the app on 127.0.0.1:$(PORT), stream poller, scheduler.
# `exec`: the stack replaces the recipe's shell, so the SIGTERM that make passes on to its child reaches the
# stack itself. NPS_ALLOW_DEV_KEYS: the local stack may sign links with the built-in development key.
PORT ?= 8000
NPS_DEMO ?= 1
run: $(VENV)/.installed
	PORT=$(PORT) NPS_DEMO=$(NPS_DEMO) NPS_ALLOW_DEV_KEYS=1 exec $(PYTHON) -m nps_local.stack

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium

# Everything: the pre-commit checks (ruff check, ruff format, mypy; .pre-commit-config.yaml), unit, functional
# on moto, packaging + cfn-lint + checkov, end to end over HTTP, the browser tests. tests/infra/test_checkov.py finds checkov in $(CHECKOV_VENV).
test: $(VENV)/.installed $(CHECKOV) $(CHROMIUM)
	PRE_COMMIT_HOME=$(VENV)/pre-commit $(VENV)/bin/pre-commit run --all-files --show-diff-on-failure
	$(PYTHON) -m pytest -n 2 --dist loadfile

# The benchmarks run the app outside Lambda with the development link key.
bench: export NPS_ALLOW_DEV_KEYS := 1
bench: package
	cd bench && ../$(PYTHON) bench_capture.py
	cd bench && ../$(PYTHON) bench_stream.py
	cd bench && ../$(PYTHON) bench_monthly.py
	cd bench && ../$(PYTHON) bench_sending.py
	cd bench && ../$(PYTHON) bench_waves.py
	$(PYTHON) bench/bench_package.py

# Import a file through the API in pages: NPS_ADMIN_TOKEN=... make import KIND=accounts FILE=accounts.csv [URL=...]
# The token travels in the environment (NPS_ADMIN_TOKEN, read by the CLI), never in a command line that make
# echoes or `ps` shows. TOKEN=... still works: it is exported, not spelled out in the recipe.
KIND ?= responses
URL ?= http://127.0.0.1:$(PORT)
import: export NPS_ADMIN_TOKEN := $(or $(TOKEN),$(NPS_ADMIN_TOKEN))
import: $(VENV)/.installed
	@test -n "$(FILE)" || { echo "make import needs FILE=<path> (and KIND=accounts|responses)" >&2; exit 2; }
	$(PYTHON) -m nps_cli import $(KIND) $(FILE) --url $(URL)

# dist/sam.json + dist/deployment.zip for $(STAGE), trimmed and precompiled, linted with cfn-lint and checked
# with checkov (see infra/).
package: $(VENV)/.installed $(CHECKOV)
	$(PYTHON) infra/package.py package --stage $(STAGE) --out dist --checkov $(CHECKOV_VENV)/bin/checkov

# Package for $(STAGE), upload the code, deploy stack $(STACK). Stack parameters come from the environment:
# PUBLIC_BASE_URL, LINK_SIGNING_KEYS, LINK_SIGNING_KEY_ID, ALARM_EMAIL, TASKS_OVERDUE_THRESHOLD,
# API_5XX_RATE_THRESHOLD, LOG_RETENTION_DAYS (unset: the deployed stack's value; see infra/README.md).
deploy: package
	@test -n "$(CODE_BUCKET)" || { echo "make deploy needs CODE_BUCKET=<an S3 bucket for the code>" >&2; exit 2; }
	$(PYTHON) infra/package.py deploy --stage $(STAGE) --stack $(STACK) --bucket $(CODE_BUCKET) \
		--region $(AWS_REGION) --out dist

# Delete stack $(STACK). The tables are kept (DeletionPolicy: Retain); infra/README.md says how to drop them.
destroy:
	aws cloudformation delete-stack --stack-name $(STACK) --region $(AWS_REGION)
	aws cloudformation wait stack-delete-complete --stack-name $(STACK) --region $(AWS_REGION)
