"""How the worker processes of ``igniter-nb serve --workers N`` get their connections by default on Linux: the
supervisor accepts each one and hands it to the worker that holds the fewest open connections (what Node's cluster
module does), so 16 keep-alive clients over 2 workers are served 8+8, not as the kernel's hash falls.

The supervisor process (uvicorn's :class:`~uvicorn.supervisors.Multiprocess`, which still starts the workers,
restarts one that dies and stops them on SIGINT/SIGTERM) holds the one listening socket. A thread there
(:class:`Balancer`) accepts connections and sends each one's file descriptor to a worker over that worker's own
``AF_UNIX`` channel (``socket.send_fds``). Each worker (:class:`BalancedServer`, uvicorn's
:class:`~uvicorn.Server` with no listening socket of its own) reads its channel on its event loop and serves every
descriptor it receives with ``loop.connect_accepted_socket`` and uvicorn's own protocol factory; it reports each
connection it closes back over the channel, which is how the supervisor counts a worker's open connections
(:mod:`igniter_nb.server.balance_worker`).

- A worker takes connections once its app has started (it says so on its channel); the supervisor starts listening
  once every worker has, or ``grace`` seconds after the first one did if another one does not.
- A worker that dies (or stops) closes its channel: it gets nothing more. The worker uvicorn starts instead gets
  a new channel (:class:`BalancedProcess` is the process class the supervisor makes while :func:`supervise` runs)
  and takes its share of new connections again.
- A worker that shuts down gracefully first shuts its channel for reading — the supervisor's next hand-over to it
  fails and goes to another worker — and gives back the connections already queued to it; then uvicorn's shutdown
  finishes the requests in flight as with a listening socket.
- With no worker ready (all of them restarting), the supervisor stops accepting: new connections wait in the
  kernel's backlog.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import sys
import threading
import time
from collections import deque
from typing import Any

from uvicorn import Server
from uvicorn.supervisors.multiprocess import Process

from igniter_nb.server.balance_worker import CLOSED, CONNECTION, GIVEN_BACK, READY, BalancedServer, receive
from igniter_nb.server.reuseport import bound, run_supervisor
from igniter_nb.server.worker_process import processes_made_by

logger = logging.getLogger("uvicorn.error")

STARTUP_GRACE = 30.0  # seconds after the first worker is ready before listening without the others


def supported() -> bool:
    """Whether the supervisor can hand connections to the workers here (Linux: ``SOCK_SEQPACKET`` channels that
    carry file descriptors)."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") and hasattr(socket, "SOCK_SEQPACKET")


def bind(host: str, port: int) -> socket.socket:
    """The supervisor's socket, bound to ``host:port`` (port 0: the kernel chooses, read it from ``getsockname()``)
    and not yet listening. Raises :class:`OSError` when nothing can listen there (a server already does, the
    address is not this machine's)."""
    return bound(host, port, reuse_port=False)


# ----------------------------------------------------------------------------------------------- the supervisor


class _Worker:
    def __init__(self, channel: socket.socket, pid: int | None) -> None:
        self.channel = channel
        self.pid = pid
        self.ready = False  # its app has started
        self.stopping = False  # it gave connections back or refused one: send it nothing more
        self.open = 0  # connections sent to it and not yet reported closed


