"""The default ``total_timeout`` (1800 s, added 2026-12-05) is a bound on a call nobody configured, not a cut of one
somebody did: an executor whose ``timeout`` is longer (a slow local model: ``timeout = 3600``) had its every call
stopped at 1800 s, though each read may take the hour it set. The default now leaves each attempt its ``timeout``
(``timeout`` × (1 + retries), when that is longer than 1800 s); a ``total_timeout`` set on the class is kept as set."""

from __future__ import annotations

import pytest

from igniter_nb.llm.providers.bounds import DEFAULT_TOTAL_TIMEOUT
from tests.llm.llm_contracts import executor_class


@pytest.mark.parametrize(("settings", "deadline"), [
    ({}, DEFAULT_TOTAL_TIMEOUT),
    ({"timeout": 60.0}, DEFAULT_TOTAL_TIMEOUT),
    ({"timeout": 3600.0, "max_retries": 0}, 3600.0),
    ({"timeout": 3600.0, "max_retries": 1}, 7200.0),
    ({"timeout": 3600.0}, 3 * 3600.0),  # the SDKs' own 2 retries
    ({"timeout": 3600.0, "total_timeout": 1000.0}, 1000.0),  # set: kept
    ({"timeout": 3600.0, "total_timeout": None}, None),
])
def test_the_default_deadline_leaves_each_attempt_its_timeout(settings, deadline) -> None:
    executor = executor_class("openai", **settings)()
    assert executor._connection().total_timeout == deadline
