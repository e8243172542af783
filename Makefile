# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test clean bench chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[sandbox]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/opsgate demo

test: install-test chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

chromium:  # the browser tests drive Debian's chromium (no test tool downloads a browser)
	@sh scripts/ensure-chromium.sh

bench: install-test
	$(BIN)/python bench/audit.py

clean:
	rm -rf $(VENV) .opsgate .opsgate-demo test-artifacts
