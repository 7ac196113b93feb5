#!/usr/bin/env bash
# Runs the engine, workflow and store-independent suites on every other supported Python (3.12, 3.13)
# found on this machine (pyenv versions or python3.X on PATH), each in its own light venv
# (.venv-3.X: core dependencies + what those tests import; keep DEPS in step with pyproject's dependencies).
# The main suite runs on 3.11 in `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TESTS=(tests/dsl tests/compiler tests/runtime tests/workflow tests/events tests/extensions
       tests/test_reference_bugs.py tests/test_bad_input.py tests/test_schema_roundtrip.py)
DEPS=(pydantic orjson graphviz tqdm pytest pytest-timeout hypothesis pandas pyarrow sqlalchemy "psycopg[binary]" redis)

find_python() {
  local v=$1 p
  for p in "$(command -v "python$v" 2>/dev/null || true)" /root/.pyenv/versions/"$v".*/bin/python"$v" \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v"; do
    if [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import sys' >/dev/null 2>&1; then echo "$p"; return 0; fi
  done
  return 1
}

ran=""
for v in 3.12 3.13; do
  if ! py=$(find_python "$v"); then
    echo "test-versions: Python $v not found on this machine; not tested" >&2
    continue
  fi
  venv=".venv-$v"
  stamp="$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "${DEPS[@]}"
    "$venv/bin/python" -m pip install -q --no-deps -e .
    touch "$stamp"
  fi
  echo "== pytest on Python $v ($py)"
  "$venv/bin/python" -m pytest -p no:cacheprovider -q "${TESTS[@]}" --ignore=tests/runtime/test_runners.py
  ran="$ran $v"
done
[ -n "$ran" ] || { echo "test-versions: no other Python version found" >&2; exit 1; }
echo "test-versions: passed on Python$ran"
