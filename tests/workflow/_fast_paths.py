"""What the tests of ``deliver_event``'s fast paths (``workflow/quiet.py``, ``workflow/completing.py``,
``runtime/first_touch.py``) share: the contracts their random sequences and deploy scripts run, a store of each kind,
answers and stored versions without clock readings, and a run made once on the fast paths and once on the general
path alone (``GENERAL_ONLY``). The ``count_quiet`` and ``count_completing`` fixtures (``conftest.py``) count the
deliveries each fast path took."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import FileStore, MemoryStore, SQLStore
from igniter_nb.workflow import completing, quiet
from igniter_nb.workflow.engine import start

NOW = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------------------- the random sequences' contracts
def keyed_awaits(c: ig.ContractBuilder, *names: str, schema: Any = dict) -> None:
    """A workflow correlated by its input ``key``, awaiting ``<name>_arrived`` as ``<name>`` for each of ``names``
    in order (payloads checked against ``schema``)."""
    c.correlate_by("key")
    c.input("key", type=str)
    for name in names:
        c.await_event(name, event=f"{name}_arrived", schema=schema)


class Pair(ig.Contract):
    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "left", "right")
        c.compute("joined", depends_on=["left", "right"], call=lambda left, right: {"l": left, "r": right})
        c.output("joined")


class Three(ig.Contract):
    """Three awaits, each read by two joins that also read another await (and one the input)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a")
        c.await_event("b", event="b_arrived")  # (any payload)
        c.await_event("c", event="c_arrived", schema=dict)
        c.compute("ab", depends_on=["a", "b"], call=lambda a, b: [a, b])
        c.compute("bc", depends_on=["key", "b", "c"], call=lambda key, b, c: [key, b, c])
        c.compute("ca", depends_on=["c", "a"], call=lambda c, a: [c, a])
        c.output("ab")
        c.output("bc")
        c.output("both", "ca")


class Docs(ig.Contract):
    """Five awaits counted once all arrived (as bench/workflow_history.py's 40)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        names = [f"d{i}" for i in range(5)]
        keyed_awaits(c, *names)
        c.compute("count", depends_on=names, call=lambda **docs: len(docs))
        c.output("count")


class Chain(ig.Contract):
    """A dependent read by another compute: never quiet (the general path every time)."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a", "b")
        c.compute("j", depends_on=["a", "b"], call=lambda a, b: [a, b])
        c.compute("k", depends_on=["j"], call=lambda j: len(j))
        c.output("k")


