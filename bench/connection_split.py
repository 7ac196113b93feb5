"""How ``igniter-nb serve --workers N`` spreads keep-alive connections over its workers, per ``--balance`` mode.

    .venv/bin/python bench/connection_split.py                          # 100 rounds, each mode, 2 workers
    .venv/bin/python bench/connection_split.py --rounds 20 --modes supervisor,reuseport
    .venv/bin/python bench/connection_split.py --rounds 0 --cost 3000   # CPU per new connection instead

Each round opens 16 httpx clients at once, one keep-alive connection each, sends 3 executions of
``tests.server.pid_contracts``' ``worker_pid`` (it answers the worker's pid) on each and closes them; the next round
opens as soon as the last one closed. Printed per mode: how many rounds split 8+8, 9+7, ... over the workers.
With ``--cost N``: N connections one after the other, each sending one ``GET /v1/contracts`` with ``Connection:
close``; printed per mode: the supervisor's and the workers' CPU (user + system, from /proc) per connection.
Everything runs on 127.0.0.1 (SQLite store in a temporary directory); each server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.server.server_process import ServerProcess, process_tree  # noqa: E402

TARGET = "tests.server.pid_contracts:CONTRACTS"


async def one_round(url: str, clients: int) -> str:
    """The split of one round, largest share first (``9+7``)."""
    opened = [httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=1))
              for _ in range(clients)]

    async def pids(client: httpx.AsyncClient) -> set[int]:
        try:
            answered = set()
            for n in range(3):
                response = await client.post("/v1/contracts/worker_pid/execute", json={"inputs": {"n": n}})
                response.raise_for_status()
                answered.add(response.json()["outputs"]["pid"])
            return answered
        finally:
            await client.aclose()

    counts = collections.Counter(pid for found in await asyncio.gather(*(pids(c) for c in opened)) for pid in found)
    return "+".join(map(str, sorted(counts.values(), reverse=True)))


async def rounds(url: str, count: int, clients: int) -> collections.Counter[str]:
    return collections.Counter([await one_round(url, clients) for _ in range(count)])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connection_cost(server: ServerProcess, count: int) -> str:
    """The supervisor's and the workers' CPU per new connection, over ``count`` one-request connections."""
    import socket

    assert server.pid is not None
    workers = [pid for pid in process_tree(server.pid) if pid != server.pid]
    request = b"GET /v1/contracts HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n"
    supervisor0, workers0 = _cpu_s(server.pid), sum(map(_cpu_s, workers))
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", server.port)) as connection:
            connection.sendall(request)
            while connection.recv(65536):
                pass
    supervisor = (_cpu_s(server.pid) - supervisor0) * 1e6 / count
    served = (sum(map(_cpu_s, workers)) - workers0) * 1e6 / count
    return f"CPU per connection: supervisor {supervisor:.0f} us, workers {served:.0f} us, in all {supervisor + served:.0f} us"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", default="supervisor,reuseport,shared", help="igniter-nb serve --balance modes")
    parser.add_argument("--cost", type=int, default=0, metavar="N", help="also measure CPU per new connection, over N")
    args = parser.parse_args()
    print(f"# connection split {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{os.getloadavg()[0]:.1f}, {args.rounds} rounds of {args.clients} clients, --workers {args.workers}",
          flush=True)
    for mode in args.modes.split(","):
        with tempfile.TemporaryDirectory(prefix="igniter-split-") as tmp, \
                ServerProcess(TARGET, store=f"sqlite:///{tmp}/x.db", workers=args.workers,
                              args=("--balance", mode)) as server:
            if args.rounds:
                splits = asyncio.run(rounds(server.url, args.rounds, args.clients))
                print(f"{mode:<10} " + ", ".join(f"{split}: {n}" for split, n in splits.most_common()), flush=True)
            if args.cost:
                print(f"{mode:<10} {connection_cost(server, args.cost)}", flush=True)
    print(f"# end {dt.datetime.now(dt.UTC):%H:%M} UTC, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
