"""Packaging promises of PRODUCT §1: a light core import and the documented optional groups."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Heavy or optional dependencies that must load only on first use of the feature needing them.
LAZY_MODULES = (
    "pandas",
    "ipywidgets",
    "graphviz",
    "sqlalchemy",
    "redis",
    "httpx",
    "starlette",
    "pydantic",
    "orjson",  # ~25 ms to import: the JSON stores load it on their first save or read
)


def test_import_igniter_nb_loads_no_heavy_dependency() -> None:
    code = (
        "import json, sys\n"
        "import igniter_nb\n"
        f"heavy = {LAZY_MODULES!r}\n"
        "loaded = sorted(m for m in heavy if m in sys.modules)\n"
        "print(json.dumps(loaded))\n"
    )
    # -I: isolated mode (no user site, no PYTHON* variables, no cwd on sys.path), so only the
    # installed package and the interpreter's own start-up are measured.
    proc = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"`import igniter_nb` failed:\n{proc.stderr}"
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`import igniter_nb` imported heavy dependencies eagerly: {loaded}"


def test_import_igniter_nb_defers_the_engine_until_a_public_name_is_used() -> None:
    # Issue 13 target 5: the package imports its errors only; the compiler, DSL and runtime load on the first
    # use of a public name (PEP 562), and every name of __all__ is then there.
    code = (
        "import json, sys\n"
        "import igniter_nb as ig\n"
        "engine = ('igniter_nb.dsl.contract', 'igniter_nb.compiler.compile', 'igniter_nb.runtime.resolver')\n"
        "before = sorted(m for m in engine if m in sys.modules)\n"
        "missing = [n for n in ig.__all__ if getattr(ig, n, None) is None]\n"
        "from igniter_nb import Contract\n"
        "after = sorted(m for m in engine if m in sys.modules)\n"
        "print(json.dumps([before, missing, after, Contract is ig.Contract]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert proc.returncode == 0, proc.stderr
    before, missing, after, same = json.loads(proc.stdout.strip().splitlines()[-1])
    assert before == []
    assert missing == []
    assert after == sorted(["igniter_nb.dsl.contract", "igniter_nb.compiler.compile", "igniter_nb.runtime.resolver"])
    assert same is True


def test_pyproject_declares_optional_dependency_groups() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    groups = pyproject["project"]["optional-dependencies"]
    expected = {"notebook", "sql", "redis", "server", "llm", "all", "dev"}
    missing = expected - groups.keys()
    assert not missing, f"pyproject.toml lacks optional dependency groups: {sorted(missing)}"
    # `all` must cover every feature group (by self-reference), so `pip install igniter_nb[all]` is complete.
    name = pyproject["project"]["name"]
    included: set[str] = set()
    for requirement in groups["all"]:
        match = re.fullmatch(rf"{re.escape(name)}\[([^\]]*)\]", requirement.replace(" ", ""))
        if match:
            included.update(match.group(1).split(","))
    # `dev` and `docs` are tooling (tests, the documentation site), not features of the library
    feature_groups = groups.keys() - {"all", "dev", "docs"}
    assert feature_groups <= included, f"optional groups missing from [all]: {sorted(feature_groups - included)}"


def test_version_is_single_sourced_and_has_a_changelog_entry() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"], "the version must come from igniter_nb/__init__.py only"
    assert "version" in pyproject["project"]["dynamic"]
    source = ROOT / pyproject["tool"]["hatch"]["version"]["path"]
    match = re.search(r'^__version__ = "([^"]+)"$', source.read_text(encoding="utf-8"), flags=re.M)
    assert match, f"{source} has no __version__ line hatch can read"
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(match.group(1))}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, flags=re.M), (
        f"CHANGELOG.md has no '## [{match.group(1)}] - YYYY-MM-DD' entry for the package's version"
    )
    assert "## [Unreleased]" in changelog
