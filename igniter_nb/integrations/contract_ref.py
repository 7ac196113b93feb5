"""Naming a contract class by import path (``"billing.flows:LeadWorkflow"``) and finding it again in a worker.

A job carries this text instead of a pickled class, so the worker runs only code that its own installed
modules define; a path that names anything but a contract class is refused.
"""

from __future__ import annotations

import importlib
from typing import Any

from igniter_nb._error_text import described


def _is_path(path: Any) -> bool:
    """Whether ``path`` is ``module:QualName``, each dotted part an identifier — in any script, as Python's (and
    ``igniter-nb new contract Überweisung``'s) are; nothing else, so no other text reaches ``import_module``."""
    if not isinstance(path, str) or path.count(":") != 1:
        return False
    return all(part.isidentifier() for half in path.split(":") for part in half.split("."))


def _is_contract_class(obj: Any) -> bool:
    from igniter_nb.dsl.contract import Contract

    return isinstance(obj, type) and issubclass(obj, Contract) and obj._igniter_graph is not None


def contract_path(contract: Any) -> str:
    """``"module:QualName"`` of ``contract``, checked to lead back to the same class in another process.

    Raises ``TypeError`` for anything but a contract class and ``ValueError`` for a class no worker could
    import (defined in ``__main__``, inside a function, or not reachable under its own name).
    """
    if not _is_contract_class(contract):
        raise TypeError(f"expected a contract class (a subclass of ig.Contract with a define), got {contract!r}")
    module, qualname = contract.__module__, contract.__qualname__
    if module == "__main__":
        raise ValueError(
            f"{qualname} is defined in __main__ (a script or a notebook), which a worker cannot import: "
            "move it into a module both this process and the worker import")
    if "<locals>" in qualname:
        raise ValueError(f"{module}.{qualname} is defined inside a function, which a worker cannot import: "
                         "define it at module level")
    path = f"{module}:{qualname}"
    try:
        found = resolve_contract(path)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{contract.__name__} cannot be found again by its import path {path!r}: {exc}") from None
    if found is not contract:
        raise ValueError(f"the import path {path!r} leads to another class than {contract.__name__} "
                         "(was the name rebound?): give the contract a module-level name of its own")
    return path


def resolve_contract(path: Any) -> Any:
    """The contract class at ``path`` (``"module:QualName"``), importing the module if needed.

    Raises ``ValueError`` for a malformed path or one that leads nowhere, and ``TypeError`` when it leads to
    something that is not a contract class (nothing of it is called).
    """
    if not _is_path(path):
        raise ValueError(f"a contract import path looks like 'package.module:ClassName', got {path!r}")
    module_name, qualname = path.split(":", 1)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"module {module_name!r} of contract path {path!r} cannot be imported: {exc}") from None
    except (Exception, SystemExit) as exc:  # the module's own code failed (or called sys.exit) while imported
        what = f"it called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else described(exc)
        # (the cause is kept: a database unreachable at import is still a transient failure to whoever retries)
        raise ValueError(f"importing module {module_name!r} of contract path {path!r} failed: {what}") from exc
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name} has no {qualname!r} (contract path {path!r})") from None
    if not _is_contract_class(obj):
        raise TypeError(f"{path!r} is a {type(obj).__name__}, not a contract class; refusing to run it")
    return obj


__all__ = ["contract_path", "resolve_contract"]
