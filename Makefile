# The two commands of the README: `make site` (set up and build) and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: site test check serve bench clean

site: $(VENV)/.installed
	$(BIN)/ldn-site build

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(BIN)/pytest

check: $(VENV)/.installed
	$(BIN)/ldn-site check

serve: $(VENV)/.installed
	$(BIN)/ldn-site serve

bench: $(VENV)/.installed
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf _site .ldn-site-cache ._site.staging-* ._site.replaced-*
