"""``ig.nb.llm_frame`` is shown as every other ``ig.nb`` frame: an ``IgniterFrame`` with the toolkit's HTML.

It returned a plain ``pandas.DataFrame``: pandas' own table (``border="1"``, a ``<style scoped>`` block, right-
aligned headings), whole UUIDs, a failed call's 5,000-character error in one cell, text columns of ``object``/``str``
dtype and times in ns — unlike ``store_frame``, ``tokens_frame`` and the audit frames beside it in notebook 07. It is
now built as they are (``frames._frame``): the toolkit's deterministic HTML (ids shortened, JSON whole, long cells
cut, the same column kinds), pandas' ``string`` dtype, ``datetime64[ms, UTC]``, its kind kept by parquet; still a
DataFrame to filter, group and sum. The provider is a real HTTP stub (``igniter_nb.llm.testing.StubServer``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import igniter_nb as ig
from igniter_nb.llm.frame import LLM_COLUMNS
from igniter_nb.llm.testing import StubFailure, StubReply, StubServer
from igniter_nb.notebook.frame_html import IgniterFrame
from igniter_nb.stores import MemoryStore

pytest.importorskip("uvicorn")  # (the stub server runs on it: the [server] extra)

LONG_ERROR = "the model is overloaded, " * 200  # 5,000 characters


class LookAssistant(ig.llm.Executor):
    provider = "anthropic"
    model = "claude-sonnet-4-5"
    max_retries = 0

    def call(self, question: str) -> Any:
        return self.complete(question)


class LookAsking(ig.Contract):
    def define(c: Any) -> None:
        c.run_with("store")
        c.input("question", type=str)
        c.compute("answer", call=LookAssistant)
        c.output("answer")


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MemoryStore]:
    """Three executions (UUID ids) against a stub Anthropic API: two answered, one failed with a long error."""
    for name in list(os.environ):
        if name.startswith(("ANTHROPIC_", "OPENAI_", "OLLAMA_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    stub = StubServer("anthropic", [StubReply("one", input_tokens=11, output_tokens=4),
                                    StubReply("two", input_tokens=17, output_tokens=2),
                                    StubFailure(529, LONG_ERROR)]).start()
    try:
        for key, value in stub.environment().items():
            monkeypatch.setenv(key, value)
        runs = MemoryStore()
        for question in ("a", "b", "c"):
            LookAsking(question=question, store=runs).resolve_all()
        yield runs
    finally:
        stub.stop()
        from igniter_nb.llm.providers import close_clients

        close_clients()


def test_llm_frame_is_an_igniter_frame_with_the_toolkits_dtypes(store: MemoryStore) -> None:
    frame = ig.nb.llm_frame(store)
    assert isinstance(frame, IgniterFrame) and isinstance(frame, pd.DataFrame)
    assert tuple(frame.columns) == LLM_COLUMNS and len(frame) == 3
    assert frame.attrs["igniter_nb"] == "llm"
    assert all(isinstance(frame[c].dtype, pd.StringDtype) for c in ("execution_id", "graph", "model", "error"))
    assert str(frame["timestamp"].dtype) == "datetime64[ms, UTC]"
    assert frame["input_tokens"].dtype == "int64" and frame["cached"].dtype == bool
    assert frame["error"].isna().sum() == 2  # <NA> where a call did not fail


def test_its_html_is_the_toolkits(store: MemoryStore) -> None:
    frame = ig.nb.llm_frame(store)
    html = frame._repr_html_()
    assert html.startswith('<div class="igniter-frame"') and "<style" not in html and 'border="1"' not in html
    uuid = frame["execution_id"].iloc[0]
    assert f">{uuid[:8]}…<" in html and f'title="{uuid}"' in html  # ids shortened, whole on hover
    assert "ids shortened" in html and "times in UTC" in html
    assert LONG_ERROR not in html and "the model is overloaded" in html  # the 5,000-character error cut
    assert html.count("the model is overloaded") < 30
    assert html == ig.nb.llm_frame(store)._repr_html_()  # deterministic


def test_it_is_still_a_frame_to_filter_group_and_store(store: MemoryStore, tmp_path: Path) -> None:
    frame = ig.nb.llm_frame(store)
    answered = frame[frame["error"].isna()]
    assert isinstance(answered, IgniterFrame) and answered["output_tokens"].sum() == 6
    usage = frame.groupby("execution_id")[["input_tokens", "output_tokens"]].sum()
    assert usage["input_tokens"].sum() == 28
    assert '<th style="' in usage._repr_html_() and ">execution_id</th>" in usage._repr_html_()  # the index named
    again = ig.nb.read_parquet(ig.nb.to_parquet(frame, tmp_path / "calls.parquet"))
    pd.testing.assert_frame_equal(again, frame, check_exact=True)
    assert isinstance(again, IgniterFrame)


def test_an_empty_llm_frame_has_every_column() -> None:
    empty = ig.nb.llm_frame(MemoryStore())
    assert isinstance(empty, IgniterFrame) and len(empty) == 0 and tuple(empty.columns) == LLM_COLUMNS
    assert "0 rows × 19 columns" in empty._repr_html_()
