"""Store fixtures: ``store`` runs a test once per store kind, against real Redis and PostgreSQL servers."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # so `tests.services` imports here and in spawned worker processes
    sys.path.insert(0, _ROOT)

from tests.services import postgres_url, redis_url  # noqa: E402, F401  (session fixtures)
from tests.stores.store_factory import ALL_KINDS, make_spec, open_store  # noqa: E402


@pytest.fixture(params=ALL_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh, empty store of each kind in turn."""
    yield from _fresh(request, tmp_path)


def _fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    spec = make_spec(request.param, tmp_path, request, uuid.uuid4().hex[:10])
    opened = open_store(spec)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(params=("sqlite", "sqlite_memory", "postgres"))
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh SQL store of each SQL kind (for tests of SQL-only behaviour, such as index creation)."""
    yield from _fresh(request, tmp_path)
