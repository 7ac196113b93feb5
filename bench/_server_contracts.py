"""What `bench/server.py` serves: the two-await workflow of `bench/workflows.py` (``BenchPair``), importable by
the `igniter-nb serve` workers as ``bench._server_contracts:CONTRACTS``."""

from __future__ import annotations

import igniter_nb as ig


class BenchPair(ig.Contract):
    """Two awaited events joined by one compute."""

    @staticmethod
    def define(c: ig.ContractBuilder) -> None:
        c.correlate_by("pair_id")
        c.input("pair_id", type=str)
        c.await_event("left", event="left_arrived", schema=dict)
        c.await_event("right", event="right_arrived", schema=dict)

        @c.compute
        def joined(left, right):
            return {"left": left, "right": right}

        c.output("joined")


CONTRACTS = {"pair": BenchPair}
