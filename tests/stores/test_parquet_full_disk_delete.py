"""``ParquetStore.delete`` on a full disk: a ``StoreError`` naming the store, the execution and the index — it was
a bare ``sqlite3.OperationalError`` — the execution still whole, and the delete works once there is room again."""

from __future__ import annotations

from pathlib import Path

from tests.small_disk import FILL, OUTCOME, assert_store_error, needs_unshare, run_on_small_disk

_CHILD = r'''
from igniter_nb.stores import ParquetStore
store = ParquetStore(os.path.join(mount, "log"), fsync=False)
store.save({"execution_id": "ex-1", "n": 1}, graph="G", correlation={"k": 1}, status="waiting")
''' + FILL + OUTCOME + r'''
result = outcome(lambda: store.delete("ex-1"))
result["still"] = store.fetch("ex-1") if store.exists("ex-1") else None
os.remove(filler)  # room again
result["deleted"] = store.delete("ex-1")
result["gone"] = not store.exists("ex-1") and store.find_by_correlation("G", {"k": 1}) is None
print(json.dumps(result))
'''


@needs_unshare
def test_a_delete_on_a_full_disk_is_a_store_error_and_works_once_there_is_room(tmp_path: Path) -> None:
    result = run_on_small_disk(_CHILD, tmp_path)
    assert_store_error(result, "could not delete execution 'ex-1'", "ParquetStore(", "_index.sqlite")
    assert result["still"] == {"execution_id": "ex-1", "n": 1}, result
    assert result["deleted"] is True and result["gone"] is True, result
