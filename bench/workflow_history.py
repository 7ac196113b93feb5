"""Memory-store deliveries on a workflow with a history (issue 13 target 4 beyond the two-await ``BenchPair``): one
workflow awaiting N documents (``tests/workflow/wf_contracts.documents_workflow``), each delivered with a 1 KB
payload, beside the raw ``marshal`` floor of what each delivery read and wrote — every version the deliveries
saved, loaded and dumped again (``bench/_floors.py``'s memory floor, per version) — in the same run.

    .venv/bin/python bench/workflow_history.py            # 40 awaits, best of 7 workflows
    .venv/bin/python bench/workflow_history.py --awaits 80
    .venv/bin/python bench/workflow_history.py --pair     # BenchPair instead: best of 7 batches of 300 workflows
    .venv/bin/python bench/workflow_history.py --quiet-vs-general          # the 40 awaits, see below
    .venv/bin/python bench/workflow_history.py --pair --quiet-vs-general   # BenchPair, see below

``--quiet-vs-general`` times the deliveries that run nothing (quiet: ``workflow/quiet.py``, applied to the stored
record — BenchPair's first, the 40-await workflow's first 39) apart from the others, in batches alternating with
batches where every delivery takes the general path (``quiet.GENERAL_ONLY``, the switch the tests use): the
general path is the baseline of the same run.

``--pair`` times ``bench/workflows.py``'s two-await ``BenchPair`` deliveries (left then right, 2,000 workflows
stored) as the best of several batches — steadier on a busy machine than that bench's median of 3 — beside the
same marshal floor, normalised the same way, on the final snapshots.

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


def pair_once(store: Any, tag: str, batch: int) -> tuple[float, float]:
    """(seconds per delivery, seconds per floor round) for ``batch`` BenchPair workflows delivered to the end."""
    first, second = split_pair(store, tag, batch)
    pairs = [f"{tag}-{i}" for i in range(batch)]
    ids = [store.find_latest_by_correlation("BenchPair", {"pair_id": pair}) for pair in pairs]
    blobs = [marshal.dumps(json.loads(json.dumps(store.fetch(eid)))) for eid in ids]
    t0 = time.perf_counter()
    for blob in blobs:
        for _ in range(2):
            marshal.dumps(marshal.loads(blob))
    return (first + second) / 2, (time.perf_counter() - t0) / (2 * batch)


def split_pair(store: Any, tag: str, batch: int) -> tuple[float, float]:
    """(seconds per first delivery, seconds per second delivery) for ``batch`` BenchPair workflows."""
    from workflows import BenchPair

    pairs = [f"{tag}-{i}" for i in range(batch)]
    for pair in pairs:
        BenchPair.start(pair_id=pair, store=store)
    t0 = time.perf_counter()
    for pair in pairs:
        BenchPair.deliver_event("left_arrived", correlation={"pair_id": pair}, payload={"n": 1}, store=store,
                                idempotency_key=f"{pair}:l")
    t1 = time.perf_counter()
    for pair in pairs:
        BenchPair.deliver_event("right_arrived", correlation={"pair_id": pair}, payload={"n": 2}, store=store,
                                idempotency_key=f"{pair}:r")
    return (t1 - t0) / batch, (time.perf_counter() - t1) / batch


def split_documents(cls: Any, awaits: int, tag: str) -> tuple[float, float]:
    """(seconds per delivery but the last, seconds for the last) for one workflow delivered to the end."""
    store = MemoryStore()
    cls.start(key=tag, store=store)
    payloads = [{"blob": base64.b64encode(os.urandom(768)).decode()} for _ in range(awaits)]
    t0 = time.perf_counter()
    for i in range(awaits - 1):
        cls.deliver_event(f"doc{i:02d}_arrived", correlation={"key": tag}, payload=payloads[i], store=store)
    t1 = time.perf_counter()
    cls.deliver_event(f"doc{awaits - 1:02d}_arrived", correlation={"key": tag}, payload=payloads[-1], store=store)
    return (t1 - t0) / (awaits - 1), time.perf_counter() - t1


def quiet_vs_general(pair: bool, awaits: int, runs: int) -> int:
    from igniter_nb.workflow import quiet

    if pair:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from workflows import fill

        store = MemoryStore()
        fill(store, 0, 2_000)

        def one(tag: str) -> tuple[float, float]:
            return split_pair(store, tag, 300)

        what, first, second = "BenchPair, 2,000 stored, batches of 300", "first (left)", "second (right)"
    else:
        cls = documents_workflow(awaits)

        def one(tag: str) -> tuple[float, float]:
            return split_documents(cls, awaits, tag)

        what, first, second = f"{awaits} awaits x 1 KB, one workflow a batch", f"1st-{awaits - 1}th", "last"
    found: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(runs + 1):
        for general in (False, True):
            quiet.GENERAL_ONLY = general
            try:
                result = one(f"{'g' if general else 'q'}{i}")
            finally:
                quiet.GENERAL_ONLY = False
            if i:  # (the first round warms up)
                found[general].append(result)
    print(f"# quiet vs general deliveries {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"memory store, {what}, best of {runs} alternating batches")
    for index, name in ((0, first), (1, second)):
        q, g = min(r[index] for r in found[False]), min(r[index] for r in found[True])
        print(f"{name:>15} delivery: quiet path on {q * 1e6:,.0f} us   general path only {g * 1e6:,.0f} us   "
              f"ratio {q / g:.2f}x")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--awaits", type=int, default=40)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pair", action="store_true", help="BenchPair batches instead of one long workflow")
    parser.add_argument("--quiet-vs-general", action="store_true",
                        help="time quiet deliveries apart, against the general path in the same run")
    args = parser.parse_args()
    if args.quiet_vs_general:
        return quiet_vs_general(args.pair, args.awaits, args.runs)
    if args.pair:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from workflows import fill

        store = MemoryStore()
        fill(store, 0, 2_000)
        pair_once(store, "warm-up", 200)
        results = [pair_once(store, f"r{i}", 300) for i in range(args.runs)]
        what = f"BenchPair, 2,000 stored, best of {args.runs} batches of 300"
    else:
        cls = documents_workflow(args.awaits)
        once(cls, args.awaits, "warm-up")
        results = [once(cls, args.awaits, f"k-{i}") for i in range(args.runs)]
        what = f"{args.awaits} awaits x 1 KB payloads, best of {args.runs} workflows"
    deliver, floor = min(r[0] for r in results), min(r[1] for r in results)
    print(f"# workflow history benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]}, "
          f"memory store, {what}")
    print(f"deliver {1 / deliver:,.0f}/s ({deliver * 1e6:,.0f} us)   raw marshal floor {1 / floor:,.0f}/s "
          f"({floor * 1e6:,.0f} us)   deliver/floor {floor / deliver:.2f}x" + ("" if floor / deliver >= 0.4 else "  MISS >= 0.4"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