class Scoped(ig.Contract):
    """Awaits and their join inside a nested scope."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c)
        with c.scope("outer"), c.scope("inner"):
            c.await_event("x", event="x_arrived", schema=dict)
            c.await_event("y", event="y_arrived", schema=dict)
            c.await_event("z", event="z_arrived", schema=dict)
            c.compute("xyz", depends_on=["x", "y", "z"], call=lambda x, y, z: [x, y, z])
        c.output("xyz")


CLASSES = {"pair": Pair, "three": Three, "docs": Docs, "chain": Chain, "scoped": Scoped}


def events_of(cls: type[ig.Contract]) -> list[str]:
    return [n.event for n in cls.compiled_graph().await_nodes]


def random_ops(rng: random.Random, cls: type[ig.Contract], count: int) -> list[tuple[Any, ...]]:
    """Two starts, then ``count`` random steps: duplicate starts, deliveries of unknown events or to no workflow,
    and deliveries of odd payloads with repeated idempotency keys."""
    events = events_of(cls)
    keys = ["w1", "w2"]
    ops: list[tuple[Any, ...]] = [("start", "w1"), ("start", "w2")]
    for _ in range(count):
        roll = rng.random()
        key = rng.choice(keys)
        if roll < 0.05:
            ops.append(("start", key))  # a duplicate start, or a new run after the last one finished
        elif roll < 0.09:
            ops.append(("deliver", key, "nobody_sends_this", {"n": 1}, None))
        elif roll < 0.12:
            ops.append(("deliver", "w9", rng.choice(events), {"n": 1}, None))  # no such workflow
        else:
            payload = rng.choice([{"n": 1}, {"n": 2}, {"n": 1, "m": [1, "x"]}, "not a dict", {"d": [1.5]}])
            idem = rng.choice([None, "k1", "k2", f"k{rng.randrange(9)}"])
            ops.append(("deliver", key, rng.choice(events), payload, idem))
    return ops


def shuffled_runs(cls: type[ig.Contract], rounds: int, seed: int,
                  n: Callable[[int, int, bool], int]) -> list[tuple[Any, ...]]:
    """A run per round: each await's event delivered in a shuffled order with payload ``{"n": n(round, i, last)}``,
    each with an idempotent replay, and the first delivered again once the run finished."""
    events = events_of(cls)
    rng = random.Random(seed)
    ops: list[tuple[Any, ...]] = []
    for round_ in range(rounds):
        order = events[:]
        rng.shuffle(order)
        key = f"r{round_}"
        ops.append(("start", key))
        for j, event in enumerate(order):
            value = n(round_, j, j == len(order) - 1)
            ops.append(("deliver", key, event, {"n": value}, f"{key}-{event}"))
            ops.append(("deliver", key, event, {"n": value}, f"{key}-{event}"))  # an idempotent replay
        ops.append(("deliver", key, order[0], {"n": 0}, f"{key}-{order[0]}"))  # late, after it finished
    return ops


# ---------------------------------------------------------------------------- the deploys' contracts
def define_ab(c: ig.ContractBuilder, schema: Any = dict) -> None:
    """Two awaits ``a`` and ``b`` (payloads checked against ``schema``) joined by ``ab``."""
    keyed_awaits(c, "a", "b", schema=schema)
    c.compute("ab", depends_on=["a", "b"], call=lambda a, b: [a, b])
    c.output("ab")


class Watched(ig.Contract):
    """A reaction watches node events: every delivery takes the general path, which runs it."""

    seen: list[str] = []

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        define_ab(c)

        @c.react_to("node_waiting")
        def note(event: Any, contract: Any = None) -> None:
            Watched.seen.append(event.node)


def deploy(version: str) -> Any:
    """The graph ``Deploy`` as each deploy has it: ``v1`` awaits a, b, c; ``v2`` awaits ``c_arrived`` as ``c2``
    (a rename not migrated); ``v3`` adds the await ``d``; ``v4`` makes ``a`` a compute."""

    class Deploy(ig.Contract):
        @staticmethod
        def define(c: ig.ContractBuilder) -> None:
            c.correlate_by("key")
            c.input("key", type=str)
            if version == "v4":
                c.compute("a", depends_on=["key"], call=lambda key: {"computed": key})
            else:
                c.await_event("a", event="a_arrived", schema=dict)
            c.await_event("b", event="b_arrived", schema=dict)
            third = "c2" if version == "v2" else "c"
            c.await_event(third, event="c_arrived", schema=dict)
            names = ["a", "b", third]
            if version == "v3":
                c.await_event("d", event="d_arrived", schema=dict)
                names.append("d")
            c.compute("all", depends_on=names, call=lambda **kw: sorted(kw))
            c.output("all")

    return Deploy


VERSIONS = {v: deploy(v) for v in ("v1", "v2", "v3", "v4")}

# (version delivering, event) per step, each workflow started by v1; every step answers or raises the same
SCRIPTS = [
    [("v1", "a_arrived"), ("v2", "b_arrived"), ("v2", "c_arrived"), ("v1", "c_arrived"), ("v1", "b_arrived")],
    [("v1", "c_arrived"), ("v2", "a_arrived"), ("v2", "b_arrived"), ("v1", "a_arrived")],
    [("v3", "a_arrived"), ("v3", "d_arrived"), ("v1", "b_arrived"), ("v3", "c_arrived"), ("v3", "b_arrived")],
    [("v4", "b_arrived"), ("v1", "a_arrived"), ("v1", "b_arrived"), ("v1", "c_arrived")],
    [("v1", "a_arrived"), ("v4", "c_arrived"), ("v1", "b_arrived"), ("v1", "c_arrived")],
]


def run_script(script: list[tuple[str, str]], store: Any) -> tuple[list[Any], list[Any]]:
    """Start one workflow with ``v1``, then deliver each step of ``script`` with its deploy's class."""
    answers: list[Any] = []
    eid = "00000000-0000-4000-8000-00000000000a"
    start(VERSIONS["v1"], {"key": "k"}, store=store, now=NOW, execution_id=eid)
    for n, (version, event) in enumerate(script):
        try:
            contract = VERSIONS[version].deliver_event(event, correlation={"key": "k"}, payload={"n": n}, store=store,
                                                       now=NOW, idempotency_key=f"i{n}")
            answers.append(answer(contract))
        except ig.IgniterError as exc:
            answers.append(raised(exc))
    return answers, history(store, eid)


# ---------------------------------------------------------------------------- stores, answers, stored versions
def make_store(kind: str, root: Path) -> Any:
    """A fresh memory, file (``root/files``) or SQLite (``root/db.sqlite``) store."""
    if kind == "memory":
        return MemoryStore()
    if kind == "file":
        return FileStore(str(root / "files"))
    return SQLStore(f"sqlite:///{root / 'db.sqlite'}")


# a wall-clock moment as text; its fraction is left out when the moment falls on a whole second (a CI run met one)
_WALL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)?")


def norm(value: Any, key: str | None = None) -> Any:
    """``value`` without clock readings: floats (event times, ``resolved_at``, durations) and wall-clock stamps
    (``saved_at``) become placeholders; everything else as it is, in its order."""
    if isinstance(value, Mapping):  # (a live event's empty payload is a read-only {}: equal to the stored {})
        return [(k, norm(v, k)) for k, v in value.items()]  # (a list of pairs: key order is compared too)
    if isinstance(value, list | tuple):
        return [norm(v) for v in value]
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, dt.datetime):
        return "<datetime>" if value != NOW else value
    if isinstance(value, str):
        return _WALL.sub("<wall>", value)
    return value


