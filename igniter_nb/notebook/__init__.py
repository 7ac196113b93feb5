"""The notebook toolkit (``ig.nb``): reprs, DataFrames, replay, widgets and the IPython extension.

Names load on first use, so ``import igniter_nb.notebook`` stays cheap and never imports pandas or ipywidgets
by itself. See ``docs/notebook.md``.
"""

from __future__ import annotations

from typing import Any

from igniter_nb._lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes("igniter_nb.notebook", globals(), _LAZY)

__all__ = sorted(_LAZY)
