"""The worker processes of ``igniter-nb serve --workers N``: uvicorn's, made by our class while its supervisor runs
(:func:`processes_made_by`), each stopping by itself once the supervisor is gone (:class:`WatchedProcess`).

Uvicorn's supervisor stops its workers on SIGINT/SIGTERM. Killed with SIGKILL (``kill -9``, the OOM killer) it
cannot, and uvicorn's workers do not notice: they serve on as orphans — with ``--balance reuseport`` or ``shared``
holding the port, so an ``igniter-nb serve`` started again is refused it (the address is in use) while the orphans
serve the old code. A :class:`WatchedServer` looks once a second whether its parent process is still the supervisor
that started it (a process whose parent dies is adopted by init or a subreaper, so its parent pid changes) and, when
it is not, shuts down gracefully, as on SIGTERM. (With ``--balance supervisor`` a worker also stops as soon as its
channel to the supervisor closes: :mod:`igniter_nb.server.balance_worker`.)
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from typing import Any

from uvicorn import Server
from uvicorn.supervisors.multiprocess import Process

logger = logging.getLogger("uvicorn.error")

WATCH_TICKS = 10  # uvicorn's server ticks every 0.1 s: look at the parent once a second


class WatchedServer(Server):
    """Uvicorn's server for one worker process, stopping gracefully once the supervisor that started it is gone."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        parent = multiprocessing.parent_process()  # the supervisor's pid, also if it died before we got here
        self.supervisor = parent.pid if parent is not None else None

    def supervisor_gone(self) -> bool:
        return self.supervisor is not None and os.getppid() != self.supervisor

    async def on_tick(self, counter: int) -> bool:
        if counter % WATCH_TICKS == 0 and not self.should_exit and self.supervisor_gone():
            logger.warning(f"igniter-nb serve: worker {os.getpid()}: its supervisor [{self.supervisor}] is gone; "
                           "stopping")
            self.should_exit = True
        return await super().on_tick(counter)


class WatchedProcess(Process):
    """Uvicorn's worker process with a :class:`WatchedServer` inside."""

    @property
    def server(self) -> Server:  # in the worker process: uvicorn's target runs this server
        if self._server is None:
            self._server = WatchedServer(self.config)
        return self._server


@contextlib.contextmanager
def processes_made_by(make: Callable[..., Any]) -> Iterator[None]:
    """Uvicorn's supervisor makes each worker process with ``Process(config, sockets)`` (a module global of
    ``uvicorn.supervisors.multiprocess``): point that name at ``make`` while the supervisor runs, in this
    (the supervisor's) process only."""
    from uvicorn.supervisors import multiprocess

    original = multiprocess.Process
    multiprocess.Process = make  # type: ignore[misc, assignment]
    try:
        yield
    finally:
        multiprocess.Process = original  # type: ignore[misc]


__all__ = ["WatchedProcess", "WatchedServer", "processes_made_by"]
