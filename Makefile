# The README's two commands (`make run`, `make test`) and a few more.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Rebuilt whenever requirements.txt changes.
INSTALLED := $(VENV)/.installed

.PHONY: run test

$(INSTALLED): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

## The whole platform on this machine: embedded Redis, SQLite, web, workers, beat, Flower.
run: $(INSTALLED)
	$(PY) -m lepton.run

## The whole test suite (starts its own Redis and workers unless told otherwise).
test: $(INSTALLED)
	$(PY) -m pytest
