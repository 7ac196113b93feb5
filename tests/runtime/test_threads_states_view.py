"""The states read from another thread while a threads run records nodes: ``contract.states`` (which lists the
threads runner's running nodes) and the questions about the whole run that resolve nothing — ``status_of()``,
``first_error()``, ``first_deferred()``, ``repr(contract)``, the notebook's status badge, a token search. Each
iterated the live states dictionary, which the workers grow meanwhile ("dictionary changed size during iteration").
A real run with a watcher thread; GIL switches are made frequent so the old failure shows on almost every run;
every wait is bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.diagnostics.view_facts import instance_facts
from igniter_nb.notebook.reprs import view_status
from igniter_nb.runtime.children import holds_token
from igniter_nb.runtime.snapshot import snapshot_execution
from igniter_nb.runtime.status import Status

N = 1500


@ig.contract
def Wide(c):
    c.input("x", type="integer")
    for i in range(N):
        c.compute(f"n{i}", call=lambda x, i=i: x + i)
        c.output(f"n{i}")


def asked_during_a_run(ask: Callable[[Any], Any], runs: int = 1) -> list[BaseException]:
    """What ``ask(contract)``, asked over and over by a watcher thread while a threads run resolves every output of a
    ``Wide`` contract, raised (``runs`` runs, each of a new contract)."""
    errors: list[BaseException] = []
    for _ in range(runs):
        contract = Wide(x=1, runner="threads", max_workers=4)
        answers: list[Any] = []
        stop = threading.Event()

        def watch(contract: Any = contract, answers: list[Any] = answers, stop: threading.Event = stop) -> None:
            while not stop.is_set() and len(answers) < 10_000:
                try:
                    answers.append(ask(contract))
                except Exception as exc:
                    errors.append(exc)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            status = contract.status  # resolves every output
        finally:
            stop.set()
            watcher.join(30)
        assert not watcher.is_alive()
        assert status is Status.SUCCEEDED
        assert answers  # it did ask
        assert len(contract.execution.states) == N + 1
    return errors


def test_states_read_from_another_thread_during_a_threads_run_never_raises(frequent_switches: None) -> None:
    assert asked_during_a_run(lambda contract: len(contract.states)) == []


def _or_lookup_error(ask: Callable[[], Any]) -> Any:
    """``ask()``, or the LookupError of "nothing failed / pending" as its answer."""
    try:
        return ask()
    except LookupError as exc:
        return exc


QUESTIONS: dict[str, Callable[[Any], Any]] = {
    "status_of": lambda contract: contract.execution.status_of(),
    "first_error": lambda contract: _or_lookup_error(contract.execution.first_error),
    "first_deferred": lambda contract: _or_lookup_error(contract.execution.first_deferred),
    "view_status": lambda contract: view_status(contract.execution),
    "holds_token": lambda contract: holds_token(contract, "no-such-token"),
    "repr": repr,
    "instance_facts": lambda contract: instance_facts(contract),
    "snapshot": lambda contract: snapshot_execution(contract.execution),
}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_whole_run_questions_from_another_thread_during_a_threads_run_never_raise(
        frequent_switches: None, question: str) -> None:
    # (three runs: the old failure then shows on every test run, not only on most)
    assert asked_during_a_run(QUESTIONS[question], runs=3)[:1] == []
