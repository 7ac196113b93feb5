"""``repr()`` of an ``ig.nb.Follow`` update (``follow.updates[-1]``, and the ``updates`` list a cell shows) printed
the stored events and record whole: a remote node's wait keeps its URL, password included
(``http://user:secret@host``), in its ``node_pending`` event and its state. Now the repr shows it as ``user:***@``
(``settings.without_url_passwords``), as every other view of the execution; ``update.events``, ``update.record``
and ``follow.events`` are the stored data and keep it (the wait resumes with it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from igniter_nb.notebook.follow import Follow
from igniter_nb.stores import MemoryStore
from tests.notebook.remote_wait import SECRET, SHOWN, URL, Waiting


@pytest.fixture
def follow() -> Follow:
    store = MemoryStore()
    contract = Waiting(text="great", store=store, execution_id="w-1")
    contract.resolve_all()
    assert contract.execution.states["sentiment"].status.value == "pending"
    return Follow("w-1", store, graph=Waiting, engine="python", start=False)


def test_the_repr_of_a_follow_update_shows_the_url_without_its_password(follow: Follow) -> None:
    update = follow.updates[-1]
    assert any(e["type"] == "node_pending" for e in update.events)
    for shown in (repr(update), str(update), repr(follow.updates)):
        assert SECRET not in shown and f"'remote_url': '{SHOWN}'" in shown, shown
        assert shown.startswith(("FollowUpdate(version=1, status='pending', ", "[FollowUpdate(version=1, "))
        assert "record=StoredExecution(execution_id='w-1', " in shown
    for shown in (repr(follow), follow.to_text(), follow.to_html(),
                  json.dumps(follow._repr_mimebundle_(), default=str)):
        assert SECRET not in shown


def test_the_updates_events_and_record_keep_the_stored_url(follow: Follow) -> None:
    update = follow.updates[-1]
    [pending] = [e for e in update.events if e["type"] == "node_pending"]
    assert pending["payload"]["payload"]["remote_url"] == URL
    assert follow.events[-1] is update.events[-1]
    assert URL in json.dumps(update.record.snapshot, default=str)
    assert update.record is follow.record


def _equal(update: Any) -> None:
    """A FollowUpdate still compares by its fields (the repr is its own; equality is the dataclass's)."""
    assert update == type(update)(update.version, update.status, update.updated_at, update.events, update.record)


def test_a_follow_update_is_still_the_dataclass_it_was(follow: Follow) -> None:
    _equal(follow.updates[-1])
