"""``new_contract`` and ``new_project``: check everything, render every file, then write them all or none."""

from __future__ import annotations

import json
import keyword
import os
import stat
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from igniter_nb.scaffold.contract_files import (
    SampleData,
    contract_module,
    contract_notebook,
    contract_test,
    import_line,
    literal,
    module_docstring,
    wrapped_dict,
)
from igniter_nb.scaffold.names import module_name, module_name_problem, project_name_problem
from igniter_nb.scaffold.render import render
from igniter_nb.scaffold.spec import ContractSpec, ScaffoldError, contract_spec
from igniter_nb.scaffold.writer import write_all

MAX_FILE_NAME_BYTES = 255
"""The longest file name most Linux file systems take (ext4, tmpfs, btrfs: 255 bytes of UTF-8)."""

PROJECT_TEST_MODULES = ("test_contracts", "test_api")
"""The test modules a project gets in ``tests/``; the project's package cannot share their names."""
PROJECT_FOLDERS = ("tests", "notebooks")
"""The folders a project gets beside its package; the package cannot be one of them."""
BUILD_FOLDER = "dist"
"""Where ``python -m build`` and hatch write a project's wheels, which its ``.gitignore`` ignores: no package name."""


def example_workflow() -> ContractSpec:
    """The project's example: a workflow with two events, so its tests and notebook show any-order delivery."""
    return contract_spec("OrderWorkflow", inputs=["order_id", "customer_id"], correlate_by=["order_id"],
                         awaits=["payment_received", "order_shipped"], outputs=["receipt"])


