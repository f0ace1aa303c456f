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

.PHONY: all venv collection test unit e2e sanity lint demo bench soak build changelog clean

all: test

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

# Real Dovecot and Postfix for the XOAUTH2 tests (Debian packages, installed only when missing; needs root).
mailservers:
	tests/mailservers/install.sh

# Every test: unit, sandbox, end-to-end playbooks, ansible-test sanity and ansible-lint (those two run as pytest cases).
test: venv collection $(if $(filter 0,$(shell id -u)),mailservers)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

unit: venv collection
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

e2e: venv collection
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

sanity: venv collection
	$(BIN)/python -m pytest tests/e2e/test_quality.py -k sanity $(PYTEST_ARGS)

lint: venv collection
	$(BIN)/python -m pytest tests/e2e/test_quality.py -k lint $(PYTEST_ARGS)

# The Entra ID part of the main job, against the sandbox tenant.
demo: venv collection
	$(BIN)/python tests/tools/demo.py

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist

clean:
	rm -rf .build tests/output $(SANITY_ROOT)
