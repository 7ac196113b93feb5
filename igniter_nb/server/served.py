"""The contracts a server serves: names to classes, checked once when the app is made.

``create_app(contracts=...)`` takes a dict ``{name: ContractClass}``, any other mapping (a registry), a list of
contract classes (served under their class names) or a single class. Names travel in URL paths, so they must
be 1-200 characters without ``/``, a control character (C0, DEL, C1) or one that draws nothing (a format character
such as a zero-width space or a bidi control, a filler, a variation selector: ``lookalikes.is_invisible``); any other
character (spaces, unicode, ``<>``) works URL-encoded.
Names match exactly; two served names that print alike (NFC twins, invisible characters) are refused, and a request
for a lookalike of a served name gets a 404 saying so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from igniter_nb.compiler.registry import is_contract_class
from igniter_nb.server.errors import UnknownContractError
from igniter_nb.workflow.lookalikes import control_at, control_escape, is_invisible, lookalike, plain

_MAX_NAME = 200
_SHOWN = 50  # names listed in an "unknown contract" message


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        raise ValueError(f"a served contract name must be a str of 1-{_MAX_NAME} characters, got {name!r:.80}")
    if "/" in name:
        raise ValueError(f"served contract name {name!r:.80} holds '/' at index {name.index('/')}: it could not be "
                         "used as one URL path segment")
    control = control_at(name)  # C0, DEL and C1
    if control is not None:
        _unsendable(name, f"the control character {control_escape(control[1])} at index {control[0]}")
    return name


def _check_visible(name: str) -> None:
    """Refuse a name holding a character that draws nothing (``lookalikes.is_invisible``: a format character — a
    zero-width space, a bidi control, a byte order mark, a soft hyphen — a filler or a variation selector)."""
    if name.isascii():
        return
    for index, ch in enumerate(name):
        if is_invisible(ch):
            _unsendable(name, f"the invisible character U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')}) at "
                              f"index {index}")


def _unsendable(name: str, held: str) -> None:
    raise ValueError(f"served contract name {name!r:.80} holds {held}: a caller could not send it as it prints, in "
                     "a URL path; serve the contract under a name without it")


def _as_names(why: str) -> str:
    """``lookalikes.lookalike``'s words (said of correlation values) said of contract names."""
    return why.replace("the given value", "the requested name").replace("the stored value", "the served name")


class ServedContracts:
    """Name → contract class, plus graph name → (served name, class) for reading stored executions."""

    def __init__(self, contracts: Any) -> None:
        self.by_name: dict[str, Any] = {}  # contract classes
        if is_contract_class(contracts):
            contracts = [contracts]
        if isinstance(contracts, Mapping):
            pairs = list(contracts.items())
        elif isinstance(contracts, Iterable) and not isinstance(contracts, str | bytes):
            pairs = []
            for cls in contracts:
                if not is_contract_class(cls):
                    raise TypeError(f"contracts=[...] must list contract classes, got {cls!r:.80}")
                pairs.append((cls.__name__, cls))
            names = [name for name, _ in pairs]
            doubled = sorted({n for n in names if names.count(n) > 1})
            if doubled:
                raise ValueError(f"contracts=[...] has two classes named {', '.join(doubled)}: "
                                 "pass a dict {name: Class} to serve them under different names")
        else:
            raise TypeError("contracts= must be a dict {name: ContractClass}, a list of contract classes or one "
                            f"contract class, got {type(contracts).__name__}")
        spellings: dict[str, str] = {}  # plain spelling -> the served name that has it
        for name, cls in pairs:
            if not is_contract_class(cls):
                raise TypeError(f"contracts[{name!r}] must be an igniter_nb contract class, got {cls!r:.80}")
            self.by_name[_check_name(name)] = cls
            twin = spellings.setdefault(plain(name), name)
            if twin != name:
                why = _as_names(lookalike(name, twin) or "the same text in another spelling")
                raise ValueError(f"served contract names {twin!r} and {name!r} print alike ({why}): a caller could "
                                 "not tell which one a URL reaches; serve one of them under another name")
            _check_visible(name)  # (after the twin check: two lookalikes are named as such, both of them)
        self.by_graph: dict[str, tuple[str, Any]] = {}
        for name, cls in self.by_name.items():
            graph = cls.compiled_graph().name
            known = self.by_graph.get(graph)
            if known is not None and known[1] is not cls:
                raise ValueError(f"contracts {known[0]!r} and {name!r} are different classes with the same graph name "
                                 f"{graph!r}: their stored executions could not be told apart")
            self.by_graph.setdefault(graph, (name, cls))

    def names(self) -> list[str]:
        return list(self.by_name)

    def get(self, name: str) -> Any:
        """The class served as ``name``; ``UnknownContractError`` listing the served names otherwise."""
        cls = self.by_name.get(name)
        if cls is None:
            near = self.lookalike_of(name)
            if near is not None:
                raise UnknownContractError(f"no contract named {name[:_MAX_NAME]!r} is served here; {near[1]}",
                                           contract=name[:_MAX_NAME], lookalike=near[0])
            names = self.names()
            shown = ", ".join(names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
            raise UnknownContractError(f"no contract named {name[:_MAX_NAME]!r} is served here (served: {shown or 'none'})",
                                       contract=name[:_MAX_NAME])
        return cls

    def lookalike_of(self, name: str, *, graphs: bool = False) -> tuple[str, str] | None:
        """``(served, why)`` when ``name`` prints like a served name (``graphs``: or a served graph name) but is
        another text, ``why`` ending the sentence an answer gives (``"it looks like the served 'café' (...): names
        match exactly, ..."``); else None. Matching stays exact: this only says why a name found nothing."""
        candidates = [*self.by_name, *(self.by_graph if graphs else ())]
        for served in dict.fromkeys(candidates):
            why = lookalike(name, served)
            if why is not None:
                return served, (f"it looks like the served {served!r} ({_as_names(why)}): names match exactly, send "
                                "the served name's own code points")
        return None

    def for_graph(self, graph: str | None) -> tuple[str, Any] | None:
        """``(served name, class)`` of the contract whose graph is ``graph``, if this server serves it."""
        return self.by_graph.get(graph) if graph is not None else None


__all__ = ["ServedContracts"]
