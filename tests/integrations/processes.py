"""Real processes for the HTTP tests: uvicorn serving ``webhook_app`` and ``rq worker`` started as documented;
each stopped (SIGTERM, then SIGKILL) when its ``with`` block ends."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests import services
from tests.integrations.conftest import ROOT
from tests.services import PORT_ATTEMPTS, PortTaken, port_taken_error, wait_listening


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": ROOT, **extra}


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serve(env: dict[str, str], log: Path) -> Iterator[str]:
    """``uvicorn tests.integrations.webhook_app:app`` on a free loopback port; yields its base URL.

    A port taken by another process between ``free_port`` and uvicorn's bind (uvicorn's "address already in use"
    exit) is chosen again, up to ``PORT_ATTEMPTS`` times; the port is ready once uvicorn's own process listens on it
    (not merely someone answering there)."""
    tried: list[int] = []
    while True:
        port = services.free_port()
        tried.append(port)
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.integrations.webhook_app:app", "--host",
                                     "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                    env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_listening(port, proc, "uvicorn", log)
        except PortTaken:
            _stop([proc])
            if len(tried) >= PORT_ATTEMPTS:
                raise port_taken_error("uvicorn", tried, log) from None
            continue
        except BaseException:
            _stop([proc])
            raise
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop([proc])
        return


@contextlib.contextmanager
def rq_workers(count: int, queue_name: str, redis_url: str, env: dict[str, str], log: Path, *,
               simple: bool = True, burst: bool = False) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` × ``rq worker -S rq.serializers.JSONSerializer -w igniter_nb.integrations.rq.SimpleWorker --url
    <redis> <queue>``, as docs/integrations.md says (``simple=False``: ``-w igniter_nb.integrations.rq.Worker``, RQ's
    forking worker)."""
    options = ["-w", f"igniter_nb.integrations.rq.{'SimpleWorker' if simple else 'Worker'}"]
    if burst:
        options.append("--burst")
    procs = []
    with log.open("wb") as out:
        try:
            for n in range(count):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "rq.cli", "worker", "-S", "rq.serializers.JSONSerializer", *options,
                     "--url", redis_url, "--name", f"{queue_name}-w{n}", queue_name], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT))
            yield procs
        finally:
            _stop(procs)
