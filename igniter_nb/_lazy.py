"""Names that load on first use (PEP 562), so importing a package imports none of its heavy parts.

A package hands :func:`lazy_attributes` its table of public names (name → defining module) and of submodules
(attribute → module), and binds the two functions it returns as its module-level ``__getattr__`` and
``__dir__``. A name is imported when it is first read and kept in the package's namespace, so later reads do
not come back here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, namespace: dict[str, Any], names: Mapping[str, str],
                    submodules: Mapping[str, str] | None = None) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose globals are ``namespace``: ``names`` maps each public
    name to the module that defines it, ``submodules`` an attribute to a module given whole (``ig.nb``)."""
    modules = dict(submodules or {})

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif name in modules:
            value = importlib.import_module(modules[name])
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value  # later reads find it without coming back here
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace.get("__all__", ()), *names, *modules})

    return __getattr__, __dir__


__all__ = ["lazy_attributes"]
