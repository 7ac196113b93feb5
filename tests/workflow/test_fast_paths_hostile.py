"""The three fast paths of ``deliver_event`` (``workflow/quiet.py``, ``workflow/completing.py``,
``runtime/first_touch.py``) attacked as a hostile user: dependents that change their arguments in place, raise
``BaseException``s, deliver again from inside themselves or race another thread; odd payloads; contract classes
with their own properties, slots, class attributes and ``__getattr__``. Each answer is compared with the general
path (``quiet.GENERAL_ONLY``, which turns off the completing path too)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import math
import threading
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import igniter_nb as ig
from igniter_nb.stores import MemoryStore
from igniter_nb.workflow import quiet
from igniter_nb.workflow.engine import start
from tests.workflow._fast_paths import NOW, keyed_awaits, make_store

CALLS: Counter[str] = Counter()
MODE: dict[str, Any] = {}
_LOCK = threading.Lock()
_STORE: dict[str, Any] = {}


class Boom(Exception):
    pass


def _first(key: str, a: Any, b: Any) -> Any:
    """The join of ``Hostile``: does what ``MODE["first"]`` says to its arguments, then returns."""
    with _LOCK:
        CALLS[key] += 1
    mode = MODE.get("first")
    if mode == "raise":
        raise Boom(f"no join for {a!r}")
    if mode in ("interrupt", "exit") and CALLS[key] == 1:
        a["items"].append("half")  # (changed in place, then interrupted: nothing of it may be saved)
        raise KeyboardInterrupt if mode == "interrupt" else SystemExit(3)
    if mode == "mutate":
        a["items"].append(99)
        b["seen"] = True
    elif mode == "date_in_stored":
        a["items"].append(dt.date(2030, 1, 2))
    elif mode == "tuple_in_payload":
        b["pair"] = (1, 2)
    elif mode == "replace_stored":
        a.clear()
        a[1] = "not a string key"
    elif mode == "reenter":
        try:
            inner = Hostile.deliver_event("z_arrived", correlation={"key": key}, payload=CALLS[key],
                                          store=_STORE["store"], now=NOW)
            return ["inner", inner.workflow_status]
        except ig.IgniterError as exc:
            return ["inner raised", type(exc).__name__]
    return {"a": a, "b": b}


class Hostile(ig.Contract):
    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a", "b", "z", schema=None)
        c.compute("first", depends_on=["key", "a", "b"], call=_first)
        c.compute("second", depends_on=["a", "b"], call=lambda a, b: "second")
        c.compute("zz", depends_on=["z"], call=lambda z: z)
        c.output("first")
        c.output("second")
        c.output("zz")


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except ValueError:  # (an int past Python's digit limit)
        return "<unrepresentable>"


def _state_view(contract: Any) -> dict[str, Any]:
    return {k: (v["status"], _repr(v["value"])) for k, v in contract.states.items()}


def _history(store: Any, eid: str = "e1") -> list[Any]:
    return [(r.version, r.status, _repr({k: (v["status"], v["value"]) for k, v in r.snapshot["states"].items()}),
             _repr(r.snapshot["workflow"]["signals"]))
            for r in store.history_records(eid)]


def _run(general: bool, monkeypatch: pytest.MonkeyPatch, kind: str, root: Path, deliveries: list[tuple[str, Any]],
         mode: str | None = None) -> Any:
    """Start one Hostile workflow and make ``deliveries``, on the fast paths or (``general``) the general path only:
    each answer (states, workflow status) or error, the stored history, and how often the join was called."""
    monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
    CALLS.clear()
    MODE.clear()
    MODE["first"] = mode
    (root / ("general" if general else "fast")).mkdir(exist_ok=True)
    store = _STORE["store"] = make_store(kind, root / ("general" if general else "fast"))
    start(Hostile, {"key": "k"}, store=store, now=NOW, execution_id="e1")
    answers: list[Any] = []
    for event, payload in deliveries:
        try:
            contract = Hostile.deliver_event(event, correlation={"key": "k"}, payload=payload, store=store, now=NOW)
            answers.append((contract.workflow_status, _state_view(contract), contract.execution.store_version))
        except (Exception, KeyboardInterrupt, SystemExit) as exc:
            answers.append(("raised", type(exc).__name__, str(exc)[:200]))
    return answers, _history(store), dict(CALLS)


def _both(monkeypatch: pytest.MonkeyPatch, kind: str, root: Path, deliveries: list[tuple[str, Any]],
          mode: str | None = None) -> Any:
    # (a dependent changing its payload changes the caller's object, on both paths: each run gets its own)
    fast = _run(False, monkeypatch, kind, root, copy.deepcopy(deliveries) if mode else deliveries, mode)
    general = _run(True, monkeypatch, kind, root, copy.deepcopy(deliveries) if mode else deliveries, mode)
    assert fast == general
    return fast


# ---------------------------------------------------------------------------- a failing dependent's traceback
def test_a_failing_dependent_s_error_carries_no_frame_of_the_completing_path(monkeypatch: pytest.MonkeyPatch,
                                                                               tmp_path: Path) -> None:
    """The error a dependent raised on the completing path is recorded by the general path (Handover); its
    traceback must not hold the completing path's own frames (``deliver_completing``, its call helper), which kept
    the delivery's record, outcomes and handover alive through the error and misled whoever read the trace."""
    frames = {}
    for general in (False, True):
        monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
        MODE.clear()
        MODE["first"] = "raise"
        store = MemoryStore()
        start(Hostile, {"key": "k"}, store=store, now=NOW, execution_id="e1")
        Hostile.deliver_event("a_arrived", correlation={"key": "k"}, payload={"items": [1]}, store=store, now=NOW)
        contract = Hostile.deliver_event("b_arrived", correlation={"key": "k"}, payload={"n": 2}, store=store,
                                         now=NOW)
        assert contract.workflow_status == "failed"
        cause = contract.execution.states["first"].error.__cause__
        assert type(cause) is Boom
        frames[general] = [(f.name, Path(f.filename).name) for f in traceback.extract_tb(cause.__traceback__)]
    assert ("deliver_completing", "completing.py") not in frames[False]
    assert ("__call__", "completing.py") not in frames[False]
    # what the dependent itself ran is the same on both paths: the trace ends in the user's function
    assert frames[False][-1] == frames[True][-1] == ("_first", "test_fast_paths_hostile.py")


