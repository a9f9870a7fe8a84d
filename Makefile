# Saidao: `make demo` serves the demo, `make test` runs every check and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo test install lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	PORT=$(PORT) $(BIN)/saidao demo

test: install
	bash scripts/test.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

messages: install
	cd saidao && ../$(BIN)/saidao makemessages -l en --no-obsolete && ../$(BIN)/saidao compilemessages -l en

clean:
	rm -rf $(VENV) var
