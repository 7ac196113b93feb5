"""wrk (the C HTTP benchmarking tool, Debian package ``wrk`` 4.1) as `bench/server.py`'s load generator.

:func:`drive` sends each prepared request exactly once over ``clients`` keep-alive connections of one wrk thread
(one request in flight on each, like the aiohttp clients: a closed loop), through ``bench/_wrk.lua``, and returns
the statuses, the latencies and wrk's own CPU time. Why wrk: it takes ~10x less CPU per request than the Python
clients, CPU that on a 2-core machine comes out of the servers being measured (docs/server.md, "Load (BARS B8)").

Two things of wrk 4.1 this module undoes or avoids, read from its source (src/wrk.c, src/stats.c):

- its latency histogram is "corrected for coordinated omission" before the script's ``done()`` sees it
  (``stats_correct``): for every latency L above twice the mean cycle time E = run time / (answers /
  connections), it adds made-up samples at L-E, L-2E, ... down to E. That models an open-loop load where
  requests keep arriving while one connection waits; here each connection sends its next request only after
  the answer, as the aiohttp clients do, so :func:`raw_latencies` takes them out again (exactly: wrk adds them
  with integer arithmetic from the figures it hands to ``done()``) and the percentiles are those of the
  answers really received;
- it sleeps the whole ``-d`` before reading its threads' results; the script interrupts that sleep once every
  request was answered, so ``-d`` is only a bound for a run where answers go missing.
"""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("_wrk.lua")


@dataclasses.dataclass(frozen=True)
class Request:
    """One HTTP/1.1 request exactly as it is sent."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""

    def raw(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def json_post(path: str, body: Any, headers: Mapping[str, str] | None = None) -> Request:
    """A POST of ``body`` as JSON, encoded as aiohttp's and httpx's ``json=`` encode it (``json.dumps``)."""
    return Request("POST", path, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode())


@dataclasses.dataclass
class Result:
    sent: int
    statuses: dict[int, int]  # status -> answers
    socket_errors: dict[str, int]  # wrk's connect/read/write/timeout counts
    seconds: float  # first request written .. last answer read (wrk's thread, monotonic clock)
    latencies_ms: list[float]  # one per answer, wrk's histogram (µs) with its made-up samples taken out
    cpu_s: float  # wrk's own CPU (user + system), the whole process

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def errors(self, total: int) -> int:
        """Requests not answered 200: other statuses, and those with no answer (socket errors, a run cut by -d)."""
        return total - self.ok


def available() -> str | None:
    return shutil.which("wrk")


def raw_latencies(histogram: Mapping[int, int], duration_us: int, answers: int, connections: int) -> dict[int, int]:
    """wrk's latency histogram (µs -> count) as it was before ``stats_correct`` added its made-up samples.

    ``stats_correct(stats, E)`` (E = ``duration_us // (answers // connections)``) walks n upwards from 2E and, for
    each raw count c at n, adds c at n-E, n-2E, ... while that value is above E; a value m > E thus gained the raw
    counts at m+E, m+2E, ... . Going down from the largest value, those are known before m is reached."""
    cycles = answers // connections
    if cycles <= 0:
        return dict(histogram)
    expected = duration_us // cycles
    if expected <= 0:
        return dict(histogram)
    top = max(histogram, default=0)
    raw: dict[int, int] = {}
    for value in sorted(histogram, reverse=True):
        count = histogram[value]
        if value > expected:
            count -= sum(raw.get(value + k * expected, 0) for k in range(1, (top - value) // expected + 1))
        if count < 0:
            raise ValueError(f"wrk's histogram is not one stats_correct made (at {value} µs, E={expected})")
        if count:
            raw[value] = count
    return raw


def drive(url: str, requests: Sequence[Request], connections: int, *, bound_s: float | None = None) -> Result:
    """Send every request of ``requests`` once, over ``connections`` connections of one wrk thread.

    wrk's CPU is read with ``getrusage(RUSAGE_CHILDREN)`` around it: the calling process must not reap another
    child meanwhile (the bench's servers run on until the end)."""
    binary = available()
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk; `make setup` installs it)")
    if not requests:
        raise ValueError("no requests to send")
    host = url.split("://", 1)[1].rstrip("/")
    bound = bound_s if bound_s is not None else 60 + len(requests) / 20
    with tempfile.TemporaryDirectory(prefix="igniter-wrk-") as tmp:
        prepared, results = Path(tmp) / "requests", Path(tmp) / "results"
        with prepared.open("wb") as out:
            for each in requests:
                raw = each.raw(host)
                out.write(b"%d\n" % len(raw) + raw)
        command = [binary, "-t", "1", "-c", str(connections), "-d", f"{int(bound) + 1}s", "--timeout", "60s",
                   "-s", str(SCRIPT), url, "--", str(prepared), str(results)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, capture_output=True, text=True, timeout=bound + 60, check=False,
                              env={**os.environ, "LC_ALL": "C"})
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0 or not results.exists():
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
        if "error" in done.stderr.lower() or ".lua:" in done.stderr:
            raise RuntimeError(f"wrk's script failed: {done.stderr}")
        found = _parse(results.read_text())
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    histogram = raw_latencies(found["latency"], found["duration_us"], found["requests"], connections)
    latencies = [value / 1000 for value, count in sorted(histogram.items()) for _ in range(count)]
    seconds = (found["last_us"] - found["first_us"]) / 1e6 if found["last_us"] else bound
    return Result(sent=found["sent"], statuses=found["status"], socket_errors=found["errors"], seconds=seconds,
                  latencies_ms=latencies, cpu_s=cpu)


def _parse(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {"status": {}, "latency": {}, "errors": {}}
    for line in text.splitlines():
        key, *values = line.split()
        if key in ("status", "latency"):
            found[key][int(values[0])] = found[key].get(int(values[0]), 0) + int(values[1])
        elif key.startswith("error_"):
            found["errors"][key.removeprefix("error_")] = int(values[0])
        else:
            found[key] = int(values[0])
    return found
