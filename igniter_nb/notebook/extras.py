"""The optional package the widgets need, imported with a message that says how to get it.

``igniter_nb`` installs without ipywidgets; the widgets (``InputPlayground``, ``SnapshotStepper``, ``EventSimulator``,
``Follow``) import it when a view is first built. Without it, displaying one of them shows its static view, and
asking for ``.widget`` raises a ``ModuleNotFoundError`` that names the extra to install.
"""

from __future__ import annotations

from typing import Any


def ipywidgets() -> Any:
    """The ``ipywidgets`` module, or ``ModuleNotFoundError`` naming the ``igniter_nb[notebook]`` extra."""
    try:
        import ipywidgets as w
    except ImportError as exc:
        raise ModuleNotFoundError(
            "the widget needs ipywidgets 8: pip install 'igniter_nb[notebook]' (displaying the object shows its "
            f"static view without it; {type(exc).__name__}: {exc})", name="ipywidgets") from exc
    return w


__all__ = ["ipywidgets"]
