"""The notebook's views of a store — ``store_frame``, ``tokens_frame``, the store's repr with its counts by status —
show the user's executions only: the LLM layer's leases and cached replies saved in the same store are left out
(``model/reserved.py``), even one in an active status."""

from __future__ import annotations

from pathlib import Path

import igniter_nb as ig
from igniter_nb.llm.lease import ResumeLease
from igniter_nb.stores.sql import SQLStore


def test_frames_and_the_store_repr_list_the_users_executions_only(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'nb.db'}")
    cache = ig.llm.StoreCache(store)
    cache.put("k", {"text": "hi"}, {"model": "m"})
    store.save({"execution_id": "mine-1", "states": {}}, graph="Order", status="waiting")
    ResumeLease.claim(store, "tok", 60)  # held: never finished
    store.save({"execution_id": "llm-resume.odd", "graph": "igniter_nb.llm_resume"}, graph="igniter_nb.llm_resume",
               status="waiting")  # an internal record in an active status, damaged or of a future format
    store.save({"execution_id": "mine-2", "states": {}}, graph="Order", status="succeeded")

    assert list(ig.nb.store_frame(store)["execution_id"]) == ["mine-1", "mine-2"]
    assert set(ig.nb.tokens_frame(store)["execution_id"]) <= {"mine-1"}
    bundle = store._repr_mimebundle_()
    assert "2 executions (1 succeeded, 1 waiting)" in bundle["text/plain"]
    assert "llm-" not in bundle["text/plain"] and "llm-" not in bundle["text/html"]
    assert len(ig.nb.store_frame(store, "igniter_nb.llm_resume")) == 2  # asked for by name
    store.close()