# ---------------------------------------------------------------------------- dependents changing their arguments
@pytest.mark.parametrize("kind", ["memory", "file", "sqlite"])
@pytest.mark.parametrize("mode", ["mutate", "date_in_stored", "tuple_in_payload", "replace_stored", "raise"])
def test_dependents_changing_their_arguments_in_place_answer_and_store_the_same(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str, mode: str) -> None:
    answers, history, calls = _both(monkeypatch, kind, tmp_path,
                                    [("a_arrived", {"items": [1]}), ("b_arrived", {"n": 2})], mode)
    assert calls == {"k": 1}
    assert "'items': [1]}" in history[1][2]  # the version before the join is untouched by what the join did
    assert answers[-1][0] == ("failed" if mode == "raise" else "waiting")  # (z still waits)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("mode", ["interrupt", "exit"])
def test_a_base_exception_in_a_dependent_saves_nothing_and_the_next_delivery_works(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str, mode: str) -> None:
    payloads = [("a_arrived", {"items": [1]}), ("b_arrived", {"n": 2}), ("b_arrived", {"n": 2})]
    answers, history, calls = _both(monkeypatch, kind, tmp_path, payloads, mode)
    assert answers[1][:2] == ("raised", "KeyboardInterrupt" if mode == "interrupt" else "SystemExit")
    assert [v for v, *_ in history] == [1, 2, 3]  # nothing saved by the interrupted delivery
    assert "'half'" not in history[2][2] and "'half'" not in history[1][2]
    assert answers[2][0] == "waiting" and calls == {"k": 2}  # (z still waits)


