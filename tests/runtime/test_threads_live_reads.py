"""Whole-run questions asked from another thread while a threads run records nodes: ``status_of()``,
``first_error()``, ``first_deferred()``, the notebook's status badge and a token search. Each iterated the live states
dictionary, which the workers grow meanwhile ("dictionary changed size during iteration"). A real run with a
watcher thread; GIL switches are made frequent so the old failure shows on almost every run; every wait is
bounded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.runtime.children import holds_token
from igniter_nb.runtime.status import Status

N = 1500


@ig.contract
def Wide(c):
    c.input("x", type="integer")
    for i in range(N):
        c.compute(f"n{i}", call=lambda x, i=i: x + i)
        c.output(f"n{i}")


def _none_left(ask: Callable[[], Any]) -> Callable[[], Any]:
    """``ask()``, with the LookupError of "nothing failed / pending" as its answer."""
    def asked() -> Any:
        try:
            return ask()
        except LookupError as exc:
            return exc
    return asked


QUESTIONS: dict[str, Callable[[Any], Any]] = {
    "status_of": lambda contract: contract.execution.status_of(),
    "first_error": lambda contract: _none_left(contract.execution.first_error)(),
    "first_deferred": lambda contract: _none_left(contract.execution.first_deferred)(),
    "view_status": lambda contract: __import__("igniter_nb.notebook.reprs", fromlist=["view_status"]).view_status(
        contract.execution),
    "holds_token": lambda contract: holds_token(contract, "no-such-token"),
    "repr": repr,
}


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_whole_run_questions_from_another_thread_during_a_threads_run_never_raise(
        frequent_switches: None, question: str) -> None:
    ask = QUESTIONS[question]
    errors: list[BaseException] = []
    for _ in range(3):  # (three runs: the old failure then shows on every test run, not only on most)
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
        assert errors[:1] == []
        assert answers  # it did ask
        assert len(contract.execution.states) == N + 1
