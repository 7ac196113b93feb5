"""Hostile-user trial: a ``dot`` on PATH that hangs, fails or writes nothing never leaves a cell waiting or blank.

Real subprocesses: a shell script named ``dot`` put first on PATH. The pictures fall back to the pure-Python
layout (``data-direction`` is its mark); ``engine="dot"`` raises ``DotError`` saying what happened."""

from __future__ import annotations

import os
import stat

import pytest
from contracts import PriceContract

from igniter_nb.notebook.render import DOT_TIMEOUT, DotError, dot_timeout, render_graph, run_dot
from igniter_nb.notebook.reprs import graph_mimebundle


def fake_dot(tmp_path, monkeypatch, body: str) -> None:
    script = tmp_path / "dot"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_a_hanging_dot_is_killed_and_the_picture_falls_back(tmp_path, monkeypatch):
    # the script's child keeps the pipes open: killing the shell alone would still leave the cell waiting
    fake_dot(tmp_path, monkeypatch, "sleep 30 & wait")
    monkeypatch.setenv("IGNITER_NB_DOT_TIMEOUT", "0.3")
    bundle = graph_mimebundle(PriceContract.graph)
    assert "data-direction=" in bundle["image/svg+xml"], "the pure-Python layout drew it"
    with pytest.raises(DotError, match=r"did not finish within 0\.3 s \(IGNITER_NB_DOT_TIMEOUT"):
        render_graph(PriceContract.graph, engine="dot")


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_a_dot_that_writes_nothing_is_not_an_empty_picture(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "cat >/dev/null; exit 0")
    assert "data-direction=" in render_graph(PriceContract.graph)
    with pytest.raises(DotError, match="wrote no SVG"):
        render_graph(PriceContract.graph, engine="dot")


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for dot")
def test_a_failing_dot_says_what_it_said(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "cat >/dev/null; echo 'Error: syntax error in line 1' >&2; exit 3")
    assert "data-direction=" in render_graph(PriceContract.graph)
    with pytest.raises(DotError, match="exited with status 3: Error: syntax error in line 1"):
        run_dot("digraph {}")


def test_no_dot_on_path(monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("IGNITER_NB_RENDER", raising=False)
    assert "data-direction=" in graph_mimebundle(PriceContract.graph)["image/svg+xml"]
    with pytest.raises(DotError, match="not on PATH"):
        run_dot("digraph {}")


@pytest.mark.parametrize(("value", "expected"), [("", DOT_TIMEOUT), ("2.5", 2.5), ("0", DOT_TIMEOUT),
                                                 ("-1", DOT_TIMEOUT)])
def test_dot_timeout_setting(monkeypatch, value, expected):
    monkeypatch.setenv("IGNITER_NB_DOT_TIMEOUT", value)
    assert dot_timeout() == expected


def test_a_bad_dot_timeout_setting_is_named(monkeypatch):
    monkeypatch.setenv("IGNITER_NB_DOT_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="IGNITER_NB_DOT_TIMEOUT must be a number of seconds, got 'ten'"):
        dot_timeout()
