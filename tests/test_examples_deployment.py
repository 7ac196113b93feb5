"""The deployment example of docs/deployment.md, in miniature on loopback (issue 15 point 6): the Procfile's own
commands — two `igniter-nb serve --workers 2` (as two hosts would run them), the webhook app under uvicorn, two
`rq worker`s — on one store (PostgreSQL, then Redis) and one Redis for RQ's queue. Orders are started through one
server; each payment arrives twice as a signed Stripe webhook (queued to RQ) and each shipment twice through either
server, all in random order; every workflow must get each signal exactly once, both servers must show every execution finished, and
the live stream (SSE) of each, followed on the other server, must show both deliveries and the end. The systemd
units and the docs run the same commands as the Procfile."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shlex
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import services
from tests.services import (  # noqa: F401  (session fixtures)
    PORT_ATTEMPTS,
    PortTaken,
    port_taken_error,
    postgres_url,
    redis_url,
    stop_process_groups,
    wait_listening,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "deployment"
DOCS = ROOT / "docs" / "deployment.md"
ORDERS = 4
TOKEN = "deploy-test-token-4b1d"
SECRET = "whsec_deploy_test"
DEADLINE = 90.0  # seconds for everything to land, on a loaded 2-core machine


def procfile() -> dict[str, str]:
    lines = (EXAMPLE / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


@contextlib.contextmanager
def processes(env: dict[str, str], webs: int,
              log_dir: Path) -> Iterator[tuple[dict[str, list[subprocess.Popen[bytes]]], dict[str, list[int]]]]:
    """Start the Procfile's web ``webs`` times (hosts), hooks once and jobs twice (as `honcho start -c jobs=2`
    would), each through the shell in its own process group; yields the processes and the ports web and hooks
    listen on (each chosen free, and chosen again when another program took it before the server listened: the
    server's "address already in use" exit, or a listener there not of its process group); stop every group
    (SIGTERM, then SIGKILL) when the block ends."""
    started: dict[str, list[subprocess.Popen[bytes]]] = {}
    ports: dict[str, list[int]] = {"web": [], "hooks": []}
    port_setting = {"web": "WEB_PORT", "hooks": "HOOKS_PORT"}
    try:
        for name in ["web"] * webs + ["hooks", "jobs", "jobs"]:
            tried: list[int] = []
            while True:
                extra = {}
                if name in port_setting:
                    tried.append(services.free_port())
                    extra[port_setting[name]] = str(tried[-1])
                log = log_dir / f"{name}.{len(started.get(name, []))}.log"
                with log.open("wb") as out:
                    proc = subprocess.Popen(["bash", "-c", f"exec {procfile()[name]}"], cwd=EXAMPLE,
                                            env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
                if not tried:
                    break
                try:
                    wait_listening(tried[-1], proc, f"{name} ({procfile()[name]})", log, timeout=DEADLINE, group=True)
                    break
                except PortTaken:
                    stop_process_groups([proc])
                    if len(tried) >= PORT_ATTEMPTS:
                        raise port_taken_error(name, tried, log) from None
                except BaseException:
                    stop_process_groups([proc])
                    raise
            started.setdefault(name, []).append(proc)
            if tried:
                ports[name].append(tried[-1])
        yield started, ports
    finally:
        stop_process_groups([proc for procs in started.values() for proc in procs])


def _logs(log_dir: Path) -> str:
    return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in sorted(log_dir.iterdir()))


def _wait_for(check: Any, what: str, log_dir: Path, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout}s\n{_logs(log_dir)}")


def _stripe_event(order_id: str, n: int) -> bytes:
    return json.dumps({"id": f"evt_{order_id}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": f"pi_{n}", "object": "payment_intent", "amount": 1000 + n, "currency": "eur",
        "metadata": {"order_id": order_id}}}}).encode()


def _follow(url: str, execution_id: str, seen: dict[str, list[Any]], ready: threading.Event) -> None:
    import igniter_nb as ig

    with ig.server.Client(url, token=TOKEN, timeout=30) as client:
        for message in client.events(execution_id, read_timeout=30):
            seen[execution_id].append((message.kind, message.data))
            ready.set()
            if message.kind == "end":
                return


def _fresh_store(kind: str, postgres: str, redis_server: str) -> str:
    """A store URL no other test uses: a new PostgreSQL database, or a Redis namespace on its own database (not
    the queue's: docs/deployment.md keeps the two apart)."""
    name = f"deploy_{uuid.uuid4().hex[:8]}"
    if kind == "redis":
        return redis_server.rsplit("/", 1)[0] + f"/6?namespace={name}"
    import psycopg

    with psycopg.connect(postgres.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.rsplit("/", 1)[0] + f"/{name}"


@pytest.mark.services
@pytest.mark.parametrize("store_kind", ["postgres", "redis"])
def test_the_procfile_topology_delivers_each_signal_once_and_streams_it(store_kind: str, postgres_url: str,  # noqa: F811
                                                                        redis_url: str, tmp_path: Path) -> None:  # noqa: F811
    import redis

    from igniter_nb.integrations.webhooks import sign
    from igniter_nb.stores import from_url

    store_url = _fresh_store(store_kind, postgres_url, redis_url)
    rq_url = redis_url.rsplit("/", 1)[0] + "/7"  # a database of its own: the example's queue is named "igniter"
    redis.Redis.from_url(rq_url).flushdb()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(ROOT)]), "IGNITER_STORE_URL": store_url,
           "IGNITER_SERVER_TOKEN": TOKEN, "IGNITER_LOG_LEVEL": "warning", "RQ_REDIS_URL": rq_url,
           "STRIPE_WEBHOOK_SECRET": SECRET}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    logs = tmp_path / "logs"
    logs.mkdir()

    with processes(env, 2, logs) as (_, ports), httpx.Client(timeout=30) as http:
        webs, hooks = [f"http://127.0.0.1:{port}" for port in ports["web"]], f"http://127.0.0.1:{ports['hooks'][0]}"
        web, other = webs
        for url in webs:
            _wait_for(lambda url=url: http.get(f"{url}/v1/health", headers=auth).status_code == 200,
                      f"{url} answered", logs)
        _wait_for(lambda: http.get(f"{hooks}/healthz").json() == {"status": "ok"}, "the webhook app answered", logs)
        from rq import Worker

        connection = redis.Redis.from_url(rq_url)
        _wait_for(lambda: len(Worker.all(connection=connection)) == 2, "two RQ workers registered", logs)

        orders = [f"order-{uuid.uuid4().hex[:6]}-{n}" for n in range(ORDERS)]
        executions = {}
        for order in orders:
            answer = http.post(f"{web}/v1/contracts/order_workflow/execute", headers=auth,
                               json={"inputs": {"order_id": order}})
            assert answer.status_code == 200 and answer.json()["status"] == "waiting", answer.text
            executions[order] = answer.json()["execution_id"]

        seen: dict[str, list[Any]] = {eid: [] for eid in executions.values()}
        readies = {eid: threading.Event() for eid in seen}
        followers = [threading.Thread(target=_follow, args=(other, eid, seen, readies[eid]), daemon=True)
                     for eid in seen]
        for follower in followers:
            follower.start()
        assert all(ready.wait(DEADLINE) for ready in readies.values()), "every stream opened"

        # every signal twice; a shipment's two copies go to different servers
        sends: list[tuple[str, str, int, str]] = [(kind, order, n, url) for n, order in enumerate(orders)
                                                  for kind in ("payment", "shipment") for url in webs]
        random.Random(15).shuffle(sends)

        def send(item: tuple[str, str, int, str]) -> int:
            kind, order, n, url = item
            if kind == "payment":
                body = _stripe_event(order, n)
                return http.post(f"{hooks}/webhooks/stripe", content=body,
                                 headers={"Content-Type": "application/json", **sign(body, SECRET)}).status_code
            return http.post(f"{url}/v1/contracts/order_workflow/events", headers=auth, json={
                "event": "order_shipped", "correlation": {"order_id": order}, "payload": {"carrier": "DHL"},
                "idempotency_key": f"ship-{order}"}).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(send, sends))
        assert sorted(set(statuses)) == [200, 202], statuses  # API deliveries 200, webhooks queued 202

        def finished() -> bool:
            return all(http.get(f"{url}/v1/executions/{eid}", headers=auth).json()["status"] == "succeeded"
                       for eid in executions.values() for url in webs)

        _wait_for(finished, "every order succeeded", logs)
        for follower in followers:
            follower.join(DEADLINE)
        assert not any(follower.is_alive() for follower in followers), "every stream ended"

        from rq import Queue
        from rq.registry import FailedJobRegistry, FinishedJobRegistry
        from rq.serializers import JSONSerializer

        queue = Queue("igniter", connection=connection, serializer=JSONSerializer)
        done, failed = FinishedJobRegistry(queue=queue), FailedJobRegistry(queue=queue)
        _wait_for(lambda: done.count + failed.count == 2 * ORDERS, "every job ran (duplicates too)", logs)
        assert failed.count == 0, _logs(logs)
        finished_jobs = queue.job_class.fetch_many(done.get_job_ids(), connection,
                                                   serializer=JSONSerializer)
        results = [job.return_value() for job in finished_jobs if job is not None]
        assert len(results) == 2 * ORDERS and sum(result["replayed"] for result in results) == ORDERS
        connection.close()

    with from_url(store_url) as store:
        for order in orders:
            record = store.record(executions[order])
            signals = record.snapshot["workflow"]["signals"]
            assert sorted(s["event"] for s in signals) == ["order_shipped", "payment_received"], signals
            assert record.status == "succeeded"
    for order in orders:
        messages = seen[executions[order]]
        resumed = [data["payload"]["event"] for kind, data in messages
                   if kind == "event" and data["type"] == "workflow_resumed"]
        assert sorted(resumed) == ["order_shipped", "payment_received"], messages
        ids = [data["seq"] for kind, data in messages if kind == "event"]
        assert ids == sorted(set(ids)), "no event twice, in order"
        kind, end = messages[-1]
        assert kind == "end" and end["status"] == "succeeded" and end["reason"] == "finished"
    assert not any(TOKEN in path.read_text(errors="replace") for path in logs.iterdir())


