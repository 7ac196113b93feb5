"""Node and graph records (shape only)."""

from igniter_nb.model.graph import GraphModel
from igniter_nb.model.nodes import *  # noqa: F403
from igniter_nb.model.nodes import __all__ as _node_names

__all__ = ["GraphModel", *_node_names]
