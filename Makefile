# Every target works on a fresh machine: it makes .venv and installs what it needs.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest browser postgres docs screenshots bench clean

$(STAMP): pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make demo: the example apps on http://127.0.0.1:5000
demo: $(STAMP)
	$(PYTHON) -m examples.demo

## make test: ruff, mypy --strict, the docs, and every test (browser and PostgreSQL tests included)
test: $(STAMP) browser postgres lint typecheck docs pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks docs

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src

pytest: $(STAMP)
	$(VENV)/bin/pytest

# Real-browser tests use Debian's Chromium (Playwright cannot download one here).
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing and cannot be installed here: browser tests will skip"; \
	fi

# The reports store is tested on a real PostgreSQL too: the tests start a
# throwaway cluster with Debian's binaries (/usr/lib/postgresql/*/bin).
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "postgresql is missing and cannot be installed here: PostgreSQL tests will skip"; \
	fi

## make docs: the documentation site in docs/_build/html; every warning is an
## error and every cross-reference must resolve (-W -n). -E rebuilds every page,
## so that tables generated from the code are never stale.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -E -W --keep-going -n -q -b html docs docs/_build/html
	@echo "docs: file://$(CURDIR)/docs/_build/html/index.html"

## make screenshots: regenerate the PNGs in docs/_static (Debian's Chromium)
screenshots: $(STAMP) browser
	$(PYTHON) docs/screenshots.py

## make bench: overhead per request, side by side with bare Flask and peers
bench: $(STAMP)
	$(PYTHON) benchmarks/overhead.py
	@if command -v valgrind >/dev/null 2>&1; then $(PYTHON) benchmarks/instructions.py; \
	else echo "valgrind not installed: skipping instructions per request"; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis docs/_build
