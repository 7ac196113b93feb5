"""Notebook-toolkit test helpers: this folder on sys.path (subprocesses import ``contracts`` from it)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

ROOT = HERE.parents[1]
if str(ROOT) not in sys.path:  # `tests.server.*` (the real-server helpers) and `tests.notebook.service_contracts`
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402

SERVICE_TOKEN = "nb-service-token"


@pytest.fixture
def service(tmp_path: Path) -> Any:
    """`igniter-nb serve tests.notebook.service_contracts:CONTRACTS` on a free 127.0.0.1 port with an SQLite store
    and a token; yields ``(server, store, client)`` — the store opened on the same file by this process (to compare
    and to write as "another process" would), the client pointed at the server. All closed afterwards."""
    import igniter_nb as ig
    from igniter_nb.stores import SQLStore
    from tests.notebook.service_contracts import TARGET
    from tests.server.server_process import ServerProcess

    url = f"sqlite:///{tmp_path / 'service.db'}"
    with ServerProcess(TARGET, store=url, token=SERVICE_TOKEN) as server, SQLStore(url) as store, \
            ig.server.Client(server.url, token=SERVICE_TOKEN, timeout=10) as client:
        yield server, store, client
