"""``ServiceStore.record`` of a 60,000-character execution id raised a ``SnapshotNotFoundError`` whose message
repeated the id whole in its ``[execution=...]`` suffix. The suffix now shows its head and tail with how many
characters were left out; ``err.context`` keeps the id whole. Served by real uvicorn."""

from __future__ import annotations

from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.server import Client
from igniter_nb.server.service_store import ServiceStore
from igniter_nb.stores import MemoryStore
from tests.server.server_contracts import CONTRACTS


@pytest.mark.parametrize("huge", ["e" * 60_000, "a/" * 30_000], ids=["sent", "refused-unsent"])
def test_a_huge_execution_id_gives_a_bounded_error_message(live_app: Any, huge: str) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=MemoryStore()))
    with Client(server.url, timeout=10) as client:
        with pytest.raises(ig.errors.SnapshotNotFoundError) as caught:
            ServiceStore(client).record(huge)
    err = caught.value
    assert len(str(err)) < 1_000, len(str(err))
    assert "characters left out" in str(err)
    assert err.context["execution_id"] == huge and err.execution_id == huge
