"""The notebook toolkit (``ig.nb``): reprs, DataFrames, replay, widgets and the IPython extension.

Names load on first use, so ``import igniter_nb.notebook`` stays cheap and never imports pandas or ipywidgets
by itself. See ``docs/notebook.md``.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "audit_frame": "igniter_nb.notebook.frames",
    "states_frame": "igniter_nb.notebook.frames",
    "store_frame": "igniter_nb.notebook.store_frames",
    "tokens_frame": "igniter_nb.notebook.store_frames",
    "replay": "igniter_nb.notebook.frames",
    "to_parquet": "igniter_nb.notebook.frames",
    "read_parquet": "igniter_nb.notebook.frames",
    "EventSimulator": "igniter_nb.notebook.simulator",
    "Follow": "igniter_nb.notebook.follow",
    "FollowUpdate": "igniter_nb.notebook.follow",
    "IgniterFrame": "igniter_nb.notebook.frame_html",
    "InputPlayground": "igniter_nb.notebook.widgets",
    "SnapshotStepper": "igniter_nb.notebook.stepper",
    "ChangeReport": "igniter_nb.notebook.widgets",
    "render_graph": "igniter_nb.notebook.render",
    "dot_available": "igniter_nb.notebook.render",
    "show": "igniter_nb.notebook.reprs",
    "start_or_restore": "igniter_nb.notebook.workflows",
    "load_ipython_extension": "igniter_nb.notebook.extension",
    "sanitizer_path": "igniter_nb.notebook.extension",
    "llm_frame": "igniter_nb.llm.frame",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'igniter_nb.notebook' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = sorted(_LAZY)
