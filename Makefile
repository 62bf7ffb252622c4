# Every command a user types. Each target is a one-liner into Python or a tool;
# `setup` runs first and is a no-op when nothing changed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.setup-done
PYTEST := $(PY) -m pytest
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export NODE_NO_WARNINGS := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

LAMBDA_COV := --cov=orders_lib.domain --cov=orders_lib.aws --cov=orders_lib.pipeline --cov=orders_lib.settings

.PHONY: help setup lock demo test test-unit test-coverage test-verbose lint format clean

help: ## list the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

# uv installs the lock (the same pins pip would install, in a fraction of the time); pip only
# brings uv itself.
UV_VERSION := 0.13.9
UV_INSTALL := $(BIN)/uv pip install --quiet --python $(PY)

$(STAMP): pyproject.toml requirements.lock package.json package-lock.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.12")'
	@command -v npm >/dev/null || { echo "npm (Node.js 20+) is needed for the AWS CDK command line"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV_INSTALL) -r requirements.lock
	$(UV_INSTALL) --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium, for the browser test only (make demo and make lab do not need it).
$(VENV)/.chromium: | $(STAMP)
	@command -v chromium >/dev/null || { echo "Installing Debian's chromium for the browser test"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends chromium; } \
		|| { echo "Could not install chromium: run 'sudo apt-get install chromium' (the browser test needs it)"; exit 1; }
	@touch $@

setup: $(STAMP) ## create .venv, install Python and npm packages (fast when nothing changed)

# requirements.lock pins every Python package (universal: Linux, macOS, Windows, Python 3.11+),
# made by uv from pyproject.toml, keeping the versions installed here where they still fit
# (UPGRADE=1 takes the newest). soupsieve is left free: its newest release needs Python 3.11.5,
# and Debian 12 ships 3.11.2, so the lock carries one version for each.
lock: setup ## refresh requirements.lock from pyproject.toml (UPGRADE=1 for the newest versions)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(PY) -m pip freeze --exclude-editable | grep -v -e '^uv==' -e '^soupsieve==' > $(VENV)/lock-constraints.txt
	$(BIN)/uv pip compile pyproject.toml --all-extras --universal --python-version 3.11 --quiet \
		$(if $(UPGRADE),,--constraint $(VENV)/lock-constraints.txt) --custom-compile-command 'make lock' -o requirements.lock

demo: setup ## sandbox + every notebook end to end; reports/ holds the results (KEEP=1 leaves the sandbox up)
	@$(ORDERS) demo $(if $(KEEP),--keep)

# make test runs its stages in three lanes at once, of about equal length on a fresh clone: the
# static checks and unit tests (CPU-bound); the sandbox and reliability tests; the notebooks,
# nbval, the browser test, then the template's checks (cdk, security). The two last lanes mostly
# wait on their sandboxes, workers and kernels. Each lane's output is printed whole when it
# ends; each stage is timed (orders_lib/bench/stages.py) and the run ends with the table of stages.
STAGE := $(PY) -m orders_lib.bench.stages run
TEST_LANES := test-lane-checks test-lane-sandbox test-lane-workbook
.PHONY: $(TEST_LANES)
test: setup $(VENV)/.chromium ## everything CI runs, in three lanes at once, then each stage's time
	@$(PY) -m orders_lib.bench.stages start
	@$(MAKE) --no-print-directory -j3 --output-sync=target $(TEST_LANES) || { $(PY) -m orders_lib.bench.stages report; exit 1; }
	@$(PY) -m orders_lib.bench.stages report

test-lane-checks:
	@$(STAGE) lint -- $(MAKE) --no-print-directory lint
	@$(STAGE) unit -- $(PYTEST) tests/unit $(LAMBDA_COV) --cov-report=term --cov-fail-under=90 -q

test-lane-sandbox:
	@$(STAGE) sandbox -- $(PYTEST) tests/sandbox tests/integration -q
	@$(STAGE) reliability -- $(PYTEST) tests/reliability -q

