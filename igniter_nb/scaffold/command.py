"""``igniter-nb new contract|project``: the argparse side of the generators."""

from __future__ import annotations

import argparse
import contextlib
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def add_new_command(commands: Any) -> None:
    """Register ``new`` (with ``contract`` and ``project``) on the ``igniter-nb`` subcommands."""
    new = commands.add_parser(
        "new", help="generate a contract (module, test, notebook) or a service project",
        description="Generate files that compile, pass their tests and run as notebooks as generated. "
                    "Existing files are never overwritten: if any target exists, nothing is written.",
    )
    kinds = new.add_subparsers(dest="kind", metavar="KIND", required=True)

    contract = kinds.add_parser(
        "contract", help="a contract module, its pytest test and a starter notebook",
        description="Write NAME's module (LeadWorkflow -> lead_workflow.py), test_<module>.py and <module>.ipynb.",
        epilog="Example: igniter-nb new contract LeadWorkflow --inputs request_id company_id "
               "--correlate-by request_id --awaits crm_received billing_received --outputs report",
    )
    contract.add_argument("name", metavar="NAME", help="the contract's class name, in CapWords")
    # action="extend": `--inputs a --inputs b` means both (argparse's default kept only the last list)
    contract.add_argument("--inputs", nargs="+", action="extend", required=True, metavar="INPUT",
                          help="input names (repeatable)")
    contract.add_argument("--correlate-by", nargs="+", action="extend", default=[], metavar="KEY",
                          help="correlation keys (among the inputs): makes it a workflow")
    contract.add_argument("--awaits", nargs="+", action="extend", default=[], metavar="EVENT",
                          help="events the workflow waits for (needs --correlate-by)")
    contract.add_argument("--outputs", nargs="+", action="extend", default=None, metavar="OUTPUT",
                          help="output names, each computed from every input and event (default: result)")
    contract.add_argument("--dir", default=".", metavar="DIR", help="where to write (default: the current directory)")
    contract.add_argument("--tests-dir", default=None, metavar="DIR", help="where to write the test (default: --dir)")
    contract.add_argument("--notebooks-dir", default=None, metavar="DIR",
                          help="where to write the notebook (default: --dir)")
    contract.set_defaults(run=_new_contract)

    project = kinds.add_parser(
        "project", help="a service: contracts package, tests, notebook, Makefile, .env example",
        description="Lay out a service in DIR/NAME that `igniter-nb serve NAME.contracts:CONTRACTS` serves.",
        epilog="Example: igniter-nb new project billing && cd billing && make install test serve",
    )
    project.add_argument("name", metavar="NAME", help="the project's package name (lower-case ASCII)")
    project.add_argument("--dir", default=".", metavar="DIR",
                         help="the directory to create NAME/ in (default: the current directory)")
    project.set_defaults(run=_new_project)


def _new_contract(args: argparse.Namespace) -> int:
    from igniter_nb.scaffold import new_contract

    with _refusals():
        written = new_contract(args.name, inputs=args.inputs, correlate_by=args.correlate_by, awaits=args.awaits,
                               outputs=args.outputs or ["result"], directory=args.dir, tests_directory=args.tests_dir,
                               notebooks_directory=args.notebooks_dir)
    _report(written)
    module, test, notebook = written
    if test.parent != module.parent or notebook.parent != module.parent:
        from igniter_nb.scaffold.generate import package_path

        package = package_path(module.parent)
        root = module.parent.resolve().parents[package.count(".")] if package else module.parent
        dotted = f"{package}.{module.stem}" if package else module.stem
        say(f"note: the test and the notebook import {dotted}: run them with {root} importable (installed, on "
              "PYTHONPATH, or in pytest's `pythonpath` setting)")
    test_arg, notebook_arg = shlex.quote(str(test)), shlex.quote(str(notebook))  # lines meant for a shell
    say(f"next: pytest {test_arg}  |  pytest --nbval-lax {notebook_arg}  |  jupyter lab {notebook_arg}")
    return 0


def _new_project(args: argparse.Namespace) -> int:
    from igniter_nb.scaffold import new_project

    with _refusals():
        written = new_project(args.name, directory=args.dir)
    _report(written)
    say(f"next: cd {shlex.quote(str(Path(args.dir) / args.name))} && make install test serve  (README.md says more)")
    return 0


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A refusal, or a write that failed (and was undone), becomes the command's error message (exit code 2)."""
    from igniter_nb.cli import CommandError
    from igniter_nb.scaffold import ScaffoldError

    try:
        with _signals_stop_the_writes():
            yield
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        if _current_directory_gone():
            raise CommandError("the current directory no longer exists (it was removed or moved away after this "
                               "shell entered it), and nothing was written: cd to an existing directory, or give "
                               "--dir an absolute path") from exc
        raise CommandError(f"writing failed and nothing was kept: {exc}") from exc


def _current_directory_gone() -> bool:
    import os

    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


@contextlib.contextmanager
def _signals_stop_the_writes() -> Iterator[None]:
    """SIGTERM (``kill``, a container stopping) and SIGHUP (the terminal closed) raise ``Terminated`` where the
    writes are, so that what was written is removed as on Ctrl-C; by default either killed the process and left
    the files written so far. The default handlers are put back after."""
    import signal
    import threading

    from igniter_nb.cli import Terminated

    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    signums = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    # a signal ignored (`nohup` ignores SIGHUP) or handled already stays as it is
    previous = {signum: signal.signal(signum, stop) for signum in signums if signal.getsignal(signum) == signal.SIG_DFL}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def say(line: str) -> None:
    from igniter_nb.cli import say as say_line  # (the cli imports this module)

    say_line(line)


def _report(written: list[Path]) -> None:
    for path in written:
        say(f"created {path}")
