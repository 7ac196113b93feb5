"""`igniter-nb serve` as a subprocess on a free 127.0.0.1 port, for tests that need a real uvicorn.

    with ServerProcess("tests.server.server_contracts:CONTRACTS", store="sqlite:///x.db") as server:
        httpx.get(f"{server.url}/v1/health")

``start()`` returns once ``/v1/health`` answers and, where each worker listens on a socket of its own
(``--balance reuseport``), once every worker listens (or raises with the server's log) — with the supervisor
handing connections over (the default on Linux), it listens once every worker has started; with ``port=0`` the server
chooses its port and ``start()`` reads it from the server's log first. ``sockets()`` tells which process holds
which connections. ``stop()`` sends SIGTERM,
waits, and kills only if it must. Use the ``serve`` fixture (tests/server/conftest.py) to have every server
stopped by a finalizer.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from igniter_nb.server import balance, reuseport
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
#: What a server's log says when it answered 500 (see ``ServerProcess.answered_500``).
UNEXPECTED = ("unhandled error on ", "Exception in ASGI application")
#: Lines of a server's log shown when it answered 500.
LOG_TAIL = 80
LISTEN = "0A"  # the states of /proc/net/tcp
ESTABLISHED = "01"
CLOSE_WAIT = "08"  # the client closed, the server process has not yet: the server still holds (and counts) it
#: A connection the server holds open: established, or closed by the client and not yet seen closed by the server
#: (``sockets(ESTABLISHED)`` alone drops a connection the moment the client's FIN arrives, before the worker has
#: read the end of it and told the supervisor).
OPEN = (ESTABLISHED, CLOSE_WAIT)


class ServerProcess:
    """One `igniter-nb serve TARGET` process; ``url`` once started, ``log()`` for what it printed."""

    def __init__(self, target: str, *, store: str = "memory://", workers: int = 1, token: str | None = None,
                 args: tuple[str, ...] = (), env: dict[str, str] | None = None, startup_timeout: float = 30.0,
                 port: int | None = None) -> None:
        self.target = target
        self.store = store
        self.workers = workers
        self.token = token
        self.args = args
        self.port = free_port() if port is None else port
        self._port_chosen_here = port is None  # a port taken meanwhile by another process is chosen again
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.returncode: int | None = None
        self._env = env or {}
        self._log = tempfile.NamedTemporaryFile(prefix="igniter-serve-", suffix=".log", delete=False)  # noqa: SIM115
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "igniter_nb.cli", "serve", self.target, "--host", "127.0.0.1",
               "--port", str(self.port), "--store", self.store, "--workers", str(self.workers),
               "--log-level", "info" if self.port == 0 else "warning", *self.args]
        if self.token is not None:
            cmd += ["--token-env", "IGNITER_TEST_TOKEN"]
        return cmd

    def start(self) -> ServerProcess:
        """Start the process and wait for ``/v1/health``; on any failure the process is stopped first. A port this
        object chose (``free_port``, free then but bound only by the server) that another process took meanwhile —
        a busy machine — is chosen again, up to 3 times."""
        for attempt in range(3):
            try:
                return self._start()
            except _PortTaken:
                self.stop()
                if attempt == 2:
                    raise RuntimeError(f"igniter-nb serve found 3 free ports taken before it listened:\n{self.log()}") from None
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self._log.seek(0)  # (the server's stdout shares this offset)
                self._log.truncate()
            except BaseException:
                self.stop()
                raise
        raise AssertionError("unreachable")

    def _start(self) -> ServerProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               **self._env}
        if self.token is not None:
            env["IGNITER_TEST_TOKEN"] = self.token
        # its own process group, so a kill (below) reaches uvicorn's worker processes too
        self._proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        headers = {b"Authorization": f"Bearer {self.token}".encode()} if self.token else {}
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self.returncode = self._proc.returncode
                if self._port_chosen_here and "the address is already in use" in self.log():
                    raise _PortTaken
                raise RuntimeError(f"igniter-nb serve exited with {self._proc.returncode} while starting:\n{self.log()}")
            if self.port == 0 and not self._port_from_log():
                time.sleep(0.1)
                continue
            try:
                if (httpx.get(f"{self.url}/v1/health", headers=headers, timeout=1.0).status_code == 200
                        and self._all_workers_listen()):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"igniter-nb serve did not answer /v1/health within {self.startup_timeout}s:\n{self.log()}")

    def _port_from_log(self) -> bool:
        found = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", self.log())
        if found:
            self.port = int(found[1])
            self.url = f"http://127.0.0.1:{self.port}"
        return found is not None

    @property
    def balance(self) -> str:
        """How connections reach the workers: ``"single"`` (one worker), or serve's ``--balance`` mode."""
        if self.workers == 1:
            return "single"
        if "--no-reuse-port" in self.args:
            return "shared"
        if "--balance" in self.args:
            return self.args[self.args.index("--balance") + 1]
        if self._env.get("IGNITER_SERVER_BALANCE", "").strip():
            return self._env["IGNITER_SERVER_BALANCE"].strip().lower()
        return "supervisor" if balance.supported() else "shared"

    def _all_workers_listen(self) -> bool:
        """Each worker's socket listens once its app has started: connections made before would all go to the
        workers already listening (and, keep-alive, stay there)."""
        if self.balance != "reuseport" or not reuseport.supported():
            return True
        return len(self.sockets(LISTEN)) == self.workers

    @property
    def pid(self) -> int | None:
        """The process id of `igniter-nb serve` (with ``workers`` above 1, uvicorn's supervisor)."""
        return self._proc.pid if self._proc is not None else None

    def sockets(self, state: str | tuple[str, ...] = ESTABLISHED) -> dict[int, int]:
        """{pid: TCP sockets in ``state`` (one state, or any of several: ``OPEN``) on the server's port} for the
        serve process and its worker processes, those with none left out (Linux: read from /proc)."""
        if self.pid is None:
            return {}
        inodes = sockets_on(self.port, state)
        counts = {}
        for pid in [self.pid, *_children(self.pid)]:
            try:
                links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
            except OSError:  # gone meanwhile
                continue
            counts[pid] = sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)
        return {pid: count for pid, count in counts.items() if count}

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        """Send ``sig`` and wait; kill if it does not exit in ``timeout`` seconds. Returns the exit code."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if proc is not None:
            self.returncode = proc.returncode
        return self.returncode

    def log(self) -> str:
        if not self._log.closed:  # (after close() the file is whole on disk, if it was kept)
            self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def answered_500(self) -> bool:
        """Whether the server's log shows a request it answered 500 (an error the server did not expect: the
        ``igniter_nb`` logger's ``unhandled error on ...``, uvicorn's ``Exception in ASGI application``, or an
        access-log line with status 500)."""
        log = self.log()
        return any(marker in log for marker in UNEXPECTED) or re.search(r'HTTP/1\.[01]" 500\b', log) is not None

    def close(self) -> None:
        """Stop the server and delete its log — unless it answered a 500: then the log's tail goes to stderr,
        which pytest shows with the failing test (``Captured stderr teardown``), and the log file stays (its path
        is said), so a rare 500 in CI comes with its cause. Closing twice does nothing more."""
        if self._log.closed:
            return
        self.stop()
        answered_500 = self.answered_500()
        self._log.close()
        if answered_500:
            tail = "\n".join(Path(self._log.name).read_text(errors="replace").splitlines()[-LOG_TAIL:])
            sys.stderr.write(f"\n--- igniter-nb serve {self.target} (store {self.store}) answered 500; the last "
                             f"{LOG_TAIL} lines of its log, kept whole at {self._log.name} ---\n{tail}\n---\n")
            sys.stderr.flush()
            return
        Path(self._log.name).unlink(missing_ok=True)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()



class _PortTaken(Exception):
    """The port chosen for the server was taken by another process before the server could listen there."""


def sockets_on(port: int, state: str | tuple[str, ...]) -> set[str]:
    """The inodes of the TCP sockets in ``state`` (or any of the states of a tuple) whose local port is ``port``."""
    states = (state,) if isinstance(state, str) else state
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] in states and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux: read from /proc)."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        todo += _children(each)
    return found


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the state: the parent's pid
                found.append(int(entry.name))
    return found


def serve_recorded(tmp_path: Path, **kw: Any) -> int:
    """``igniter_nb.server.serve.serve`` of the test contracts on a SQLite file (2 workers, any port unless ``kw``
    says otherwise); with the ``runs`` fixture, uvicorn is recorded, not run."""
    from igniter_nb.server import serve

    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "workers": 2, "token_env": None, **kw}
    return serve.serve("tests.server.server_contracts:CONTRACTS", store=f"sqlite:///{tmp_path / 'x.db'}", **options)
