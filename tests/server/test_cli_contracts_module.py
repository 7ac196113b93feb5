"""`igniter-nb serve MODULE:CONTRACTS` given a contracts module that fails: raising while imported (in its own code,
deep in a library it calls, in a contract's `define`), importing a package that is not installed, a module-level
`__getattr__` raising, a Ctrl-C while it loads. Each must end with exit code 2 and one line on stderr naming the
module and the file and line where it failed, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main
from tests.server.server_process import ROOT


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Write a module of a fresh name into a directory on sys.path; yields (name, path) for its source."""
    monkeypatch.syspath_prepend(str(tmp_path))
    names: list[str] = []

    def write(source: str) -> tuple[str, Path]:
        name = f"hostile_mod_{uuid.uuid4().hex[:8]}"
        path = tmp_path / f"{name}.py"
        path.write_text(source)
        names.append(name)
        return name, path

    yield write
    for name in names:
        sys.modules.pop(name, None)


def _error(capsys: Any, target: str) -> str:
    assert main(["serve", target, "--port", "1"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("igniter-nb serve: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_a_module_raising_while_imported_names_its_file_and_line(module: Any, capsys: Any) -> None:
    """It said only "RuntimeError: boom": in which of the module's lines, the user had to find out."""
    name, path = module("import json\n\ndef setup():\n    raise RuntimeError('boom')\n\nsetup()\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"importing module {name!r}" in line and "RuntimeError: boom" in line, line
    assert f"{path}:4" in line, line


def test_a_failure_deep_in_a_library_names_the_modules_line_that_called_it(module: Any, capsys: Any) -> None:
    """The line named is the contracts module's, not json's internals where the exception was raised."""
    name, path = module("import json\n\nSETTINGS = json.loads('{not json')\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"{path}:3" in line and "JSONDecodeError" in line, line
    assert "json/decoder.py" not in line, line


def test_a_contract_whose_define_raises_names_the_line_in_define(module: Any, capsys: Any) -> None:
    name, path = module("import igniter_nb as ig\n\n\nclass Boom(ig.Contract):\n    def define(c):\n"
                        "        raise RuntimeError('define blew up')\n\n\nCONTRACTS = {'boom': Boom}\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"{path}:6" in line and "RuntimeError: define blew up" in line, line


def test_a_message_of_several_lines_is_cut_to_its_first_and_an_empty_one_to_the_type(module: Any,
                                                                                     capsys: Any) -> None:
    """A multi-line message spread over several lines of stderr; an empty one printed "E: " with nothing after."""
    name, path = module("raise ValueError('\\n  first line\\nsecond line\\nthird line')\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert line.endswith("ValueError: first line (2 more lines)"), line
    assert f"{path}:1" in line
    name, _ = module("class Empty(Exception):\n    pass\n\n\nraise Empty()\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert line.endswith(": Empty"), line


def test_a_package_the_module_imports_that_is_missing_is_told_apart_from_the_module_missing(module: Any,
                                                                                            capsys: Any) -> None:
    """"cannot import module 'app'" read as if app itself could not be found, when app was found and its own
    `import` of a missing package failed."""
    name, path = module("import os\nimport no_such_package_zz  # noqa\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"importing module {name!r}" in line and f"{path}:2" in line, line
    assert "No module named 'no_such_package_zz'" in line, line
    line = _error(capsys, "no_such_package_zz:CONTRACTS")  # the module itself missing: said as before
    assert "cannot import module 'no_such_package_zz'" in line, line


def test_a_syntax_error_still_names_its_file_and_line_once(module: Any, capsys: Any) -> None:
    name, path = module("x = 1\ndef f(:\n    pass\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert "SyntaxError" in line and f"{path.name}, line 2" in line, line
    assert line.count("line 2") == 1, line


def test_a_module_getattr_that_raises_is_one_line_naming_the_attribute(module: Any, capsys: Any) -> None:
    """hasattr() let anything but AttributeError through: serve ended in a traceback."""
    name, path = module("def __getattr__(name):\n    raise RuntimeError('lazy ' + name)\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"reading {name}:CONTRACTS failed" in line and "RuntimeError: lazy CONTRACTS" in line, line
    assert f"{path}:2" in line, line


def test_a_module_calling_sys_exit_names_the_line_that_did(module: Any, capsys: Any) -> None:
    name, path = module("import sys\n\ndef main():\n    sys.exit(2)\n\nmain()\n")
    line = _error(capsys, f"{name}:CONTRACTS")
    assert f"called sys.exit(2) at {path}:4" in line, line


def test_ctrl_c_while_the_module_loads_ends_without_a_traceback(tmp_path: Path) -> None:
    """SIGINT while serve loads the contracts (a slow import): a page of traceback ending in KeyboardInterrupt."""
    (tmp_path / "slow_contracts_mod.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("IGNITER_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    done = subprocess.run([sys.executable, "-m", "igniter_nb.cli", "serve", "slow_contracts_mod:CONTRACTS",
                           "--port", "1"], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 128 + signal.SIGINT, (done.returncode, done.stderr)
    assert done.stderr.strip() == "igniter-nb serve: interrupted", done.stderr


@pytest.mark.parametrize(("target", "instead"), [(".app:CONTRACTS", "'app'"), ("..pkg.app:CONTRACTS", "'pkg.app'"),
                                                 ("..:CONTRACTS", "'myapp'")])
def test_a_relative_module_name_is_refused_in_one_line(target: str, instead: str, capsys: Any) -> None:
    """`.app:CONTRACTS` failed with Python's TypeError about a "'package' argument" required for a relative import:
    one line now says relative names are not taken and what to write."""
    assert main(["serve", target, "--port", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("igniter-nb serve: error:"), err
    assert "is a relative module name" in err and f"such as {instead}" in err and repr(target) in err, err
    assert "package" not in err.split("such as")[0] and "TypeError" not in err, err


@pytest.mark.parametrize("where", ["import", "getattr"])
def test_an_error_whose_str_raises_is_named_by_its_type(module: Any, capsys: Any, where: str) -> None:
    """serve's own first-line helper called str() unguarded: the module's error became a traceback of the error
    that str() raised. It goes through the shared first-line helpers now, which name such an error by its type."""
    raising = ("class Unprintable(Exception):\n    def __str__(self):\n        raise RuntimeError('no text')\n\n")
    body = ("raise Unprintable()\n" if where == "import"
            else "def __getattr__(name):\n    raise Unprintable()\n")
    name, path = module(raising + body)
    line = _error(capsys, f"{name}:CONTRACTS")
    assert line.endswith(": Unprintable"), line
    assert f"{path}:" in line, line
