"""LangGraph's side of ``bench/workflows.py``: the graph equivalent to ``BenchPair`` — a ``StateGraph`` whose two
nodes each ``interrupt()`` for an event, then a join — resumed with ``Command(resume=...)``, on LangGraph's SQLite
checkpointer (at the ``synchronous`` setting igniter_nb's SQLite store uses in the same run) and on its PostgreSQL
checkpointer (``langgraph-checkpoint-postgres``, on the same server as igniter_nb's PostgreSQL store)."""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict


class _LGState(TypedDict, total=False):
    pair_id: str
    left: Any
    right: Any
    joined: Any


def _graph(checkpointer: Any) -> Any:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    def left(state: _LGState) -> _LGState:
        return {"left": interrupt("left_arrived")}

    def right(state: _LGState) -> _LGState:
        return {"right": interrupt("right_arrived")}

    def joined(state: _LGState) -> _LGState:
        return {"joined": {"left": state["left"], "right": state["right"]}}

    builder = StateGraph(_LGState)
    builder.add_node("left_node", left)
    builder.add_node("right_node", right)
    builder.add_node("joined_node", joined)
    builder.add_edge(START, "left_node")
    builder.add_edge("left_node", "right_node")
    builder.add_edge("right_node", "joined_node")
    builder.add_edge("joined_node", END)
    return builder.compile(checkpointer=checkpointer)


@contextlib.contextmanager
def sqlite_saver(db: Path, synchronous: str) -> Iterator[Any]:
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(db, check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()  # (sets journal_mode=WAL itself; synchronous is per connection, set here like ours)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    try:
        yield saver
    finally:
        conn.close()


@contextlib.contextmanager
def postgres_saver(conninfo: str) -> Iterator[Any]:
    from langgraph.checkpoint.postgres import PostgresSaver

    with PostgresSaver.from_conn_string(conninfo) as saver:
        saver.setup()
        yield saver


def missing() -> str | None:
    """Why LangGraph cannot run here, or None."""
    try:
        import langgraph.checkpoint.postgres
        import langgraph.checkpoint.sqlite
        import langgraph.graph  # noqa: F401
    except ImportError as exc:
        return (f"langgraph not installed ({exc}); pip install langgraph langgraph-checkpoint-sqlite "
                "langgraph-checkpoint-postgres")
    return None


def rates(saver: Any, levels: list[int], batch: int, batches: int, tag: str) -> dict[int, tuple[float, float]]:
    """{stored threads: (start/s, resume/s)}: medians over ``batches`` batches of ``batch`` threads (after one
    unmeasured warm-up batch), with ``level`` threads stored before each level's batches."""
    from langgraph.types import Command

    graph = _graph(saver)

    def start(thread: str) -> None:
        graph.invoke({"pair_id": thread}, {"configurable": {"thread_id": thread}})

    results: dict[int, tuple[float, float]] = {}
    started = 0
    counter = 0
    for level in levels:
        for i in range(started, level):
            start(f"{tag}-bg-{i}")
        started = max(started, level)
        starts, resumes = [], []
        for warm_up in (True, *([False] * batches)):
            counter += 1
            threads = [f"{tag}-r-{level}-{counter}-{i}" for i in range(batch)]
            t0 = time.perf_counter()
            for t in threads:
                start(t)
            t1 = time.perf_counter()
            out: Any = None
            for t in threads:
                graph.invoke(Command(resume={"n": 1}), {"configurable": {"thread_id": t}})
            for t in threads:
                out = graph.invoke(Command(resume={"n": 2}), {"configurable": {"thread_id": t}})
            t2 = time.perf_counter()
            assert out["joined"] == {"left": {"n": 1}, "right": {"n": 2}}
            if not warm_up:
                starts.append(batch / (t1 - t0))
                resumes.append(2 * batch / (t2 - t1))
        results[level] = (statistics.median(starts), statistics.median(resumes))
        started += batch * (batches + 1)
    return results
