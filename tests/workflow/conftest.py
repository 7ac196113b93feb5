"""Workflow fixtures: ``store`` runs a test once per store kind (memory, file, SQLite file and in-memory,
PostgreSQL, Redis, parquet), against real Redis and PostgreSQL servers started for the session."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # so `tests.*` imports here and in spawned worker processes
    sys.path.insert(0, _ROOT)

from tests.services import postgres_url, redis_url  # noqa: E402, F401  (session fixtures)
from tests.stores.store_factory import ALL_KINDS, make_spec, open_store  # noqa: E402

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=ALL_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh, empty store of each kind in turn."""
    spec = make_spec(request.param, tmp_path, request, uuid.uuid4().hex[:10])
    opened = open_store(spec)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def memory_store() -> Any:
    from igniter_nb.stores import MemoryStore

    return MemoryStore()


@pytest.fixture
def count_quiet(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[count]``: the deliveries the quiet path applied during the test (``_fast_paths.counting_quiet``)."""
    from tests.workflow._fast_paths import counting_quiet

    return counting_quiet(monkeypatch)


@pytest.fixture
def count_completing(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The deliveries the completing path saved itself and handed over (``_fast_paths.counting_completing``)."""
    from tests.workflow._fast_paths import counting_completing

    return counting_completing(monkeypatch)
