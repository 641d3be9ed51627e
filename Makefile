VENV := .venv
PYTHON := $(VENV)/bin/python

STAGE ?= dev
STACK ?= nps-$(STAGE)
AWS_REGION ?= $(or $(AWS_DEFAULT_REGION),us-east-1)
# S3 bucket that `aws cloudformation package` uploads dist/deployment.zip to (deploy only).
CODE_BUCKET ?=

.DEFAULT_GOAL := test
.PHONY: run test bench package deploy destroy

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet 'pip<26.3'
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed

test: $(VENV)/.installed

bench: $(VENV)/.installed

# dist/sam.json + dist/deployment.zip for $(STAGE), trimmed and precompiled, linted with cfn-lint (see infra/).
package: $(VENV)/.installed
	$(PYTHON) infra/package.py package --stage $(STAGE) --out dist

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