# nbval compares the outputs of the papermill run (--nbval-replay) instead of executing the
# notebooks a second time; make test-nbval still runs them in live kernels of its own.
test-lane-workbook:
	@$(STAGE) notebooks -- $(PYTEST) tests/notebooks -q
	@$(STAGE) nbval -- $(NBVAL) --nbval-replay build/notebooks-executed
	@$(STAGE) browser -- $(PYTEST) tests/browser -q
	@$(STAGE) cdk -- $(PYTEST) tests/cdk -q
	@$(STAGE) security -- $(PY) -m orders_lib.bench.security

# The same checks as .pre-commit-config.yaml and the pull-request workflow; configured in
# pyproject.toml. mypy's first run takes about a minute and a half (the CDK's types), then
# about a second from its cache.
lint: setup ## static checks: ruff (lint, format) and mypy on orders_lib, lambdas and cdk
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup ## apply ruff's fixes and formatting (then review the diff)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-unit: setup ## unit tests (moto in-process, no network)
	$(PYTEST) tests/unit -q

test-coverage: setup ## unit tests with line coverage of the Lambda-side package (>= 90%)
	$(PYTEST) tests/unit $(LAMBDA_COV) --cov-report=term-missing --cov-report=html:reports/coverage --cov-fail-under=90 -q

test-verbose: setup ## unit tests, every test named, output shown
	$(PYTEST) tests/unit -vv -s

# --- AWS: synth, deploy, operate ---
# STAGE=dev names the stack techtest-orders-dev (every resource suffixed), so
# several stacks can coexist. AWS targets check credentials first and stop with
# what to configure. CDK_APPROVAL=never for unattended deploys (CI).
# Stage stacks default to removal policy DESTROY; REMOVAL=retain keeps data (prod).
STAGE ?=
REMOVAL ?=
CDK_APPROVAL ?= broadening
CDK := cd cdk && PATH="$(CURDIR)/$(BIN):$$PATH" ../node_modules/.bin/cdk
# Each stage synthesizes into a folder of its own: the CDK CLI locks its output folder, so two
# stages deployed at once (make test's lanes, or a person and CI) would otherwise refuse each other.
CDK_CONTEXT := $(if $(STAGE),-c stage=$(STAGE) --output ../cdk.out-$(STAGE)) $(if $(REMOVAL),-c removal=$(REMOVAL))
AWS_CHECK := $(PY) -m orders_lib.deploy.credentials
# The same `orders` commands as on the sandbox, pointed at AWS and the stage's stack.
ON_AWS := $(BIN)/orders --target aws $(if $(STAGE),--stack techtest-orders-$(STAGE))

.PHONY: synth bootstrap deploy destroy invoke-create logs-create logs-process check-dlq trace alarms metrics capacity test-cdk lint-template

synth: setup ## synthesize the stack into cdk.out (cdk-nag on), print its resources
	$(PY) -m orders_lib.deploy.synth $(if $(STAGE),--stage $(STAGE)) $(if $(REMOVAL),--removal $(REMOVAL))

# Given the account and region, cdk bootstrap needs nothing from the app (it sets no qualifier),
# so it runs outside cdk/: in the app's folder the CLI synthesizes the app first (~15 s).
bootstrap: setup ## cdk bootstrap the account and region of your credentials (once; the sandbox comes bootstrapped)
	@environment=$$($(AWS_CHECK) --environment) && PATH="$(CURDIR)/$(BIN):$$PATH" node_modules/.bin/cdk bootstrap $$environment

deploy: setup ## deploy the stack to AWS with your credentials (STAGE=dev for a separate stack)
	@$(AWS_CHECK) && $(CDK) deploy $(CDK_CONTEXT) --require-approval $(CDK_APPROVAL) --outputs-file ../cdk.out/outputs$(if $(STAGE),-$(STAGE)).json

# destroy needs only the stack's name: it reads the assembly the last deploy synthesized, when
# there is one, instead of synthesizing the app again (~15 s).
CDK_OUT := $(if $(STAGE),cdk.out-$(STAGE),cdk.out)
destroy: setup ## delete the deployed stack (retained table, key, queue, logs stay unless STAGE is set)
	@$(AWS_CHECK) && $(CDK) destroy $(if $(wildcard $(CDK_OUT)/manifest.json),--app ../$(CDK_OUT),$(CDK_CONTEXT)) --force

