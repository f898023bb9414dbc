# Two commands (see README):  make demo  |  make test
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-drain install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,st]'
	touch $(STAMP)

install: $(STAMP)

## make demo: set up, then crawl the local demo sites, classify, fill the review queue (SQLite: ./wildwatch.db)
demo: $(STAMP)
	$(BIN)/wildwatch demo $(DEMO_ARGS)

## make test: set up, then run the whole test suite (SQLite and the PostgreSQL server on 127.0.0.1:5432)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make test-drain: the review-queue concurrency test at full size (10,000 items; several minutes)
test-drain: $(STAMP)
	WILDWATCH_DRAIN_ITEMS=10000 $(BIN)/python -m pytest -q tests/pipeline/test_concurrency.py

lint: $(STAMP)
	$(BIN)/ruff check crawlers classifier pipeline demo tests bench

bench: $(STAMP)
	$(BIN)/python bench/crawl.py

clean:
	rm -rf $(VENV) wildwatch.db wildwatch.db-wal wildwatch.db-shm .pytest_cache
