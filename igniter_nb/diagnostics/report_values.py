"""How a report shows one value: duck-typed collection results and results, plain JSON-ready copies, Markdown
escaping, and the one-line inline rendering of a value (its ``Outputs`` line), cut at ``TEXT_LIMIT``.

Part of ``contract.diagnostics`` (``igniter_nb.diagnostics.report``, which re-exports what others import).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from igniter_nb.diagnostics.cut import cut_text
from igniter_nb.diagnostics.graph_format import safe_repr
from igniter_nb.runtime.deferred import DeferredResult
from igniter_nb.runtime.nested_values import KEEP, MAX_DEPTH, convert
from igniter_nb.settings import without_url_passwords

#: Characters of one value or message in the report's text and Markdown; the rest is cut with a marker saying how
#: much (a 1,000,000-item output made 7.9 MB of text). ``to_dict()`` keeps everything.
TEXT_LIMIT = 500
#: Failed nodes, errors and failed collection items listed per line of the text and Markdown; the rest are counted.
LISTED_ITEMS = 20


def _cut(text: Any) -> str:
    return cut_text(str(text), TEXT_LIMIT, say_how_much=True)


def _listed(parts: list[str], sep: str = ", ", what: str = "more") -> str:
    """The first ``LISTED_ITEMS`` of ``parts`` joined, then how many more there are."""
    more = f"{sep}… {len(parts) - LISTED_ITEMS:,} {what}" if len(parts) > LISTED_ITEMS else ""
    return sep.join(parts[:LISTED_ITEMS]) + more


# --------------------------------------------------------------------------- duck types
def is_collection_result(value: Any) -> bool:
    """A ``CollectionResult``: has a ``summary`` dict and a ``failed_items`` dict."""
    if value is None or isinstance(value, str | int | float | bool | list | dict | tuple):
        return False
    try:
        return isinstance(getattr(value, "summary", None), Mapping) and isinstance(
            getattr(value, "failed_items", None), Mapping
        )
    except Exception:  # an arbitrary user object may raise from attribute access
        return False


def is_result(value: Any) -> bool:
    """A child contract's ``Result`` (composition and branch values)."""
    return type(value).__name__ == "Result" and type(value).__module__.startswith("igniter_nb.")


def _error_message(error: BaseException | None) -> str | None:
    if error is None:
        return None
    message = getattr(error, "message", None)
    return message if isinstance(message, str) else str(error)


def collection_keys(value: Any) -> list[Any]:
    items = getattr(value, "items", None)
    if isinstance(items, Mapping):
        return list(items)
    keys = getattr(value, "keys", None)
    return list(keys() if callable(keys) else keys or [])


def collection_data(value: Any) -> dict[str, Any]:
    """A collection result as ``{mode, summary, items}`` (its ``to_dict``/``as_json`` form when it has one)."""
    for reader in ("to_dict", "as_json"):
        method = getattr(value, reader, None)
        data = method() if callable(method) else None
        if isinstance(data, Mapping) and {"mode", "summary", "items"} <= set(data):
            return dict(data)
    summary = dict(value.summary)
    return {"mode": summary.get("mode"), "summary": summary, "items": {k: {"key": k} for k in collection_keys(value)}}


def plain_value(value: Any) -> Any:
    """An output value as report data: child results and collections as dicts, deferreds as their wait (inside
    lists, tuples and dicts too; a value that contains itself or nests deeply is walked safely: ``convert``)."""
    return convert(value, _plain_leaf)


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, DeferredResult):  # shown: a remote node's URL without its password (the state keeps it)
        return without_url_passwords(value.to_dict())
    if is_result(value):
        try:
            return value.to_dict()
        except Exception as exc:  # a report never raises
            return {"status": "failed", "error": str(exc)}
    if is_collection_result(value):
        return collection_data(value)
    return KEEP


# --------------------------------------------------------------------------- inline rendering (Outputs line)
def _collection_shape(mode: Any, keys: list[Any], failed_keys: list[Any], succeeded: int, status: Any) -> str:
    return (f"{{mode={mode}, total={len(keys)}, succeeded={succeeded}, failed={len(failed_keys)}, "
            f"status={status}, keys={inline(keys)}, failed_keys={inline(failed_keys)}}}")


def _item_map_shape(mode: Any, items: Mapping[Any, Any], status: Any = None) -> str:
    """The summary shape of ``{key: {key, status, ...}}`` (a serialised collection's items)."""
    statuses = {k: str(item.get("status")) if isinstance(item, Mapping) else "" for k, item in items.items()}
    failed = [k for k, st in statuses.items() if st == "failed"]
    succeeded = sum(1 for st in statuses.values() if st == "succeeded")
    if status is None:
        unfinished = [st for st in statuses.values() if st not in ("succeeded", "failed")]
        if unfinished:
            status = "waiting" if "waiting" in unfinished else "pending"
        elif failed:
            status = "partial_failure" if succeeded else "failed"
        else:
            status = "succeeded"
    return _collection_shape(mode, list(items), failed, succeeded, status)


