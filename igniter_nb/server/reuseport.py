"""How the worker processes of ``igniter-nb serve --workers N --balance reuseport`` listen: each on a socket of its
own, bound to the one host:port with ``SO_REUSEPORT``, so that the kernel spreads new connections over the workers.
(The default on Linux is :mod:`igniter_nb.server.balance`: the supervisor hands each connection over by count.)
This module also has what every mode shares: the port checks and running uvicorn's supervisor.

Uvicorn's supervisor binds one listening socket and hands it to every worker: all of them wait on one accept
queue, and the worker that wakes first accepts every connection queued by then (asyncio and uvloop accept
several per wakeup). Keep-alive clients that connect together then land mostly on one worker while another
idles. With one socket per worker, Linux picks the socket of each new connection by a hash of its addresses
and ports, so connections are spread whatever the workers are doing (evenly on average: a hash, not a count).
Elsewhere (macOS, the BSDs) ``SO_REUSEPORT`` does not spread connections, and :func:`supported` is False:
``serve`` keeps uvicorn's shared socket there.

Uvicorn's multiprocess supervisor still runs the workers (restarts one that dies, SIGINT/SIGTERM, graceful
shutdown). It passes its list of sockets to each worker it starts by pickling them; here that list holds a
:class:`WorkerListener`, which arrives in the worker as a new socket of the worker's own, bound to the address
with ``SO_REUSEPORT`` — also in a worker started later to replace one that died — and uvicorn makes it listen
once the worker's app has started. The parent process holds the port meanwhile with a socket bound there that
never listens (:func:`reserve`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from typing import Any, cast

STARTUP_FAILURE = 3  # uvicorn.config.STARTUP_FAILURE: the supervisor stops instead of restarting the worker


def supported() -> bool:
    """Whether the kernel spreads connections over sockets bound with ``SO_REUSEPORT`` (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn binds its own socket


def _tcp_socket(host: str, *, reuse_port: bool) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on connections accepted from a socket that says so
    sock = socket.socket(_family(host), socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError:
        sock.close()
        raise
    return sock


def check_free(host: str, port: int) -> int:
    """Bind a socket to ``host:port`` as uvicorn would and close it; returns the port (the one the kernel chose
    when ``port`` is 0). Raises :class:`OSError` when nothing can listen there: a server already does (one with
    ``SO_REUSEPORT`` too — a second ``igniter-nb serve`` must not quietly share the port with the first), the
    address is not this machine's, the host does not resolve."""
    with _tcp_socket(host, reuse_port=False) as probe:
        probe.bind((host, port))
        return int(probe.getsockname()[1])


def bound(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound to ``host:port``, not listening; closed again when the bind fails (the error raised)."""
    sock = _tcp_socket(host, reuse_port=reuse_port)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT``; once it listens, it is one more socket of the group
    the kernel spreads that address's connections over (a socket that does not listen gets none)."""
    return bound(host, port, reuse_port=True)


def reserve(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` with ``SO_REUSEPORT`` that never listens, for the parent process to hold
    while the workers listen there (so another user cannot take the port between two workers' lives); with
    ``port`` 0 the kernel chooses the port, read it from ``getsockname()``. Raises :class:`OSError` as
    :func:`check_free`."""
    return bind(host, check_free(host, port))


def _bind_in_worker(host: str, port: int) -> socket.socket:
    try:
        return bind(host, port)
    except OSError as exc:  # the parent checked the address, so this is rare: say it and stop the supervisor
        print(f"igniter-nb serve: a worker cannot listen on {host}:{port}: {exc}", file=sys.stderr, flush=True)
        sys.exit(STARTUP_FAILURE)


class WorkerListener:
    """Stands in the supervisor's list of sockets: unpickled in a worker process, it is a new socket of that
    worker's own, bound with ``SO_REUSEPORT`` (:func:`bind`). Uvicorn makes it listen once the app has started, as
    it does with the socket it shares, so a worker still starting gets no connections."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return _bind_in_worker, (self.host, self.port)


def run(app: str, held: socket.socket, *, host: str, workers: int, **options: Any) -> bool:
    """``uvicorn.run(app, host=, port=, workers=, **options)`` on the port ``held`` (``reserve(host, port)``) with
    one ``SO_REUSEPORT`` socket per worker; returns when the supervisor stops: True if it stopped because a worker
    failed to start (see :func:`supervise`). Linux only (:func:`supported`)."""
    from uvicorn import Config

    port = int(held.getsockname()[1])
    config = Config(app, host=host, port=port, workers=workers, **options)  # also sets up uvicorn's logging
    address = f"[{host}]" if ":" in host else host
    logger = logging.getLogger("uvicorn.error")
    # uvicorn's own line when it binds (with --port 0, scripts read the port there)
    logger.info(f"Uvicorn running on http://{address}:{port} (Press CTRL+C to quit)")
    logger.info(f"Each of the {workers} workers listens on its own SO_REUSEPORT socket")
    return supervise(config, [cast(socket.socket, WorkerListener(host, port))])


def run_shared(app: str, *, host: str, port: int, workers: int, **options: Any) -> bool:
    """What ``uvicorn.run`` does with ``workers`` > 1 (one listening socket the workers share), returning as
    :func:`run` does."""
    from uvicorn import Config

    config = Config(app, host=host, port=port, workers=workers, **options)
    return supervise(config, [config.bind_socket()])


def supervise(config: Any, sockets: list[socket.socket]) -> bool:
    """Run uvicorn's worker supervisor until it stops, its workers stopping by themselves if it is killed
    (:mod:`igniter_nb.server.worker_process`); returns as :func:`run_supervisor`."""
    from uvicorn.supervisors import Multiprocess

    from igniter_nb.server.worker_process import WatchedProcess, processes_made_by

    supervisor = Multiprocess(config, sockets=sockets)
    with processes_made_by(WatchedProcess):
        return run_supervisor(supervisor)


def run_supervisor(supervisor: Any) -> bool:
    """Run ``supervisor`` (uvicorn's ``Multiprocess``) until it stops. True when it stopped because a worker failed
    before it started serving (it exited with ``STARTUP_FAILURE``: the app, e.g. its contracts module, raised in the
    worker): ``uvicorn.run`` returns normally then, and ``serve`` would have ended with exit code 0."""
    with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: a Ctrl-C before the supervisor's handlers
        supervisor.run()
    return any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)


__all__ = ["WorkerListener", "bind", "bound", "check_free", "reserve", "run", "run_shared", "run_supervisor", "supervise", "supported"]
