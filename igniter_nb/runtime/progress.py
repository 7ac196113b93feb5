"""Progress bars for long collections (``tqdm.auto``: a widget in Jupyter, a text bar in a terminal).

A bar is shown for a collection of more than ``HANDFUL`` items, and only once it has run for more than
``DELAY`` seconds (quick collections never print anything). Turn bars off per node with
``c.collection(..., progress=False)``, per contract with ``c.run_with(..., progress=False)``, or for the whole
process with the environment variable ``IGNITER_NB_PROGRESS=0``. ``progress=True`` on the node forces a bar
(still after ``DELAY``) whatever the item count. A finished bar stays where it was drawn (``leave=True``): full
and green in a notebook, red when the collection stopped early (``fail_fast``), the last line in a terminal.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from igniter_nb.model import CollectionNode
    from igniter_nb.runtime.execution import Execution

HANDFUL = 10
DELAY = 1.0
_OFF = ("0", "false", "no", "off")


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_setting(execution: Execution, node: CollectionNode) -> bool | None:
    """The explicit setting that applies (node, then contract run options, then environment), or ``None``."""
    for source in (node.metadata, execution.graph.run_options):
        value = source.get("progress")
        if value is not None:
            return bool(value)
    env = os.environ.get("IGNITER_NB_PROGRESS")
    if env is not None:
        return env.strip().lower() not in _OFF
    return None


def item_progress(execution: Execution, node: CollectionNode, total: int) -> Any:
    """A bar with ``update()``/``close()`` for ``total`` items, or a do-nothing stand-in."""
    setting = progress_setting(execution, node)
    if setting is False or total == 0 or (setting is None and total <= HANDFUL):
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=f"{execution.graph.name}.{node.name}", unit="item", delay=DELAY, leave=True)
