"""A contract class that nobody refers to any more is freed, with its graph and callbacks: defining contracts
again and again (a notebook cell run many times, ``@ig.contract`` in a function, schemas compiled per request)
must not grow memory without bound. Per-graph caches live on the graph, not in module-level dicts."""

from __future__ import annotations

import gc
import weakref

import igniter_nb as ig
from igniter_nb.extensions.reactive import call_with_declared


def _define_and_run(with_reactions: bool) -> weakref.ref:
    @ig.contract
    def Throwaway(c):
        c.input("a", type="integer", default=1)
        c.compute("b", call=lambda a: a + 1)
        c.output("b")
        if with_reactions:
            @c.on_exit
            def bye(status):
                pass

            c.present("b", call=lambda value: f"b={value}")

    contract = Throwaway(a=2)
    assert contract.result.b == 3
    contract.diagnostics.to_text()
    return weakref.ref(Throwaway)


def test_contract_classes_defined_over_and_over_are_freed():
    refs = [_define_and_run(with_reactions=i % 2 == 0) for i in range(20)]
    gc.collect()
    alive = sum(r() is not None for r in refs)
    assert alive <= 1  # the last one may still be registered under its name


def test_an_unhashable_callable_can_be_called_with_the_keywords_it_declares():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, value):
            return value * 2

    assert call_with_declared(Unhashable(), {"value": 4, "event": None}) == 8
