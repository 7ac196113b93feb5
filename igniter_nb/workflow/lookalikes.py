"""Text values that print alike but differ in code points: how an error says where a correlation value or an
idempotency key differs from the stored one it missed.

Matching stays exact (stored correlations and recorded keys are compared code point by code point): this only
explains a miss. Three kinds of lookalike are named:

* **invisible characters** — the zero-width space, joiners and non-joiner (U+200B-U+200D), the word joiner
  (U+2060), the byte order mark (U+FEFF) and every other format character (Unicode category ``Cf``: soft hyphen,
  bidirectional marks, tags), plus the fillers and variation selectors that draw nothing: said with the value that
  has them (given or stored), the index of each (counted from 0 in the value) and its code point;
* **Unicode normalisation** — the same text after NFC (``"é"`` as one code point or as ``"e"`` and a combining
  accent), once the invisible characters are set aside;
* **control characters** — C0 (``\x00``-``\x1f``: NUL, tab, line feed, escape...), DEL (``\x7f``) and C1
  (``\x80``-``\x9f``): a trailing newline read from a file, an escape sequence pasted from a terminal. A start
  refuses them (``correlation.py``); a workflow stored before that may have them, and a delivery still matches it
  exactly. Named as an escape (``\x1b (ESC)``) and an index.

The same set says which values are blank though ``str.strip()`` keeps them (:func:`only_invisible`): a correlation
value of invisible characters and whitespace only is an identity nobody can type.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata

#: Characters that draw nothing and are not format characters (category Cf, always counted): the combining grapheme
#: joiner, the Hangul fillers, the Mongolian and standard variation selectors.
_DRAW_NOTHING = frozenset(
    [0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x180B, 0x180C, 0x180D, 0x180F, *range(0xFE00, 0xFE10),
     *range(0xE0100, 0xE01F0)]
)
#: At most this many invisible characters are named per value; the rest are counted.
_NAMED = 5
#: Longer values are not compared for lookalikes (a miss among a thousand stored values of a million characters
#: would take seconds to explain): their errors say only that they differ.
LONGEST = 4096


#: The control characters (Unicode category ``Cc``): C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_C0_NAMES = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO", "SI",
             "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US")


def control_escape(ch: str) -> str:
    """A control character as an escape and its name: ``"\\x1b (ESC)"``, ``"\\x7f (DEL)"``, ``"\\x85 (C1)"``."""
    code = ord(ch)
    name = _C0_NAMES[code] if code < 0x20 else "DEL" if code == 0x7F else "C1"
    return f"\\x{code:02x} ({name})"


def control_at(text: str) -> tuple[int, str] | None:
    """The index and the character of the first control character in ``text`` (C speed), or None."""
    found = _CONTROL.search(text)
    return (found.start(), found.group()) if found is not None else None


def named_controls(text: str) -> str | None:
    """``"the control character \\x1b (ESC) at index 3"`` (the first few; the rest counted) for ``text``, or None
    when it has none."""
    found = list(itertools.islice(_CONTROL.finditer(text), _NAMED))
    if not found:
        return None
    named = ", ".join(f"{control_escape(m.group())} at index {m.start()}" for m in found)
    more = len(_CONTROL.findall(text)) - _NAMED if len(found) == _NAMED else 0
    word = "character" if len(found) == 1 else "characters"
    return f"the control {word} {named}" + (f" and {more} more" if more > 0 else "")


def _without_control(text: str) -> str:
    return _CONTROL.sub("", text)


def is_invisible(ch: str) -> bool:
    """Whether the one character ``ch`` draws nothing when printed (see the module docstring)."""
    return unicodedata.category(ch) == "Cf" or ord(ch) in _DRAW_NOTHING


@functools.cache
def _dropping() -> dict[int, None]:
    """The ``str.translate`` table that drops every invisible character (built once: about 430 code points; no
    format character lies outside these planes)."""
    return {code: None for span in (range(0x80, 0x20000), range(0xE0000, 0xE1000))
            for code in span if is_invisible(chr(code))}


def _without_invisible(text: str) -> str:
    return text if text.isascii() else text.translate(_dropping())


def _named(text: str, only_them: bool = False) -> str:
    """``"U+200B (ZERO WIDTH SPACE) at index 3"`` for each invisible character of ``text`` (the first few; the rest
    counted). ``only_them``: ``text`` holds nothing else but whitespace, so they are counted as what is not
    whitespace (C speed: ten million of them in a fraction of a second, not the ten seconds a loop took)."""
    found = [(m.start(), m.group()) for m in itertools.islice(_invisible_pattern().finditer(text), _NAMED)]
    named = ", ".join(f"U+{ord(ch):04X} ({unicodedata.name(ch, 'unnamed')}) at index {i}" for i, ch in found)
    if len(found) < _NAMED:
        return named
    total = len("".join(text.split())) if only_them else len(text) - len(_without_invisible(text))
    return named + (f" and {total - _NAMED} more" if total > _NAMED else "")


@functools.cache
def _invisible_pattern() -> re.Pattern[str]:
    """One invisible character (the set of :func:`is_invisible`)."""
    return re.compile("[" + "".join(re.escape(chr(code)) for code in _dropping()) + "]")


def _where(text: str, whose: str) -> str:
    """``"the given value has U+200B (ZERO WIDTH SPACE) at index 3"`` for each invisible character of ``text``."""
    return f"the {whose} value has {_named(text)}"


@functools.cache
def _blank_pattern() -> re.Pattern[str]:
    """Whitespace and invisible characters, any number: a match stops at the first visible character (C speed)."""
    return re.compile("[\\s" + "".join(re.escape(chr(code)) for code in _dropping()) + "]*")


def only_invisible(text: str) -> str | None:
    """Where the invisible characters of ``text`` are when it holds nothing else but whitespace — blank to a reader,
    though ``str.strip()`` keeps them — else None (text with anything visible, plain whitespace, ASCII text).
    Example: ``only_invisible("\\u200b ")`` is ``"U+200B (ZERO WIDTH SPACE) at index 0"``."""
    if text.isascii() or not _blank_pattern().fullmatch(text) or not text.strip():
        return None
    return _named(text, only_them=True)


def lookalike(given: object, stored: object) -> str | None:
    """Why the text ``given`` looks like ``stored`` but is another value, or None when they are not lookalikes
    (equal, not both text, or differing in a visible way). Example: ``lookalike("a\\u200bb", "ab")`` is
    ``"the same text but for invisible characters: the given value has U+200B (ZERO WIDTH SPACE) at index 1"``."""
    if (type(given) is not str or type(stored) is not str or given == stored or len(given) > LONGEST
            or len(stored) > LONGEST):
        return None
    if control_at(given) is not None or control_at(stored) is not None:
        plain_given, plain_stored = _without_control(given), _without_control(stored)
        if plain_given == plain_stored or plain(plain_given) == plain(plain_stored):
            held = [f"the {whose} value has {named_controls(text)}" for text, whose in ((given, "given"),
                                                                                       (stored, "stored"))
                    if control_at(text) is not None]
            return "the same text but for control characters: " + "; ".join(held)
        return None
    if given.isascii() and stored.isascii():
        return None  # (ASCII text has neither invisible characters nor another NFC spelling)
    seen_given, seen_stored = _without_invisible(given), _without_invisible(stored)
    hidden = [_where(text, whose) for text, seen, whose in ((given, seen_given, "given"),
                                                            (stored, seen_stored, "stored")) if seen != text]
    if seen_given == seen_stored:
        return "the same text but for invisible characters: " + "; ".join(hidden)
    if unicodedata.normalize("NFC", seen_given) == unicodedata.normalize("NFC", seen_stored):
        # looks the same when printed ("é" as one code point or as "e" and a combining accent)
        why = "the same text after Unicode normalisation (NFC), other code points"
        return why + (" and invisible characters: " + "; ".join(hidden) if hidden else "")
    return None


def plain(text: str) -> str:
    """``text`` without its invisible characters and in NFC (the spelling a start's lookalike check looks up);
    ``text`` itself when it is ASCII or longer than ``LONGEST``."""
    if text.isascii() or len(text) > LONGEST:
        return text
    return unicodedata.normalize("NFC", _without_invisible(text))


def twins(text: str) -> list[str]:
    """Other spellings of ``text`` a stored value may have: without its invisible characters, and in NFC (each
    only where it differs from ``text``). A lookup of each finds a stored twin however many values are stored."""
    found: list[str] = []
    if len(text) > LONGEST:
        return found
    bare = _without_control(text)  # (a value stored before starts refused control characters has them)
    spellings = [bare] if bare != text else []
    if not text.isascii():
        spellings += [_without_invisible(text), unicodedata.normalize("NFC", text),
                      unicodedata.normalize("NFC", _without_invisible(text)), plain(bare)]
    for other in spellings:
        if other != text and other not in found and other.strip():
            found.append(other)
    return found


__all__ = ["control_at", "control_escape", "is_invisible", "lookalike", "named_controls", "only_invisible", "plain",
           "twins"]
