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

from tests.integrations.conftest import ROOT
from tests.services import _wait_port, free_port


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
    """``uvicorn tests.integrations.webhook_app:app`` on a free loopback port; yields its base URL."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "tests.integrations.webhook_app:app", "--host",
                                 "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_port(port, proc, "uvicorn")
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop([proc])


@contextlib.contextmanager
def rq_workers(count: int, queue_name: str, redis_url: str, env: dict[str, str], log: Path, *,
               simple: bool = True, burst: bool = False) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` × ``rq worker -S rq.serializers.JSONSerializer -w rq.worker.SimpleWorker --url <redis> <queue>``,
    as docs/integrations.md says (``simple=False``: RQ's default forking worker)."""
    options = ["-w", "rq.worker.SimpleWorker"] if simple else []
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