invoke-create: setup ## invoke CreateOrder on AWS with examples/order.json
	@$(AWS_CHECK) && $(ON_AWS) create-order --file examples/order.json

logs-create: setup ## recent CreateOrder log events on AWS
	@$(AWS_CHECK) && $(ON_AWS) logs create

logs-process: setup ## recent ProcessOrder log events on AWS
	@$(AWS_CHECK) && $(ON_AWS) logs process

check-dlq: setup ## count (and peek at) failed batches in the DLQ on AWS
	@$(AWS_CHECK) && $(ON_AWS) dlq

trace: setup ## one order's journey on AWS, oldest first, with a verdict (ID=order id)
	@$(AWS_CHECK) && $(ON_AWS) trace $(or $(ID),$(error ID=order-id is needed))

alarms: setup ## the stack's alarms on AWS, worst first, with state and reason (exit 1 if one is in ALARM)
	@$(AWS_CHECK) && $(ON_AWS) alarms

MINUTES ?= 30
metrics: setup ## the dashboard's metrics on AWS, one row a minute (MINUTES=30)
	@$(AWS_CHECK) && $(ON_AWS) metrics --minutes $(MINUTES)

# A model, not a measurement: no credentials and no AWS call (orders_lib/planning/).
FACTOR ?= 1
BATCH ?= 10
capacity: setup ## does the pipeline keep up on AWS at RATE orders/s, and its cost (FACTOR=1 BATCH=10 FIGURES=reports/capacity.json; offline model)
	@$(ORDERS) capacity --rate $(or $(filter-out 0,$(RATE)),$(error RATE=orders/s is needed: make capacity RATE=2000)) --factor $(FACTOR) --batch-size $(BATCH) $(if $(FIGURES),--figures $(FIGURES))

test-cdk: setup ## CDK assertion tests, cdk-nag, cfn-lint, workflow lint (~30 s)
	$(PYTEST) tests/cdk -q

lint-template: synth ## cfn-lint the synthesized template (errors fail; warnings shown)
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/techtest-orders$(if $(STAGE),-$(STAGE)).template.json

# --- Local sandbox (no Docker): AWS APIs on 127.0.0.1:4566 ---
ORDERS := $(BIN)/orders
FUNCTION ?= process

.PHONY: sandbox-start sandbox-stop sandbox-clean sandbox-snapshot-save sandbox-snapshot-load sandbox-deploy sandbox-status sandbox-iam sandbox-create-order sandbox-load sandbox-view-orders \
	sandbox-watch-orders sandbox-watch-sns sandbox-dlq sandbox-trace sandbox-logs sandbox-alarms sandbox-metrics test-sandbox test-integration

sandbox-start: setup ## start the sandbox in the background, from its saved state (FRESH=1: empty, deploying the stack)
	@$(ORDERS) sandbox start $(if $(FRESH),--fresh)

sandbox-stop: setup ## stop the sandbox
	@$(ORDERS) sandbox stop

sandbox-clean: setup ## stop the sandbox and remove its state folder (.sandbox/): everything it kept
	@$(ORDERS) sandbox clean

sandbox-snapshot-save: setup ## export the sandbox's whole state to FILE (a snapshot taken now)
	@$(ORDERS) sandbox snapshot save $(or $(FILE),$(error FILE=path/to/state.snapshot is needed))

sandbox-snapshot-load: setup ## make FILE the sandbox's state and start from it (its own kept as .previous)
	@$(ORDERS) sandbox snapshot load $(or $(FILE),$(error FILE=path/to/state.snapshot is needed))

sandbox-deploy: setup ## deploy the current code into the running sandbox (a stack update: its data stays)
	@$(ORDERS) sandbox deploy

sandbox-status: setup ## is the sandbox running, where
	@$(ORDERS) sandbox status

sandbox-iam: setup ## the functions' roles on the sandbox: calls allowed, refused, and the last refusals
	@$(ORDERS) sandbox iam

sandbox-create-order: setup ## create an order through CreateOrder (prompts; or ITEM=SKU:NAME:QTY:PRICE)
	@$(ORDERS) create-order $(if $(ITEM),--item $(ITEM))

