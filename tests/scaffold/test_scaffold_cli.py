"""`igniter-nb new`: where it writes, what it refuses (exit code 2, every reason named, nothing written), and a
help that loads nothing heavy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from igniter_nb.cli import main
from tests.scaffold.generated import ROOT, tree

LEAD = ["LeadWorkflow", "--inputs", "request_id", "--correlate-by", "request_id", "--awaits", "crm_received"]
LEAD_FILES = ["lead_workflow.ipynb", "lead_workflow.py", "test_lead_workflow.py"]


def new(*args: str) -> int:
    return main(["new", *args])


def test_new_contract_writes_into_the_current_directory(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.chdir(tmp_path)
    assert new("contract", *LEAD) == 0
    assert tree(tmp_path) == LEAD_FILES
    out = capsys.readouterr().out
    assert "created lead_workflow.py" in out and "pytest test_lead_workflow.py" in out


def test_new_contract_refuses_to_overwrite_and_writes_nothing(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "test_lead_workflow.py").write_text("mine\n")
    assert new("contract", *LEAD, "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("igniter-nb new: error:")
    assert f"{tmp_path / 'test_lead_workflow.py'} exists already; nothing was written" in err
    assert tree(tmp_path) == ["test_lead_workflow.py"]
    assert (tmp_path / "test_lead_workflow.py").read_text() == "mine\n"


def test_every_existing_file_is_named(tmp_path: Path, capsys: Any) -> None:
    assert new("contract", *LEAD, "--dir", str(tmp_path)) == 0
    before = {name: (tmp_path / name).read_bytes() for name in LEAD_FILES}
    capsys.readouterr()
    assert new("contract", *LEAD, "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert all(f"{tmp_path / name} exists already" in err for name in LEAD_FILES)
    assert {name: (tmp_path / name).read_bytes() for name in LEAD_FILES} == before


def test_a_dangling_symlink_counts_as_existing(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "lead_workflow.py").symlink_to(tmp_path / "elsewhere.py")
    assert new("contract", *LEAD, "--dir", str(tmp_path)) == 2
    assert "lead_workflow.py exists already" in capsys.readouterr().err
    assert not (tmp_path / "elsewhere.py").exists()


def test_a_package_directory_of_the_same_name_is_refused(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "lead_workflow").mkdir()
    assert new("contract", *LEAD, "--dir", str(tmp_path)) == 2
    assert "lead_workflow is a directory" in capsys.readouterr().err
    assert tree(tmp_path) == []


@pytest.mark.parametrize("where", ["missing", "a_file"])
def test_dir_must_be_an_existing_directory(tmp_path: Path, capsys: Any, where: str) -> None:
    (tmp_path / "a_file").write_text("")
    target = tmp_path / where
    assert new("contract", *LEAD, "--dir", str(target)) == 2
    says = "no such directory (create it first)" if where == "missing" else "not a directory"
    assert f"--dir {target}: {says}" in capsys.readouterr().err
    assert tree(tmp_path) == ["a_file"]


@pytest.mark.parametrize("args", [
    ["contract", *LEAD, "--dir", ""],
    ["contract", *LEAD, "--tests-dir", ""],
    ["contract", *LEAD, "--notebooks-dir", ""],
    ["project", "shop", "--dir", ""],
])
def test_an_empty_dir_is_refused(tmp_path: Path, monkeypatch: Any, capsys: Any, args: list[str]) -> None:
    # `--dir "$OUT"` with OUT unset: Path("") is the current directory, which the user did not name
    monkeypatch.chdir(tmp_path)
    assert new(*args) == 2
    option = args[args.index("") - 1]
    assert f"{option}: an empty path" in capsys.readouterr().err
    assert tree(tmp_path) == []


def test_tests_and_notebooks_dirs_are_checked_too(tmp_path: Path, capsys: Any) -> None:
    assert new("contract", *LEAD, "--dir", str(tmp_path), "--tests-dir", str(tmp_path / "t"),
               "--notebooks-dir", str(tmp_path / "n")) == 2
    err = capsys.readouterr().err
    assert "--tests-dir" in err and "--notebooks-dir" in err
    assert tree(tmp_path) == []


def test_bad_names_are_all_reported_and_nothing_is_written(tmp_path: Path, capsys: Any) -> None:
    assert new("contract", "<b>x</b>", "--inputs", "a", "a", "--awaits", "../evt", "--dir", str(tmp_path)) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "igniter-nb new: error: NAME: '<b>x</b>' is not a Python identifier (letters of any script, " \
                       "digits and underscores, not starting with a digit)"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["--inputs", "--awaits", "--awaits needs --correlate-by"]
    assert tree(tmp_path) == []


@pytest.mark.parametrize(("name", "says"), [
    ("Json", "its module name 'json' is a module of Python's standard library"),
    ("Pytest", "a module named 'pytest' is already importable"),
])
def test_a_module_name_that_would_hide_another_module_is_refused(tmp_path: Path, capsys: Any, name: str,
                                                                  says: str) -> None:
    assert new("contract", name, "--inputs", "a", "--dir", str(tmp_path)) == 2
    assert says in capsys.readouterr().err
    assert tree(tmp_path) == []


def test_a_name_whose_file_names_exceed_255_bytes_is_refused(tmp_path: Path, capsys: Any) -> None:
    # 90 characters (under the 100 allowed) of 3 bytes each: test_<module>.py would be 278 bytes
    assert new("contract", "数" * 90, "--inputs", "a", "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "NAME: its file test_" in err and "would be 278 bytes long; file systems allow 255" in err, err
    assert "writing failed" not in err
    assert tree(tmp_path) == []


def test_inside_a_package_the_imports_are_dotted(tmp_path: Path) -> None:
    package = tmp_path / "shop" / "orders"
    package.mkdir(parents=True)
    (tmp_path / "shop" / "__init__.py").touch()
    (package / "__init__.py").touch()
    # a name that is a stdlib module on its own is fine inside a package: shop.orders.json
    assert new("contract", "Json", "--inputs", "a", "--dir", str(package)) == 0
    assert "from shop.orders.json import Json" in (package / "test_json.py").read_text()


@pytest.mark.parametrize("package", ["class", "ﬁle"])
def test_a_package_no_import_statement_can_name_is_refused(tmp_path: Path, capsys: Any, package: str) -> None:
    # `from class.lead import Lead` does not compile; `from ﬁle.lead ...` would import `file.lead` (NFKC)
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").touch()
    assert new("contract", "Lead", "--inputs", "a", "--dir", str(tmp_path / package)) == 2
    err = capsys.readouterr().err
    assert f"--dir {tmp_path / package}: it is inside package {package!r}, which no import statement can name" in err
    assert tree(tmp_path) == [f"{package}/__init__.py"]


def test_a_test_written_apart_from_its_module_comes_with_a_note(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "tests").mkdir()
    assert new("contract", *LEAD, "--dir", str(tmp_path / "src"), "--tests-dir", str(tmp_path / "tests")) == 0
    out = capsys.readouterr().out
    assert f"note: the test and the notebook import lead_workflow: run them with {tmp_path / 'src'} importable" in out
    assert tree(tmp_path) == ["src/lead_workflow.ipynb", "src/lead_workflow.py", "tests/test_lead_workflow.py"]


def test_a_repeated_list_option_adds_to_the_list(tmp_path: Path) -> None:
    # `--inputs a --inputs b` meant both; argparse's default kept only the last one, dropping `a` without a word
    assert new("contract", "Lead", "--inputs", "a", "--inputs", "b", "--correlate-by", "a", "--correlate-by", "b",
               "--awaits", "x", "--awaits", "y", "--outputs", "o", "--outputs", "p", "--dir", str(tmp_path)) == 0
    module = (tmp_path / "lead.py").read_text(encoding="utf-8")
    for line in ('c.correlate_by("a", "b")', 'c.input("a")', 'c.input("b")', 'c.await_event("x", event="x")',
                 'c.await_event("y", event="y")', 'c.output("o")', 'c.output("p")'):
        assert line in module
    assert 'c.output("result")' not in module


def test_the_next_commands_quote_paths_with_spaces(tmp_path: Path, monkeypatch: Any, capsys: Any) -> None:
    # the `next:` lines are meant to be copied into a shell
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my dir").mkdir()
    assert new("contract", *LEAD, "--dir", "my dir") == 0
    out = capsys.readouterr().out
    assert "next: pytest 'my dir/test_lead_workflow.py'  |  pytest --nbval-lax 'my dir/lead_workflow.ipynb'" in out
    assert new("project", "shop", "--dir", "my dir") == 0
    assert "next: cd 'my dir/shop' && make install test serve" in capsys.readouterr().out


def test_argparse_refuses_missing_inputs_and_empty_lists(capsys: Any) -> None:
    for args in (["contract", "Lead"], ["contract", "Lead", "--inputs"], ["contract", "Lead", "--inputs", "a",
                                                                          "--outputs"], ["project"], []):
        with pytest.raises(SystemExit) as exited:
            new(*args)
        assert exited.value.code == 2
    assert "--inputs" in capsys.readouterr().err


def test_new_project_refuses_bad_names_and_existing_files(tmp_path: Path, capsys: Any) -> None:
    for name in ("Billing", "my-app", "../evil", "<b>", "json", "igniter_nb"):
        assert new("project", name, "--dir", str(tmp_path)) == 2
        assert "NAME" in capsys.readouterr().err
    assert tree(tmp_path) == []
    (tmp_path / "shop" / "tests").mkdir(parents=True)
    (tmp_path / "shop" / "tests" / "test_api.py").write_text("mine\n")
    assert new("project", "shop", "--dir", str(tmp_path)) == 2
    assert f"{tmp_path / 'shop' / 'tests' / 'test_api.py'} exists already" in capsys.readouterr().err
    assert tree(tmp_path) == ["shop/tests/test_api.py"]


@pytest.mark.parametrize("name", ["test_api", "test_contracts"])
def test_a_project_named_like_its_own_test_module_is_refused(tmp_path: Path, capsys: Any, name: str) -> None:
    # pytest imports tests/test_api.py as the top-level module test_api, hiding the package test_api
    assert new("project", name, "--dir", str(tmp_path)) == 2
    assert f"NAME: {name!r} is the name of the project's test module tests/{name}.py" in capsys.readouterr().err
    assert tree(tmp_path) == []


@pytest.mark.parametrize("kind", ["file", "dangling symlink"])
def test_a_project_directory_that_is_not_a_directory_is_named(tmp_path: Path, capsys: Any, kind: str) -> None:
    if kind == "file":
        (tmp_path / "shop").write_text("mine\n")
    else:
        (tmp_path / "shop").symlink_to(tmp_path / "elsewhere")
    assert new("project", "shop", "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'shop'} exists and is not a directory; nothing was written" in err, err
    assert tree(tmp_path) == (["shop"] if kind == "file" else [])
    assert os.path.lexists(tmp_path / "shop") and not (tmp_path / "elsewhere").exists()


def test_a_file_where_the_project_needs_a_directory_is_named(tmp_path: Path, capsys: Any) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "tests").write_text("mine\n")
    (tmp_path / "shop" / "notebooks").symlink_to(tmp_path / "elsewhere")
    assert new("project", "shop", "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    for name in ("tests", "notebooks"):
        assert f"{tmp_path / 'shop' / name} exists and is not a directory; nothing was written" in err, err
    assert tree(tmp_path) == ["shop/tests"]
    assert (tmp_path / "shop" / "tests").read_text() == "mine\n"


@pytest.mark.parametrize("name", ["tests", "notebooks"])
def test_a_project_named_like_one_of_its_folders_is_refused(tmp_path: Path, capsys: Any, name: str) -> None:
    assert new("project", name, "--dir", str(tmp_path)) == 2
    assert f"NAME: {name!r} is the name of the project's {name}/ folder" in capsys.readouterr().err
    assert tree(tmp_path) == []


def test_a_project_named_like_the_folder_its_builds_go_to_is_refused(tmp_path: Path, capsys: Any) -> None:
    """`new project dist` wrote the package into dist/, the folder the project's .gitignore ignores (hatch writes the
    built wheels there): `git add .` left out the project's code, and a build wrote into its package."""
    assert new("project", "dist", "--dir", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "NAME: 'dist' is the folder the project's builds go to" in err, err
    assert tree(tmp_path) == []


def test_new_project_goes_into_an_existing_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()  # e.g. a fresh clone
    assert new("project", "shop", "--dir", str(tmp_path)) == 0
    assert "shop/contracts.py" in tree(tmp_path / "shop")


def test_python_m_igniter_nb_cli_reports_a_refusal_without_a_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "igniter_nb.cli", "new", "contract", "class", "--inputs", "a"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    assert (proc.returncode, proc.stderr) == (2, "igniter-nb new: error: NAME: 'class' is a Python keyword\n")
    assert tree(tmp_path) == []


HEAVY = ("fastapi", "starlette", "uvicorn", "httpx", "pydantic", "sqlalchemy", "pandas", "jinja2", "nbformat")


def test_new_help_loads_nothing_heavy() -> None:
    code = ("import json, sys\nfrom igniter_nb.cli import main\ntry:\n    rc = main(sys.argv[1:])\n"
            "except SystemExit as exc:\n    rc = exc.code\n"
            f"print(json.dumps([rc, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n")
    for args in (["--help"], ["new", "--help"], ["new", "contract", "--help"], ["new", "project", "--help"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                              cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
        assert json.loads(proc.stdout.splitlines()[-1]) == [0, []], (args, proc.stderr)
        assert "new" in proc.stdout


def test_generating_imports_nothing_heavy(tmp_path: Path) -> None:
    code = ("import json, sys\nfrom igniter_nb.cli import main\n"
            f"rc = main(['new', 'contract', *{LEAD!r}, '--dir', sys.argv[1]])\n"
            f"rc += main(['new', 'project', 'shop', '--dir', sys.argv[1]])\n"
            f"print(json.dumps([rc, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    assert json.loads(proc.stdout.splitlines()[-1]) == [0, []], proc.stderr
