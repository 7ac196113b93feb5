"""Real Redis and PostgreSQL servers for tests and benchmarks, on free ports in temporary directories.

Use from pytest by importing the fixtures into a ``conftest.py``::

    from tests.services import postgres_url, redis_url  # noqa: F401  (fixtures)

or from a script::

    with RedisServer() as redis, PostgresServer() as pg:
        print(redis.url, pg.url)

Missing binaries are installed with apt-get (never skipped). Servers of one process are shared: however many
conftests import the fixtures, one Redis and one PostgreSQL run per test session.

Ports. ``free_port()`` only says a port was free when it asked: a server told to use it binds it later, and another
process of a busy machine (CI runs many servers at once) can take it in between — then the server fails to start or,
worse, the test talks to the other process. So every server started here on a chosen port waits until *its own*
process (or process group) holds the listening socket, read from /proc/net/tcp and /proc/<pid>/fd
(``wait_listening``, ``listens_on``) — not merely until something answers there — and when the server exits saying
the address is in use, another port is chosen, ``PORT_ATTEMPTS`` times in all, then an error names every port tried
and the log's tail. A port the caller gives is never moved (a restart "on the same port" keeps its meaning).
``on_free_port(start)`` does the same for a server that must know its port before it starts (its own URL in its
settings); ``dead_port()`` holds a port bound, not listening, for a URL where nothing may listen. Where a port can be
bound by the test itself and handed over (``LiveServer``, a uvicorn thread), that is better still: no race at all.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def dead_port() -> Iterator[int]:
    """A loopback port where nothing listens, for as long as the ``with`` block lasts: held bound (not listening,
    no ``SO_REUSEADDR``) by this process, so a connection there is refused and no other process — another test's
    server — can take it meanwhile (a ``free_port()`` URL "where nothing listens" could be answered by one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


_T = TypeVar("_T")


def on_free_port(start: Callable[[int], _T], what: str = "server", *,
                 pid: Callable[[_T], int | None] | None = None, stop: Callable[[_T], object] | None = None) -> _T:
    """``start(port)`` on a ``free_port()``, for a server that must know its port before it starts (its own URL in
    its settings); when the port was taken before the server bound it — ``start`` raised an ``OSError``
    EADDRINUSE, or an error saying "address already in use" — it is called again on another port, up to
    ``PORT_ATTEMPTS`` times. With ``pid`` (the started server's process, which leads its process group) and
    ``stop``: a server whose start was answered by another process listening there (``pid``'s group is not the
    only one listening on the port) is stopped and started again on another port too."""
    tried: list[int] = []
    while True:
        tried.append(free_port())
        try:
            started = start(tried[-1])
        except (OSError, RuntimeError) as exc:
            taken = getattr(exc, "errno", None) == errno.EADDRINUSE or _says_address_in_use(str(exc))
            if not taken:
                raise
            if len(tried) >= PORT_ATTEMPTS:
                raise RuntimeError(f"{what}: every port chosen ({', '.join(map(str, tried))}) was taken by another "
                                   f"process before it listened (last: {tried[-1]}): {exc}") from exc
            continue
        leader = pid(started) if pid is not None else None
        if leader is None or listens_on(leader, tried[-1], group=True, alone=True):
            return started
        if stop is not None:
            stop(started)
        if len(tried) >= PORT_ATTEMPTS:
            raise RuntimeError(f"{what}: every port chosen ({', '.join(map(str, tried))}) was answered by another "
                               f"process (last: {tried[-1]})")


def _server_process_leader(server: Any) -> int | None:
    """The process a ``tests.server.server_process.ServerProcess`` started: it leads the server's process group."""
    proc = getattr(server, "_proc", None)
    return proc.pid if proc is not None else None


# on_free_port(..., **OWN_LISTENER) for a ServerProcess started on the port given: it calls a start done once
# /v1/health answers, which another test's server on that port does too (before this one exits "address in use")
OWN_LISTENER: dict[str, Any] = {"pid": _server_process_leader, "stop": lambda server: server.stop()}


def stop_process_groups(procs: Sequence[subprocess.Popen[Any]], grace: float = 15.0) -> None:
    """Stop processes started with ``start_new_session=True`` and everything they started: SIGTERM to each
    process group, then SIGKILL to a group whose leader has not exited within ``grace`` seconds in all."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _says_address_in_use(text: str) -> bool:
    """A service's words for EADDRINUSE (redis-server, PostgreSQL, uvicorn, ``igniter-nb serve``)."""
    return re.search(r"address (is )?already in use", text, re.IGNORECASE) is not None


class PortTaken(RuntimeError):
    """A service found the port it was told to use already taken by another process."""


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a service's log (for errors)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"


def _listening_inodes(port: int) -> set[str] | None:
    """Inodes of the TCP sockets listening on ``port`` (any address), or None where /proc/net/tcp is missing."""
    found: set[str] = set()
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not tables[0].exists():
        return None
    for table in tables:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                # local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the socket's inode
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def group_pids(pgid: int) -> set[int]:
    """The processes of process group ``pgid`` (read from /proc/<pid>/stat)."""
    pids: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, the last ")" ends it
                if int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                    pids.add(int(entry))
    return pids


def _socket_inodes(pids: set[int]) -> set[str]:
    found: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        with contextlib.suppress(OSError):
            for fd in os.listdir(fd_dir):
                with contextlib.suppress(OSError):
                    link = os.readlink(fd_dir / fd)
                    if link.startswith("socket:["):
                        found.add(link[len("socket:["):-1])
    return found


def listens_on(pid: int, port: int, *, group: bool = False, alone: bool = False) -> bool:
    """Whether process ``pid`` (``group``: any process of the process group ``pid`` leads — a server's workers)
    holds a socket listening on TCP ``port``, read from /proc: the socket's owner, not merely someone answering
    there; ``alone``: and no other process listens there too (two servers with SO_REUSEPORT, of one user, can both
    listen on one port, each then getting some of the connections). Without /proc, whether anything accepts
    connections there."""
    inodes = _listening_inodes(port)
    if inodes is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        return False
    if not inodes:
        return False
    owned = inodes & _socket_inodes((group_pids(pid) | {pid}) if group else {pid})
    return owned == inodes if alone else bool(owned)


def wait_listening(port: int, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 30.0, *,
                   group: bool = False) -> None:
    """Wait until ``proc`` itself (``group``: a process of the group it leads) listens on ``port``. Raises ``PortTaken`` when it exited saying the address is in
    use (another process took the port after it was chosen), ``RuntimeError`` with the log's tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            if _says_address_in_use(log_tail(log, 200)):
                raise PortTaken(f"{what} could not listen on port {port}: the address is already in use")
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting on port {port}; "
                               f"log tail ({log}):\n{log_tail(log)}")
        if listens_on(proc.pid, port, group=group, alone=True):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout}s; log tail ({log}):\n{log_tail(log)}")


PORT_ATTEMPTS = 4  # ports chosen in turn when the one chosen is taken before the service listens


def port_taken_error(what: str, ports: list[int], log: Path) -> RuntimeError:
    return RuntimeError(f"{what}: every port chosen ({', '.join(map(str, ports))}) was taken by another process "
                        f"before it listened (last: {ports[-1]}); log tail ({log}):\n{log_tail(log)}")


def _apt_install(*packages: str) -> None:
    if os.geteuid() != 0:
        raise RuntimeError(f"{', '.join(packages)} missing and not root: install them with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    policy = Path("/usr/sbin/policy-rc.d")
    added = False
    if not policy.exists():  # keep Debian's maintainer scripts from starting the system services
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        added = True
    try:
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if added:
            policy.unlink(missing_ok=True)


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        _apt_install("redis-server")
        found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server not found after installing it")
    return found


def postgres_bindir() -> Path:
    def find() -> Path | None:
        dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
        for d in reversed(dirs):
            if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
                return Path(d)
        initdb = shutil.which("initdb")
        return Path(initdb).resolve().parent if initdb else None

    found = find()
    if found is None:
        _apt_install("postgresql")
        found = find()
    if found is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found after installing postgresql")
    return found


class RedisServer:
    """A throwaway ``redis-server`` (no persistence) on a free port; ``url`` once started.

    A port chosen here (``free_port``: free then, but bound only later by redis-server) that another process takes
    meanwhile is seen for sure — redis-server's own "Address already in use" exit, and the listener on the port must
    be this redis-server's process — and another port is chosen, up to ``PORT_ATTEMPTS`` times. A ``port`` given by
    the caller is used as it is (a clear error when taken)."""

    def __init__(self, port: int | None = None) -> None:
        self._port_chosen_here = port is None
        self._set_port(free_port() if port is None else port)
        self._dir = tempfile.mkdtemp(prefix="igniter-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def _set_port(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"

    @property
    def log_path(self) -> Path:
        return Path(self._dir) / "redis.log"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> RedisServer:
        tried: list[int] = []
        while True:
            tried.append(self.port)
            try:
                self._start()
                return self
            except PortTaken:
                self._stop_process()
                if not self._port_chosen_here:
                    raise RuntimeError(f"redis-server: port {self.port} (given) is taken by another process; "
                                       f"log tail ({self.log_path}):\n{log_tail(self.log_path)}") from None
                if len(tried) >= PORT_ATTEMPTS:
                    raise port_taken_error("redis-server", tried, self.log_path) from None
                self._set_port(free_port())
            except BaseException:
                self._stop_process()
                raise

    def _start(self) -> None:
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self._dir, "--daemonize", "no", "--protected-mode", "no"]
        Path(self._dir).mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        wait_listening(self.port, self._proc, "redis-server", self.log_path)

    def _stop_process(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def stop(self) -> None:
        self._stop_process()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class PostgresServer:
    """A throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl``) on a free port; ``url`` once started.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the ``postgres`` user and the
    binaries run through ``runuser``. ``fsync=False`` (the default for tests) trades power-loss durability,
    which no test needs, for speed; killed *clients* still never see a torn row.
    """

    def __init__(self, *, fsync: bool = False, settings: dict[str, str] | None = None, port: int | None = None) -> None:
        self._port_chosen_here = port is None
        self._set_port(free_port() if port is None else port)
        self.fsync = fsync
        self.settings = dict(settings or {})  # more ``-c name=value`` server settings (bench diagnostics)
        self._dir = Path(tempfile.mkdtemp(prefix="igniter-pg-"))
        self._data = self._dir / "data"
        self._bindir: Path | None = None
        self._started = False

    def _set_port(self, port: int) -> None:
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr or result.stdout}")

    def start(self) -> PostgresServer:
        """``initdb`` once, then ``pg_ctl start``. A port chosen here that another process took before the server
        listened — the server's log says "Address already in use", or the listener there is not this cluster's
        postmaster — is chosen again (same cluster, no second initdb), up to ``PORT_ATTEMPTS`` times."""
        self._bindir = postgres_bindir()
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
        self._run(str(self._bindir / "initdb"), "-D", str(self._data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        tried: list[int] = []
        while True:
            tried.append(self.port)
            try:
                self._start_server()
                return self
            except PortTaken:
                if not self._port_chosen_here:
                    raise RuntimeError(f"PostgreSQL: port {self.port} (given) is taken by another process; "
                                       f"log tail ({self._log}):\n{log_tail(self._log)}") from None
                if len(tried) >= PORT_ATTEMPTS:
                    raise port_taken_error("PostgreSQL", tried, self._log) from None
                self._set_port(free_port())

    @property
    def _log(self) -> Path:
        return self._dir / "log"

    def _start_server(self) -> None:
        assert self._bindir is not None
        options = (f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                   f"-c fsync={'on' if self.fsync else 'off'} -c full_page_writes={'on' if self.fsync else 'off'}"
                   + "".join(f" -c {name}={value}" for name, value in self.settings.items()))
        logged = self._log.stat().st_size if self._log.exists() else 0
        try:
            self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-o", options, "-l", str(self._log),
                      "-w", "-t", "60", "start")
        except RuntimeError:
            with self._log.open("rb") as log:
                log.seek(logged)
                this_start = log.read().decode(errors="replace")
            self._stop_server()  # (nothing to stop, normally; a half-started server must not stay)
            if _says_address_in_use(this_start):
                raise PortTaken(f"PostgreSQL could not listen on port {self.port}") from None
            raise
        self._started = True
        # pg_ctl -w waits for postmaster.pid to say "ready", never asks over TCP; still, the listener must be ours
        if not listens_on(self.postmaster_pid(), self.port, alone=True):
            self._stop_server()
            raise PortTaken(f"port {self.port} is not listened on by this cluster's postmaster")

    def _stop_server(self) -> None:
        if self._bindir is not None and (self._data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "-w", "stop")
        self._started = False

    def log_text(self) -> str:
        """The server's log so far (bench diagnostics: auto_explain writes its plans there)."""
        path = self._dir / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children): for measuring the database's own CPU."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self._started:
            self._stop_server()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ----------------------------------------------------------------------------------------------- shared servers

_shared: dict[str, tuple[Any, int]] = {}
_shared_lock = threading.Lock()


@contextlib.contextmanager
def shared_server(kind: str) -> Iterator[Any]:
    """One server of ``kind`` ("redis" or "postgres") per process, started on first use, stopped on last exit."""
    with _shared_lock:
        server, users = _shared.get(kind, (None, 0))
        if server is None:
            server = (RedisServer() if kind == "redis" else PostgresServer()).start()
        _shared[kind] = (server, users + 1)
    try:
        yield server
    finally:
        with _shared_lock:
            server, users = _shared[kind]
            if users == 1:
                del _shared[kind]
                server.stop()
            else:
                _shared[kind] = (server, users - 1)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server started for this test session."""
    with shared_server("redis") as server:
        yield server.url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a real PostgreSQL server started for this test session."""
    with shared_server("postgres") as server:
        yield server.url
