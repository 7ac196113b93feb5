"""RQ's job timeout kept out of the engine: it must end a job unsaved, not become a node's failure.

RQ times a job out with SIGALRM (``UnixSignalDeathPenalty``, its default): the handler raises ``JobTimeoutException``,
an ``Exception``, wherever the job is. Raised inside a compute, the engine took it for the compute's own error: the
node failed, the workflow was saved as failed, and the job finished as a success, its retries never used. While a job
body runs, :func:`timeouts_pass_through` puts a handler of its own in front of RQ's that raises the same exception
wrapped in a ``BaseException``, which the engine lets through without saving (as it does Ctrl-C), and unwraps it once
out of the engine, so RQ sees its own exception with its own message.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from rq.timeouts import BaseDeathPenalty, JobTimeoutException


class JobTimedOut(BaseException):
    """RQ's timeout on its way through the engine (``args[0]`` is RQ's exception); an execution it interrupts emits
    ``execution_failed`` with ``"interrupted: JobTimedOut"``, as Ctrl-C's does, and saves nothing."""


@contextlib.contextmanager
def timeouts_pass_through() -> Iterator[None]:
    """Around a job body: RQ's SIGALRM timeout raises ``JobTimeoutException`` here, not inside a compute. Nothing
    changes without an RQ alarm handler in place (called directly, another death penalty, not the main thread)."""
    sigalrm = getattr(signal, "SIGALRM", None)
    if sigalrm is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    rq_handler: Any = signal.getsignal(sigalrm)
    if not isinstance(getattr(rq_handler, "__self__", None), BaseDeathPenalty):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        try:
            rq_handler(signum, frame)  # raises RQ's exception, with RQ's message
        except BaseException as exc:
            raise JobTimedOut(exc) from None

    signal.signal(sigalrm, on_alarm)
    try:
        yield
    except JobTimedOut as timed_out:
        raise timed_out.args[0] from None
    finally:
        signal.signal(sigalrm, rq_handler)


def is_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is RQ's job timeout: the job was stopped, not refused, so a retry may finish it."""
    return isinstance(exc, JobTimeoutException)


__all__ = ["is_timeout", "timeouts_pass_through"]
