"""Integrations for Python services (``ig.integrations``): background jobs on RQ and signed webhooks.

Submodules load on first use, so ``import igniter_nb.integrations`` imports neither rq, redis nor starlette:

- ``ig.integrations.rq`` — ``enqueue_start`` / ``enqueue_deliver_event`` / ``enqueue_resume`` (extra ``jobs``);
- ``ig.integrations.webhooks`` — ``endpoint(...)``, a Starlette route delivering signed webhooks (extra ``server``).

See ``docs/integrations.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = ("rq", "webhooks")


def __getattr__(name: str) -> Any:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'igniter_nb.integrations' has no attribute {name!r}")
    module = importlib.import_module(f"igniter_nb.integrations.{name}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = list(_SUBMODULES)
