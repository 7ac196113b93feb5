"""B1–B3: resolve cost per node, re-resolve after update_inputs, compile time.

Every figure is printed with its ratio to a baseline measured in the same run (the machine is shared and
noisy, so absolute times alone prove little). Run: `make bench` or `.venv/bin/python bench/core.py`.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import igniter_nb as ig

N = 1_000


def best_of(fn: Callable[[], Any], repeat: int = 7) -> float:
    """Median wall time of ``fn`` over ``repeat`` runs, GC off during each run."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        gc.enable()
    return statistics.median(times)


def inc(**kw: Any) -> int:
    (v,) = kw.values()
    return v + 1


def total(**kw: Any) -> int:
    return sum(kw.values())


# ---------------------------------------------------------------------------- graphs as data
def chain_spec(n: int) -> list[tuple[str, Callable[..., Any], tuple[str, ...]]]:
    spec = [("n1", inc, ("x",))]
    spec += [(f"n{i}", inc, (f"n{i - 1}",)) for i in range(2, n)]
    return spec


def fan_spec(n: int) -> list[tuple[str, Callable[..., Any], tuple[str, ...]]]:
    spec = [(f"f{i}", inc, ("x",)) for i in range(1, n - 1)]
    spec.append(("sink", total, tuple(name for name, _, _ in spec)))
    return spec


def plain_eval(spec: list[tuple[str, Callable[..., Any], tuple[str, ...]]], x: int) -> Any:
    """The hand-written baseline: evaluate the same functions in dependency order with a dict."""
    values: dict[str, Any] = {"x": x}
    for name, fn, deps in spec:
        values[name] = fn(**{d: values[d] for d in deps})
    return values[spec[-1][0]]


def contract_for(spec: list[tuple[str, Callable[..., Any], tuple[str, ...]]], name: str) -> type[ig.Contract]:
    def define(c: Any) -> None:
        c.input("x", type=int)
        for node, fn, deps in spec:
            c.compute(node, depends_on=list(deps), call=fn)
        c.output(spec[-1][0])

    return ig.contract(define, name=name)


# ---------------------------------------------------------------------------- peers
def hamilton_driver(spec: list[tuple[str, Callable[..., Any], tuple[str, ...]]]) -> Callable[[int], Any] | None:
    try:
        from hamilton import ad_hoc_utils, driver
    except ImportError:
        return None
    funcs = {}
    for name, fn, deps in spec:
        body = "sum((" + ", ".join(deps) + ",))" if fn is total else f"{deps[0]} + 1"
        src = f"def {name}({', '.join(d + ': int' for d in deps)}) -> int:\n    return {body}\n"
        ns: dict[str, Any] = {}
        exec(src, ns)  # bench-only: Hamilton reads parameter names, so the peer graph is generated as code
        funcs[name] = ns[name]
    module = ad_hoc_utils.create_temporary_module(*funcs.values(), module_name=f"bench_graph_{len(spec)}_{id(spec)}")
    dr = driver.Builder().with_modules(module).build()
    last = spec[-1][0]
    return lambda x: dr.execute([last], inputs={"x": x})[last]


def pipefunc_pipeline(spec: list[tuple[str, Callable[..., Any], tuple[str, ...]]]) -> Callable[[int], Any] | None:
    try:
        from pipefunc import PipeFunc, Pipeline
    except ImportError:
        return None
    funcs = []
    for name, fn, deps in spec:
        body = "sum((" + ", ".join(deps) + ",))" if fn is total else f"{deps[0]} + 1"
        src = f"def {name}_fn({', '.join(deps)}):\n    return {body}\n"
        ns: dict[str, Any] = {}
        exec(src, ns)  # bench-only, as above
        funcs.append(PipeFunc(ns[f"{name}_fn"], output_name=name))
    pipeline = Pipeline(funcs)
    last = spec[-1][0]
    return lambda x: pipeline.run(last, kwargs={"x": x})


# ---------------------------------------------------------------------------- measurements
def report(label: str, seconds: float, baseline: float, per: int | None = None, target: str = "") -> None:
    per_node = f"{seconds / per * 1e6:8.2f} µs/node" if per else f"{seconds * 1e3:8.2f} ms total"
    print(f"{label:<58} {per_node}   {seconds / baseline:7.1f}× baseline   {target}")