def test_a_dependent_delivering_to_its_own_workflow_behaves_as_on_the_general_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The inner delivery wins the race; the outer one is applied again to the new record (its dependent called
    again, as documented for a lost race) and finds its inner delivery a duplicate."""
    answers, history, calls = _both(monkeypatch, "memory", tmp_path,
                                    [("a_arrived", {"items": [1]}), ("b_arrived", {"n": 2})], "reenter")
    assert calls == {"k": 2}
    assert answers[-1][0] == "succeeded"
    assert answers[-1][1]["first"] == ("succeeded", repr(["inner raised", "DuplicateSignalError"]))
    assert len(history) == 4


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_two_threads_delivering_both_awaits_call_the_join_once(tmp_path: Path, kind: str) -> None:
    store = make_store(kind, tmp_path)
    MODE.clear()
    CALLS.clear()
    count = 12
    for i in range(count):
        start(Hostile, {"key": f"k{i}"}, store=store, now=NOW, execution_id=f"e{i}")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def deliver(event: str, payload: Any) -> None:
        for i in range(count):
            barrier.wait(timeout=10)
            try:
                Hostile.deliver_event(event, correlation={"key": f"k{i}"}, payload=payload, store=store, now=NOW)
            except Exception as exc:  # (reported below)
                errors.append(exc)

    threads = [threading.Thread(target=deliver, args=("a_arrived", {"items": [1]})),
               threading.Thread(target=deliver, args=("b_arrived", {"n": 2}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert CALLS == {f"k{i}": 1 for i in range(count)}
    for i in range(count):
        contract = Hostile.restore_from_store(f"e{i}", store=store)
        assert contract.result.first == {"a": {"items": [1]}, "b": {"n": 2}}
        assert len(store.history_records(f"e{i}")) == 3


# ---------------------------------------------------------------------------- odd payloads
def _deep(levels: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for _ in range(levels):
        found = {"x": found}
    return found


ODD = {
    "nan and -0.0": [("a_arrived", {"v": math.nan}), ("b_arrived", {"v": -0.0})],
    "infinities": [("a_arrived", math.inf), ("b_arrived", [-math.inf])],
    "big ints": [("a_arrived", 2**64), ("b_arrived", -(10**40))],
    "too big an int": [("a_arrived", 1), ("b_arrived", 10**4400)],
    "deep first": [("a_arrived", _deep(1000)), ("b_arrived", 1)],
    "deep last": [("a_arrived", 1), ("b_arrived", _deep(1000))],
    "keys not strings": [("a_arrived", {1: "a"}), ("b_arrived", {(1, 2): "b", "1": "c"})],
    "surrogates": [("a_arrived", "\ud800"), ("b_arrived", {"s": "\udfff"})],
    "tuples": [("a_arrived", [1, [2]]), ("b_arrived", (1, 2))],
}


@pytest.mark.parametrize("kind", ["memory", "file", "sqlite"])
@pytest.mark.parametrize("name", list(ODD))
def test_odd_payloads_answer_and_store_the_same(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str,
                                                name: str) -> None:
    deliveries = [*ODD[name], ("z_arrived", 0)]
    _both(monkeypatch, kind, tmp_path, [(e, p) for e, p in deliveries])


# ---------------------------------------------------------------------------- contracts restored on first touch
def _define(c: ig.ContractBuilder) -> None:
    keyed_awaits(c, "a", "b", "z", schema=None)
    c.compute("first", depends_on=["a", "b"], call=lambda a, b: [a, b])
    c.compute("zz", depends_on=["z"], call=lambda z: z)
    c.output("first")
    c.output("zz")


class Base(ig.Contract):
    define = staticmethod(_define)


class WithProperty(Base):
    @property
    def summary(self) -> Any:
        return self.execution.execution_id, str(self.status)


class OwnId(Base):
    @property
    def execution_id(self) -> str:  # type: ignore[override]
        return "own-" + self.execution.execution_id


class Slotted(Base):
    __slots__ = ("extra",)


class ClassExecution(Base):
    execution = None  # type: ignore[assignment]


class Delegating(Base):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.result, name)


class Hooked(Base):
    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)


@dataclasses.dataclass(eq=False)
class Mixin:
    label: str = "mixin"


class WithMixin(Mixin, Base):
    pass


def _read(contract: Any) -> Any:
    found: list[Any] = [type(contract).__name__, contract.execution_id]
    for attr in ("summary", "first", "status", "workflow_status", "label", "nonexistent"):
        try:
            found.append(repr(getattr(contract, attr)))
        except Exception as exc:
            found.append(type(exc).__name__)
    found.append(_state_view(contract))
    return found


@pytest.mark.parametrize("delete", [False, True], ids=["kept", "deleted"])
@pytest.mark.parametrize("cls", [WithProperty, OwnId, Slotted, ClassExecution, Delegating, Hooked, WithMixin],
                         ids=lambda c: c.__name__)
def test_contract_classes_read_the_same_from_a_lazily_restored_contract(monkeypatch: pytest.MonkeyPatch,
                                                                        cls: Any, delete: bool) -> None:
    """Read only after the execution was deleted from the store (``deleted``): still what the delivery saved."""
    results = []
    for general in (False, True):
        monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
        store = MemoryStore()
        start(cls, {"key": "k"}, store=store, now=NOW, execution_id="e1")
        found = []
        for event, payload in (("a_arrived", 1), ("z_arrived", 2), ("b_arrived", 3)):
            contract = cls.deliver_event(event, correlation={"key": "k"}, payload=payload, store=store, now=NOW)
            if delete:
                store.delete("e1")
                start(cls, {"key": "k"}, store=store, now=NOW, execution_id="e1")
            found.append(_read(contract))
        results.append(found)
    assert results[0] == results[1]
    assert results[0][0][1] == ("own-e1" if cls is OwnId else "e1")


def test_threads_touching_one_lazy_contract_get_one_execution() -> None:
    store = MemoryStore()
    start(Base, {"key": "k"}, store=store, now=NOW, execution_id="e1")
    contract = Base.deliver_event("a_arrived", correlation={"key": "k"}, payload=1, store=store, now=NOW)
    assert "execution" not in vars(contract)  # (quiet: restored on first touch)
    seen: list[Any] = []
    barrier = threading.Barrier(8)

    def touch() -> None:
        barrier.wait(timeout=10)
        seen.append(contract.execution)

    threads = [threading.Thread(target=touch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(seen) == 8 and len({id(x) for x in seen}) == 1
    assert seen[0].store_version == 2


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_changing_returned_contracts_never_changes_the_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                             kind: str) -> None:
    histories = []
    for general in (False, True):
        monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
        (tmp_path / str(general)).mkdir()
        store = make_store(kind, tmp_path / str(general))
        start(Base, {"key": "k"}, store=store, now=NOW, execution_id="e1")
        for event in ("a_arrived", "b_arrived", "z_arrived"):
            contract = Base.deliver_event(event, correlation={"key": "k"}, payload={"items": [1]}, store=store,
                                          now=NOW)
            contract.execution.states["a"].value["items"].append("changed")
            contract.execution.workflow["signals"][0]["correlation"]["key"] = "changed"
            for e in contract.events:
                if type(e.payload) is dict and "correlation" in e.payload:
                    e.payload["correlation"] = "changed"
        histories.append(_history(store))
        assert "changed" not in repr(histories[-1])
    assert histories[0] == histories[1]


# ---------------------------------------------------------------------------- outcomes handed to the general path
class _Odd:
    pass


def _joiner(name: str) -> Any:
    def join(a: Any, b: Any) -> Any:
        CALLS[name] += 1
        mode = MODE.get(name)
        if mode == "deferred":
            return ig.DeferredResult(token=f"t-{name}", payload={"n": 1})
        if mode == "unstorable":
            return _Odd()
        if mode == "iterator":
            return iter([1])
        if mode == "raise":
            raise Boom(name)
        return name

    return join


class ThreeJoins(ig.Contract):
    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        keyed_awaits(c, "a", "b", schema=None)
        for name in ("d1", "d2", "d3"):
            c.compute(name, depends_on=["a", "b"], call=_joiner(name))
            c.output(name)


@pytest.mark.parametrize("modes", [{"d1": "deferred"}, {"d1": "unstorable"}, {"d2": "iterator"},
                                   {"d1": "raise", "d3": "deferred"},
                                   {"d1": "unstorable", "d2": "raise", "d3": "iterator"}], ids=str)
def test_handed_over_outcomes_leave_no_stand_in_behind(monkeypatch: pytest.MonkeyPatch,
                                                       modes: dict[str, str]) -> None:
    """Each dependent the completing path called is called by nobody else for that delivery, and the contract
    returned calls the dependents themselves afterwards (``retry``): no stand-in is left in its resolver."""
    results = []
    for general in (False, True):
        monkeypatch.setattr(quiet, "GENERAL_ONLY", general)
        CALLS.clear()
        MODE.clear()
        MODE.update(modes)
        store = MemoryStore()
        start(ThreeJoins, {"key": "k"}, store=store, now=NOW, execution_id="e1")
        ThreeJoins.deliver_event("a_arrived", correlation={"key": "k"}, payload=1, store=store, now=NOW)
        contract = ThreeJoins.deliver_event("b_arrived", correlation={"key": "k"}, payload=2, store=store, now=NOW)
        found: list[Any] = [contract.workflow_status, _state_view(contract), dict(CALLS)]
        assert all(type(n).__module__ != "igniter_nb.workflow.completing"
                   for n in contract.execution.resolver.nodes.values())
        MODE.clear()
        contract.retry()
        found += [_state_view(contract), dict(CALLS), [(r.version, r.status) for r in store.history_records("e1")]]
        results.append(found)
    assert results[0] == results[1]
    assert results[0][2] == {"d1": 1, "d2": 1, "d3": 1}
