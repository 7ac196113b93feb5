"""The request/response examples of docs/server.md, produced by the real app.

    PYTHONPATH=. .venv/bin/python tests/server/docs_examples.py     # rewrite the examples in docs/server.md

Each example sits in docs/server.md between ``<!-- example: NAME -->`` and ``<!-- /example -->``;
``test_docs_examples.py`` runs the same requests and checks the page still shows what the server answers
(execution ids, times and local paths aside).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "server.md"
TOKEN = "s3cret"
_BLOCK = re.compile(r"(<!-- example: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.S)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)")
_STAMP = re.compile(r'"timestamp": \d+(\.\d+)?')
_EPOCH = re.compile(r"^id: (\d+)-[0-9a-f]{8}$", re.M)  # (a digest of the execution's first event, its time included)

# name, method, path (may use {lead}), JSON body or raw bytes, send the token
Example = tuple[str, str, str, Any, bool]
EXAMPLES: list[Example] = [
    ("health", "GET", "/v1/health", None, True),
    ("contracts", "GET", "/v1/contracts", None, True),
    ("execute-plain", "POST", "/v1/contracts/price/execute", {"inputs": {"total": 100}}, True),
    ("execute-workflow", "POST", "/v1/contracts/lead/execute", {"inputs": {"request_id": "req-1"}}, True),
    ("deliver", "POST", "/v1/contracts/lead/events",
     {"event": "crm_received", "correlation": {"request_id": "req-1"}, "payload": {"name": "Acme", "tier": "gold"},
      "idempotency_key": "crm-req-1"}, True),
    ("status", "GET", "/v1/executions/{lead}", None, True),
    ("list", "GET", "/v1/executions?graph=lead&status=waiting&limit=10&total=true", None, True),
    ("dry-run", "POST", "/v1/contracts/lead/events/dry-run",
     {"event": "billing_received", "correlation": {"request_id": "req-1"}, "payload": {"plan": "pro"}}, True),
    ("dry-run-refused", "POST", "/v1/contracts/lead/events/dry-run",
     {"event": "crm_received", "correlation": {"request_id": "req-1"}, "payload": {"tier": "gold"}}, True),
    ("failed", "POST", "/v1/contracts/failing/execute", {"inputs": {"n": 3}}, True),
    ("pending", "POST", "/v1/contracts/deferred/execute", {"inputs": {"total": 5}}, True),
    ("resume", "POST", "/v1/executions/{deferred}/resume", {"token": "quote-5", "value": 21}, True),
    ("e409-resume", "POST", "/v1/executions/{deferred}/resume", {"token": "quote-5", "value": 21}, True),
    ("stream", "GET", "/v1/executions/{price}/events", None, True),
    ("e400", "POST", "/v1/contracts/price/execute", b'{"inputs": {"total": 100,}}', True),
    ("e401", "GET", "/v1/health", None, False),
    ("e404-contract", "POST", "/v1/contracts/pricing/execute", {"inputs": {}}, True),
    ("e404-execution", "GET", "/v1/executions/no-such-execution", None, True),
    ("e404-workflow", "POST", "/v1/contracts/lead/events",
     {"event": "billing_received", "correlation": {"request_id": "req-2"}, "payload": {"plan": "pro"}}, True),
    ("e409-workflow", "POST", "/v1/contracts/lead/execute", {"inputs": {"request_id": "req-1"}}, True),
    ("e409-signal", "POST", "/v1/contracts/lead/events",
     {"event": "crm_received", "correlation": {"request_id": "req-1"}, "payload": {"name": "Acme"},
      "idempotency_key": "crm-req-1-retry"}, True),
    ("e413", "POST", "/v1/contracts/price/execute", {"inputs": {"total": 1, "note": "x" * 2_000_000}}, True),
    ("e422-input", "POST", "/v1/contracts/price/execute", {"inputs": {"total": "100"}}, True),
    ("e422-missing", "POST", "/v1/contracts/price/execute", {"inputs": {}}, True),
    ("e422-payload", "POST", "/v1/contracts/lead/events",
     {"event": "crm_received", "correlation": {"request_id": "req-1"}, "payload": {"tier": "gold"}}, True),
    ("e422-event", "POST", "/v1/contracts/lead/events",
     {"event": "crm_updated", "correlation": {"request_id": "req-1"}}, True),
    ("e422-body", "POST", "/v1/contracts/lead/events", {"event": "crm_received", "correlation": "req-1"}, True),
]


def make_app() -> Any:
    import igniter_nb as ig
    from igniter_nb.stores import MemoryStore
    from tests.server.server_contracts import CONTRACTS

    served = {name: CONTRACTS[name] for name in ("price", "lead", "failing", "deferred")}
    return ig.server.create_app(served, store=MemoryStore(), token=TOKEN)


def _shown_request(method: str, path: str, body: Any) -> str:
    if body is None:
        return f"{method} {path}"
    if isinstance(body, bytes):
        return f"{method} {path}\n{body.decode()}"
    text = json.dumps(body, ensure_ascii=False)
    if len(text) > 300:
        text = f"({len(text):,} bytes of JSON)"
    return f"{method} {path}\n{text}"


def render() -> dict[str, str]:
    """Every example's Markdown, from the answers of a fresh app."""
    from fastapi.testclient import TestClient

    shown: dict[str, str] = {}
    ids: dict[str, str] = {}
    with TestClient(make_app(), raise_server_exceptions=True) as client:
        for name, method, path, body, with_token in EXAMPLES:
            headers = {"Authorization": f"Bearer {TOKEN}"} if with_token else {}
            url = path.format(**ids)
            if isinstance(body, bytes):
                response = client.request(method, url, content=body,
                                          headers={**headers, "Content-Type": "application/json"})
            else:
                response = client.request(method, url, json=body, headers=headers)
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                shown[name] = (f"```http\n{_shown_request(method, url, body)}\n```\n`{response.status_code}` "
                               f"(`text/event-stream`)\n```text\n{response.text.replace(chr(13), '').strip()}\n```\n")
                continue
            answer = response.json()
            for example, key in (("execute-workflow", "lead"), ("execute-plain", "price"), ("pending", "deferred")):
                if name == example:
                    ids[key] = answer["execution_id"]
            text = json.dumps(answer, indent=2, ensure_ascii=False).replace(str(ROOT) + "/", "")
            shown[name] = (f"```http\n{_shown_request(method, url, body)}\n```\n"
                           f"`{response.status_code}`\n```json\n{text}\n```\n")
    return shown


def normalise(text: str) -> str:
    text = _STAMP.sub('"timestamp": <stamp>', _TIME.sub("<time>", _UUID.sub("<uuid>", text)))
    return _EPOCH.sub(r"id: \1-<epoch>", text)


def documented() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def write(rendered: dict[str, str]) -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = set(rendered) - set(documented())
    if missing:
        raise SystemExit(f"docs/server.md has no <!-- example: NAME --> block for: {', '.join(sorted(missing))}")
    replace: Callable[[re.Match[str]], str] = lambda m: m[1] + rendered.get(m["name"], m["body"]) + m[4]  # noqa: E731
    DOC.write_text(_BLOCK.sub(replace, text), encoding="utf-8")


if __name__ == "__main__":
    write(render())
    print(f"wrote {len(EXAMPLES)} examples into {DOC.relative_to(ROOT)}")