class Balancer:
    """The supervisor's thread that accepts connections on ``listener`` and hands each to the ready worker with the
    fewest open connections (ties: round robin). ``add`` a worker's channel once its process has started;
    ``stopping`` set (the supervisor's ``should_exit``) closes the listening socket; ``close()`` ends the thread.
    ``workers``: how many workers to wait for before listening (at most ``grace`` seconds after the first)."""

    def __init__(self, listener: socket.socket, workers: int, *, stopping: threading.Event | None = None,
                 backlog: int = 2048, grace: float = STARTUP_GRACE) -> None:
        self._listener: socket.socket | None = listener
        self._wanted = workers
        self._stopping = stopping or threading.Event()
        self._backlog = backlog
        self._grace = grace
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._lock = threading.Lock()
        self._added: list[_Worker] = []  # from other threads, taken by the balancer's thread
        self._workers: list[_Worker] = []  # the balancer's thread's own from here on
        self._pending: deque[socket.socket] = deque()  # accepted, no worker took them yet
        self._listening = False
        self._accepting = False
        self._first_ready: float | None = None
        self._turn = 0
        self._closed = threading.Event()
        self.failed = False  # the thread stopped on an error (logged): the supervisor was told to stop
        self._thread = threading.Thread(target=self._run, name="igniter-nb balancer", daemon=True)

    def start(self) -> Balancer:
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._thread.start()
        return self

    def add(self, channel: socket.socket, pid: int | None = None) -> None:
        """A worker's channel (the supervisor's end); any thread."""
        channel.setblocking(False)
        with self._lock:
            self._added.append(_Worker(channel, pid))
        self._wake()

    def close(self) -> None:
        """Stop the thread and close the listening socket, the channels and any connection not handed over."""
        self._closed.set()
        self._wake()
        if self._thread.is_alive():
            self._thread.join()
        for worker in self._workers + self._added:
            worker.channel.close()
        while self._pending:
            self._pending.popleft().close()
        if self._listener is not None:
            self._listener.close()
        self._selector.close()
        self._wake_read.close()
        self._wake_write.close()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway) or closed
            self._wake_write.send(b"x")

    def _run(self) -> None:
        try:
            while not self._closed.is_set():
                if self._stopping.is_set():
                    self._stop_listening()
                events = self._selector.select(timeout=0.2)
                for key, _ in events:  # what the workers said first: the counts the next hand-overs go by
                    if key.data is None:
                        self._take_added()
                    elif key.data is not self._listener:
                        self._from_worker(key.data)
                if self._listener is not None and any(key.data is self._listener for key, _ in events):
                    self._accept()
                self._update_listening()
        except Exception:  # a bug here must not leave the server silently deaf: say it, stop the supervisor
            logger.exception("igniter-nb serve: the connection balancer failed; stopping")
            self.failed = True
            self._stopping.set()

    def _take_added(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(512):
                pass
        with self._lock:
            added, self._added = self._added, []
        for worker in added:
            self._workers.append(worker)
            self._selector.register(worker.channel, selectors.EVENT_READ, worker)

    def _ready(self) -> list[_Worker]:
        return [worker for worker in self._workers if worker.ready and not worker.stopping]

    def _update_listening(self) -> None:
        if self._listener is None:
            return
        ready = self._ready()
        if not self._listening:
            if not ready or self._first_ready is None:
                return
            if len(ready) < self._wanted and time.monotonic() - self._first_ready < self._grace:
                return
            if len(ready) < self._wanted:
                logger.warning(f"{len(ready)} of {self._wanted} workers have started after {self._grace:.0f} s; "
                               "taking connections with those")
            self._listener.setblocking(False)
            self._listener.listen(self._backlog)
            self._listening = True
        if ready and not self._accepting:  # no worker ready: connections wait in the kernel's backlog
            self._selector.register(self._listener, selectors.EVENT_READ, self._listener)
            self._accepting = True
        elif not ready and self._accepting:
            self._selector.unregister(self._listener)
            self._accepting = False
        for _ in range(len(self._pending) if ready else 0):
            self._hand(self._pending.popleft())

    def _stop_listening(self) -> None:
        if self._listener is None:
            return
        if self._accepting:
            self._selector.unregister(self._listener)
            self._accepting = False
        self._listener.close()
        self._listener = None
        while self._pending:
            self._pending.popleft().close()

    def _accept(self) -> None:
        assert self._listener is not None
        first = True
        while True:
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:  # out of descriptors or memory: leave the rest queued a moment
                logger.error(f"igniter-nb serve: cannot accept a connection: {exc}")
                time.sleep(0.1)
                return
            with contextlib.suppress(OSError):  # Nagle off (see nodelay.py); a connection reset already
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if not first:  # closes reported while this burst is accepted (the first one's were read just before)
                for worker in list(self._workers):
                    self._from_worker(worker)
            first = False
            self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        """Send ``connection`` to the ready worker with the fewest open connections (ties: the next in turn), then
        close it here; with no worker able to take it now, keep it until one is."""
        count = len(self._workers)
        ready = sorted(self._ready(), key=lambda w: (w.open, (self._workers.index(w) - self._turn) % count))
        for worker in ready:
            worker.open += 1  # counted before it is sent: a worker never holds a connection the count misses
            try:
                socket.send_fds(worker.channel, [CONNECTION], [connection.fileno()])
            except BlockingIOError:  # its queue is full (it is not reading now): the next one
                worker.open -= 1
                continue
            except OSError:  # it shut its channel (stopping) or died: nothing more for it
                worker.open -= 1
                worker.stopping = True
                continue
            self._turn = (self._workers.index(worker) + 1) % count
            connection.close()
            return
        self._pending.append(connection)

    def _from_worker(self, worker: _Worker) -> None:
        while True:
            received = receive(worker.channel, 32)
            if received is None:
                return
            message, fds = received
            if not message and not fds:  # the worker closed its channel: it stopped or died
                self._drop(worker)
                return
            if message == READY:
                worker.ready = True
                if self._first_ready is None:
                    self._first_ready = time.monotonic()
                logger.info(f"Worker [{worker.pid}] takes connections")
            elif message.startswith(CLOSED) and message[1:].isdigit():
                worker.open = max(0, worker.open - int(message[1:]))
            elif message == GIVEN_BACK:
                worker.stopping = True
            for fd in fds:  # connections a stopping worker gave back go to the others
                self._hand(socket.socket(fileno=fd))

    def _drop(self, worker: _Worker) -> None:
        self._selector.unregister(worker.channel)
        worker.channel.close()
        self._workers.remove(worker)
        self._turn = 0

    def counts(self) -> dict[int | None, int]:
        """{worker pid: open connections} as the supervisor counts them (for tests; racy while it runs)."""
        return {worker.pid: worker.open for worker in list(self._workers)}


# ------------------------------------------------------------------------------------- the workers' processes


class BalancedProcess(Process):
    """Uvicorn's worker process, with a channel to the supervisor's :class:`Balancer` (a new one for each process,
    also one started to replace a worker that died) and a :class:`BalancedServer` inside."""

    def __init__(self, config: Any, sockets: list[socket.socket], balancer: Balancer) -> None:
        self._balancer = balancer
        self._channel, self._worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        super().__init__(config, sockets)

    def __getstate__(self) -> dict[str, Any]:  # what the new process gets: its end of the channel, not ours
        state = dict(self.__dict__)
        del state["_balancer"], state["_channel"]
        return state

    def start(self) -> None:
        try:
            super().start()
        except BaseException:
            self._channel.close()
            raise
        finally:
            self._worker_end.close()  # the worker has its own copy now; ours would hide its death from the balancer
        self._balancer.add(self._channel, self.pid)

    @property
    def server(self) -> Server:  # in the worker process: uvicorn's target runs this server
        if self._server is None:
            self._server = BalancedServer(self.config, self._worker_end)
        return self._server


class BalancerError(Exception):
    """The supervisor's connection balancer stopped on an error (in the log); the supervisor stopped the workers."""


def supervise(config: Any, listener: socket.socket, *, grace: float = STARTUP_GRACE) -> bool:
    """Run uvicorn's worker supervisor with the workers fed by a :class:`Balancer` accepting on ``listener`` (bound,
    :func:`bind`), until it stops; returns as :func:`igniter_nb.server.reuseport.supervise` does (True when a worker
    failed to start). Raises :class:`BalancerError` when it stopped because the balancer failed."""
    from uvicorn.supervisors import Multiprocess

    supervisor = Multiprocess(config, sockets=[])
    balancer = Balancer(listener, config.workers, stopping=supervisor.should_exit, backlog=config.backlog,
                        grace=grace).start()
    try:
        with processes_made_by(lambda config, sockets: BalancedProcess(config, sockets, balancer)):
            failed = run_supervisor(supervisor)
    finally:
        balancer.close()
    if balancer.failed:
        raise BalancerError("the connection balancer failed (the reason is in the log above)")
    return failed


def run(app: str, listener: socket.socket, *, host: str, workers: int, **options: Any) -> bool:
    """``uvicorn.run(app, host=, port=, workers=, **options)`` on the port ``listener`` is bound to (:func:`bind`),
    the supervisor handing each connection to a worker; returns as :func:`supervise` does. Linux only
    (:func:`supported`)."""
    from uvicorn import Config

    port = int(listener.getsockname()[1])
    config = Config(app, host=host, port=port, workers=workers, **options)  # also sets up uvicorn's logging
    address = f"[{host}]" if ":" in host else host
    # uvicorn's own line when it binds (with --port 0, scripts read the port there)
    logger.info(f"Uvicorn running on http://{address}:{port} (Press CTRL+C to quit)")
    logger.info(f"The supervisor hands each connection to the one of the {workers} workers with the fewest open")
    return supervise(config, listener)


__all__ = ["CLOSED", "CONNECTION", "GIVEN_BACK", "READY", "BalancedProcess", "BalancedServer", "Balancer",
           "BalancerError", "bind", "run", "supervise", "supported"]
