"""`igniter-nb serve --host` given what no socket can listen on. With `--port 0` (any free port) the command skipped
its own check: uvicorn logged `ERROR: [Errno -2] Name or service not known` and the command ended with exit code 3
and no line saying which flag was wrong. A host in brackets (`[::1]`, as in URLs) or with a space around it gets a
hint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.server.conftest import TARGET
from tests.server.server_process import ROOT


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("IGNITER_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "igniter_nb.cli", "serve", TARGET, *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env=env)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_host_that_does_not_resolve_is_named_with_port_0_too(workers: str, tmp_path: object) -> None:
    done = _serve("--host", "no such host!", "--port", "0", "--workers", workers, "--balance", "shared",
                  "--store", f"sqlite:///{tmp_path}/h.db")
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.strip() == ("igniter-nb serve: error: --host no such host! --port 0: cannot listen there: "
                                   "Name or service not known"), done.stderr


@pytest.mark.parametrize(("host", "hint"), [
    ("[::1]", "give an IPv6 address without brackets: --host ::1"),
    (" 127.0.0.1", "the host has spaces around it: --host 127.0.0.1"),
])
def test_a_host_in_brackets_or_with_spaces_gets_a_hint(host: str, hint: str) -> None:
    done = _serve("--host", host, "--port", "0")
    assert done.returncode == 2, (done.returncode, done.stderr)
    last = done.stderr.strip().splitlines()
    assert len(last) == 1 and last[0].endswith(hint), done.stderr
