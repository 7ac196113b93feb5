"""Contracts by name, so schemas, branches and workers can refer to a contract class as text."""

from __future__ import annotations

import importlib
from typing import Any

_by_name: dict[str, Any] = {}


def register_contract(cls: Any) -> None:
    """Remember ``cls`` under its class name and its ``module:qualname`` (latest definition wins)."""
    _by_name[cls.__name__] = cls
    _by_name[f"{cls.__module__}:{cls.__qualname__}"] = cls
    _by_name[f"{cls.__module__}.{cls.__qualname__}"] = cls


def lookup_contract(name: str, *, import_modules: bool = False) -> Any | None:
    """The contract class registered as ``name``; with ``import_modules`` also import ``module:Class``."""
    found = _by_name.get(name)
    if found is None and import_modules and ":" in name:
        module, _, qualname = name.partition(":")
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        found = obj if is_contract_class(obj) else None
    return found


def is_contract_class(obj: Any) -> bool:
    return isinstance(obj, type) and getattr(obj, "__igniter_contract__", False) is True


def contract_name(obj: Any) -> str:
    if isinstance(obj, type):
        return obj.__name__
    return str(obj)
