# The two commands of the README: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
DEMO_DB := sqlite:///instance/demo.db

.PHONY: setup run test lint unit bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# A fresh demo database every time, so the seed cases always start from the same ledger.
run: setup
	rm -f instance/demo.db instance/demo.db-wal instance/demo.db-shm
	BPMN_REQUESTS_DATABASE_URL=$(DEMO_DB) $(BIN)/bpmn-requests init --demo
	BPMN_REQUESTS_DATABASE_URL=$(DEMO_DB) $(BIN)/bpmn-requests demo --open
	BPMN_REQUESTS_DATABASE_URL=$(DEMO_DB) $(BIN)/bpmn-requests serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

unit: setup
	$(BIN)/pytest tests/unit tests/engine $(PYTEST_ARGS)

bench: setup
	$(BIN)/python bench/lifecycle.py

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
