"""``igniter-nb serve``: check the settings, then run the app under uvicorn with one or more worker processes.

Uvicorn starts worker processes from an import string, so the settings travel to each worker in environment
variables (``IGNITER_NB_SERVE_*``) and every worker builds its own app with :func:`app_from_environment` —
its own connection to the one shared store. The token itself is never put on a command line or in those
variables: workers read it from the variable ``--token-env`` names.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from igniter_nb.server.serve_target import ServeError, load_contracts
from igniter_nb.settings import BALANCE_MODES

TARGET_VAR = "IGNITER_NB_SERVE_TARGET"
STORE_VAR = "IGNITER_NB_SERVE_STORE"
TOKEN_ENV_VAR = "IGNITER_NB_SERVE_TOKEN_ENV"
MAX_BODY_VAR = "IGNITER_NB_SERVE_MAX_BODY_BYTES"
CORS_VAR = "IGNITER_NB_SERVE_CORS_ORIGINS"
PUBLIC_URL_VAR = "IGNITER_NB_SERVE_PUBLIC_URL"
THREADS_VAR = "IGNITER_NB_SERVE_THREADS"
MAX_STREAMS_VAR = "IGNITER_NB_SERVE_MAX_STREAMS"
CALLBACK_RETRIES_VAR = "IGNITER_NB_SERVE_CALLBACK_RETRIES"
APP = "igniter_nb.server.serve:app_from_environment"  # what each worker process imports and calls
BALANCE = BALANCE_MODES  # how connections reach the workers (--balance, IGNITER_SERVER_BALANCE)
_ANYIO_WORKER = "AnyIO worker thread"  # the name of the threads run_in_threadpool runs work on (anyio's)


def app_from_environment() -> Any:
    """The app of one worker process, built from the ``IGNITER_NB_SERVE_*`` variables (uvicorn's factory).

    In a worker process (``--workers`` > 1) a failure is one line on stderr and exit code ``STARTUP_FAILURE``: that
    is what makes uvicorn's supervisor stop instead of starting the worker again and again (a traceback per
    attempt), and ``serve`` then ends with a ``ServeError``. ``serve`` checked the same things in its own process
    first, so this is rare: a contracts module or a store that behaves differently in the worker."""
    import multiprocessing

    try:
        app = _app()
    except Exception as exc:
        if multiprocessing.parent_process() is None:  # one process: serve's own error handling says it
            raise
        from igniter_nb.server.reuseport import STARTUP_FAILURE

        print(f"igniter-nb serve: worker {os.getpid()} cannot start: {type(exc).__name__}: {exc}", file=sys.stderr,
              flush=True)
        sys.exit(STARTUP_FAILURE)
    _freeze_startup_objects()
    return app


def _freeze_startup_objects() -> None:
    """Move everything the worker holds after startup (the modules of FastAPI, pydantic, SQLAlchemy, the app, the
    store, the contracts: ~90,000 tracked objects) out of the garbage collector's reach (:func:`gc.freeze`).

    They live as long as the worker does, yet every full collection walked them all: 15-50 ms during which the
    worker answered nothing, which put every request it held at that moment into the latency tail (B8's p99).
    After the freeze a full collection walks only what was made since."""
    import gc

    gc.collect()  # what startup left as garbage goes now, not frozen with the rest
    gc.freeze()


def _app() -> Any:
    from igniter_nb.server.app import create_app

    token_env = os.environ.get(TOKEN_ENV_VAR) or None
    return create_app(
        load_contracts(os.environ[TARGET_VAR]),
        store=os.environ.get(STORE_VAR) or None,
        token=os.environ.get(token_env) if token_env else None,
        max_body_bytes=int(os.environ.get(MAX_BODY_VAR, "1000000")),
        cors_origins=json.loads(os.environ.get(CORS_VAR) or "null"),
        public_url=os.environ.get(PUBLIC_URL_VAR) or None,
        threads=_worker_threads(os.environ),
        callback_retries=int(os.environ[CALLBACK_RETRIES_VAR]) if os.environ.get(CALLBACK_RETRIES_VAR) else None,
        max_streams=int(os.environ[MAX_STREAMS_VAR]) if os.environ.get(MAX_STREAMS_VAR) else None,
    )


def _worker_threads(environ: Mapping[str, str]) -> int | None:
    """The ``--threads`` serve handed a worker: None (not given) or a number, 0 included."""
    value = environ.get(THREADS_VAR)
    return int(value) if value else None


def _in_one_process(url: str) -> bool:
    """Whether the store of ``url`` lives inside the process that opens it: ``memory://``, or an SQLite in-memory
    database in any of its spellings (``sqlite://``, ``:memory:``, and with ``uri=true`` ``file::memory:`` or
    ``file:NAME?mode=memory``): the store's own test, :func:`~igniter_nb.stores.sql_engine.memory_database`. A URL
    that cannot be read is not: opening its store (``_check_store``) says what is wrong with it."""
    scheme = url.partition("://")[0].lower()
    if scheme == "memory":
        return True
    if scheme != "sqlite" and not scheme.startswith("sqlite+"):
        return False
    import sqlalchemy as sa

    from igniter_nb.stores.sql_engine import memory_database

    try:
        return memory_database(sa.make_url(url))
    except (ValueError, sa.exc.ArgumentError):
        return False


WORKERS_PER_CPU = 16
"""``--workers`` above this many per CPU (``os.cpu_count()``) is refused: a typo (``--workers 20000``), not a
deployment — each worker is a process with its own app, threads and store connections."""


def serve(target: str, *, host: str, port: int, store: str | None, workers: int, token_env: str | None,
          max_body_bytes: int | None = None, cors_origins: Sequence[str] | None = None, log_level: str | None = None,
          public_url: str | None = None, threads: int | None = None, reuse_port: bool = True,
          max_streams: int | None = None, balance: str | None = None, callback_retries: int | None = None) -> int:
    """Check everything that can be checked here, then run uvicorn until SIGINT/SIGTERM; returns the exit code.

    ``store``, ``token_env``, ``max_body_bytes``, ``cors_origins``, ``log_level``, ``public_url`` and ``threads``
    (threads per worker process for store and contract work, :func:`~igniter_nb.server.app.create_app`) left at None
    come from the ``IGNITER_*`` variables (:mod:`igniter_nb.settings`), else the defaults: a flag wins over the
    environment, the environment over the default. ``balance``, with ``workers`` above 1: how connections reach the
    workers — ``"supervisor"`` (the default on Linux: the supervisor accepts each one and hands it to the worker with
    the fewest open, :mod:`igniter_nb.server.balance`), ``"reuseport"`` (each worker listens on a socket of its own
    with ``SO_REUSEPORT``, :mod:`igniter_nb.server.reuseport`; Linux) or ``"shared"`` (uvicorn's one socket shared
    by the workers; the default elsewhere); ``reuse_port`` False (``--no-reuse-port``) is ``"shared"``. With
    neither given, ``IGNITER_SERVER_BALANCE`` when set.
    ``max_streams``: live streams each worker keeps open at once (None: ``IGNITER_MAX_STREAMS``, else 100).
    ``callback_retries``: retries of each callback the workers send (None: ``IGNITER_CALLBACK_RETRIES``, else 5).
    """
    from igniter_nb import settings
    from igniter_nb.errors import SettingsError

    unset = "is empty (an unset shell variable?)"  # `--host "$HOST"` with HOST unset: "" listens on every interface
    if not host.strip():
        raise ServeError(f"--host {unset}: give the address to listen on, such as 127.0.0.1 (the default), or 0.0.0.0 "
                         "for every interface")
    if store is not None and not store.strip():
        raise ServeError(f"--store {unset}: give a store URL, or leave --store out for $IGNITER_STORE_URL, else "
                         "memory://")
    if token_env is not None and not token_env.strip():
        raise ServeError(f"--token-env {unset}: give the name of the environment variable holding the token")
    if workers < 1:
        raise ServeError(f"--workers must be at least 1, got {workers}")
    cpus = os.cpu_count() or 1
    if workers > WORKERS_PER_CPU * cpus:
        raise ServeError(f"--workers {workers} is more than {WORKERS_PER_CPU * cpus} ({WORKERS_PER_CPU} per CPU, "
                         f"{cpus} CPU{'s' if cpus > 1 else ''} here): each worker is a process with its own app and "
                         "store connections; give about one per CPU, and --threads for more work at once in each")
    if not 0 <= port <= 65535:
        raise ServeError(f"--port must be 0-65535, got {port}")
    if max_body_bytes is not None and max_body_bytes < 1:
        raise ServeError(f"--max-body-bytes must be >= 1, got {max_body_bytes}")
    if threads is not None and threads < 0:
        raise ServeError(f"--threads must be at least 0, got {threads}")
    if max_streams is not None and max_streams < 1:
        raise ServeError(f"--max-streams must be at least 1, got {max_streams}")
    if callback_retries is not None and (type(callback_retries) is not int or callback_retries < 0):
        raise ServeError(f"--callback-retries must be a whole number >= 0, got {callback_retries!r:.80}")
    said = f"--balance {balance}"
    if balance is None and reuse_port:  # neither flag given: IGNITER_SERVER_BALANCE, else the default
        try:
            balance = settings.server_balance()
        except SettingsError as exc:
            raise ServeError(str(exc)) from None
        said = f"{settings.SERVER_BALANCE}={balance}"
    balance = _balance(balance, reuse_port, said)
    try:  # the environment's settings, checked once here rather than in every worker
        max_body_bytes = settings.max_body_bytes(max_body_bytes)
        threads = settings.server_threads(threads)
        callback_retries = settings.callback_retries(callback_retries)
        max_streams = settings.max_streams(max_streams)
        legacy_tokens = settings.legacy_callback_tokens()  # (the workers read it again, from their environment)
        cors_origins = settings.cors_origins(cors_origins, argument="--cors-origin")
        log_level = log_level or settings.log_level_name() or "info"
        public_from = "--public-url" if public_url is not None else settings.PUBLIC_URL
        public_url = settings.public_url(public_url)
        if token_env is None and settings.server_token() is not None:
            token_env = settings.SERVER_TOKEN
    except SettingsError as exc:
        raise ServeError(str(exc)) from None
    if not legacy_tokens and token_env is None:  # (create_app's rule, CallbackTokens.of, said here once)
        raise ServeError(f"{settings.LEGACY_CALLBACK_TOKENS}=0 needs a server token ({settings.SERVER_TOKEN} or "
                         "--token-env): without one, callback tokens carry no tag and the store judges every one")
    if os.getcwd() not in sys.path:  # `igniter-nb serve myapp:CONTRACTS` finds myapp in the current directory
        sys.path.insert(0, os.getcwd())
    load_contracts(target)  # fail here, once, with a clear message — not in every worker
    url = store or settings.store_url() or "memory://"
    if workers > 1 and _in_one_process(url):
        came = ("from --store" if store else f"from {settings.STORE_URL}" if settings.store_url() else
                f"the default: no --store, and {settings.STORE_URL} unset or empty")
        raise ServeError(f"--workers {workers} with store {settings.redact_url(url)!r} ({came}): "
                         "an in-memory store lives inside one process, so each worker would keep its own workflows and "
                         "events would miss them. Give a shared store: --store sqlite:///igniter.db, "
                         "postgresql+psycopg://... or redis://...")
    if public_url is not None:
        from igniter_nb.server.app import check_public_url

        try:
            check_public_url(public_url)
        except ValueError as exc:
            raise ServeError(f"{public_from}: {exc}") from None
    if token_env is not None and not os.environ.get(token_env):
        raise ServeError(f"--token-env {token_env}: the environment variable {token_env} is not set or is empty")
    if token_env is not None and not settings.token_sendable(os.environ[token_env]):  # create_app's rule, said here, once
        raise ServeError(f"--token-env {token_env}: the token in {token_env} starts or ends with whitespace or holds "
                         "control characters (its value is not shown): no client could send it back, so every "
                         "request would be a 401")
    from igniter_nb.server import reuseport

    def address_free() -> None:  # with a message here, not in uvicorn's log and exit code 3 (port 0 too: a host
        with _listening_error(host, port):  # that does not resolve fails with any port)
            reuseport.check_free(host, port)

    # Everything else, the address too, is checked before the store is first read (which creates an SQLite file
    # and a SQL store's tables): a start refused for a flag leaves no new database behind.
    _check_store(url, "--store" if store else settings.STORE_URL, before_reading=address_free)

    os.environ.update({TARGET_VAR: target, STORE_VAR: url, TOKEN_ENV_VAR: token_env or "",
                       MAX_BODY_VAR: str(max_body_bytes), CORS_VAR: json.dumps(list(cors_origins or []) or None),
                       PUBLIC_URL_VAR: public_url or "", THREADS_VAR: "" if threads is None else str(threads),
                       MAX_STREAMS_VAR: str(max_streams), CALLBACK_RETRIES_VAR: str(callback_retries)})
    import uvicorn

    # ws="none": the app serves no WebSocket, so an upgrade request is answered as the plain HTTP request it also
    # is. Taken, its connection would go to uvicorn's WebSocket protocol, whose close the connection balancer
    # never hears of: counted open for ever, each one tipping later connections onto the other workers.
    options: dict[str, Any] = dict(factory=True, log_level=log_level, log_config=_log_config(log_level),
                                   timeout_graceful_shutdown=10, http="igniter_nb.server.nodelay:NoDelayHTTPProtocol",
                                   ws="none")
    if workers > 1 and balance == "supervisor":
        from igniter_nb.server import balance as balanced

        with _listening_error(host, port):
            listener = balanced.bind(host, port)
        try:
            with listener, _sigterm_ends_cleanly():
                failed = balanced.run(APP, listener, host=host, workers=workers, **options)
        except balanced.BalancerError as exc:
            raise ServeError(f"{exc}, so all {workers} workers were stopped") from None
        return _after_workers(failed, workers)
    if workers > 1 and balance == "reuseport":
        with _listening_error(host, port):
            held = reuseport.reserve(host, port)
        with held, _sigterm_ends_cleanly():
            failed = reuseport.run(APP, held, host=host, workers=workers, **options)
        return _after_workers(failed, workers)
    if workers > 1:
        with _sigterm_ends_cleanly():
            failed = reuseport.run_shared(APP, host=host, port=port, workers=workers, **options)
        return _after_workers(failed, workers)
    with _sigterm_ends_cleanly():
        uvicorn.run(APP, host=host, port=port, workers=workers, **options)
    _exit_without_abandoned_work()
    return 0


def _exit_without_abandoned_work(settle: float = 1.0) -> None:
    """End this process at once when threads of the app's threadpool (anyio's worker threads, which run store and
    contract work) still run the work of requests that uvicorn's graceful shutdown stopped waiting for (they were
    answered 503, :mod:`igniter_nb.server.stopped`): Python would wait for them at exit for as long as a node takes,
    past the 10 s the shutdown gives (a node that never returns: for ever). A worker process of ``--workers N`` ends
    the same way: uvicorn raises the stopping signal again once it shut down. Threads that end within ``settle``
    seconds (the pool's idle ones, stopped with the event loop) are waited for; other threads (the application's
    own) are left to Python's exit as before."""
    import logging
    import time

    if threading.current_thread() is not threading.main_thread():
        return
    deadline = time.monotonic() + settle
    busy = [each for each in threading.enumerate() if each.name == _ANYIO_WORKER and not each.daemon]
    for each in busy:
        each.join(max(0.0, deadline - time.monotonic()))
    busy = [each for each in busy if each.is_alive()]
    if not busy:
        return
    logging.getLogger("uvicorn.error").warning(f"igniter-nb serve: {len(busy)} thread(s) still run the work of "
                                               "requests stopped by the shutdown; exiting without them")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _balance(balance: str | None, reuse_port: bool, said: str = "") -> str:
    """The ``--balance`` mode asked for (None: the default here), checked against ``--no-reuse-port`` and this
    system; ``said``: how it was asked for (``--balance reuseport`` or ``IGNITER_SERVER_BALANCE=reuseport``)."""
    from igniter_nb.server import balance as balanced
    from igniter_nb.server import reuseport

    said = said or f"--balance {balance}"
    if balance is not None and balance not in BALANCE:
        raise ServeError(f"--balance must be one of {', '.join(BALANCE)}, got {balance!r}")
    if not reuse_port:
        if balance not in (None, "shared"):
            raise ServeError(f"--no-reuse-port is --balance shared; it cannot go with --balance {balance}")
        return "shared"
    if balance is None:
        return "supervisor" if balanced.supported() else "shared"
    if balance == "supervisor" and not balanced.supported():
        raise ServeError(f"{said} needs Linux (this is {sys.platform}); use --balance shared")
    if balance == "reuseport" and not reuseport.supported():
        raise ServeError(f"{said} needs Linux (this is {sys.platform}); use --balance shared")
    return balance