# ------------------------------------------------------------------------------------- the same commands everywhere


def _words(command: str, values: dict[str, str]) -> list[str]:
    """``command`` split as a shell would, with ``${NAME:-default}``/``${NAME}``/``$NAME`` replaced by ``values``
    (or the default) and a binary's directory dropped."""
    def value(match: re.Match[str]) -> str:
        name, default = match.group(1) or match.group(3), match.group(2)
        return values.get(name, default if default is not None else f"<{name}>")

    expanded = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", value, command)
    words = shlex.split(expanded)
    return [Path(words[0]).name, *words[1:]]


def test_the_systemd_units_run_the_procfile_commands() -> None:
    units = EXAMPLE / "systemd"
    commands = {"web": "orders-web.service", "hooks": "orders-hooks.service", "jobs": "orders-jobs@.service"}
    ports = {"WEB_PORT": "8000", "HOOKS_PORT": "8100"}
    for name, unit in commands.items():
        (exec_start,) = [line.split("=", 1)[1] for line in (units / unit).read_text().splitlines()
                         if line.startswith("ExecStart=")]
        assert exec_start.startswith("/srv/orders/.venv/bin/"), unit
        assert _words(exec_start, ports) == _words(procfile()[name], ports), unit
    assert set(procfile()) == {"web", "hooks", "jobs", "clock"}
    expire = (units / "orders-expire.service").read_text()
    assert "python -m orders.expire" in expire and "python -m orders.expire" in procfile()["clock"]


def test_the_docs_show_the_example_files_as_they_are() -> None:
    text = DOCS.read_text()
    for path in ("Procfile", "env.example", "orders/contracts.py", "orders/webhooks.py", "orders/expire.py",
                 "systemd/orders-web.service", "systemd/orders-hooks.service", "systemd/orders-jobs@.service",
                 "systemd/orders-expire.service", "systemd/orders-expire.timer"):
        assert (EXAMPLE / path).read_text().strip() in text, f"docs/deployment.md does not show {path} as it is"
