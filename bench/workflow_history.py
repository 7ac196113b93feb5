"""Memory-store deliveries on a workflow with a history (issue 13 target 4 beyond the two-await ``BenchPair``): one
workflow awaiting N documents (``tests/workflow/wf_contracts.documents_workflow``), each delivered with a 1 KB
payload, beside the raw ``marshal`` floor of what each delivery read and wrote — every version the deliveries
saved, loaded and dumped again (``bench/_floors.py``'s memory floor, per version) — in the same run.

    .venv/bin/python bench/workflow_history.py            # 40 awaits, best of 7 workflows
    .venv/bin/python bench/workflow_history.py --awaits 80

The floor is measured on each version normalised through JSON (``json.loads(json.dumps(snapshot))``), so it does
not depend on which strings the store's read happened to share (marshal writes a shared string once): the same
bytes whatever the store layout. ``deliver/floor`` is deliver/s over floor/s (issue 13: ≥ 0.4).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import marshal
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from igniter_nb.stores import MemoryStore
from tests.workflow.wf_contracts import documents_workflow


def once(cls: Any, awaits: int, tag: str) -> tuple[float, float]:
    """(seconds per delivery, seconds per floor round) for one workflow delivered to the end."""
    store = MemoryStore()
    cls.start(key=tag, store=store)
    payloads = [{"blob": base64.b64encode(os.urandom(768)).decode()} for _ in range(awaits)]
    t0 = time.perf_counter()
    for i in range(awaits):
        wf = cls.deliver_event(f"doc{i:02d}_arrived", correlation={"key": tag}, payload=payloads[i], store=store)
    deliver = (time.perf_counter() - t0) / awaits
    blobs = [marshal.dumps(json.loads(json.dumps(r.snapshot))) for r in store.history_records(wf.execution_id)[1:]]
    t0 = time.perf_counter()
    for blob in blobs:
        marshal.dumps(marshal.loads(blob))
    return deliver, (time.perf_counter() - t0) / len(blobs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--awaits", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cls = documents_workflow(args.awaits)
    once(cls, args.awaits, "warm-up")
    results = [once(cls, args.awaits, f"k-{i}") for i in range(args.runs)]
    deliver, floor = min(r[0] for r in results), min(r[1] for r in results)
    print(f"# workflow history benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"memory store, {args.awaits} awaits x 1 KB payloads, best of {args.runs} workflows")
    print(f"deliver {1 / deliver:,.0f}/s ({deliver * 1e6:,.0f} us)   raw marshal floor {1 / floor:,.0f}/s "
          f"({floor * 1e6:,.0f} us)   deliver/floor {floor / deliver:.2f}x" + ("" if floor / deliver >= 0.4 else "  MISS >= 0.4"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
