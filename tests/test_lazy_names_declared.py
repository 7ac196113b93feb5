"""Every name a package loads lazily at run time (its module ``__getattr__``) is also declared to type checkers
under ``TYPE_CHECKING``: the two lists are written twice (``_LAZY`` / the submodules, and the imports a checker
reads), so a name added to one only would be an error in users' type-checked code though it works at run time."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGES = ("igniter_nb", "igniter_nb.stores", "igniter_nb.server", "igniter_nb.notebook", "igniter_nb.llm",
            "igniter_nb.integrations")


def _declared(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    names.update(alias.asname or alias.name.split(".")[0] for alias in statement.names)
    return names


def _lazy_names(name: str) -> tuple[set[str], Path]:
    """The names ``name`` gives through its module ``__getattr__`` only, and its file: read in a fresh interpreter,
    where nothing has loaded them into the package's namespace yet."""
    code = (f"import json, {name} as m; "
            "print(json.dumps([sorted(set(dir(m)) - set(vars(m))), m.__file__]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          start_new_session=True)
    lazy, path = json.loads(done.stdout)
    return set(lazy), Path(path)


@pytest.mark.parametrize("name", PACKAGES)
def test_each_lazy_name_is_declared_to_type_checkers(name: str) -> None:
    lazy, path = _lazy_names(name)
    assert lazy, name  # (the package does load names lazily: else this test checks nothing)
    assert lazy <= _declared(path), sorted(lazy - _declared(path))