def new_contract(name: str, *, inputs: Sequence[str], correlate_by: Sequence[str] = (), awaits: Sequence[str] = (),
                 outputs: Sequence[str] = ("result",), directory: str | os.PathLike[str] = ".",
                 tests_directory: str | os.PathLike[str] | None = None,
                 notebooks_directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write ``<module>.py`` (contract class ``name``), ``test_<module>.py`` and ``<module>.ipynb`` — into
    ``directory``, or the test and the notebook into their own directories — and return the three paths, in
    that order.

    Raises :class:`ScaffoldError` listing every problem (bad or clashing names, a missing directory, a file
    that exists) before anything is written. A ``directory`` inside a package (it has ``__init__.py``) gets
    imports by the package's dotted path (``from shop.orders.refund import Refund``).
    """
    problems: list[str] = []
    dirs = {}
    for argument, value in (("--dir", directory), ("--tests-dir", tests_directory),
                            ("--notebooks-dir", notebooks_directory)):
        if value is not None:
            dirs[argument], problem = _existing_directory(argument, value)
            if problem:
                problems.append(problem)
    spec: ContractSpec | None = None
    try:
        spec = contract_spec(name, inputs=inputs, correlate_by=correlate_by, awaits=awaits, outputs=outputs)
    except ScaffoldError as exc:
        problems += exc.problems
    if problems or spec is None:
        raise ScaffoldError(problems)

    home = dirs["--dir"]
    module = module_name(spec.class_name)
    if unnamable := _unnamable_package(home):
        raise ScaffoldError([f"--dir {home}: it is inside package {unnamable!r}, which no import statement can name "
                             "(a Python keyword, or not in NFKC form); rename that directory or choose another --dir"])
    longest = f"test_{module}.py"  # the longest of the three file names
    if len(longest.encode()) > MAX_FILE_NAME_BYTES:
        raise ScaffoldError([f"NAME: its file {_cut(longest)} would be {len(longest.encode())} bytes long; file "
                             f"systems allow {MAX_FILE_NAME_BYTES} (a character outside ASCII takes 2 to 4): choose a "
                             "shorter name"])
    package = package_path(home)
    if package is None and (problem := module_name_problem(module, home)):
        raise ScaffoldError([problem])
    if (home / module).is_dir():
        raise ScaffoldError([f"{home / module} is a directory: a module {module}.py beside it would be hidden "
                             "by it; choose another NAME"])
    dotted = f"{package}.{module}" if package else module
    import_statement = import_line(dotted, spec.class_name)
    notebook_path = dirs.get("--notebooks-dir", home) / f"{module}.ipynb"
    files = {
        home / f"{module}.py": contract_module(spec),
        dirs.get("--tests-dir", home) / f"test_{module}.py": contract_test(spec, import_line=import_statement),
        notebook_path: contract_notebook(spec, import_line=import_statement, notebook_file=notebook_path.name),
    }
    return write_all(_checked(files))


def new_project(name: str, *, directory: str | os.PathLike[str] = ".") -> list[Path]:
    """Lay out a service named ``name`` in ``directory/name``: the ``name.contracts`` package with an example
    workflow and ``CONTRACTS``, tests, a notebook, ``pyproject.toml``, ``Makefile``, ``README.md``,
    ``.env.example`` and ``.gitignore``. Returns the paths written; raises :class:`ScaffoldError` before
    writing anything when the name is unusable or any of these files exists."""
    from igniter_nb import __version__

    parent, problem = _existing_directory("--dir", directory)
    problems = [p for p in (problem, project_name_problem(name)) if p]
    if name in PROJECT_TEST_MODULES:
        # pytest imports tests/<name>.py as the top-level module <name>, which would hide the package <name>
        problems.append(f"NAME: {name!r} is the name of the project's test module tests/{name}.py; choose another "
                        "name")
    if name in PROJECT_FOLDERS:
        # the package's modules would share the folder with the project's own tests or notebooks, and a wheel
        # of the project would install a top-level package of that name
        problems.append(f"NAME: {name!r} is the name of the project's {name}/ folder; choose another name")
    if name == BUILD_FOLDER:
        # the package's files would be ignored by git (`git add .` leaves the project's code out) and share the folder
        # with the built wheels
        problems.append(f"NAME: {name!r} is the folder the project's builds go to, which its .gitignore ignores: git "
                        "would leave the package out; choose another name")
    if not problems and (problem := module_name_problem(name, parent / name)):
        problems.append(problem)
    if problems:
        raise ScaffoldError(problems)

    root = parent / name
    # A link to a directory elsewhere where the project's directories go would take its files outside --dir (a
    # dangling one is refused by write_all, as anything that is not a directory).
    linked = [folder for folder in (root, root / name, *(root / folder for folder in PROJECT_FOLDERS))
              if folder.is_symlink() and folder.is_dir()]
    if linked:
        raise ScaffoldError([f"{folder} is a symbolic link (to {os.readlink(folder)}): the project's files would be "
                             "written there, outside --dir; nothing was written (replace it with a directory, or give "
                             "--dir where it points)" for folder in linked])
    spec = example_workflow()
    served = module_name(spec.class_name)
    data = SampleData(spec)
    import_statement = import_line(f"{name}.contracts", spec.class_name)
    notebook_name = f"{served}.ipynb"
    footer = (f"\n\n# What `igniter-nb serve {name}.contracts:CONTRACTS` serves: {{name in URLs: contract class}}.\n"
              f"CONTRACTS = {{{literal(served)}: {spec.class_name}}}\n")
    docstring = (f"The contracts of {name}, served by `make serve` (`igniter-nb serve {name}.contracts:CONTRACTS`).\n\n"
                 + module_docstring(spec, command="new project"))
    execute_body = json.dumps({"inputs": data.inputs})
    first_event = spec.awaits[0].event
    event_body = json.dumps({"event": first_event, "correlation": data.correlation,
                             "payload": data.payloads[first_event], "idempotency_key": f"{first_event}-1"})
    files = {
        root / "README.md": render("project_README.md.tmpl", name=name, notebook=notebook_name, served=served,
                                   execute_body=execute_body, event_body=event_body),
        root / "pyproject.toml": render("project_pyproject.toml.tmpl", name=name, igniter_version=__version__),
        root / "Makefile": render("project_Makefile.tmpl", name=name),
        root / ".env.example": render("project_env.example.tmpl", name=name),
        root / ".gitignore": render("project_gitignore.tmpl"),
        root / name / "__init__.py": render("project_init.py.tmpl", name=name),
        root / name / "contracts.py": contract_module(spec, docstring=docstring, footer=footer),
        root / "tests" / f"{PROJECT_TEST_MODULES[0]}.py": contract_test(spec, import_line=import_statement),
        root / "tests" / f"{PROJECT_TEST_MODULES[1]}.py": render(
            "project_test_api.py.tmpl", name=name, served=served, served_literal=literal(served),
            inputs=wrapped_dict(data.inputs, 0, "INPUTS = "),
            correlation=wrapped_dict(data.correlation, 0, "CORRELATION = "),
            payloads=wrapped_dict(data.payloads, 0, "PAYLOADS = "),
            unknown_correlation=literal({key: "no-such-workflow" for key in spec.correlate_by}),
        ),
        root / "notebooks" / notebook_name: contract_notebook(spec, import_line=import_statement,
                                                              notebook_file=f"notebooks/{notebook_name}"),
    }
    return write_all(_checked(files))


def package_path(directory: Path) -> str | None:
    """The dotted package ``directory`` is (``shop.orders`` for ``.../shop/orders`` when both have
    ``__init__.py``), or ``None`` when it is not a package."""
    parts: list[str] = []
    current = directory.resolve()
    while (current / "__init__.py").is_file() and current.name.isidentifier():
        parts.append(current.name)
        current = current.parent
    return ".".join(reversed(parts)) or None


def _unnamable_package(directory: Path) -> str | None:
    """The name of a package around ``directory`` (it has ``__init__.py``) that is an identifier, so pytest and
    :func:`package_path` take it for a package, but that an import statement cannot spell: a keyword (``class``)
    or a name Python would read in another form (``ﬁle`` is read as ``file``)."""
    current = directory.resolve()
    while (current / "__init__.py").is_file() and current.name.isidentifier():
        if keyword.iskeyword(current.name) or unicodedata.normalize("NFKC", current.name) != current.name:
            return current.name
        current = current.parent
    return None


def _cut(name: str) -> str:
    return name if len(name) <= 40 else f"{name[:20]}...{name[-17:]}"


def _existing_directory(argument: str, value: str | os.PathLike[str]) -> tuple[Path, str | None]:
    path = Path(value)
    if not os.fspath(value):
        # Path("") is the current directory: `--dir "$OUT"` with OUT unset would write where nobody asked
        return path, (f"{argument}: an empty path (a shell variable that expanded to nothing?); give a directory, "
                      f"or leave {argument} out for the default")
    shown = os.fspath(path) if len(os.fspath(path)) <= 200 else f"{os.fspath(path)[:120]}...{os.fspath(path)[-60:]}"
    try:
        found = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return path, f"{argument} {shown}: no such directory (create it first)"
    except OSError as exc:  # a name past 255 bytes, a path past 4,096, a symlink loop: not a write that failed
        return path, f"{argument} {shown}: {exc.strerror or exc}"
    if not stat.S_ISDIR(found.st_mode):
        return path, f"{argument} {shown}: not a directory"
    return path, None


def _checked(files: dict[Path, str]) -> dict[Path, str]:
    """Refuse to write generated Python that does not parse: a bug here, never the user's fault."""
    for path, text in files.items():
        if path.suffix == ".py":
            compile(text, str(path), "exec", dont_inherit=True)
        elif path.suffix == ".ipynb":
            json.loads(text)
    return files
