"""The HTTP floor of `bench/server.py`: a bare FastAPI JSON route, served by uvicorn exactly like our app (same
worker count, same clients), doing no work — what any FastAPI service costs per request on this machine."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/v1/contracts/{name}/events")
def echo(name: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "event": body.get("event"), "status": "waiting"}

# As `igniter-nb serve` does in each worker (igniter_nb/server/serve.py): what startup made is left out of the
# collector's full walks, so the floor and the server measured against it are treated alike.
gc.collect()
gc.freeze()
