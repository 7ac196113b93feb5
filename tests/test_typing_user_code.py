"""A user's own type checker accepts contracts written as docs/contracts.md ("Type checking your contracts")
shows, and still reports their typos.

One mypy run (the venv's, in a subprocess with a timeout) checks three small user modules written into a
temporary directory against this checkout of igniter_nb (``MYPYPATH``; ``--follow-imports=silent``: the
package is checked as it is used, its own errors are not the user's):

- ``typed_contracts``: the documented typed form, ``@staticmethod def define(c: ig.ContractBuilder) -> None``,
  under ``strict = True``: it must produce no error at all;
- ``typos``: the same form with mistakes a checker must still catch (each line marked ``# typo``);
- ``plain_contracts``: the plain ``def define(c):`` under mypy's default settings, which do not look inside an
  unannotated function: accepted (and unchecked), as the docs say.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest

import igniter_nb as ig

ROOT = Path(__file__).resolve().parent.parent

TYPED = dedent('''\
    """A user's module, written the documented typed way (no `from __future__ import annotations`: the
    annotation `ig.ContractBuilder` is evaluated when the class is made)."""

    from typing import Any

    import igniter_nb as ig


    class TypedPrice(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.input("total", type=float)
            c.input("country", type=str, default="UA")

            @c.compute(depends_on=["country"])
            def vat_rate(country: str) -> float:
                return 0.2 if country == "UA" else 0.0

            @c.compute
            def gross(total: float, vat_rate: float) -> float:
                return total * (1 + vat_rate)

            c.output("gross")


    class TypedOrder(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.correlate_by("order_id")
            c.input("order_id", type=str)
            c.input("total", type=float)
            c.await_event("paid", event="payment_received")
            c.compose("price", contract=TypedPrice, inputs={"total": "total"})

            @c.compute
            def receipt(order_id: str, total: float, paid: dict[str, Any]) -> str:
                return f"{order_id}: {total} paid by {paid['by']}"

            @c.on_success("receipt")
            def announce(value: str) -> None:
                print(value)

            c.output("receipt")


    @ig.contract
    def TypedDoubler(c: ig.ContractBuilder) -> None:
        c.input("x", type=int)
        c.compute("doubled", depends_on=["x"], call=lambda x: x * 2)
        c.output("doubled")


    def run(store: Any) -> tuple[float, str | None, str, int]:
        gross: float = TypedPrice(total=100.0).result.gross
        started = TypedOrder.start(order_id="o-1", total=10.0, store=store)
        status = started.workflow_status
        done = TypedOrder.deliver_event("payment_received", correlation={"order_id": "o-1"},
                                        payload={"by": "card"}, store=store)
        receipt: str = done.result.receipt
        doubled: int = TypedDoubler(x=21).result.doubled
        return gross, status, receipt, doubled


    def subpackages() -> tuple[Any, ...]:
        """The lazily loaded subpackages' names, each as a checker must know it (not as Any)."""
        memory: ig.stores.MemoryStore = ig.stores.MemoryStore()
        client_class: type[ig.server.Client] = ig.server.Client
        return (memory, client_class, ig.nb.states_frame, ig.notebook.Follow, ig.llm.Executor, ig.llm.testing,
                ig.integrations.rq.worker, ig.integrations.webhooks)
''')

TYPOS = dedent('''\
    import igniter_nb as ig


    class TypoOrder(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.input("order_id", type=str)
            c.inptu("total")  # typo
            c.output("order_id")


    order = TypoOrder.start_workflow(order_id="o-1")  # typo
    TypoOrder(order_id="o-1").reslt  # typo
    ig.Contrct  # typo
    ig.stores.MemoryStroe()  # typo
    ig.nb.states_fram  # typo
    ig.server.Clinet  # typo
    ig.llm.Executr  # typo
    ig.integrations.rqq  # typo
''')

PLAIN = dedent('''\
    import igniter_nb as ig


    class PlainPrice(ig.Contract):
        def define(c):
            c.input("total", type=float)

            @c.compute
            def gross(total):
                return total * 1.2

            c.output("gross")


    def gross() -> float:
        value: float = PlainPrice(total=100.0).result.gross
        return value
''')

# strict for the user modules written the typed way; mypy's defaults for the plain one
MYPY_INI = dedent('''\
    [mypy]
    strict = True
    show_error_codes = True

    [mypy-plain_contracts]
    disallow_untyped_defs = False
    disallow_incomplete_defs = False
    disallow_untyped_calls = False
    disallow_untyped_decorators = False
    check_untyped_defs = False
''')

TIMEOUT = 180  # seconds: a cold cache costs ~10 s on an idle machine


def run_mypy(workdir: Path, *files: str) -> subprocess.CompletedProcess[str]:
    """The venv's mypy on ``files``, in its own process group, killed with the group if it overruns."""
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    env.pop("PYTHONPATH", None)  # MYPYPATH says which igniter_nb is checked
    command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--follow-imports=silent",
               "--cache-dir", str(workdir / ".mypy_cache"), "--no-color-output", "--no-error-summary", *files]
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[str]]]:
    """Write the user modules, run mypy once over all of them; its error lines, by module."""
    workdir = tmp_path_factory.mktemp("user_code")
    (workdir / "mypy.ini").write_text(MYPY_INI)
    for name, text in {"typed_contracts": TYPED, "typos": TYPOS, "plain_contracts": PLAIN}.items():
        (workdir / f"{name}.py").write_text(text)
    proc = run_mypy(workdir, "typed_contracts.py", "typos.py", "plain_contracts.py")
    assert proc.returncode in (0, 1), f"mypy crashed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    errors: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"(\w+)\.py:(\d+): error: (.*)", line)
        if match:
            errors.setdefault(match[1], []).append(f"{match[2]}: {match[3]}")
    return workdir, errors


def test_the_documented_typed_form_passes_mypy_strict(checked: tuple[Path, dict[str, list[str]]]) -> None:
    _, errors = checked
    assert errors.get("typed_contracts", []) == []


def test_the_plain_form_passes_mypy_with_its_default_settings(checked: tuple[Path, dict[str, list[str]]]) -> None:
    _, errors = checked
    assert errors.get("plain_contracts", []) == []


def test_typos_in_typed_user_code_are_still_reported(checked: tuple[Path, dict[str, list[str]]]) -> None:
    _, errors = checked
    marked = [str(n) for n, line in enumerate(TYPOS.splitlines(), 1) if line.endswith("# typo")]
    reported = errors.get("typos", [])
    assert [e.split(":", 1)[0] for e in reported] == marked, reported
    assert 'has no attribute "inptu"' in reported[0]
    assert '"type[TypoOrder]" has no attribute "start_workflow"' in reported[1]
    assert 'has no attribute "reslt"' in reported[2]
    # igniter_nb's names load on first use (a module __getattr__), which a checker does not see: no Any there
    assert 'Module has no attribute "Contrct"' in reported[3]


def test_the_documented_typed_form_runs(checked: tuple[Path, dict[str, list[str]]]) -> None:
    # the staticmethod form compiles and runs, and its annotation `ig.ContractBuilder` is a real name
    workdir, _ = checked
    spec = importlib.util.spec_from_file_location("typed_contracts", workdir / "typed_contracts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run(ig.stores.MemoryStore()) == (120.0, "waiting", "o-1: 10.0 paid by card", 42)