def answer(contract: Any) -> Any:
    """What a delivery's contract says: its events, workflow record, states, audit and diagnostics."""
    ex = contract.execution
    return {
        "type": type(contract).__name__,
        "id": contract.execution_id,
        "status": str(contract.execution.status_of()),
        "events": norm([e._asdict() for e in contract.events]),
        "workflow": norm(ex.workflow),
        "states": norm(contract.states),
        "audit": norm(contract.audit.snapshot()),
        "diagnostics": norm(contract.diagnostics.to_dict()),
        "version": ex.store_version,
        "bound": sorted(ex.bound_events),
    }


def raised(exc: BaseException) -> tuple[Any, ...]:
    """An error in place of an answer: its type, message and (an ``IgniterError``'s) context."""
    return "raised", type(exc).__name__, norm(str(exc)), norm(getattr(exc, "context", None))


def history(store: Any, eid: str) -> list[Any]:
    """Every stored version of ``eid``: number, status, correlation and snapshot."""
    return [(r.version, r.status, norm(r.correlation), norm(r.snapshot)) for r in store.history_records(eid)]


def run(cls: type[ig.Contract], ops: list[tuple[Any, ...]], store: Any, *, read_late: bool = False,
        fresh_payloads: bool = False) -> tuple[list[Any], list[Any]]:
    """The answer to each of ``ops`` (``random_ops``), then every version stored. ``read_late``: each contract read
    only after the whole sequence ran; ``fresh_payloads``: each delivery given its own copy of a dict payload (a
    dependent may change it in place)."""
    found: list[Any] = []
    ids: list[str] = []
    for i, op in enumerate(ops):
        try:
            if op[0] == "start":
                eid = str(uuid.UUID(int=i + 1, version=4))
                contract = start(cls, {"key": op[1]}, store=store, now=NOW, execution_id=eid)
                ids.append(eid)
            else:
                _, key, event, payload, idem = op
                if fresh_payloads and isinstance(payload, dict):
                    payload = dict(payload)
                contract = cls.deliver_event(event, correlation={"key": key}, payload=payload, store=store,
                                             idempotency_key=idem, now=NOW)
            found.append(contract if read_late else answer(contract))
        except ig.IgniterError as exc:
            found.append(raised(exc))
    answers = [answer(c) if read_late and type(c) is not tuple else c for c in found]
    return answers, [version for eid in ids for version in history(store, eid)]


# ---------------------------------------------------------------------------- both paths, compared
def both(run_on: Callable[[Any], Any], kind: str, root: Path, monkeypatch: pytest.MonkeyPatch,
         switch: ModuleType = quiet) -> tuple[Any, Any]:
    """``run_on`` a fresh store of ``kind`` as deliveries run, then on another with ``switch.GENERAL_ONLY`` set
    (``quiet``: both fast paths off; ``completing``: the completing path off)."""
    (root / "fast").mkdir()
    (root / "general").mkdir()
    fast = run_on(make_store(kind, root / "fast"))
    monkeypatch.setattr(switch, "GENERAL_ONLY", True)
    general = run_on(make_store(kind, root / "general"))
    monkeypatch.setattr(switch, "GENERAL_ONLY", False)
    return fast, general


def _first_difference(q: Any, g: Any, where: str = "") -> str:
    """Where ``q`` and ``g`` first differ, and the two values there (for the failure message)."""
    if type(q) is type(g) and isinstance(q, dict) and q.keys() == g.keys():
        for k in q:
            if q[k] != g[k]:
                return _first_difference(q[k], g[k], f"{where}.{k}")
    if type(q) is type(g) and isinstance(q, list | tuple) and len(q) == len(g):
        for i, (a, b) in enumerate(zip(q, g, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{where}[{i}]")
    return f"{where}: quiet {q!r:.600} != general {g!r:.600}"


def assert_same(fast: Any, general: Any) -> None:
    """The same answers and stored versions, each difference named where it first is."""
    (qa, qs), (ga, gs) = fast, general
    assert len(qa) == len(ga)
    for i, (q, g) in enumerate(zip(qa, ga, strict=True)):
        assert q == g, f"answer {i} differs at {_first_difference(q, g)}"
    assert len(qs) == len(gs)
    for i, (q, g) in enumerate(zip(qs, gs, strict=True)):
        assert q == g, f"stored version {i} differs at {_first_difference(q, g)}"


# ---------------------------------------------------------------------------- how often each fast path was taken
def counting_quiet(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``[count]``: how many deliveries the quiet path applies from now on (until the test ends)."""
    applied = [0]
    original = quiet.deliver_quietly

    def counting(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        if found is not None:
            applied[0] += 1
        return found

    monkeypatch.setattr("igniter_nb.workflow.engine.deliver_quietly", counting)
    return applied


def counting_completing(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """``{"applied": n, "handed": n}``: deliveries the completing path saves itself, and those it hands over."""
    seen = {"applied": 0, "handed": 0}
    original = completing.deliver_completing

    def counting(*args: Any, **kwargs: Any) -> Any:
        done, handover = original(*args, **kwargs)
        if done is not None:
            seen["applied"] += 1
        if handover is not None:
            seen["handed"] += 1
        return done, handover

    monkeypatch.setattr("igniter_nb.workflow.engine.deliver_completing", counting)
    return seen
