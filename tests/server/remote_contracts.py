"""Contracts the remote-node tests call on the *other* server, and the contract that calls them.

Served in-process (``create_app(REMOTE, ...)``) and by `igniter-nb serve tests.server.remote_contracts:PENDING`
(or ``:WAITING``), each under the name ``SentimentAnalyzer`` of the reference's example E-10, so
``examples/server_node1.py`` can call them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import igniter_nb as ig


class Score(ig.Contract):
    """Answers at once: the share of words that are "great" (E-10's arithmetic on a one-word list)."""

    def define(c):
        c.input("text", type=str)

        @c.compute
        def score(text):
            words = text.split()
            return round(sum(w == "great" for w in words) / len(words), 2) if words else 0.0

        c.output("score")


class Broken(ig.Contract):
    def define(c):
        c.input("text", type=str)

        @c.compute
        def score(text):
            raise ValueError(f"cannot score {text!r}")

        c.output("score")


class Slow(ig.Contract):
    def define(c):
        c.input("text", type=str)

        @c.compute
        def score(text):
            time.sleep(2.0)
            return 1.0

        c.output("score")


class Review(ig.Executor):
    """Defers the score to a reviewer, who resumes the execution with the score."""

    def call(self, text):  # type: ignore[no-untyped-def]
        return self.defer(token=f"review:{text}", payload={"text": text})


class DeferredScore(ig.Contract):
    def define(c):
        c.input("text", type=str)
        c.compute("score", depends_on=["text"], call=Review)
        c.output("score")


class ReviewedScore(ig.Contract):
    """A workflow waiting for the event ``review_done`` (payload ``{"score": ...}``), correlated by the text."""

    def define(c):
        c.correlate_by("text")
        c.input("text", type=str)
        c.await_event("review", event="review_done")

        @c.compute
        def score(review):
            return review["score"]

        c.output("score")


REMOTE = {"score": Score, "broken": Broken, "slow": Slow, "deferred": DeferredScore, "reviewed": ReviewedScore}
PENDING = {"SentimentAnalyzer": DeferredScore}
WAITING = {"SentimentAnalyzer": ReviewedScore}


def article(url: str, contract: str = "score", *, timeout: float = 5.0, **meta: Any) -> Any:
    """A contract asking ``contract`` at ``url`` for a score through a remote node, then deriving E-11's tone."""

    class Article(ig.Contract):
        def define(c):
            c.input("text", type=str)
            c.remote("sentiment", contract=contract, node=url, inputs={"text": "text"}, timeout=timeout, **meta)

            @c.compute
            def summary(sentiment):
                score = sentiment["score"]
                return {"score": score, "tone": "positive" if score > 0.5 else "neutral" if score > 0.2 else "negative"}

            c.output("summary")

    return Article


def batch(remote_url: str) -> Any:
    """A contract scoring each text by an ``Article`` item, whose remote node asks ``remote_url``."""
    item = article(remote_url, "deferred")

    class Batch(ig.Contract):
        def define(c):
            c.input("texts", type=list)

            @c.compute
            def items(texts):
                return [{"text": text} for text in texts]

            c.collection("scores", source="items", each=item, key="text")

            @c.compute
            def tones(scores):
                return {item.key: item.result.summary["tone"] for item in scores}

            c.output("tones")

    return Batch


#: Served by `igniter-nb serve tests.server.remote_contracts:PARENT` with ``$REMOTE_URL``: ``Article`` asking that
#: server's ``deferred`` (tests/server/test_restarts.py; elsewhere the URL is only where a new call would go).
PARENT = {"article": article(os.environ.get("REMOTE_URL", "http://127.0.0.1:9"), "deferred")}
