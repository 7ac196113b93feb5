"""E-10: node 2 of the two-server example — ``SentimentAnalyzer`` served over HTTP on its own.

    python examples/server_node2.py          # serves on 127.0.0.1:4568 ($NODE2_PORT to change it)

or ``igniter-nb serve server_node2:CONTRACTS --port 4568`` from ``examples/``. The score is the share of positive
words, rounded to 2 places. Words are split on whitespace and compared as written (lower-cased), so in
"Ruby is great and awesome!" only "great" counts — "awesome!" keeps its "!" — and the score is 1/5 = 0.2, as in
the reference. ``examples/server_node1.py`` calls this server through a remote node.
"""

from __future__ import annotations

import os
import sys

import igniter_nb as ig

POSITIVE = frozenset({"good", "great", "awesome", "excellent", "love", "happy", "nice", "wonderful", "amazing"})


class SentimentAnalyzer(ig.Contract):
    def define(c):
        c.input("text", type=str)

        @c.compute
        def score(text):
            words = text.lower().split()
            if not words:
                return 0.0
            return round(sum(word in POSITIVE for word in words) / len(words), 2)

        c.output("score")


CONTRACTS = {"SentimentAnalyzer": SentimentAnalyzer}

if __name__ == "__main__":
    from igniter_nb.cli import main

    port = os.environ.get("NODE2_PORT", "4568")
    print(f"Node 2 (SentimentAnalyzer) starting on port {port}...", flush=True)
    sys.exit(main(["serve", "server_node2:CONTRACTS", "--host", "127.0.0.1", "--port", port]))
