# igniter_nb — developer and CI entry points.
#   make demo    set up everything, then run the end-to-end demo
#   make test    set up everything, then lint, type-check and run the whole test suite
#   make bench   set up everything, then run every benchmark in bench/
#   make docs    set up everything, then build the documentation site into site/ (open site/index.html)
# Every target is idempotent: `setup` only does work when something is missing or pyproject.toml changed.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := .venv
VPY       := $(VENV)/bin/python
PYPROJECT := pyproject.toml
# Stamp named after the content of pyproject.toml: a changed pyproject means a new install.
HASH      := $(shell (sha256sum $(PYPROJECT) 2>/dev/null || shasum -a 256 $(PYPROJECT)) | cut -c1-16)
STAMP     := $(VENV)/.installed-$(HASH)
LINT_DIRS := $(wildcard igniter_nb tests bench examples)
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# mkdocs-material's banner about its successor, printed on every build
export NO_MKDOCS_2_WARNING := 1
ifeq ($(CI),true)
export PIP_PROGRESS_BAR := off
endif

define EDITABLE_CHECK
import importlib.util, os, sys
spec = importlib.util.find_spec("igniter_nb")
where = list(spec.submodule_search_locations or []) if spec else []
sys.exit(0 if any(os.path.realpath(p) == os.path.realpath(sys.argv[1]) for p in where) else 1)
endef
export EDITABLE_CHECK

.PHONY: help setup venv install system-deps test lint typecheck pytest demo bench docs wheel-smoke clean distclean

help:
	@echo "make demo       set up, then run examples/demo.py"
	@echo "make test       set up, then ruff + mypy + pytest (the whole suite; core suites also on 3.12/3.13)"
	@echo "make bench      set up, then run every bench/*.py"
	@echo "make docs       set up, then build the documentation site into site/ (strict; open site/index.html)"
	@echo "make wheel-smoke  build the sdist and wheel, install the wheel in a fresh venv and use it"
	@echo "make setup      create $(VENV), install '.[all,dev]' and system packages (idempotent)"
	@echo "make lint       ruff check"
	@echo "make typecheck  mypy igniter_nb and bench (configured in pyproject.toml)"
	@echo "make clean      remove caches and build output (keeps $(VENV)); 'make distclean' removes it too"

setup: system-deps install

system-deps:
	@bash scripts/system-deps.sh

# Create the venv with python3.11, or python3 when it is >= 3.11; recreate a broken one.
venv:
	@if [ -x "$(VPY)" ] && "$(VPY)" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	    exit 0; \
	fi; \
	if command -v python3.11 >/dev/null 2>&1; then py=python3.11; \
	elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then py=python3; \
	else echo "setup: need python3.11 (or a python3 >= 3.11) on PATH" >&2; exit 1; fi; \
	echo "setup: creating $(VENV) with $$py ($$($$py --version))"; \
	rm -rf "$(VENV)"; \
	"$$py" -m venv "$(VENV)"; \
	"$(VPY)" -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changed, or when the editable install does not resolve to this checkout
# (e.g. it was made while igniter_nb/ held no module yet, or the venv was copied from elsewhere).
install: venv
	@if [ -f "$(STAMP)" ] && "$(VPY)" -I -c "$$EDITABLE_CHECK" "$(CURDIR)/igniter_nb" 2>/dev/null; then \
	    echo "setup: $(VENV) is up to date with $(PYPROJECT) ($(HASH))"; \
	else \
	    echo "setup: installing -e '.[all,dev]' into $(VENV)"; \
	    "$(VPY)" -m pip install -e '.[all,dev]'; \
	    rm -f $(VENV)/.installed-*; \
	    touch "$(STAMP)"; \
	fi

lint: setup
	$(VENV)/bin/ruff check $(LINT_DIRS)

typecheck: setup
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy bench

# pytest's exit code 5 ("no tests collected") is non-zero, so make fails on it like on any other failure.
pytest: setup
	@rc=0; $(VPY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "test: pytest collected no tests — that is a failure" >&2; fi; \
	exit $$rc

# Runs all three checks even when one fails, so a CI log shows every problem; fails if any failed.
test: setup
	@failed=""; \
	echo "== ruff check $(LINT_DIRS)"; \
	$(VENV)/bin/ruff check $(LINT_DIRS) || failed="$$failed ruff"; \
	echo "== mypy"; \
	$(VENV)/bin/mypy || failed="$$failed mypy"; \
	echo "== mypy bench"; \
	$(VENV)/bin/mypy bench || failed="$$failed mypy-bench"; \
	echo "== pytest"; \
	rc=0; $(VPY) -m pytest -p no:cacheprovider $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "test: pytest collected no tests — that is a failure" >&2; fi; \
	if [ $$rc -ne 0 ]; then failed="$$failed pytest(exit $$rc)"; fi; \
	echo "== other Pythons (3.12, 3.13)"; \
	bash scripts/test-versions.sh || failed="$$failed python-versions"; \
	echo "== the built package (scripts/wheel-smoke.sh)"; \
	VPY="$(CURDIR)/$(VPY)" bash scripts/wheel-smoke.sh || failed="$$failed wheel-smoke"; \
	if [ -n "$$failed" ]; then echo "test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "test: ruff, mypy, pytest (3.11, plus the core suites on 3.12 and 3.13; the docs site built strictly) and the wheel smoke test all passed"

demo: setup
	@if [ ! -f examples/demo.py ]; then \
	    echo "demo: examples/demo.py does not exist yet — nothing to run" >&2; exit 1; \
	fi
	$(VPY) examples/demo.py

# Every bench/*.py except helper modules whose name starts with "_"; all run, failures are reported at the end.
bench: setup
	@shopt -s nullglob; files=(); \
	for f in bench/*.py; do case "$$(basename "$$f")" in _*) ;; *) files+=("$$f");; esac; done; \
	if [ $${#files[@]} -eq 0 ]; then echo "bench: no bench/*.py scripts found" >&2; exit 1; fi; \
	failed=""; \
	for f in "$${files[@]}"; do \
	    echo "== $(VPY) $$f"; \
	    $(VPY) "$$f" || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "bench: FAILED:$$failed" >&2; exit 1; fi

# The site the README links to; tests/docs builds it too (strict) and opens it in Chromium.
docs: setup
	$(VENV)/bin/mkdocs build --strict
	@echo "docs: open site/index.html"

wheel-smoke: setup
	VPY="$(CURDIR)/$(VPY)" bash scripts/wheel-smoke.sh

clean:
	rm -rf build dist site .cache .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) .venv-3.*
