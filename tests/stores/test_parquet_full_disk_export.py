"""``export_parquet`` into a full disk: a ``StoreError`` naming the store and the execution — it was a bare
``OSError`` (or ``sqlite3.OperationalError``, the versions written so far left as the whole history) — and the
execution it was replacing keeps its old history whole."""

from __future__ import annotations

from pathlib import Path

from tests.small_disk import OUTCOME, assert_store_error, needs_unshare, run_on_small_disk

_CHILD = OUTCOME + r'''
from igniter_nb.stores import MemoryStore, ParquetStore, export_parquet
root = os.path.join(mount, "audit")
source = MemoryStore()
source.save({"execution_id": "ex-1", "n": 1})
export_parquet(source, root)
for n in range(2, 40):  # a history too big for what is left
    source.save({"execution_id": "ex-1", "n": n, "blob": os.urandom(40_000).hex()})
handle = open(os.path.join(mount, "filler"), "ab", buffering=0)
try:
    handle.write(b"\0" * 1_000_000)
except OSError:
    pass
handle.close()
result = outcome(lambda: export_parquet(source, root))
store = ParquetStore(root)
result["history"] = [s["n"] for s in store.history("ex-1")]
result["left"] = sorted(os.listdir(root))
print(json.dumps(result))
'''


@needs_unshare
def test_an_export_into_a_full_disk_is_a_store_error_and_keeps_the_old_copy(tmp_path: Path) -> None:
    result = run_on_small_disk(_CHILD, tmp_path)
    assert_store_error(result, "could not import execution 'ex-1'", "ParquetStore(")
    assert result["history"] == [1], result
    assert ".igniter-import" not in result["left"], result