def bench_resolve(kind: str, spec: list[tuple[str, Callable[..., Any], tuple[str, ...]]]) -> None:
    cls = contract_for(spec, f"{kind.title()}Bench")
    out = spec[-1][0]
    expected = plain_eval(spec, 1)

    def ours() -> None:
        c = cls(x=1)
        assert c.result[out] == expected
        assert len(c.audit) > 2 * len(spec)  # events and audit are on

    nodes = len(spec) + 1
    base = best_of(lambda: plain_eval(spec, 1), repeat=15)
    report(f"plain Python, {kind} of {nodes}", base, base, nodes)
    t = best_of(ours, repeat=15)
    report(f"igniter_nb resolve, {kind} of {nodes} (fresh contract)", t, base, nodes, "B1: ≤ 3 µs/node, ≤ 20×")
    for peer, make in (("Apache Hamilton", hamilton_driver), ("pipefunc", pipefunc_pipeline)):
        run = make(spec)
        if run is None:
            print(f"{peer}: not installed")
            continue
        note = ""
        try:
            assert run(1) == expected
        except RecursionError:
            # Hamilton walks the graph recursively: a 1,000-deep chain exceeds Python's default limit.
            note = " (needed sys.setrecursionlimit: recursive traversal)"
            limit = sys.getrecursionlimit()
            sys.setrecursionlimit(20_000)
            try:
                assert run(1) == expected
            finally:
                sys.setrecursionlimit(limit)
            old = sys.getrecursionlimit()
            sys.setrecursionlimit(20_000)
        try:
            tp = best_of(lambda run=run: run(1), repeat=5)
        finally:
            if note:
                sys.setrecursionlimit(old)
        report(f"{peer} execute, {kind} of {nodes}{note}", tp, base, nodes, f"igniter_nb is {tp / t:.1f}× faster")


def bench_update() -> None:
    spec = chain_spec(N)
    cls = contract_for(spec, "ChainUpdate")
    c = cls(x=1)
    _ = c.result["n999"]
    base = best_of(lambda: plain_eval(spec, 2), repeat=15)
    counter = iter(range(2, 10**9))

    def update() -> None:
        c.update_inputs(x=next(counter))
        _ = c.result["n999"]

    t = best_of(update, repeat=15)
    report(f"update_inputs + re-read, chain of {N} (all stale)", t, base, N, "B2: ≤ 3 µs/node")

    # A 10,000-node graph where the updated input feeds exactly one node.
    def define(cb: Any) -> None:
        cb.input("x", type=int)
        cb.input("y", type=int)
        for i in range(1, 9_998):
            cb.compute(f"m{i}", depends_on=["x"], call=inc)
        cb.compute("only", depends_on=["y"], call=inc)
        cb.output("only")
        cb.output("m1")

    big = ig.contract(define, name="Wide10k")(x=1, y=1)
    big.resolve_all()
    ys = iter(range(2, 10**9))

    loops = 200

    def small_update() -> None:
        for _ in range(loops):
            big.update_inputs(y=next(ys))
            _ = big.result.only

    def plain_small() -> None:
        values = {"y": 1}
        for _ in range(loops):
            values["y"] += 1
            values["only"] = inc(y=values["y"])

    base_small = best_of(plain_small, repeat=15) / loops
    t = best_of(small_update, repeat=15) / loops
    report("update 1 input feeding 1 node of 10,000, + re-read", t, base_small, None, "B2: ≤ 50 µs total")


def bench_compile() -> None:
    for n, target in ((1_000, "B3: ≤ 20 ms"), (10_000, "B3: ≤ 300 ms"), (100_000, "B3: ≤ 5 s")):
        spec = chain_spec(n)

        def build(spec: Any = spec, n: int = n) -> Any:
            return contract_for(spec, f"Compile{n}")

        base = best_of(lambda spec=spec: plain_eval(spec, 1), repeat=3)
        t = best_of(build, repeat=3 if n < 100_000 else 1)
        report(f"compile (class creation), chain of {n}", t, base, None, f"{target}; baseline = one plain evaluation")


def main() -> None:
    print(f"Python {sys.version.split()[0]} — figures are medians; baseline measured in this same run\n")
    bench_resolve("chain", chain_spec(N))
    bench_resolve("fan", fan_spec(N))
    bench_update()
    bench_compile()


if __name__ == "__main__":
    main()
