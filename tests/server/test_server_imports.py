"""`ig.server` loads what it needs only on first use: the package itself imports neither FastAPI nor httpx, the
client needs no FastAPI, and `import igniter_nb` stays free of all of them."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.server.server_process import ROOT

WEB = ("fastapi", "starlette", "uvicorn", "httpx")


def _loaded_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(m for m in {WEB!r} if m in sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=True)
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_server_namespace_loads_lazily() -> None:
    assert _loaded_after("import igniter_nb") == []
    assert _loaded_after("import igniter_nb as ig; ig.server; ig.server.RemoteError") == []
    assert _loaded_after("import igniter_nb as ig; ig.server.Client") == ["httpx"]
    assert set(_loaded_after("import igniter_nb as ig; ig.server.create_app")) >= {"fastapi", "starlette"}