def _is_item_map(value: Mapping[Any, Any]) -> bool:
    return bool(value) and all(isinstance(v, Mapping) and "key" in v and "status" in v for v in value.values())


_MARKDOWN_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "&#92;", "`": "\\`", "*": "\\*", "~": "\\~",
                     "$": "&#36;", "\n": " ", "\r": " "}
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # (one inside a word never emphasises)


def markdown_text(text: str) -> str:
    """``text`` as Markdown text: ``<``, ``>`` and ``&`` as entities (no tag, autolink or entity of the user's);
    backtick, ``*``, ``~`` and an ``_`` at the edge of a word backslash-escaped (no code span, emphasis or
    strikethrough: ``'_x_'`` read as an italic x); ``$`` and the backslash as entities (no math: Jupyter and
    docs sites typeset ``$5 … $6``, ``$$x$$`` and ``\\(x\\)`` as formulas, and a backslash escape would be read
    as one of those delimiters); ``](`` as ``]\\(`` (no link or image); newlines as spaces (no new block, no link
    definition). Brackets stay (a list reads ``[1, 2]``), and so do underscores inside words
    (``gross_total``), so ordinary text is unchanged."""
    escaped = "".join(_MARKDOWN_ESCAPES.get(ch, ch) for ch in text).replace("](", "]\\(")
    return _EMPHASIS_UNDERSCORE.sub(r"\\_", escaped)


def markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, fenced with more backticks than it holds (``node[key]`` stays
    `` `node[key]` ``); newlines as spaces."""
    text = text.replace("\r", " ").replace("\n", " ")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(value: Any) -> str:
    """A value on one line, Python-``repr``-like and deterministic (no memory addresses, sets sorted).

    Collections get a summary shape: ``{mode=collect, total=3, succeeded=2, failed=1,
    status=partial_failure, keys=[1, 2, 3], failed_keys=[2]}``; child results
    ``{graph='Pricing', status=succeeded, outputs=['total']}``. A container inside itself shows as ``[...]``
    (``{...}``, ``(...)``) as ``repr`` shows it, and one nested past ``MAX_DEPTH`` levels as ``...``.
    """
    return _inline(value, set(), 0)


_BACK_REFERENCE = {list: "[...]", dict: "{...}", tuple: "(...)"}
_SCALARS = frozenset({int, float, str, bool, type(None)})  # shown by ``safe_repr`` at once (most of a big value)


def _inline(value: Any, path: set[int], depth: int) -> str:
    if type(value) in _SCALARS:
        return safe_repr(value)
    if isinstance(value, list | tuple | set | frozenset | Mapping):
        key = id(value)
        if key in path:  # the value contains itself
            return "{...}" if isinstance(value, Mapping) else _BACK_REFERENCE.get(type(value), "[...]")
        if depth >= MAX_DEPTH:
            return "..."
        path.add(key)
        try:
            return _inline_parts(value, path, depth + 1)
        finally:
            path.discard(key)
    return _inline_parts(value, path, depth)


def _inline_parts(value: Any, path: set[int], depth: int) -> str:
    if is_collection_result(value):
        summary = value.summary
        failed = list(value.failed_items)
        keys = collection_keys(value)
        succeeded = summary.get("succeeded", len(keys) - len(failed))
        return _collection_shape(summary.get("mode"), keys, failed, succeeded, summary.get("status"))
    if is_result(value):
        try:
            status = str(value.execution.status_of())
        except Exception:
            status = "unknown"
        return f"{{graph={value.graph!r}, status={status}, outputs={value.outputs!r}}}"
    if isinstance(value, DeferredResult):
        return _inline(value.to_dict(), path, depth)
    if isinstance(value, Mapping):
        if {"mode", "summary", "items"} <= set(value) and isinstance(value["items"], Mapping):
            summary = value["summary"] if isinstance(value["summary"], Mapping) else {}
            return _item_map_shape(value["mode"], value["items"], summary.get("status"))
        if _is_item_map(value):
            return _item_map_shape("collect", value)
        return "{" + ", ".join(f"{_inline(k, path, depth)}: {_inline(v, path, depth)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join([_inline(v, path, depth) for v in value]) + "]"
    if isinstance(value, tuple):
        inner = ", ".join([_inline(v, path, depth) for v in value])
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, set | frozenset):
        if not value:
            return "set()" if isinstance(value, set) else "frozenset()"
        inner = ", ".join(sorted(_inline(v, path, depth) for v in value))
        return "{" + inner + "}" if isinstance(value, set) else "frozenset({" + inner + "})"
    return safe_repr(value)


__all__ = ["LISTED_ITEMS", "TEXT_LIMIT", "collection_data", "collection_keys", "inline", "is_collection_result", "is_result",
           "markdown_code", "markdown_text", "plain_value"]
