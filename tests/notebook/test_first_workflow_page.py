"""docs/first_workflow.md runs as written, prints what it shows, and can be run again in the same directory."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import types
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "first_workflow.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)


def cells() -> list[tuple[str, str | None]]:
    """The page's ``python`` blocks, each with the ``text`` block right under it (what it prints), if any."""
    blocks = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(PAGE.read_text())]
    found = []
    for k, (lang, code, _, end) in enumerate(blocks):
        if lang != "python":
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        expected = nxt[1] if nxt is not None and nxt[0] == "text" and PAGE.read_text()[end:nxt[2]].strip() == "" \
            else None
        found.append((code, expected))
    return found


def run(page_cells: list[tuple[str, str | None]], *, compare: bool = True) -> dict:
    """Run the cells as a kernel does: in one ``__main__`` module (the snapshot codec finds the page's pydantic
    classes there again), comparing what each prints with the page."""
    main = types.ModuleType("__main__")
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        for code, expected in page_cells:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                # dont_inherit: the page is run as written, without this module's `from __future__` flags
                exec(compile(code, str(PAGE), "exec", dont_inherit=True), main.__dict__)
            if compare and expected is not None:
                assert out.getvalue() == expected, f"cell printed:\n{out.getvalue()}\nthe page shows:\n{expected}"
    finally:
        sys.modules["__main__"] = saved
    return main.__dict__


def test_the_page_has_the_cells_it_describes():
    page = cells()
    assert len(page) >= 8 and sum(expected is not None for _, expected in page) >= 6
    joined = "\n".join(code for code, _ in page)
    for step in ("start_or_restore", "EventSimulator", "dry_run", "SnapshotStepper", "store_frame", "to_parquet"):
        assert step in joined


def test_the_page_runs_twice_with_the_same_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = run(cells())
    second = run(cells())  # Run All again: the store file is still there
    assert first["wf"].execution_id != second["wf"].execution_id  # the finished one stays; a new one ran
    frame = second["frame"]
    assert frame["status"].tolist() == ["succeeded", "succeeded"] and frame["started_at"].is_monotonic_increasing


def test_a_run_stopped_halfway_carries_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page = cells()
    first_delivery = next(k for k, (code, _) in enumerate(page) if "sim.deliver()" in code)
    stopped = run(page[: first_delivery + 1])
    assert stopped["wf"].workflow_status == "waiting"
    again = run(page, compare=False)  # restores the waiting workflow; the repeated delivery is idempotent
    assert again["wf"].execution_id == stopped["wf"].execution_id
    assert again["sim"].last_delivery.idempotent  # kyc_checked again, with the same key: nothing changed
    assert again["wf"].workflow_status == "succeeded"
    assert again["wf"].result.welcome == "Welcome Olena: credit limit 20000"


def test_without_start_or_restore_the_second_run_fails(tmp_path, monkeypatch):
    import igniter_nb as ig

    monkeypatch.chdir(tmp_path)
    page = [(code.replace("ig.nb.start_or_restore(Onboarding, ", "Onboarding.start("), expected)
            for code, expected in cells()]
    page = list(page)
    start = next(k for k, (code, _) in enumerate(page) if "Onboarding.start(" in code)
    run(page[: start + 1])
    with pytest.raises(ig.DuplicateWorkflowError):
        run(page[: start + 1])
