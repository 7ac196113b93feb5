"""``stores/sql.py`` and ``stores/redis.py`` each split along a seam — the SQL save path in ``sql_save.py``, the
Redis Lua scripts in ``redis_scripts.py`` — with every name still importable from where it was, and no store
module past the ~500-line limit."""

from __future__ import annotations

from pathlib import Path

import igniter_nb.stores

STORES = Path(igniter_nb.stores.__file__).parent


def test_every_name_stays_importable_from_the_sql_module() -> None:
    from igniter_nb.stores import sql, sql_schema
    from igniter_nb.stores.sql import SQLStore, correlation_digest

    assert SQLStore.__module__ == "igniter_nb.stores.sql"
    assert correlation_digest is sql_schema.correlation_digest  # (bench/stores.py imports it from sql)
    assert sql._log.name == "igniter_nb.stores.sql"  # the change feed's warning keeps its logger


def test_every_name_stays_importable_from_the_redis_module() -> None:
    from igniter_nb.stores import redis, redis_scripts
    from igniter_nb.stores.redis import RedisStore

    assert RedisStore.__module__ == "igniter_nb.stores.redis"
    for old, new in {"_SAVE": "SAVE", "_DELETE": "DELETE", "_ACTIVE_RECORD": "ACTIVE_RECORD",
                     "_FIELDS": "FIELDS"}.items():
        assert getattr(redis, old) is getattr(redis_scripts, new), old
    assert "@PREFIX" not in redis_scripts.SAVE  # the internal-graph prefix is filled in
    assert "'snapshot', 'version', 'graph'" in redis_scripts.ACTIVE_RECORD  # the fields, in FIELDS' order


def test_no_sql_or_redis_store_module_is_past_the_line_limit() -> None:
    too_long = {path.name: n for path in sorted(STORES.glob("*.py"))
                if path.name.startswith(("sql", "redis")) and (n := len(path.read_text().splitlines())) > 500}
    assert not too_long