def _after_workers(failed: bool, workers: int) -> int:
    """0 once the supervisor of ``workers`` processes stopped on a signal; a ``ServeError`` when it stopped
    because a worker could not start (uvicorn returns normally then)."""
    if failed:
        raise ServeError(f"a worker failed to start (the reason is in the log above), so all {workers} workers "
                         "were stopped")
    return 0


@contextlib.contextmanager
def _listening_error(host: str, port: int) -> Iterator[None]:
    import errno

    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"--host {host} --port {port}: the address is already in use (another server listens "
                             "there): stop it or choose another --port") from None
        raise ServeError(f"--host {host} --port {port}: cannot listen there: {exc.strerror or exc}"
                         f"{_host_hint(host)}") from None


def _host_hint(host: str) -> str:
    """What may be wrong with a ``--host`` no socket could listen on, when its form says it."""
    if host != host.strip():
        return f"; the host has spaces around it: --host {host.strip()}"
    if host.startswith("[") and host.endswith("]"):
        return f"; give an IPv6 address without brackets: --host {host[1:-1]}"
    return ""


def _log_config(level: str) -> dict[str, Any]:
    """Uvicorn's logging configuration plus the ``igniter_nb`` logger at ``level`` on uvicorn's stderr handler
    (not propagated, as uvicorn's own loggers, so a root handler set up by the contracts' module does not print
    each record twice). Uvicorn applies it in every worker process."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["igniter_nb"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


class _Stopped(Exception):
    pass


@contextlib.contextmanager
def _sigterm_ends_cleanly() -> Iterator[None]:
    """Uvicorn shuts down gracefully on SIGTERM, then raises the signal again under the handler it found; with
    this handler that ends ``serve`` with exit code 0 (as SIGINT does), not with death by signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stopped(signum: int, frame: Any) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stopped)
    try:
        yield
    except _Stopped:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_store(url: str, source: str, before_reading: Callable[[], None] = lambda: None) -> None:
    """Open the store of ``url`` (a URL no store takes stops here), run ``before_reading``, then read it once."""
    from igniter_nb.errors import IgniterError
    from igniter_nb.settings import redact_url, redacted_line
    from igniter_nb.stores.url import from_url

    try:
        store = from_url(url)  # creates nothing yet: no file, no connection
    except (IgniterError, ImportError, ValueError) as exc:
        raise ServeError(f"{source} {redact_url(url)!r}: "
                         f"{redacted_line(exc, url) or type(exc).__name__}") from exc
    lock = getattr(getattr(store, "_gate", None), "path", None)  # an SQLite file store's write lock file
    made_lock, closed = isinstance(lock, str) and not os.path.lexists(lock), False
    try:
        before_reading()
        try:  # one read, so that a database that cannot be reached or opened stops serve here, not every request
            store.exists("igniter-nb-serve-probe")
        except Exception as exc:  # any failure to read is reported the same way: the store (its URL) and the cause
            closed = True
            store.close()
            if made_lock:  # the failed read made it beside a file that is no database, or a directory
                with contextlib.suppress(OSError):
                    os.remove(str(lock))
            raise ServeError(f"{source} {redact_url(url)!r}: the store cannot be read: "
                             f"{_cause_text(exc, store, url)}") from exc
    finally:
        if not closed:
            store.close()


def _cause_text(exc: BaseException, store: Any, url: str) -> str:
    """``Type: first line`` of what went wrong, said once, without ``url``'s password (hidden before the line is
    cut: a cut password would no longer be found): a store's ``StoreError`` wrapping a driver's error (which named
    the store and the driver's type in its own text) gives way to the driver's error (a SQLAlchemy error to the
    DBAPI error it wraps); a ``StoreError`` of its own is its text without the store's name, which the URL before it
    already gives."""
    from igniter_nb._error_text import described
    from igniter_nb.errors import StoreError
    from igniter_nb.settings import redacted_line

    if isinstance(exc, StoreError) and exc.__cause__ is not None:
        exc = exc.__cause__
        exc = getattr(exc, "orig", None) or exc
    elif isinstance(exc, StoreError):
        return redacted_line(exc.message.strip().removeprefix(f"{store!r}:"), url) or type(exc).__name__
    return described(exc, redacted_line(exc, url))


__all__ = ["ServeError", "app_from_environment", "load_contracts", "serve"]
