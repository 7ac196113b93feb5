"""Run as ``python -m tests.integrations.rq_stop_probe <redis url> <empty|job|sigterm> <rounds>``: each round builds
``igniter_nb.integrations.rq.worker(...)`` (cycling through a URL or a ``redis.Redis``, and ``rq.SimpleWorker``, the
default and ``rq.Worker``), lets it stop, and prints one JSON line: how long the stop took, and whether the load below
was on. ``test_rq_stop.py`` runs it with a hard timeout.

RQ's worker logs "unsubscribing from channel" just before it unsubscribes its pub/sub thread and tells it to stop; from
that line until ``work`` returns, a second thread keeps the GIL busy, as any other busy thread of an application (a web
server, a connection pool) would. A worker that tells its thread to stop only after the UNSUBSCRIBE (RQ 3.0's order)
then often lets the thread, woken by the answer, go back to wait: redis-py 8 waits out the thread's 60 s sleep_time
for a subscription (``PubSub.get_message``), while ``PubSubWorkerThread.stop()`` joins it without a bound."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

import redis
from rq import SimpleWorker, Worker

from igniter_nb.integrations.rq import enqueue_start, make_queue, worker
from tests.integrations.int_contracts import OrderWorkflow

VARIANTS = (("url", SimpleWorker), ("client", SimpleWorker), ("url", None), ("client", Worker))


class GilLoad(logging.Handler):
    """Starts a GIL-busy thread when RQ's worker says it unsubscribes; ``stop()`` ends it."""

    def __init__(self) -> None:
        super().__init__()
        self.armed = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if "unsubscribing from channel" in str(record.msg) and self._thread is None:
            self.armed = True
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()

    def _spin(self) -> None:
        while not self._done.is_set():
            sum(range(200))

    def stop(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(5)


def _warm_shutdown(w: Any) -> None:
    deadline = time.monotonic() + 10
    while signal.getsignal(signal.SIGTERM) != w.request_stop and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.02)  # waiting for a job by then
    os.kill(os.getpid(), signal.SIGTERM)


def one_round(url: str, mode: str, n: int) -> dict[str, Any]:
    kind, worker_class = VARIANTS[n % len(VARIANTS)]
    client = redis.Redis.from_url(url)
    name = f"stop-{os.getpid()}-{n}"
    job = None
    if mode == "job":
        job = enqueue_start(OrderWorkflow, {"order_id": f"o-{n}"}, queue=make_queue(name, connection=client))
    options: dict[str, Any] = {} if worker_class is None else {"worker_class": worker_class}
    w = worker(name, connection=url if kind == "url" else client, **options)
    load = GilLoad()
    logger = logging.getLogger("rq.worker")
    logger.addHandler(load)
    if mode == "sigterm":  # a warm shutdown of an idle worker (not burst), once it has its handler
        threading.Thread(target=_warm_shutdown, args=(w,), daemon=True).start()
    started = time.monotonic()
    try:
        w.work(burst=mode != "sigterm", logging_level="INFO")
    finally:
        took = time.monotonic() - started
        load.stop()
        logger.removeHandler(load)
    status = None if job is None else job.get_status(refresh=True).value
    client.close()
    return {"round": n, "connection": kind, "worker_class": getattr(worker_class, "__name__", None),
            "seconds": round(took, 3), "loaded": load.armed, "job": status}


def main() -> None:
    url, mode, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for n in range(rounds):
        signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        result = one_round(url, mode, n)
        for sig, handler in signals.items():  # (RQ leaves its handlers installed)
            signal.signal(sig, handler)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
