"""The notebook toolkit (``ig.nb``): reprs, DataFrames, replay, widgets and the IPython extension.

Names load on first use, so ``import igniter_nb.notebook`` stays cheap and never imports pandas or ipywidgets
by itself. See ``docs/notebook.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


if TYPE_CHECKING:  # (the lazy names for type checkers, which see no module __getattr__; `as`: re-exported)
    from igniter_nb.llm.frame import llm_frame as llm_frame
    from igniter_nb.notebook.extension import load_ipython_extension as load_ipython_extension
    from igniter_nb.notebook.extension import sanitizer_path as sanitizer_path
    from igniter_nb.notebook.follow import Follow as Follow
    from igniter_nb.notebook.follow import FollowUpdate as FollowUpdate
    from igniter_nb.notebook.frame_html import IgniterFrame as IgniterFrame
    from igniter_nb.notebook.frames import audit_frame as audit_frame
    from igniter_nb.notebook.frames import read_parquet as read_parquet
    from igniter_nb.notebook.frames import replay as replay
    from igniter_nb.notebook.frames import states_frame as states_frame
    from igniter_nb.notebook.frames import to_parquet as to_parquet
    from igniter_nb.notebook.render import dot_available as dot_available
    from igniter_nb.notebook.render import render_graph as render_graph
    from igniter_nb.notebook.reprs import show as show
    from igniter_nb.notebook.simulator import EventSimulator as EventSimulator
    from igniter_nb.notebook.stepper import SnapshotStepper as SnapshotStepper
    from igniter_nb.notebook.store_frames import store_frame as store_frame
    from igniter_nb.notebook.store_frames import tokens_frame as tokens_frame
    from igniter_nb.notebook.widgets import ChangeReport as ChangeReport
    from igniter_nb.notebook.widgets import InputPlayground as InputPlayground
    from igniter_nb.notebook.workflows import start_or_restore as start_or_restore
else:
    __getattr__, __dir__ = lazy_attributes("igniter_nb.notebook", globals(), _LAZY)

__all__ = sorted(_LAZY)
