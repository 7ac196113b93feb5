"""A store's notebook repr on a store with many executions reads one page of them, not every snapshot, and
still counts them all; a store that cannot be listed shows why instead of raising."""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from igniter_nb.notebook import reprs
from igniter_nb.stores.sql import SQLStore

SHOWN = reprs.TABLE_LIMIT


def counting(store: SQLStore) -> collections.Counter[str]:
    reads: collections.Counter[str] = collections.Counter()
    loads = store._loads

    def spy(text: Any, execution_id: str) -> Any:
        reads[execution_id] += 1
        return loads(text, execution_id)

    store._loads = spy  # type: ignore[method-assign]
    return reads


def test_the_repr_of_a_big_store_reads_one_page_and_counts_every_execution(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'many.db'}")
    n = SHOWN + 60
    for i in range(n):
        store.save({"execution_id": f"e-{i:04d}", "states": {}}, graph="G",
                   status="waiting" if i % 3 else "succeeded")
    reads = counting(store)
    bundle = store._repr_mimebundle_()
    assert sum(reads.values()) <= SHOWN
    html = bundle["text/html"]
    assert f"{n} executions" in html and f"{n - (n + 2) // 3} waiting" in html and f"{(n + 2) // 3} succeeded" in html
    assert f"e-{n - 1:04d}" in html  # the most recently saved are the ones shown
    assert f"{n} executions" in bundle["text/plain"]
    store.close()


def test_the_repr_of_a_store_that_cannot_be_listed_says_why(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 400)
    store = SQLStore(f"sqlite:///{junk}")
    bundle = store._repr_mimebundle_()
    assert "not a database" in bundle["text/plain"] and "junk.db" in bundle["text/plain"]
    store.close()
