"""Node records: the builder's fast ``ComputeNode`` constructor makes the same frozen node as the dataclass."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from igniter_nb.model import ComputeNode, new_compute_node


def test_new_compute_node_takes_every_field_in_declaration_order() -> None:
    names = [f.name for f in dataclasses.fields(ComputeNode)]
    assert list(inspect.signature(new_compute_node).parameters) == names


def test_new_compute_node_builds_the_node_the_dataclass_builds() -> None:
    values = {f.name: f"value of {f.name}" for f in dataclasses.fields(ComputeNode)}
    fast = new_compute_node(**values)
    slow = ComputeNode(**values)
    assert type(fast) is ComputeNode
    assert {k: getattr(fast, k) for k in values} == {k: getattr(slow, k) for k in values} == values
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.name = "changed"  # type: ignore[misc]
