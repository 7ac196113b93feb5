"""The payload editor's error names a character the user cannot see or tell from a JSON one. Pasted from a web
page or a document, ``{"a": 1}`` may hold a no-break space, a zero-width space, a byte-order mark or typographic
quotes: the error said ``expected a value`` under a line that looked valid (a byte-order mark: Python's ``decode
using utf-8-sig``), and a control character inside a string was called ``a line break or tab``. The line shown
marks each invisible character (``␣``, ``▯``), so the caret points at something and a bidi control cannot reorder
the line."""

from __future__ import annotations

import pytest

from igniter_nb.errors import PayloadValidationError
from igniter_nb.notebook.payload_editor import read_payload_text


@pytest.mark.parametrize(("text", "said", "shown"), [
    ('{"a":\u00a01}', "a no-break space (U+00A0)", '1 | {"a":\u24231}'),
    ('{\u200b"a": 1}', "an invisible character (U+200B ZERO WIDTH SPACE)", '1 | {\u25af"a": 1}'),
    ('\ufeff{"a": 1}', "an invisible byte-order mark (U+FEFF", '1 | \u25af{"a": 1}'),
    ('{\u201ca\u201d: 1}', "a typographic quote \u201c (U+201C LEFT DOUBLE QUOTATION MARK)", '1 | {\u201ca\u201d: 1}'),
    ('{"k": "a\x01b"}', "a control character (U+0001) inside a string (write it as \\u0001", '1 | {"k": "a\u25afb"}'),
    ('\u202e{}', "an invisible character (U+202E RIGHT-TO-LEFT OVERRIDE)", "1 | \u25af{}"),
])
def test_an_invisible_or_look_alike_character_is_named(text: str, said: str, shown: str) -> None:
    with pytest.raises(PayloadValidationError) as caught:
        read_payload_text(text, graph="G", event="e")
    message = str(caught.value)
    assert said in message, message
    lines = message.splitlines()
    assert lines[1] == shown
    spot = lines[2].index("^") - len("1 | ")
    assert shown[len("1 | ") + spot] == lines[1][len("1 | ") + spot]  # the caret under the named character
    assert "\u202e" not in message and "\ufeff" not in message and "\u200b" not in message


def test_ordinary_mistakes_read_as_before() -> None:
    with pytest.raises(PayloadValidationError, match="a line break or tab inside a string"):
        read_payload_text('{"k": "a\tb"}')
    with pytest.raises(PayloadValidationError, match=r"expected a field name in double quotes") as caught:
        read_payload_text('{"a": 1,}')
    assert str(caught.value).splitlines()[1] == '1 | {"a": 1,}'
    assert read_payload_text('{"a": "\u00a0\u200b"}') == {"a": "\u00a0\u200b"}  # inside a string: data, kept
