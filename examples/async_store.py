"""E-4: an executor defers, the store runner saves the pending execution to a file store, and a worker
resumes it later by token — in a fresh process, from the store alone."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import igniter_nb as ig
from igniter_nb.stores import FileStore


class QuoteExecutor(ig.Executor):
    """Asks an outside service for a quote: the node waits until a worker supplies it."""

    def call(self, order_total):  # type: ignore[no-untyped-def]
        return self.defer(token="quote-100", payload={"order_total": order_total})


class AsyncPricingContract(ig.Contract):
    def define(c):
        c.run_with("store")
        c.input("order_total", type="numeric")
        c.compute("quote_total", depends_on=["order_total"], call=QuoteExecutor)

        @c.compute
        def gross_total(quote_total):
            return quote_total * 1.2

        c.output("gross_total")


def main(root: Path) -> None:
    store = FileStore(root)
    contract = AsyncPricingContract(order_total=100, store=store)
    deferred = contract.result.gross_total
    print(f"pending_token={deferred.token}")
    print(f"stored_execution_id={contract.execution_id}")
    print(f"pending_status={contract.pending}")

    # Later, e.g. in a worker process that only knows the id and the token:
    resumed = AsyncPricingContract.resume_from_store(contract.execution_id, token="quote-100", value=150, store=store)
    print(f"resumed_gross_total={resumed.result.gross_total}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="igniter-e4-")))
