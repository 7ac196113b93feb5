"""Correlation: the business keys that pick one workflow out of many (``c.correlate_by(...)``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import InputError, WorkflowNotFoundError
from igniter_nb.model.correlation_values import int_digits_limit, non_finite, too_long_int
from igniter_nb.workflow.lookalikes import control_at, control_escape, lookalike, named_controls, only_invisible

_SCALARS = (str, int, float, bool)
_ANY_SCALAR = "str, int, float or bool"


def _blank(value: Any) -> bool:
    """None, or text with nothing visible: empty, whitespace, or invisible characters (U+200B, U+FEFF, format
    characters: ``workflow/lookalikes.py``) and whitespace — an identity nobody can type."""
    return value is None or (isinstance(value, str) and (not value.strip() or (
        not value.isascii() and only_invisible(value) is not None)))  # (ASCII: no call, the usual delivery)


def _why_blank(value: Any) -> str:
    """``": it holds only invisible characters (U+200B (ZERO WIDTH SPACE) at index 0)"`` for a blank value that
    ``str.strip()`` keeps, else nothing."""
    named = only_invisible(value) if isinstance(value, str) else None
    return f": it holds only invisible characters ({named})" if named else ""


def correlation_from_inputs(graph: Any, inputs: Mapping[str, Any], *, refuse_control: bool = True) -> dict[str, Any]:
    """The correlation of a new workflow, taken from its inputs; blank or missing values are rejected, and so is text
    holding a control character (``refuse_control=False``: a stored workflow's values, which may predate that)."""
    found: dict[str, Any] = {}
    for key in graph.correlation_keys:
        value = inputs.get(key)
        if _blank(value):
            raise InputError(
                f"Correlation key '{key}' of {graph.name} is {'missing' if key not in inputs else 'blank'}"
                f"{_why_blank(value)}: a workflow needs a non-blank value for each of " + ", ".join(graph.correlation_keys),
                graph=graph.name, node=key,
            )
        if not isinstance(value, _SCALARS):
            raise InputError(f"Correlation key '{key}' must be a string or number, got {type(value).__name__}",
                             graph=graph.name, node=key)
        control = control_at(value) if refuse_control and isinstance(value, str) else None
        if control is not None:  # (a newline read with the value, a terminal's escape: no sender writes it again)
            index, char = control
            raise InputError(
                f"Correlation key '{key}' of {graph.name} holds the control character {control_escape(char)} at index "
                f"{index}: correlation values may not hold control characters (C0, DEL, C1); remove it",
                graph=graph.name, node=key, character=control_escape(char).split()[0], index=index)
        if non_finite(value):  # no store can index it (JSON has no NaN)
            raise InputError(f"Correlation key '{key}' of {graph.name} must be a finite number, got {value!r}",
                             graph=graph.name, node=key)
        if too_long_int(value):  # no store can write it (no text form)
            raise InputError(f"Correlation key '{key}' of {graph.name} is an integer of more than "
                             f"{int_digits_limit()} digits: no store can index it", graph=graph.name, node=key)
        found[key] = value
    return found


def _wrong_type(graph: Any, key: str, value: Any, expected: str | None) -> WorkflowNotFoundError:
    """A value no workflow can have — not a string or number, or not of the key's declared input type (a workflow's
    correlation comes from its inputs, checked strictly): a malformed correlation, not an unknown one."""
    expected = expected or _ANY_SCALAR
    text = repr(value)
    shown = text if len(text) <= 60 else text[:57] + "..."
    return WorkflowNotFoundError(
        f"correlation key '{key}' of {graph.name} must be of type {expected}, got {type(value).__name__} {shown}: "
        "no workflow can have that value", graph=graph.name, node=key, expected=expected, got=type(value).__name__)


def _not_finite(graph: Any, key: str, value: float) -> WorkflowNotFoundError:
    return WorkflowNotFoundError(
        f"correlation key '{key}' of {graph.name} must be a finite number, got float {value!r}: no workflow can "
        "have that value", graph=graph.name, node=key, expected="finite number", got="float")


def _too_long(graph: Any, key: str) -> WorkflowNotFoundError:
    return WorkflowNotFoundError(
        f"correlation key '{key}' of {graph.name} is an integer of more than {int_digits_limit()} digits: no workflow "
        "can have that value", graph=graph.name, node=key, expected="integer with a text form", got="int")


def _check_key_types(graph: Any, given: Mapping[str, Any]) -> None:
    for key, accepts, expected in graph.correlation_checks():
        value = given[key]
        if not isinstance(value, _SCALARS) or (accepts is not None and not accepts(value)):
            raise _wrong_type(graph, key, value, expected)
        if non_finite(value):
            raise _not_finite(graph, key, value)
        if too_long_int(value):
            raise _too_long(graph, key)


def check_delivery_correlation(graph: Any, correlation: Mapping[str, Any] | None) -> dict[str, Any]:
    """A delivered correlation must name exactly the graph's keys, each non-blank and of its input's type."""
    if type(correlation) is dict and len(correlation) == len(graph.correlation_keys):
        # the usual call: a dict of exactly the graph's keys, none blank (the same copy as below, without the
        # set arithmetic that finds what is wrong)
        for key, accepts, expected in graph.correlation_checks():
            value = correlation.get(key)  # a missing key reads as None: blank, and the slow path names it
            if _blank(value):
                break
            if not isinstance(value, _SCALARS) or (accepts is not None and not accepts(value)):
                raise _wrong_type(graph, key, value, expected)
            if type(value) is not str:  # (text is finite and has a text form: no call, the usual delivery)
                if non_finite(value):
                    raise _not_finite(graph, key, value)
                if too_long_int(value):
                    raise _too_long(graph, key)
        else:
            return {str(k): v for k, v in correlation.items()}
    if not isinstance(correlation, Mapping):
        raise WorkflowNotFoundError(f"correlation must be a dict of {', '.join(graph.correlation_keys)}, "
                                    f"got {type(correlation).__name__}", graph=graph.name)
    given = {str(k): v for k, v in correlation.items()}
    keys = set(graph.correlation_keys)
    missing = sorted(keys - set(given))
    extra = sorted(set(given) - keys)
    blank = sorted(k for k in keys & set(given) if _blank(given[k]))
    if missing or extra or blank:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unknown {', '.join(extra)}")
        if blank:
            parts.append(f"blank {', '.join(k + _why_blank(given[k]) for k in blank)}")
        raise WorkflowNotFoundError(
            f"correlation for {graph.name} must have exactly the keys {', '.join(graph.correlation_keys)} "
            f"({'; '.join(parts)})", graph=graph.name, correlation=given,
        )
    _check_key_types(graph, given)
    return given


_SHOWN_CHARS = 60  # a longer string value is shortened in error messages (the error's context keeps it whole)


def shown(correlation: Mapping[str, Any]) -> str:
    """``correlation`` as error messages show it: like its repr, with each string value past ``_SHOWN_CHARS``
    characters (or int past as many digits) cut and its length given, so a huge value never makes a huge message (or HTTP error body)."""
    parts = []
    for key, value in correlation.items():
        text = repr(value)
        if isinstance(value, str) and len(value) > _SHOWN_CHARS:
            text = f"{value[:_SHOWN_CHARS]!r}... ({len(value)} characters)"
        elif len(text) > _SHOWN_CHARS:  # an int of thousands of digits
            text = f"{text[:_SHOWN_CHARS]}... ({len(text)} digits)"
        if isinstance(value, str) and control_at(value) is not None:  # a repr's \n or \x1b is easily read past
            text += f" (with {named_controls(value)})"
        parts.append(f"{key!r}: {text}")
    return "{" + ", ".join(parts) + "}"


def _same(stored: Any, given: Any) -> bool:
    """Equal as stored correlations compare (canonical JSON): 42, 42.0 and True are three different values."""
    return type(stored) is type(given) and stored == given


def nearest(correlation: Mapping[str, Any], candidates: list[tuple[str, Mapping[str, Any]]], limit: int = 3) -> list[dict[str, Any]]:
    """Stored correlations closest to ``correlation`` (fewest differing keys), with the keys that differ."""
    scored = []
    for execution_id, other in candidates:
        differing = sorted(k for k in correlation if not _same(other.get(k), correlation[k]))
        # stores hand correlations back in their canonical (sorted) key order; show them in the caller's order
        shown = {k: other[k] for k in correlation if k in other} | {k: v for k, v in other.items() if k not in correlation}
        # of as many differing keys, the ones that only look different (workflow/lookalikes.py) come first
        unlike = sum(1 for k in differing if lookalike(correlation[k], other.get(k)) is None)
        scored.append((len(differing), unlike, execution_id, shown, differing))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))
    return [{"execution_id": eid, "correlation": corr, "differs_in": diff} for _, _, eid, corr, diff in scored[:limit]]
