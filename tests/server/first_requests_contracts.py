"""A served module with a bug on purpose, for tests/server/test_first_requests_log.py: imported by the
`igniter-nb serve` process only (the test names it as a target string), where executing ``boom`` raises a
``RuntimeError`` the server did not expect — a 500, whose log tail the test helper must show."""

from __future__ import annotations

from typing import Any

from igniter_nb.server.service import ContractService
from tests.server.pid_contracts import CONTRACTS as PIDS

CONTRACTS = {**PIDS, "boom": PIDS["worker_pid"]}

_execute = ContractService.execute


def _execute_with_a_bug(self: ContractService, name: str, *args: Any, **kwargs: Any) -> Any:
    if name == "boom":
        raise RuntimeError("a bug on purpose: boom")
    return _execute(self, name, *args, **kwargs)


ContractService.execute = _execute_with_a_bug  # type: ignore[method-assign]
