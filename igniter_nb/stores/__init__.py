"""Execution stores: one protocol (:class:`ExecutionStore`), five implementations, ``from_url``, ``export_parquet``,
and the change feed (``watch``/``awatch``: follow one execution as other processes save it).

The store classes load lazily, so ``import igniter_nb.stores`` never imports SQLAlchemy, redis or pyarrow;
those are imported by the store that needs them when it is created. See ``docs/stores.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._lazy import lazy_attributes
from igniter_nb.stores.base import ACTIVE_STATUSES, FINISHED_STATUSES, STATUSES, ExecutionStore, StoredExecution
from igniter_nb.stores.url import from_url

if TYPE_CHECKING:
    from igniter_nb.stores.changes import ChangeSubscription
    from igniter_nb.stores.feed import awatch, watch
    from igniter_nb.stores.file import FileStore
    from igniter_nb.stores.memory import MemoryStore
    from igniter_nb.stores.parquet import ParquetStore, export_parquet
    from igniter_nb.stores.redis import RedisStore
    from igniter_nb.stores.sql import SQLStore

_LAZY = {
    "MemoryStore": "igniter_nb.stores.memory",
    "FileStore": "igniter_nb.stores.file",
    "SQLStore": "igniter_nb.stores.sql",
    "RedisStore": "igniter_nb.stores.redis",
    "ParquetStore": "igniter_nb.stores.parquet",
    "export_parquet": "igniter_nb.stores.parquet",
    "watch": "igniter_nb.stores.feed",
    "awatch": "igniter_nb.stores.feed",
    "ChangeSubscription": "igniter_nb.stores.changes",
}


if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes("igniter_nb.stores", globals(), _LAZY)


__all__ = [
    "ExecutionStore",
    "StoredExecution",
    "MemoryStore",
    "FileStore",
    "SQLStore",
    "RedisStore",
    "ParquetStore",
    "from_url",
    "export_parquet",
    "watch",
    "awatch",
    "ChangeSubscription",
    "ACTIVE_STATUSES",
    "FINISHED_STATUSES",
    "STATUSES",
]
