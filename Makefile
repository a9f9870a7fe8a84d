# Saidao: `make demo` serves the demo, `make test` runs every check and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: demo fonts test install lint messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install fonts
	PORT=$(PORT) $(BIN)/saidao demo

# Certificates draw Chinese with Noto CJK (Debian's fonts-noto-cjk); installed when missing and
# we may (root with apt-get), else a hint: the rest of the demo runs without it.
fonts:
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || fc-list 2>/dev/null | grep -q "CJK SC" || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends fonts-noto-cjk >/dev/null; \
	  else echo "certificates need a CJK font: sudo apt-get install fonts-noto-cjk"; fi

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
