"""The contract class a workflow call is given: ``Workflow.start`` passes its class, but ``ig.nb.start_or_restore``
and the functions of ``igniter_nb.workflow`` take it as an argument, and an instance (``W(lead="L-1")``, or the
contract ``start`` returned) looks enough like its class to go on and fail later with words about something else
(a correlation key said to be missing although the instance holds it)."""

from __future__ import annotations

from typing import Any

from igniter_nb.errors import NotAContractClassError


def contract_class(obj: Any, call: str) -> Any:
    """``obj`` when it is a contract class; else ``NotAContractClassError`` naming what ``call`` was given."""
    if isinstance(obj, type) and hasattr(obj, "compiled_graph"):
        return obj
    cls = type(obj)
    if hasattr(cls, "compiled_graph") and hasattr(cls, "_create"):
        what = f"an instance of {cls.__name__} ({obj!r:.120})"
        fix = f"; pass the class {cls.__name__} itself"
    else:
        what = f"{cls.__name__} {obj!r:.120}"
        fix = ""
    raise NotAContractClassError(f"{call} needs a contract class (a subclass of ig.Contract), got {what}{fix}",
                                 argument="contract", given=cls.__name__)
