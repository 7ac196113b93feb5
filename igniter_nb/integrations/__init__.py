"""Integrations for Python services (``ig.integrations``): background jobs on RQ and signed webhooks.

Submodules load on first use, so ``import igniter_nb.integrations`` imports neither rq, redis nor starlette:

- ``ig.integrations.rq`` — ``enqueue_start`` / ``enqueue_deliver_event`` / ``enqueue_resume`` (extra ``jobs``);
- ``ig.integrations.webhooks`` — ``endpoint(...)``, a Starlette route delivering signed webhooks (extra ``server``).

See ``docs/integrations.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from igniter_nb._lazy import lazy_attributes

_SUBMODULES = ("rq", "webhooks")


if TYPE_CHECKING:  # (what the lazy names are, for type checkers: they see no module __getattr__)
    from igniter_nb.integrations import rq, webhooks
else:
    __getattr__, __dir__ = lazy_attributes("igniter_nb.integrations", globals(), {},
                                           {name: f"igniter_nb.integrations.{name}" for name in _SUBMODULES})

__all__ = list(_SUBMODULES)
