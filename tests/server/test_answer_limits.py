"""Limits on what the server answers and holds open, and on what a remote node reads (docs/server.md, "Limits"):
history pages (``max_history_versions``, ``cursor``/``next_cursor``; the Client still returns every version), live
streams per worker (``max_streams``: 503 with ``Retry-After`` and a JSON body, the slot freed when a stream ends),
and a remote server's answer (``max_answer_bytes``: a ``ResolutionError`` naming graph, node, URL and the limit)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import igniter_nb as ig
from igniter_nb.errors import ResolutionError
from igniter_nb.stores import MemoryStore
from tests.server.remote_contracts import REMOTE, article
from tests.server.server_contracts import CONTRACTS, Lead


def _versions(store: Any, count: int) -> str:
    """An execution with ``count`` stored versions (a started workflow, saved again as it is)."""
    execution_id = str(Lead.start({"request_id": "r-history"}, store=store).execution_id)
    for _ in range(count - 1):
        store.save(store.fetch(execution_id))
    assert len(store.history(execution_id)) == count
    return execution_id


@pytest.fixture
def store() -> Any:
    with MemoryStore() as opened:
        yield opened


def test_history_is_paged_and_the_client_reads_every_page(live_app: Any, store: Any) -> None:
    execution_id = _versions(store, 7)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, max_history_versions=3))
    path = f"/v1/executions/{execution_id}/history"
    with httpx.Client(base_url=server.url) as http:
        first = http.get(path).json()
        assert [v["version"] for v in first["versions"]] == [1, 2, 3]
        assert first["limit"] == 3 and first["next_cursor"] == "3"
        second = http.get(path, params={"cursor": first["next_cursor"], "limit": 2}).json()
        assert [v["version"] for v in second["versions"]] == [4, 5] and second["next_cursor"] == "5"
        last = http.get(path, params={"cursor": "5"}).json()
        assert [v["version"] for v in last["versions"]] == [6, 7] and last["next_cursor"] is None
        latest = http.get(path, params={"latest": "true"}).json()
        assert [v["version"] for v in latest["versions"]] == [7] and latest["next_cursor"] is None
        assert latest["limit"] is None
        for params, where in [({"limit": 0}, "limit"), ({"cursor": "x"}, "cursor"), ({"cursor": "-1"}, "cursor")]:
            refused = http.get(path, params=params)
            assert refused.status_code == 422, (params, refused.text)
            assert refused.json()["problems"][0]["loc"] == f"query.{where}"
        over = http.get(path, params={"limit": 4})
        assert over.status_code == 422 and over.json()["limit"] == 3
        assert "limit=4 is more than this server's max_history_versions (3)" in over.json()["error"]
        both = http.get(path, params={"latest": "true", "cursor": "1"})
        assert both.status_code == 422 and "not both" in both.json()["error"]
    with ig.server.Client(server.url) as client:
        assert [v["version"] for v in client.history(execution_id)] == [1, 2, 3, 4, 5, 6, 7]
        assert client.record(execution_id)["version"] == 7

    async def read() -> list[int]:
        async with ig.server.AsyncClient(server.url) as client:
            return [v["version"] for v in await client.history(execution_id)]

    assert asyncio.run(read()) == [1, 2, 3, 4, 5, 6, 7]
    assert len(store.history(execution_id)) == 7


def test_the_largest_history_page_is_answered(store: Any) -> None:
    execution_id = _versions(store, 3)
    app = ig.server.create_app(CONTRACTS, store=store, max_history_versions=100_000)
    with TestClient(app) as http:  # the page and the one version past it that says whether another follows
        answer = http.get(f"/v1/executions/{execution_id}/history", params={"limit": 100_000})
    assert answer.status_code == 200, answer.text
    assert [v["version"] for v in answer.json()["versions"]] == [1, 2, 3] and answer.json()["next_cursor"] is None


def test_limits_are_checked_when_the_app_is_made() -> None:
    for bad in ({"max_streams": 0}, {"max_streams": True}, {"max_history_versions": 0},
                {"max_history_versions": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ig.server.create_app(CONTRACTS, store=MemoryStore(), **bad)


def test_streams_past_max_streams_get_503_until_one_ends(live_app: Any, store: Any) -> None:
    started = CONTRACTS["lead"].start({"request_id": "r-1"}, store=store)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, max_streams=2, stream_idle_seconds=30))
    path = f"{server.url}/v1/executions/{started.execution_id}/events"
    with httpx.Client(timeout=10) as http:
        with http.stream("GET", path) as one, http.stream("GET", path) as two:
            assert one.status_code == two.status_code == 200
            refused = http.get(path)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/json"
            assert refused.headers["retry-after"] == "5"
            body = refused.json()
            assert body["type"] == "TooManyStreams" and body["limit"] == 2 and "max_streams=2" in body["error"]
            assert http.head(path).status_code == 503  # what GET would answer; a HEAD never takes a slot
            assert http.get(f"{server.url}/v1/health").status_code == 200  # other routes are not limited
        # both streams closed by the client: the server sees the disconnects and gives the slots back
        for _ in range(200):
            with http.stream("GET", path) as again:
                if again.status_code == 200:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError("the slots of the closed streams were not given back")


def test_max_streams_comes_from_the_environment_when_not_given(live_app: Any, store: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IGNITER_MAX_STREAMS", "1")
    started = CONTRACTS["lead"].start({"request_id": "r-1"}, store=store)
    server = live_app(ig.server.create_app(CONTRACTS, store=store, stream_idle_seconds=30))
    path = f"{server.url}/v1/executions/{started.execution_id}/events"
    with httpx.Client(timeout=10) as http, http.stream("GET", path) as one:
        assert one.status_code == 200
        refused = http.get(path)
        assert refused.status_code == 503 and refused.json()["limit"] == 1, refused.text
    monkeypatch.setenv("IGNITER_MAX_STREAMS", "none")
    with pytest.raises(ig.SettingsError, match="IGNITER_MAX_STREAMS='none'"):
        ig.server.create_app(CONTRACTS, store=MemoryStore())


def _big_answer(size: int, declare: bool) -> Starlette:
    """A server whose execute answers a succeeded execution of about ``size`` bytes, with or without a
    ``Content-Length``."""
    view = {"execution_id": "x", "status": "succeeded", "outputs": {"score": 0.9, "pad": "a" * size}}

    async def execute(request: Any) -> Any:
        if declare:
            return JSONResponse(view)
        body = json.dumps(view).encode()

        async def chunks() -> Any:
            for start in range(0, len(body), 4096):
                yield body[start:start + 4096]

        return StreamingResponse(chunks(), media_type="application/json")  # chunked: no Content-Length

    return Starlette(routes=[Route("/v1/contracts/score/execute", execute, methods=["POST"])])


@pytest.mark.parametrize("declare", [True, False])
def test_a_remote_answer_past_max_answer_bytes_is_a_resolution_error(live_app: Any, declare: bool) -> None:
    server = live_app(_big_answer(50_000, declare))
    contract = article(server.url, max_answer_bytes=10_000)(text="x")
    assert contract.status == "failed"
    err = contract.first_error()
    assert isinstance(err, ResolutionError)
    assert "answered more than 10000 bytes" in err.message and server.url in err.message
    ctx = err.context
    assert (ctx["graph"], ctx["node"], ctx["url"], ctx["limit"]) == ("Article", "sentiment", server.url, 10_000)
    assert (ctx.get("declared") or 0) > 50_000 if declare else ctx.get("declared") is None
    # under the limit the same answer is read
    assert article(server.url, max_answer_bytes=100_000)(text="x").result.summary["score"] == 0.9
    with pytest.raises(ig.CompileError, match=r"`max_answer_bytes=` must be an int >= 1"):  # refused where declared
        article(server.url, max_answer_bytes="big")


def test_the_default_remote_limit_reads_ordinary_answers(live_app: Any) -> None:
    from igniter_nb.server.remote import MAX_ANSWER_BYTES

    assert MAX_ANSWER_BYTES == 10_000_000
    node2 = live_app(ig.server.create_app(REMOTE, store=MemoryStore()))
    assert article(node2.url)(text="Ruby is great").result.summary["score"] == 0.33


def test_client_max_answer_bytes(live_app: Any, store: Any) -> None:
    server = live_app(ig.server.create_app(CONTRACTS, store=store))
    with ig.server.Client(server.url, max_answer_bytes=10_000) as client:
        assert client.health()["status"] == "ok"
    with ig.server.Client(server.url, max_answer_bytes=50) as client, pytest.raises(
            ig.server.AnswerTooLargeError) as raised:
        client.contracts()
    assert raised.value.limit == 50 and raised.value.url == f"{server.url}/v1/contracts"
    with pytest.raises(ValueError, match="max_answer_bytes"):
        ig.server.Client(server.url, max_answer_bytes=0)


def test_serve_max_streams_reaches_the_workers(serve: Any, tmp_path: Any, capsys: Any) -> None:
    from igniter_nb.cli import main
    from tests.server.conftest import TARGET

    with pytest.raises(SystemExit) as stopped:
        main(["serve", TARGET, "--max-streams", "0"])
    assert stopped.value.code == 2
    assert "argument --max-streams: must be a whole number of streams >= 1, got 0" in capsys.readouterr().err
    server = serve(store=f"sqlite:///{tmp_path / 'streams.db'}", args=("--max-streams", "1"))
    with httpx.Client(base_url=server.url, timeout=10) as http:
        execution_id = http.post("/v1/contracts/lead/execute", json={"inputs": {"request_id": "r-1"}}).json()[
            "execution_id"]
        with http.stream("GET", f"/v1/executions/{execution_id}/events") as open_stream:
            assert open_stream.status_code == 200
            refused = http.get(f"/v1/executions/{execution_id}/events")
            assert refused.status_code == 503 and refused.json()["limit"] == 1
