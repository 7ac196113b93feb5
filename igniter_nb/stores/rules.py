"""The rules every store applies to its arguments, whatever it keeps them in: which execution ids, graph names and
statuses it takes (and which statuses are *active*), and the one canonical text of a correlation. ``tests/stores``
runs one conformance suite over all the stores, so each of them refuses the same arguments with the same words."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import StoreArgumentError
from igniter_nb.model.correlation_values import int_digits_limit, non_finite, too_long_int
from igniter_nb.model.graph_names import MAX_GRAPH_NAME, graph_name_problem
from igniter_nb.model.reserved import INTERNAL_GRAPH_PREFIX, is_internal_graph  # noqa: F401 (stores import them here)

ACTIVE_STATUSES: frozenset[str] = frozenset({"running", "pending", "waiting"})
"""Statuses under which an execution can still receive events; only these are in the correlation index."""
FINISHED_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
"""Statuses of a finished execution: kept in ``list()``/``history()`` but no longer found by correlation."""
STATUSES: frozenset[str] = ACTIVE_STATUSES | FINISHED_STATUSES
"""Every status a store accepts: ``save(status=...)`` refuses any other."""

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")


def check_execution_id(execution_id: Any) -> str:
    """Return ``execution_id`` if it is a valid id, else raise ``StoreArgumentError`` saying what is allowed.

    Valid ids are 1–200 characters of letters, digits, ``_ . : -``, start with a letter or digit and never
    contain ``..`` — so an id can never name a path outside a store's directory.
    """
    if not isinstance(execution_id, str):
        raise StoreArgumentError(f"execution id must be a str, got {type(execution_id).__name__}")
    if not _ID.match(execution_id) or ".." in execution_id:
        raise StoreArgumentError(
            f"invalid execution id {execution_id[:80]!r}: use 1-200 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit, without '..'"
        )
    return execution_id


def check_graph(graph: Any) -> str:
    """Return ``graph`` if it is a usable graph name (non-empty text without control characters)."""
    if type(graph) is str and graph in _GOOD_GRAPHS:  # (every save and correlation lookup asks again)
        return graph
    if graph_name_problem(graph) is not None:  # (the compiler's rule too: model/graph_names.py)
        raise StoreArgumentError(f"graph name must be 1-{MAX_GRAPH_NAME} printable characters, got {graph!r:.80}")
    if type(graph) is str and len(_GOOD_GRAPHS) < 4096:
        _GOOD_GRAPHS.add(graph)
    return graph


_GOOD_GRAPHS: set[str] = set()  # graph names check_graph accepted (exact str only)


def check_status(status: Any) -> str:
    if status not in STATUSES:
        raise StoreArgumentError(f"unknown status {status!r}; use one of {', '.join(sorted(STATUSES))}")
    return str(status)


def check_version(expected_version: Any) -> int | None:
    if expected_version is None:
        return None
    if type(expected_version) is not int or expected_version < 0:
        raise StoreArgumentError(f"expected_version must be an int >= 0 or None, got {expected_version!r}")
    return expected_version


#: the largest count a store's argument may give: a 64-bit integer (SQLite INTEGER, PostgreSQL BIGINT, sys.maxsize)
MAX_COUNT = 2**63 - 1
#: the largest version a store's argument may name: PostgreSQL's ``version`` column is an INTEGER
MAX_VERSION = 2**31 - 1


def check_listing(graph: Any, active_only: Any, limit: Any) -> str:
    """Validate the arguments of ``correlations()``; returns the graph name."""
    check_graph(graph)
    if not isinstance(active_only, bool):
        raise StoreArgumentError(f"active_only must be a bool, got {active_only!r:.80}")
    if type(limit) is not int or limit < 0:
        raise StoreArgumentError(f"limit must be an int >= 0, got {limit!r:.80}")
    if limit > MAX_COUNT:  # (a database column or islice takes no more)
        raise StoreArgumentError(f"limit must be at most {MAX_COUNT} (a 64-bit integer), got {limit!r:.80}")
    return str(graph)


def canonical_correlation(correlation: Any) -> str:
    """The one text form of a correlation: ``json.dumps(correlation, sort_keys=True, separators=(",", ":"))``.

    A correlation maps str keys to JSON scalars (str, int, float, bool, None); anything else raises
    ``StoreArgumentError``.
    """
    if type(correlation) is dict and len(correlation) == 1:  # (most correlations: one str or int key)
        ((key, value),) = correlation.items()
        kind = type(value)
        if type(key) is str and (kind is str or (kind is int and not too_long_int(value))):
            return _canonical_text(((key, kind, value),))
    if not isinstance(correlation, Mapping) or not correlation:
        raise StoreArgumentError(f"correlation must be a non-empty dict of str to JSON scalars, got {correlation!r:.80}")
    for key, value in correlation.items():
        if not isinstance(key, str):
            raise StoreArgumentError(f"correlation keys must be str, got {key!r}")
        if not (value is None or (isinstance(value, (str, int, float)) and not non_finite(value))):  # (bool: an int)
            raise StoreArgumentError(
                f"correlation value for {key!r} must be a str, int, finite float, bool or None, got {type(value).__name__}"
            )
        if too_long_int(value):
            raise StoreArgumentError(f"correlation value for {key!r} is an integer of more than {int_digits_limit()} "
                                     "digits: it has no text form to index")
    try:
        items = tuple(sorted((key, type(value), value) for key, value in correlation.items()))
        return _canonical_text(items)
    except TypeError:  # a value that cannot be hashed or ordered for the cache key: encode directly
        return _CANONICAL.encode(dict(correlation))


@functools.lru_cache(maxsize=4096)
def _canonical_text(items: tuple[tuple[str, type, Any], ...]) -> str:
    # keyed with each value's type, so {"k": 1}, {"k": 1.0} and {"k": True} never share an entry
    return _CANONICAL.encode({key: value for key, _, value in items})


# Built once: ``json.dumps`` with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def listed(record_graph: str | None, graph: str | None) -> bool:
    """Whether a record of ``record_graph`` belongs in a listing (``list``/``list_page``/``count``) filtered by
    ``graph``: that graph's records when one is named, else every record but the internal ones (a graph starting
    with ``INTERNAL_GRAPH_PREFIX``: the library's bookkeeping, ``model/reserved.py``)."""
    return record_graph == graph if graph is not None else not is_internal_graph(record_graph)


def check_filters(graph: Any, status: Any) -> None:
    if graph is not None:
        check_graph(graph)
    if status is not None:
        check_status(status)
