"""Source locations: every declaration records the user's ``file:line``, also deep inside a long ``define``."""

from __future__ import annotations

from typing import Any

import igniter_nb as ig
from igniter_nb import _source


def _long_define(count: int) -> Any:
    lines = ["def define(c):", "    c.input('x')", "    @c.compute", "    def n1(x):", "        return x + 1"]
    for i in range(2, count):
        lines += ["    @c.compute", f"    def n{i}(n{i - 1}):", f"        return n{i - 1} + 1"]
    lines.append(f"    c.output('n{count - 1}')")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<long define>", "exec"), namespace)  # test-only: a long generated define
    return namespace["define"]


def test_locations_deep_in_a_long_define_are_the_lines_the_frame_reports(monkeypatch: Any) -> None:
    define = _long_define(800)  # far past the offset where line_of stops scanning
    by_table = [n.source_location for n in ig.compile(define, name="Long").nodes]
    monkeypatch.setattr(_source, "_SCAN_LIMIT", 10**12)  # always frame.f_lineno
    by_scan = [n.source_location for n in ig.compile(define, name="Long").nodes]
    assert by_table == by_scan
    assert by_table[-1] == f"<long define>:{3 * 798 + 3}"  # the decorator line of the last def


def test_line_tables_stay_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(_source, "_LINE_TABLE_LIMIT", 2)
    monkeypatch.setattr(_source, "_line_tables", {})
    for i in range(4):
        ig.compile(_long_define(300), name=f"Bounded{i}")  # four code objects, each past the scan limit
    assert len(_source._line_tables) == 2
