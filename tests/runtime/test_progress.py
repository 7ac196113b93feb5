"""Progress bars of long collections stay visible once the collection has finished."""

from __future__ import annotations

import time

import igniter_nb as ig


class SlowItem(ig.Contract):
    def define(c):
        c.input("n")

        @c.compute
        def square(n):
            time.sleep(0.09)
            return n * n

        c.output("square")


class SlowBatch(ig.Contract):
    def define(c):
        c.input("items")
        c.collection("squares", source="items", each=SlowItem, key="n")
        c.output("squares")


def test_a_finished_progress_bar_stays_visible(capsys, monkeypatch):
    monkeypatch.delenv("IGNITER_NB_PROGRESS", raising=False)
    SlowBatch(items=[{"n": n} for n in range(14)]).resolve_all()
    err = capsys.readouterr().err
    # tqdm redraws the line after each "\r"; the last drawing is the finished bar, not an erased line
    last = err.rstrip("\n").split("\r")[-1]
    assert "SlowBatch.squares" in last and "100%" in last and "14/14" in last
