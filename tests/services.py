"""Real Redis and PostgreSQL servers for tests and benchmarks, on free ports in temporary directories.

Use from pytest by importing the fixtures into a ``conftest.py``::

    from tests.services import postgres_url, redis_url  # noqa: F401  (fixtures)

or from a script::

    with RedisServer() as redis, PostgresServer() as pg:
        print(redis.url, pg.url)

Missing binaries are installed with apt-get (never skipped). Servers of one process are shared: however many
conftests import the fixtures, one Redis and one PostgreSQL run per test session.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_groups(procs: list[subprocess.Popen[bytes]], grace: float = 15.0) -> None:
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


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not accept connections on port {port} within {timeout}s")


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
    """A throwaway ``redis-server`` (no persistence) on a free port; ``url`` once started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.mkdtemp(prefix="igniter-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self._dir, "--daemonize", "no", "--protected-mode", "no"]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self._proc, "redis-server")
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
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

    def __init__(self, *, fsync: bool = False, settings: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.fsync = fsync
        self.settings = dict(settings or {})  # more ``-c name=value`` server settings (bench diagnostics)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self._dir = Path(tempfile.mkdtemp(prefix="igniter-pg-"))
        self._data = self._dir / "data"
        self._bindir: Path | None = None
        self._started = False

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr or result.stdout}")

    def start(self) -> PostgresServer:
        self._bindir = postgres_bindir()
        if os.geteuid() == 0:
            shutil.chown(self._dir, "postgres", "postgres")
        self._run(str(self._bindir / "initdb"), "-D", str(self._data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        options = (f"-p {self.port} -k {self._dir} -c listen_addresses=127.0.0.1 -c max_connections=100 "
                   f"-c fsync={'on' if self.fsync else 'off'} -c full_page_writes={'on' if self.fsync else 'off'}"
                   + "".join(f" -c {name}={value}" for name, value in self.settings.items()))
        self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-o", options, "-l", str(self._dir / "log"),
                  "-w", "-t", "60", "start")
        self._started = True
        return self

    def log_text(self) -> str:
        """The server's log so far (bench diagnostics: auto_explain writes its plans there)."""
        path = self._dir / "log"
        return path.read_text(errors="replace") if path.exists() else ""

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children): for measuring the database's own CPU."""
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self._started and self._bindir is not None:
            with contextlib.suppress(RuntimeError):
                self._run(str(self._bindir / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "-w", "stop")
            self._started = False
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
