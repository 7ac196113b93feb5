"""E-11: node 1 of the two-server example — ``ArticleAnalysis`` asks node 2 (``examples/server_node2.py``) for a
sentiment score through a remote node, then derives a tone (> 0.5 positive, > 0.2 neutral, else negative).

    python examples/server_node2.py &        # node 2 on 127.0.0.1:4568
    python examples/server_node1.py          # node 1 on 127.0.0.1:4567 ($NODE1_PORT, $NODE2_URL to change)
    curl -s -X POST localhost:4567/v1/contracts/ArticleAnalysis/execute \\
         -H 'Content-Type: application/json' -d '{"inputs": {"text": "Ruby is great and awesome!"}}'
    # ... "status": "succeeded", "outputs": {"summary": {"score": 0.2, "tone": "negative"}} ...

Node 1 serves with ``--public-url``, so if node 2 answers ``pending`` or ``waiting`` the remote node waits and
node 2 calls node 1 back when its execution finishes. With node 2 down, the execution fails with a message
naming node 2's URL.
"""

from __future__ import annotations

import os
import sys

import igniter_nb as ig

NODE2_URL = os.environ.get("NODE2_URL", "http://127.0.0.1:4568")


class ArticleAnalysis(ig.Contract):
    def define(c):
        c.input("text", type=str)
        c.remote("sentiment", contract="SentimentAnalyzer", node=NODE2_URL, inputs={"text": "text"}, timeout=10)

        @c.compute
        def summary(sentiment):
            score = sentiment["score"]
            tone = "positive" if score > 0.5 else "neutral" if score > 0.2 else "negative"
            return {"score": score, "tone": tone}

        c.output("summary")


CONTRACTS = {"ArticleAnalysis": ArticleAnalysis}

if __name__ == "__main__":
    from igniter_nb.cli import main

    port = os.environ.get("NODE1_PORT", "4567")
    print(f"Node 1 (ArticleAnalysis) starting on port {port}...", flush=True)
    print(f"Sentiment comes from node 2 at {NODE2_URL}", flush=True)
    sys.exit(main(["serve", "server_node1:CONTRACTS", "--host", "127.0.0.1", "--port", port,
                   "--public-url", f"http://127.0.0.1:{port}"]))