COUNT ?= 500
RATE ?= 0
CLIENTS ?= 50
sandbox-load: setup ## many generated orders from concurrent clients (COUNT=500 RATE=0 CLIENTS=50), throttles counted
	@$(ORDERS) create-bulk --count $(COUNT) --rate $(RATE) --clients $(CLIENTS)

sandbox-view-orders: setup ## the latest orders as a table
	@$(ORDERS) view-orders

sandbox-watch-orders: setup ## live view of the latest orders (Ctrl-C stops)
	@$(ORDERS) watch-orders

sandbox-watch-sns: setup ## print notifications as they arrive (Ctrl-C stops)
	@$(ORDERS) watch-sns

sandbox-dlq: setup ## decoded DLQ records and the orders they cover (REDRIVE=1 sends them through ProcessOrder again)
	@$(ORDERS) dlq $(if $(REDRIVE),--redrive)

sandbox-trace: setup ## one order's journey on the sandbox, oldest first, with a verdict (ID=order id)
	@$(ORDERS) trace $(or $(ID),$(error ID=order-id is needed))

sandbox-logs: setup ## function logs (FUNCTION=process|create)
	@$(ORDERS) logs $(FUNCTION)

sandbox-alarms: setup ## the stack's alarms on the sandbox, worst first, with state and reason
	@$(ORDERS) alarms

sandbox-metrics: setup ## the dashboard's metrics on the sandbox, one row a minute (MINUTES=30)
	@$(ORDERS) metrics --minutes $(MINUTES)

test-sandbox: setup ## the sandbox's own behaviour and the pipeline end to end on it
	$(PYTEST) tests/sandbox -q

test-integration: setup ## the deployed stack end to end: on a sandbox, or on AWS (STAGE=ci1 ORDERS_TARGET=aws)
	$(if $(STAGE),ORDERS_STACK=techtest-orders-$(STAGE)) $(PYTEST) tests/integration -q

# --- The workbook: JupyterLab, papermill, nbval ---
NBVAL := $(PYTEST) -p no:cacheprovider --nbval-lax --nbval-sanitize-with notebooks/sanitize.cfg notebooks/ -q
LAB_PORT ?= 8888

.PHONY: lab test-notebooks test-nbval test-browser notebooks-refresh

lab: setup ## JupyterLab on the notebooks (127.0.0.1), starting the sandbox if needed
	@$(ORDERS) sandbox start
	@$(ORDERS) lab --port $(LAB_PORT)

test-notebooks: setup ## every notebook run by papermill against a sandbox of its own
	$(PYTEST) tests/notebooks -q

test-browser: setup $(VENV)/.chromium ## JupyterLab in headless Chromium: fill the order form, click Create
	$(PYTEST) tests/browser -q

test-nbval: setup ## nbval: stored notebook outputs still match a fresh run (sanitized)
	$(NBVAL)

notebooks-refresh: setup ## re-run the notebooks in place on a fresh sandbox (after a change in behaviour)
	$(PY) -m orders_lib.workbook.refresh

clean: ## remove the virtualenv, node_modules and build output
	-$(BIN)/orders sandbox stop 2>/dev/null
	rm -rf $(VENV) node_modules cdk.out cdk.out-* build reports .sandbox .pytest_cache .hypothesis .coverage
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# --- Evidence: reliability, security, benchmark ---
# test-reliability: a fresh sandbox, 500 orders under faults, reconciled (~1.5 min).
# security: cdk-nag (in the synth), cfn-lint, checkov in build/checkov-venv (its pins
# clash with ours; installed once, ~1 min). bench: numbers and targets, reports/bench.json.
.PHONY: test-reliability security bench profile

test-reliability: setup ## reconciliation under faults (failed publishes, poison, a killed worker) + concurrent duplicates
	$(PYTEST) tests/reliability -q

security: setup ## cdk-nag, cfn-lint and checkov on the synthesized template; fails on unacknowledged findings
	$(PY) -m orders_lib.bench.security

bench: setup ## benchmark on a fresh sandbox: table on screen, reports/bench.json, OK/MISSED per target (~2 min)
	$(PY) -m orders_lib.bench

profile: setup ## where the sandbox's CPU goes under make bench's pipeline load (py-spy): shares by kind of work, reports/profile.json
	$(PY) -m orders_lib.bench.profile
