"""How user text is made safe to draw: one line, no control or bidirectional characters, cut to a limit.

Every user-provided string a picture or table shows (names, labels, scope and event names, values) passes through
``clean`` or ``clean_name``; escaping for SVG, DOT or Mermaid is each renderer's job. Re-exported by
``igniter_nb.diagnostics.view``.
"""

from __future__ import annotations

import re
from typing import Any

from igniter_nb.runtime.surrogates import replace_lone_surrogates

NAME_LIMIT = 40
LINE_LIMIT = 56
TITLE_LIMIT = 100

# Unicode's bidirectional embedding, override and isolate controls: in user text they reorder what is drawn after
# them ('invoice \u202egnp.exe' reads 'invoice exe.png'), so every picture and table shows them as spaces
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(rf"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff{BIDI_CONTROLS}]+")


def writable(text: str) -> str:
    """``text`` with what neither XML 1.0 nor UTF-8 can hold replaced: control characters and the
    non-characters U+FFFE/U+FFFF become spaces, a lone surrogate (``json.loads('"\\ud800"')`` gives one) U+FFFD.
    The bidirectional controls (``BIDI_CONTROLS``) become spaces too: they would reorder the text shown."""
    return replace_lone_surrogates(_CONTROL.sub(" ", text))


def clean(text: Any, limit: int = LINE_LIMIT) -> str:
    """``text`` on one line (control characters and newlines become spaces, see ``writable``), cut at ``limit``
    characters. Escaping for SVG, DOT or Mermaid is the renderer's job; this only keeps a label readable."""
    line = writable(str(text)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def clean_name(text: Any, limit: int = NAME_LIMIT) -> str:
    """A name on one line (see ``clean``), cut in the middle when longer than ``limit``
    (``customer_billing_address_…_postcode_left``): names that share a long prefix — generated names often do —
    keep the end that tells them apart, where a cut at the end drew them as identical boxes."""
    line = writable(str(text)).strip()
    if len(line) <= limit:
        return line
    tail = limit // 3
    return line[: limit - 1 - tail] + "…" + line[-tail:]


__all__ = ["BIDI_CONTROLS", "LINE_LIMIT", "NAME_LIMIT", "TITLE_LIMIT", "clean", "clean_name", "writable"]
