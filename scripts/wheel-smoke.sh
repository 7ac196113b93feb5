#!/usr/bin/env bash
# The package as a user gets it: build the sdist and the wheel (the wheel from the sdist), check their metadata
# with twine, check what the wheel holds, install it into a fresh venv and use it from a temporary folder with no
# source tree on the path: import it (lightly), run `igniter-nb --help`, scaffold a contract from the shipped
# templates, and run examples/demo.py (SQLite store, parquet, an executed notebook) against it.
# Called by `make test`; bounded (about a minute: pip reuses its cache). Needs .venv (build, twine) — `make setup`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VPY=${VPY:-$ROOT/.venv/bin/python}
# the fresh venv uses the interpreter .venv was made from
BASE_PY=${WHEEL_SMOKE_PYTHON:-$("$VPY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))')}
STEP_TIMEOUT=${WHEEL_SMOKE_STEP_TIMEOUT:-300}   # seconds, for each step
export PIP_DISABLE_PIP_VERSION_CHECK=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/igniter-wheel-smoke.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
step() { echo "wheel-smoke: $*"; }
fail() { echo "wheel-smoke: FAILED: $*" >&2; exit 1; }
run() { timeout "$STEP_TIMEOUT" "$@"; }

step "building the sdist and the wheel"
run "$VPY" -m build --outdir "$TMP/dist" . >"$TMP/build.log" 2>&1 || { tail -n 40 "$TMP/build.log" >&2; fail "python -m build"; }
shopt -s nullglob
wheels=("$TMP"/dist/igniter_nb-*-py3-none-any.whl)
sdists=("$TMP"/dist/igniter_nb-*.tar.gz)
[ ${#wheels[@]} -eq 1 ] && [ ${#sdists[@]} -eq 1 ] || fail "expected one wheel and one sdist in dist/, got: $(ls "$TMP/dist")"
WHEEL=${wheels[0]}
step "twine check --strict $(basename "$WHEEL") $(basename "${sdists[0]}")"
run "$VPY" -m twine check --strict "$WHEEL" "${sdists[0]}"

step "checking what the wheel holds"
"$VPY" - "$WHEEL" "$ROOT/igniter_nb/__init__.py" <<'PY'
import re, sys, zipfile
wheel, init = sys.argv[1], sys.argv[2]
names = zipfile.ZipFile(wheel).namelist()
version = re.search(r'^__version__ = "([^"]+)"', open(init, encoding="utf-8").read(), re.M).group(1)
problems = []
needed = ["igniter_nb/__init__.py", "igniter_nb/py.typed", "igniter_nb/notebook/nbval_sanitize.cfg",
          "igniter_nb/scaffold/templates/contract.py.tmpl"]
problems += [f"missing {n}" for n in needed if n not in names]
if not any(n.startswith("igniter_nb/scaffold/templates/") and n.endswith(".tmpl") for n in names):
    problems.append("no scaffold templates")
tops = {n.split("/", 1)[0] for n in names}
allowed = {"igniter_nb", f"igniter_nb-{version}.dist-info"}
problems += [f"unexpected top-level entry {t!r} (tests/, bench/, docs/ never ship)" for t in sorted(tops - allowed)]
problems += [f"compiled or cached file {n}" for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
meta = zipfile.ZipFile(wheel).read(f"igniter_nb-{version}.dist-info/METADATA").decode()
if f"\nVersion: {version}\n" not in meta:
    problems.append(f"METADATA does not say Version: {version}")
entry = zipfile.ZipFile(wheel).read(f"igniter_nb-{version}.dist-info/entry_points.txt").decode()
if "igniter-nb = igniter_nb.cli:main" not in entry:
    problems.append("no igniter-nb console script")
if problems:
    sys.exit("wheel-smoke: the wheel is wrong:\n  " + "\n  ".join(problems))
print(f"wheel-smoke: {len(names)} files, version {version}, package data present, nothing from tests/ or bench/")
PY

step "installing $(basename "$WHEEL")[sql,notebook] into a fresh venv ($("$BASE_PY" --version))"
run "$BASE_PY" -m venv "$TMP/venv"
VENV_PY=$TMP/venv/bin/python
started=$SECONDS
run "$VENV_PY" -m pip install --quiet --no-compile "$WHEEL[sql,notebook]" >"$TMP/pip.log" 2>&1 || { tail -n 40 "$TMP/pip.log" >&2; fail "pip install"; }
step "installed in $((SECONDS - started)) s"

# From here on: a folder with no source tree, no PYTHONPATH, Python in isolated mode (-I) where it matters.
mkdir -p "$TMP/run"
cd "$TMP/run"
unset PYTHONPATH

step "import igniter_nb from the wheel, and what it loads"
run "$VENV_PY" -I - "$TMP/venv" <<'PY'
import json, os, sys
import igniter_nb as ig
venv = os.path.realpath(sys.argv[1])
where = os.path.realpath(ig.__file__)
assert where.startswith(venv + os.sep), f"igniter_nb was imported from {where}, not from the fresh venv {venv}"
heavy = ["pandas", "ipywidgets", "graphviz", "sqlalchemy", "redis", "httpx", "starlette", "fastapi"]
loaded = [m for m in heavy if m in sys.modules]
assert not loaded, f"`import igniter_nb` loaded heavy dependencies: {loaded}"
assert os.path.isfile(ig.nb.sanitizer_path()), "nbval sanitizer config missing from the installed package"
print(f"wheel-smoke: igniter_nb {ig.__version__} from {where}; no heavy module loaded by the import")
PY

step "igniter-nb --help / --version"
run "$TMP/venv/bin/igniter-nb" --help >"$TMP/help.txt" || fail "igniter-nb --help exited non-zero"
grep -q "usage: igniter-nb" "$TMP/help.txt" || fail "igniter-nb --help printed no usage"
version=$(run "$TMP/venv/bin/igniter-nb" --version)
expected=$("$VENV_PY" -I -c 'import igniter_nb; print(igniter_nb.__version__)')
[ "$version" = "igniter-nb $expected" ] || fail "igniter-nb --version said '$version', expected 'igniter-nb $expected'"

step "igniter-nb new contract (templates shipped in the wheel)"
mkdir -p "$TMP/run/scaffold"
run "$TMP/venv/bin/igniter-nb" new contract SmokeWorkflow --inputs request_id --correlate-by request_id \
    --awaits crm_received --outputs report --dir "$TMP/run/scaffold" >/dev/null
[ -s "$TMP/run/scaffold/smoke_workflow.py" ] || fail "new contract wrote no module: $(ls -R "$TMP/run/scaffold")"
run "$VENV_PY" -I -c "import runpy; runpy.run_path('$TMP/run/scaffold/smoke_workflow.py')"

step "examples/demo.py against the installed wheel"
run "$VENV_PY" -I "$ROOT/examples/demo.py" --out "$TMP/out" >"$TMP/demo.log" 2>&1 || { tail -n 40 "$TMP/demo.log" >&2; fail "examples/demo.py"; }
for f in demo.db workflow_waiting.svg workflow_done.svg audit.parquet 04_distributed_workflow.html; do
    [ -s "$TMP/out/$f" ] || { tail -n 40 "$TMP/demo.log" >&2; fail "the demo wrote no $f"; }
done
grep -q "status: succeeded" "$TMP/demo.log" || fail "the demo's workflow did not succeed"
echo "wheel-smoke: passed (sdist + wheel built and checked, wheel installed and used from $TMP/run)"
