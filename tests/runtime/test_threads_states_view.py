"""``contract.states`` (which lists the threads runner's running nodes) read from another thread while a threads
run records nodes: it never raises. It iterated the live states dictionary, which the workers grow meanwhile
("dictionary changed size during iteration"). A real run with a watcher thread; GIL switches are made frequent so
the old failure shows on almost every run; every wait is bounded."""

from __future__ import annotations

import threading

import igniter_nb as ig

N = 1500


@ig.contract
def Wide(c):
    c.input("x", type="integer")
    for i in range(N):
        c.compute(f"n{i}", call=lambda x, i=i: x + i)
        c.output(f"n{i}")


def test_states_read_from_another_thread_during_a_threads_run_never_raises(frequent_switches: None) -> None:
    contract = Wide(x=1, runner="threads", max_workers=4)
    errors: list[BaseException] = []
    views: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set() and len(views) < 10_000:
            try:
                views.append(len(contract.states))
            except Exception as exc:
                errors.append(exc)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        status = str(contract.status)  # resolves every output
    finally:
        stop.set()
        watcher.join(30)
    assert status == "succeeded"
    assert errors == []
    assert views  # it did look
    assert len(contract.states) == N + 1
