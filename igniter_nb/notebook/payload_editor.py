"""The EventSimulator's payload editor: example payloads, hints for events without a schema, readable JSON errors.

* ``example_from_schema`` — a placeholder payload of the right types from an await's ``schema``;
* ``payload_hint`` — for an await without a schema, what its dependents read from the payload (found in their
  source: ``payment["amount"]``, ``manager.get("ok")``, ``crm.name``), so the editor starts from those keys;
* ``read_payload_text`` — the editor's text as JSON, or a ``PayloadValidationError`` saying which line, column
  and field is wrong and showing the line;
* ``payload_to_text`` — a Python value as editor text, or a ``PayloadValidationError`` naming the part that is
  not JSON data (``payload["items"][2] is a object``).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
import textwrap
from collections.abc import Mapping
from typing import Any

from igniter_nb.errors import PayloadValidationError
from igniter_nb.model.correlation_values import non_finite

# --------------------------------------------------------------------------------------------- schema examples


def example_from_schema(schema: Any) -> Any:
    """A placeholder payload for an await's ``schema``: a pydantic model or type hint → an example value with
    the right types: strings ``"string"``, numbers 0, booleans false, enums and literals their first member,
    nested models and ``$ref``s expanded, defaults and ``examples`` used when the schema gives them. No schema
    → ``{}``."""
    if schema is None:
        return {}
    try:
        if hasattr(schema, "model_json_schema"):
            js = schema.model_json_schema()
        else:
            import pydantic

            js = pydantic.TypeAdapter(schema).json_schema()
    except Exception:  # a hint pydantic cannot describe: start from an empty object
        return {}
    return _example(js, js.get("$defs") or {}, 0)


def _example(js: Any, defs: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(js, Mapping) or depth > 8:
        return None
    if "$ref" in js:
        name = str(js["$ref"]).rsplit("/", 1)[-1]
        return _example(defs.get(name, {}), defs, depth + 1)
    if "default" in js:
        return js["default"]
    if js.get("examples"):
        return js["examples"][0]
    if "const" in js:
        return js["const"]
    if js.get("enum"):
        return js["enum"][0]
    for combo in ("anyOf", "oneOf", "allOf"):
        options = [o for o in js.get(combo) or () if not (isinstance(o, Mapping) and o.get("type") == "null")]
        if options:
            return _example(options[0], defs, depth + 1)
    kind = js.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in js:
        props = js.get("properties") or {}
        return {name: _example(sub, defs, depth + 1) for name, sub in props.items()}
    if kind == "array":
        item = _example(js.get("items") or {}, defs, depth + 1)
        return [] if item is None else [item]
    placeholders = {"string": "string", "integer": 0, "number": 0.0, "boolean": False, "null": None}
    if js.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    if js.get("format") == "date":
        return "2026-01-01"
    return placeholders.get(str(kind))


# --------------------------------------------------------------------------------------------- events without schema

_DICT_METHODS = frozenset(dir(dict))


def keys_read_by_dependents(graph: Any, node: Any) -> dict[str, list[str]]:
    """For an await ``node``: dependent node name → the payload keys its function reads (``x["k"]``,
    ``x.get("k")``, ``x.k``), found in its source. Functions whose source cannot be read are skipped."""
    found: dict[str, list[str]] = {}
    for dependent in graph.dependents.get(node.name, ()):
        target = graph.node(dependent) if graph.has_node(dependent) else None
        function = getattr(target, "callable", None)
        if target is None or getattr(target, "callable_kind", None) != "function" or not callable(function):
            continue
        keys = _keys_read(function, node.name)
        if keys:
            found[dependent] = keys
    return found


def _keys_read(function: Any, parameter: str) -> list[str]:
    try:
        source = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return []
    keys: list[str] = []

    def add(key: Any) -> None:
        if isinstance(key, str) and key not in keys:
            keys.append(key)

    for sub in ast.walk(tree):
        if isinstance(sub, ast.Subscript) and _is_name(sub.value, parameter) and isinstance(sub.slice, ast.Constant):
            add(sub.slice.value)
        elif (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "get"
              and _is_name(sub.func.value, parameter) and sub.args and isinstance(sub.args[0], ast.Constant)):
            add(sub.args[0].value)
        elif (isinstance(sub, ast.Attribute) and _is_name(sub.value, parameter) and sub.attr not in _DICT_METHODS
              and not sub.attr.startswith("_")):
            add(sub.attr)
    return keys


def _is_name(expr: ast.expr, name: str) -> bool:
    return isinstance(expr, ast.Name) and expr.id == name


def payload_hint(graph: Any, node: Any) -> str | None:
    """What to send for an await without a schema (``None`` when it has one): the keys its dependents read, or
    that any JSON value is accepted."""
    if node is None or node.schema is not None:
        return None
    reads = keys_read_by_dependents(graph, node)
    where = "; ".join(f"{name} reads " + ", ".join(f"{node.name}[{key!r}]" for key in keys)
                      for name, keys in reads.items())
    if where:
        return (f"event '{node.event}' has no schema: any JSON is accepted. {where} — fill in those values "
                f"(null placeholders below).")
    return (f"event '{node.event}' has no schema: any JSON value is accepted and becomes the value of "
            f"'{node.name}'. Give the await a schema= to get a prefilled example.")


def example_for(graph: Any, node: Any) -> Any:
    """The editor's starting payload for ``node``: the schema's example, else the keys dependents read (null
    values), else ``{}``."""
    if node is None:
        return {}
    if node.schema is not None:
        return example_from_schema(node.schema)
    keys = [key for keys in keys_read_by_dependents(graph, node).values() for key in keys]
    return dict.fromkeys(keys)


# --------------------------------------------------------------------------------------------- JSON text

_JSON_MESSAGES = {
    "Expecting value": "expected a value (a string in double quotes, a number, true/false/null, [..] or {..})",
    "Expecting property name enclosed in double quotes": "expected a field name in double quotes "
                                                         "(a trailing comma, or a name without quotes?)",
    "Expecting ',' delimiter": "expected ',' between two items",
    "Expecting ':' delimiter": "expected ':' after the field name",
    "Extra data": "unexpected text after the JSON value",
    "Unterminated string starting at": "a string is not closed (missing '\"')",
    "Invalid control character at": "a line break or tab inside a string (write \\n or \\t)",
    "Invalid \\escape": "invalid backslash escape in a string",
}
_KEY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:')


def describe_json_error(text: str, exc: json.JSONDecodeError) -> str:
    """``line 3, column 10 (value of "mrr"): expected a value`` plus the line itself and a caret under the spot.
    A character the user cannot see or tell apart at the spot (a no-break space, a zero-width space, a byte-order
    mark, a control character, a typographic quote: what pasting from a web page or a document brings) is named
    with its code point, since the line shown looks like valid JSON."""
    odd = _odd_character(text, exc.pos, exc.msg)
    return _at(text, exc.pos, odd or _JSON_MESSAGES.get(exc.msg, exc.msg))


_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u2018\u2019\u201a\u201b\u2032"


def _odd_character(text: str, pos: int, msg: str) -> str | None:
    """What is wrong when the character at ``pos`` is one a reader cannot see or tell from a JSON one."""
    import unicodedata

    if pos >= len(text):
        return None
    ch = text[pos]
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    named = f"{code} {name}" if name else code
    if msg.startswith("Invalid control character"):
        if ch in "\n\r\t":
            return None
        return f"a control character ({code}) inside a string (write it as \\u{ord(ch):04x}, or delete it)"
    if ch in _QUOTES:
        return f"a typographic quote {ch} ({named}): JSON needs straight double quotes \" around strings and names"
    category = unicodedata.category(ch)
    if ch == "\ufeff":
        return f"an invisible byte-order mark ({named}): delete it"
    if category == "Zs" and ch != " ":
        return f"a {name.lower() or 'space'} ({code}): JSON allows only ordinary spaces, tabs and line breaks here"
    if category in ("Cc", "Cf", "Zl", "Zp") and ch not in "\n\r\t":
        return f"an invisible character ({named}): delete it"
    return None


def _at(text: str, pos: int, problem: str) -> str:
    """``payload is not valid JSON — line L, column C (value of "name"): problem``, then the line (a window of it
    around the spot when it is long: a payload pasted as one huge line must not make a huge message) and a caret."""
    keys = [m for m in _KEY.finditer(text, 0, pos)]
    field = ""
    if keys:
        last = keys[-1]
        between = text[last.end():pos].strip()
        name = _short(last.group(1))
        field = f' (value of "{name}")' if not between else f' (after "{name}")'
    lineno = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    colno = pos - start + 1
    end = text.find("\n", pos)
    line = _visible(text[start:end if end >= 0 else len(text)].rstrip("\r"))
    offset = colno - 1
    if len(line) > _LINE_SHOWN:  # a window around the column, marked with … where cut
        left = max(0, offset - _LINE_SHOWN // 2)
        shown = line[left:left + _LINE_SHOWN]
        prefix, suffix = ("…" if left else ""), ("…" if left + _LINE_SHOWN < len(line) else "")
        line, offset = prefix + shown + suffix, offset - left + len(prefix)
    gutter = f"{lineno} | "
    caret = " " * (len(gutter) + offset) + "^"
    return f"payload is not valid JSON — line {lineno}, column {colno}{field}: {problem}\n{gutter}{line}\n{caret}"


_LINE_SHOWN = 120  # characters of a long line shown around the spot


def _visible(line: str) -> str:
    """The line with each character one cannot see drawn as one visible symbol (``␣`` for an unusual space, ``▯``
    for a control or format character), so the caret stays under its spot and a bidi control cannot reorder it."""
    import unicodedata

    def shown(ch: str) -> str:
        category = unicodedata.category(ch)
        if category == "Zs" and ch != " ":
            return "\u2423"
        if (category in ("Cc", "Cf", "Zl", "Zp") and ch != "\t") or category == "Cs":
            return "\u25af"
        return ch

    return "".join(shown(ch) for ch in line) if not line.isascii() or not line.isprintable() else line


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:79] + "…"


#: Where a token Python's json reads but JSON does not may stand: after ``[``, ``:`` or ``,`` (or at the start).
_VALUE_AT = r"(?:^|(?<=[\[:,]))\s*"


def _token_at(text: str, token: str) -> int | None:
    """Where ``token`` (a bare constant or a number) stands as a value in ``text`` (outside strings), or None."""
    for found in re.finditer(_VALUE_AT + "(" + re.escape(token) + r")(?![0-9A-Za-z.])", text):
        pos = found.start(1)
        if text.count('"', 0, pos) - len(re.findall(r'\\"', text[:pos])) & 1 == 0:  # not inside a string
            return pos
    return None


def read_payload_text(text: str, *, graph: str | None = None, event: str | None = None) -> Any:
    """The editor's text as a value (``None`` for blank text); a ``PayloadValidationError`` when it is not JSON,
    saying where (line, column, field) and what is wrong. JSON as the server reads it: ``NaN``/``Infinity``, a
    number too large for a float or with more digits than Python converts, and a field repeated within one object
    (``json`` would silently keep the last) are refused too."""
    from igniter_nb.runtime.repeated_keys import RepeatedKeyError, repeated_key_at
    from igniter_nb.runtime.strict_json import NotJSONNumber, loads_strict

    if not text.strip():
        return None

    def refuse(message: str, pos: int | None = None) -> PayloadValidationError:
        if pos is not None:
            lineno = text.count("\n", 0, pos) + 1
            return PayloadValidationError(_at(text, pos, message), graph=graph, event=event, line=lineno,
                                          column=pos - text.rfind("\n", 0, pos))
        return PayloadValidationError(f"payload is not valid JSON: {message}", graph=graph, event=event)

    try:
        return loads_strict(text)
    except json.JSONDecodeError as exc:
        raise PayloadValidationError(describe_json_error(text, exc), graph=graph, event=event,
                                     line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise PayloadValidationError("payload is nested too deeply to read", graph=graph, event=event) from None
    except NotJSONNumber as exc:
        problem = (f"{exc.token} is not JSON (JSON has no NaN or Infinity: write null, or a number)" if exc.constant
                   else f"the number {exc.token[:40]} is too large for a float")
        raise refuse(problem, _token_at(text, exc.token)) from None
    except RepeatedKeyError as exc:
        found = repeated_key_at(text, "payload")
        where = f" in {found[0]}" if found is not None else ""
        raise refuse(f'the field "{_short(exc.key)}" appears twice{where}: keep one (json would silently use the '
                     "last)") from None
    except ValueError as exc:  # an integer with more digits than Python converts (sys.get_int_max_str_digits)
        limit = sys.get_int_max_str_digits()
        digits = re.search(rf"-?\d{{{limit + 1},}}", text) if limit else None
        raise refuse(f"a number has more digits than Python reads ({exc})".replace(
            "; use sys.set_int_max_str_digits() to increase the limit", ""),
            digits.start() if digits is not None else None) from None


def payload_to_text(value: Any, *, graph: str | None = None, event: str | None = None) -> str:
    """A payload given from Python as editor text (JSON, indented). Text is kept as typed; a pydantic model is
    dumped; anything that is not JSON data raises ``PayloadValidationError`` naming the part."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        value = dump(mode="json")
    where = _not_json(value, "payload", 0)
    if where is None:
        try:
            return json.dumps(value, indent=2, ensure_ascii=False)
        except ValueError as exc:  # an int with more digits than Python writes
            where = f"payload has a number with too many digits ({exc})".replace(
                "; use sys.set_int_max_str_digits() to increase the limit", "")
    raise PayloadValidationError(
        f"payload{' of event ' + repr(event) if event else ''} must be JSON data (dict with text keys, list, "
        f"str, int, float, bool or None) or a pydantic model: {where}", graph=graph, event=event)


_MAX_DEPTH = 200


def _not_json(value: Any, path: str, depth: int) -> str | None:
    """Where ``value`` stops being JSON data (``payload["a"][0] is a object``), or ``None``."""
    if depth > _MAX_DEPTH:
        return f"{path} is nested more than {_MAX_DEPTH} levels deep"
    if non_finite(value):
        return f"{path} is {value!r} (JSON has no NaN or Infinity)"
    if value is None or isinstance(value, bool | int | float | str):
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a key {key!r} of type {type(key).__name__} (JSON keys are text)"
            found = _not_json(item, f"{path}[{key!r}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _not_json(item, f"{path}[{i}]", depth + 1)
            if found:
                return found
        return None
    return f"{path} is a {type(value).__name__}"


__all__ = ["describe_json_error", "example_for", "example_from_schema", "keys_read_by_dependents", "payload_hint",
           "payload_to_text", "read_payload_text"]
