"""The warning a ``start`` gives when an active workflow's correlation prints like the new one but is another value
(``LookalikeCorrelationWarning``): ``{"lead": "L-1\\u200b"}`` started while ``{"lead": "L-1"}`` is active.

Matching stays exact — the start makes a second workflow — so this only tells. Its cost is one indexed lookup, of
the *plain spelling* of the correlation (each text value without its invisible characters and in NFC:
``workflow/lookalikes.py``), and only when that differs from the correlation given: a correlation of ASCII text
and numbers costs nothing. It finds the active twin spelled plainly. The reverse (a plain start while a lookalike
spelling is active) is not looked for: a plain value has endless invisible spellings, so no exact lookup finds
them; it would need a folded index (each active correlation's plain spelling) in every store, consulted by the
duplicate check of every start, ASCII ones included (docs/workflows.md, "The reverse is not detected").
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import LookalikeCorrelationWarning
from igniter_nb.workflow.correlation import shown
from igniter_nb.workflow.lookalikes import lookalike, plain

#: Frames between ``warnings.warn`` and the caller of ``Contract.start``: this function, ``engine.start``,
#: ``Contract.start``.
_STACKLEVEL = 4


def warn_of_lookalike(store: Any, graph: str, correlation: Mapping[str, Any]) -> None:
    """Warn when an active workflow of ``graph`` has the plain spelling of ``correlation`` (which is not plain)."""
    spelled = {key: plain(value) if type(value) is str else value for key, value in correlation.items()}
    differing = [key for key in correlation if spelled[key] != correlation[key]]
    if not differing:
        return
    existing = store.find_by_correlation(graph, spelled)
    if existing is None:
        return
    differs_in = {key: lookalike(correlation[key], spelled[key]) or "other code points" for key in differing}
    why = "; ".join(f"{key}: {reason}" for key, reason in differs_in.items())
    warnings.warn(LookalikeCorrelationWarning(
        f"starting a second {graph} workflow: its correlation {shown(correlation)} prints like {shown(spelled)} of "
        f"the active execution {existing} but is another value ({why}); matching is exact, so deliveries reach each "
        "only by its own spelling", graph=graph, correlation=dict(correlation), existing_execution_id=str(existing),
        existing_correlation=spelled, differs_in=differs_in), stacklevel=_STACKLEVEL)


__all__ = ["warn_of_lookalike"]
