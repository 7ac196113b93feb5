"""The contract a job names by import path, as the worker imports it: a module and class named in any script (what
``igniter-nb new contract Überweisung`` writes), and a module that fails while the worker imports it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job, JobStatus

from igniter_nb.integrations import rq as ig_rq
from tests.integrations.conftest import run_jobs

pytestmark = pytest.mark.services

CONTRACT = '''
import igniter_nb as ig


class Überweisung(ig.Contract):
    def define(c):
        c.correlate_by("konto")
        c.input("konto")
        c.await_event("zahlung", event="zahlung_eingegangen")

        @c.compute
        def quittung(konto, zahlung):
            return {"konto": konto, "zahlung": zahlung}

        c.output("quittung")
'''


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on ``sys.path`` for this test's own modules (named uniquely: ``sys.modules`` outlives a test)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def _fetch(job: Job, queue: Any) -> Job:
    return Job.fetch(job.id, connection=queue.connection, serializer=queue.serializer)


def test_a_contract_named_in_another_script_is_enqueued_and_run(queue: Any, sqlite_default: Any,
                                                                modules: Path) -> None:
    """Its import path was refused at enqueue ("a contract import path looks like 'package.module:ClassName'"): the
    check took only ASCII names, while Python, the engine and ``igniter-nb new`` take identifiers in any script."""
    import importlib

    name = f"überweisung_{uuid.uuid4().hex[:8]}"
    (modules / f"{name}.py").write_text(CONTRACT, encoding="utf-8")
    contract = importlib.import_module(name).Überweisung

    started = ig_rq.enqueue_start(contract, {"konto": "k-1"}, queue=queue)
    delivered = ig_rq.enqueue_deliver_event(contract, "zahlung_eingegangen", correlation={"konto": "k-1"},
                                            payload={"betrag": 5}, queue=queue)
    run_jobs(queue)
    assert _fetch(started, queue).get_status() == JobStatus.FINISHED, ig_rq.job_error(started)
    done = _fetch(delivered, queue)
    assert done.get_status() == JobStatus.FINISHED, ig_rq.job_error(done)
    assert done.return_value()["workflow_status"] == "succeeded"


@pytest.mark.parametrize(("source", "says"), [
    ('raise RuntimeError("the settings file is missing")\n', "RuntimeError: the settings file is missing"),
    ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
    ("def broken(:\n", "SyntaxError: "),
])
def test_a_contract_module_that_fails_in_the_worker_fails_the_job_naming_the_contract_path(
        queue: Any, sqlite_default: Any, modules: Path, source: str, says: str) -> None:
    """It failed with the module's own error alone (``job_error``: "RuntimeError: the settings file is missing", no
    word of which contract or why), and a ``sys.exit()`` there failed the job with no ``job_error`` at all."""
    name = f"renamed_{uuid.uuid4().hex[:8]}"
    (modules / f"{name}.py").write_text(source, encoding="utf-8")
    path = f"{name}:Transfer"
    job = queue.enqueue(ig_rq.run_start, kwargs={"contract": path, "inputs": {"konto": "k-2"}})
    after = queue.enqueue(ig_rq.run_start, kwargs={"contract": path, "inputs": {"konto": "k-3"}})
    run_jobs(queue)

    for each in (job, after):  # the worker went on to the next job
        assert _fetch(each, queue).get_status() == JobStatus.FAILED
        error = ig_rq.job_error(each)
        assert error is not None
        assert error["type"] == "ValueError" and error["transient"] is False
        assert f"importing module {name!r} of contract path {path!r} failed" in error["message"], error
        assert says in error["message"], error
    assert sqlite_default.list() == []
