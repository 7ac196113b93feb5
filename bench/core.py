"""B1–B3 and B7's import bar: resolve, re-resolve, compile, ``import igniter_nb`` (issue 13, targets 1, 2, 3, 5).

    .venv/bin/python bench/core.py            # full run: 1k, 10k and 100k nodes (a few minutes)
    .venv/bin/python bench/core.py --quick    # 1k and 10k nodes, fewer repeats (about a minute)
    .venv/bin/python bench/core.py --only compile,import
    .venv/bin/python bench/core.py --only resolve --cpu --sizes 1000,100000   # target 1 on a loaded host

``--cpu`` times with the process's CPU clock (``time.process_time``) instead of the wall clock: on a host shared
with other work a 100k-node run (~0.2 s) is always preempted and a 1k-node run (~1 ms) often is not, so wall-clock
ratios between sizes measure the load; CPU time leaves the waiting out (not the caches other processes evict).

Every graph has a distinct function per node, generated as code (``bench/_core_graphs.py``): module-level
``def``s, and the same ``def``s written inside ``define`` (compared with the module-level ones declared one
``c.compute(fn)`` statement each, so both sides declare from as many lines). Each figure is printed with a baseline measured in
the same run and the ratio, because this machine is shared and noisy. Timings are the best of N runs (the least disturbed by other load); the measured code
and its baseline run round-robin (so a change in load hits both alike) with the garbage collector **on**, as
users run (collected before each run).

Baselines: a generic lazy resolver (explicit stack, memo dict, ``fn(**kw)``) for resolve and re-resolve; the
least a compile must do (read parameters from ``__code__``, ``graphlib`` topological sort) for compile;
``import json`` in a fresh process for the import; Apache Hamilton and pipefunc as peers.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _core_graphs import (
    Graph,
    generic_compile,
    hamilton_run,
    inner_define,
    lazy_resolver,
    least_loop,
    module_graph,
    module_statements_define,
    pipefunc_run,
)

import igniter_nb as ig

ROOT = Path(__file__).resolve().parent.parent
ROWS: list[tuple[str, str, str, str, str, str, str]] = []
CLOCK: Callable[[], float] = time.perf_counter  # time.process_time with --cpu
PEERS = True  # Hamilton and pipefunc at the smallest size (--no-peers: not run)


# ---------------------------------------------------------------------------- measuring and reporting
def paired(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Best (least) seconds of each function, run round-robin ``repeat`` times; GC on, collected before each run."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            gc.collect()
            start = CLOCK()
            fn()
            times[key].append(CLOCK() - start)
    return {k: min(v) for k, v in times.items()}


def us(seconds: float, per: int = 1) -> str:
    return f"{seconds / per * 1e6:.2f} µs" + ("/node" if per > 1 else "")


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def report(target: str, what: str, figure: str, baseline: str, ratio: float, bar: str, ok: bool | None) -> None:
    verdict = "" if ok is None else ("met" if ok else "NOT MET")
    ROWS.append((target, what, figure, baseline, f"{ratio:.2f}×", bar, verdict))
    print(f"[{target}] {what:<56} {figure:>16}   baseline {baseline:<34} {ratio:6.2f}×   {bar} {verdict}", flush=True)


# ---------------------------------------------------------------------------- B1: resolve
def contract_of(graph: Graph, name: str) -> type[ig.Contract]:
    return ig.contract(graph.define, name=name)  # type: ignore[no-any-return]


def bench_resolve(sizes: tuple[int, ...], repeat: int) -> None:
    for kind in ("chain", "fan"):
        per_node: dict[int, tuple[float, float, float]] = {}
        for n in sizes:
            graph = module_graph(kind, n)
            cls = contract_of(graph, f"{kind.title()}{n}")
            lazy = lazy_resolver(graph.spec)
            least = least_loop(graph.spec)
            expected = lazy({"x": 1}, graph.output)
            assert least({"x": 1}, graph.output) == expected
            check = cls(x=1)
            assert check.result[graph.output] == expected
            assert len(check.audit) > 2 * n  # events and audit are on
            del check

            def ours(cls: Any = cls, out: str = graph.output) -> None:
                cls(x=1).result[out]

            def base(lazy: Any = lazy, out: str = graph.output) -> None:
                lazy({"x": 1}, out)

            def floor(least: Any = least, out: str = graph.output) -> None:
                least({"x": 1}, out)

            # a 1k graph resolves in ~1 ms: best of 9 such runs moved by ±30 % from one process to the next
            # (2026-12-03), and that figure is the denominator of target 1's ratio — small graphs run more times
            runs = repeat * max(1, 10_000 // n) if n < 100_000 else max(3, repeat // 2)
            t = paired({"lazy": base, "ours": ours, "least": floor}, runs)
            per_node[n] = (t["ours"] / n, t["lazy"] / n, t["least"] / n)
            report("1,3", f"resolve {kind} {n:,} (fresh contract, events on)", us(t["ours"], n),
                   f"lazy resolver {us(t['lazy'], n)}", t["ours"] / t["lazy"], "≤ 1.5×", t["ours"] / t["lazy"] <= 1.5)
            if n == sizes[0] and PEERS:
                bench_peers(graph, t["ours"], repeat)
            del cls, graph, lazy, least
        small, big = min(per_node), max(per_node)
        if big > small:
            scale = per_node[big][0] / per_node[small][0]
            floor_scale = per_node[big][1] / per_node[small][1]
            report("1", f"resolve {kind}: per-node cost {big:,} vs {small:,}", f"{scale:.2f}×",
                   f"lazy resolver's own {floor_scale:.2f}×", scale, "≤ 1.3×", scale <= 1.3)
            report_added(kind, small, big, per_node)


def report_added(kind: str, small: int, big: int, per_node: dict[int, tuple[float, float, float]]) -> None:
    """What a node costs more at ``big`` than at ``small``, ours beside the least loop's (``least_loop``: each
    function called once, its value kept by name, nothing else). The least loop's added cost is what the host's
    caches charge for ``big`` distinct functions, values and names whatever the resolver does; target 1's 1.3×
    leaves ours 0.3× its ``small`` cost to add. When the least loop alone adds more than that, the bar is below
    what any resolver of these functions can reach on this host, and the line says so."""
    ours_added = per_node[big][0] - per_node[small][0]
    least_added = per_node[big][2] - per_node[small][2]
    room = 0.3 * per_node[small][0]
    report("1", f"resolve {kind}: µs added per node at {big:,} over {small:,}", us(ours_added),
           f"least loop adds {us(least_added)}", ours_added / least_added if least_added > 0 else float("nan"),
           f"(1.3× leaves {us(room)})", None)
    if least_added > room:
        print(f"    the least loop alone adds {us(least_added)} per node at {big:,} ({per_node[small][2] * 1e6:.2f} → "
              f"{per_node[big][2] * 1e6:.2f} µs), more than the {us(room)} the 1.3× bar leaves: no resolver of "
              f"these {kind} functions meets it on this host", flush=True)


def bench_peers(graph: Graph, ours: float, repeat: int) -> None:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))  # both peers recurse: a 1,000-deep chain needs a higher limit
    try:
        expected = lazy_resolver(graph.spec)({"x": 1}, graph.output)
        for peer, make in (("Apache Hamilton", hamilton_run), ("pipefunc", pipefunc_run)):
            made = make(graph.spec)
            if made is None:
                print(f"{peer}: not installed")
                continue
            run = made[0]
            assert run(1) == expected, peer
            # (a def, not a lambda with a default: mypy cannot infer such a lambda against Callable[[], Any])
            def run_once(run: Any = run) -> Any:
                return run(1)

            t = paired({peer: run_once}, max(3, repeat // 2))[peer]
            report("3", f"{peer} execute, {graph.kind} {graph.size:,}", us(t, graph.size),
                   f"igniter_nb {us(ours, graph.size)}", t / ours, "≥ 5× (peer / igniter_nb)", t / ours >= 5)
    finally:
        sys.setrecursionlimit(limit)


# ---------------------------------------------------------------------------- B2: re-resolve
def bench_update(big: int, repeat: int) -> None:
    n = 1_000
    graph = module_graph("chain", n)
    c = contract_of(graph, "ChainUpdate")(x=1)
    c.result[graph.output]
    lazy = lazy_resolver(graph.spec)
    values = itertools.count(2)

    def update() -> None:
        c.update_inputs(x=next(values))
        c.result[graph.output]

    t = paired({"lazy": lambda: lazy({"x": 1}, graph.output), "ours": update}, repeat)
    report("3", f"update_inputs + re-read, whole chain {n:,}", us(t["ours"], n),
           f"lazy resolver, fresh {us(t['lazy'], n)}", t["ours"] / t["lazy"], "≤ 2×", t["ours"] / t["lazy"] <= 2)

    # One input (y) feeding one node of a big graph; x feeds every other node.
    wide = module_graph("fan", big - 1)

    def only(y: int) -> int:
        return y + 1

    def define(cb: Any) -> None:
        wide.define(cb)
        cb.input("y")
        cb.compute(only)
        cb.output("only")

    contract = ig.contract(define, name=f"Wide{big}")(x=1, y=1)
    contract.resolve_all()
    ys = itertools.count(2)
    loops = 200

    def small_update() -> None:
        for _ in range(loops):
            contract.update_inputs(y=next(ys))
            _ = contract.result.only

    def plain() -> None:
        for i in range(loops):
            only(y=i)

    t = paired({"plain": plain, "ours": small_update}, repeat)
    per, base = t["ours"] / loops, t["plain"] / loops
    report("3", f"update 1 input feeding 1 node of {big:,}, + re-read", us(per), f"one plain call {us(base)}",
           per / base, "≤ 20 µs", per <= 20e-6)


# ---------------------------------------------------------------------------- B3: compile
def compile_time(define: Callable[[Any], None], name: str) -> Callable[[], Any]:
    return lambda: ig.contract(define, name=name)


def bench_compile(sizes: tuple[int, ...], repeat: int, ballast: int) -> None:
    bars = {1_000: 0.020, 10_000: 0.200, 100_000: 2.0}
    for n in sizes:
        graph = module_graph("chain", n)
        r = repeat if n < 100_000 else 3
        def floor(g: Graph = graph) -> Any:  # (a def: mypy cannot infer a lambda with a default here)
            return generic_compile(g.spec)

        t = paired({"floor": floor, "ours": compile_time(graph.define, f"C{n}")}, r)
        bar = bars.get(n)
        report("2", f"compile chain {n:,}, module-level defs", ms(t["ours"]), f"parameters + toposort {ms(t['floor'])}",
               t["ours"] / t["floor"], f"≤ {ms(bar)}" if bar else "", t["ours"] <= bar if bar else None)
        if n <= 10_000:
            # Both sides declare every node from its own line of ``define`` (``@c.compute`` over each inner def;
            # one ``c.compute(nK)`` statement per module-level def), so both look up as many source locations.
            # ``graph.define`` declares from one line in a loop, which the builder's one-entry location cache
            # answers: shown for reference, not as the baseline (it was, up to 2026-12-02, flattering the
            # module-level side by ~10%). The inner side also runs its ``def`` statements (n new function
            # objects, the user's own code; and they are allocations the garbage collector counts).
            inner = inner_define("chain", n)
            statements = module_statements_define(graph)
            t2 = paired({"module": compile_time(statements, f"M{n}"), "inner": compile_time(inner, f"I{n}"),
                         "loop": compile_time(graph.define, f"L{n}")}, r)
            report("2", f"compile chain {n:,}, defs inside define", ms(t2["inner"]),
                   f"same defs at module level {ms(t2['module'])}", t2["inner"] / t2["module"], "≤ 1× (±10% noise)",
                   t2["inner"] <= 1.1 * t2["module"])
            report("2", f"compile chain {n:,}, module-level defs declared in a loop", ms(t2["loop"]),
                   f"one statement per def {ms(t2['module'])}", t2["loop"] / t2["module"], "(for reference)", None)
        if n == 1_000:
            made = hamilton_run(graph.spec)
            if made is not None:
                th = paired({"hamilton": made[1]}, r)["hamilton"]
                report("2", f"Apache Hamilton driver build, chain {n:,}", ms(th), f"igniter_nb {ms(t['ours'])}",
                       th / t["ours"], "(peer)", None)
        if n == 10_000:
            fan = module_graph("fan", n)
            t3 = paired({"chain": compile_time(graph.define, "FanInChain"), "fan": compile_time(fan.define, "FanIn")}, r)
            report("1", f"compile one node with {n - 2:,} dependencies", ms(t3["fan"]), f"chain {n:,} {ms(t3['chain'])}",
                   t3["fan"] / t3["chain"], "≤ 2×", t3["fan"] <= 2 * t3["chain"])
    n = max(sizes)
    graph = module_graph("chain", n)
    build = compile_time(graph.define, f"Loaded{n}")
    fresh = paired({"fresh": build}, 3)["fresh"]
    held: list[Any] = []
    for i in range(ballast):  # other big graphs this process holds: compiled classes and a resolved contract
        held.append(ig.contract(module_graph("chain", n).define, name=f"Held{i}"))
    held.append(held[0](x=1).resolve_all())
    loaded = paired({"loaded": build}, 3)["loaded"]
    bar = bars.get(n)
    report("1", f"compile chain {n:,} while holding {ballast} such graphs + 1 run", ms(loaded),
           f"same compile before {ms(fresh)}", loaded / fresh, f"≤ {ms(bar)}" if bar else "≤ 1.3×",
           loaded <= bar if bar else loaded <= 1.3 * fresh)


# ---------------------------------------------------------------------------- B7: import
def bench_import(repeat: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def once(statement: str) -> float:
        code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        return float(out.stdout.strip())

    # The package alone, and the package with its engine loaded (the first ``ig.Contract``/``ig.contract``).
    statements = {"json": "import json", "package": "import igniter_nb",
                  "engine": "import igniter_nb; igniter_nb.Contract"}
    times: dict[str, list[float]] = {k: [] for k in statements}
    for _ in range(repeat):
        for key, statement in statements.items():
            times[key].append(once(statement))
    b, t, e = (min(times[k]) for k in statements)
    report("5", f"import igniter_nb, fresh process (best of {repeat})", ms(t), f"import json {ms(b)}", t / b,
           "≤ 60 ms", t <= 0.060)
    report("5", "import igniter_nb + first ig.Contract (engine loaded)", ms(e), f"import json {ms(b)}", e / b,
           "(for reference)", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1k and 10k nodes, fewer repeats")
    parser.add_argument("--only", default="resolve,update,compile,import",
                        help="comma-separated sections: resolve, update, compile, import")
    parser.add_argument("--sizes", default="", help="comma-separated graph sizes (default 1000,10000,100000; "
                        "--quick: 1000,10000)")
    parser.add_argument("--cpu", action="store_true", help="time with the process's CPU clock (a loaded host)")
    parser.add_argument("--no-peers", action="store_true", help="skip Apache Hamilton and pipefunc")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    sizes: tuple[int, ...] = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000)
    if args.sizes:
        sizes = tuple(sorted(int(size) for size in args.sizes.split(",")))
    repeat = 5 if args.quick else 9
    global CLOCK, PEERS
    PEERS = not args.no_peers
    if args.cpu:
        CLOCK = time.process_time
    print(f"Python {sys.version.split()[0]}; {'quick' if args.quick else 'full'} run; sizes {sizes}; "
          f"{'CPU' if args.cpu else 'wall'} clock; best of N, baselines in this run\n")
    if "resolve" in sections:
        bench_resolve(sizes, repeat)
    if "update" in sections:
        bench_update(max(sizes), repeat)
    if "compile" in sections:
        bench_compile(sizes, repeat, ballast=1 if args.quick else 2)
    if "import" in sections:
        bench_import(repeat)
    print("\n| target | what | figure | baseline | ratio | bar | |\n|---|---|---|---|---|---|---|")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
