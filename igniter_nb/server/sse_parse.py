"""Reading a server-sent-events stream line by line (the WHATWG "event stream interpretation"), for
``follow.py``: which lines are keep-alives (comments) and which blocks are messages.

httpx-sse's parser hides comments (a keep-alive cannot be told from silence) and dispatches a block without data
once an event id was seen (a ping's blank line then looked like a message holding ``""``); its decoder classes are
private too. This one is small: :class:`Lines` splits text on ``\\r\\n``, ``\\r`` and ``\\n`` across chunks, and
:class:`Blocks` turns lines into ``ServerSentEvent`` s — only blocks with data, as the standard says.
"""

from __future__ import annotations

from httpx_sse import ServerSentEvent

#: What :meth:`Blocks.line` answers for a comment line (a keep-alive).
COMMENT = object()


class MessageTooLarge(ValueError):
    """A block's data past the reader's ``limit`` (characters)."""


class Lines:
    """Complete lines of the text fed in chunks. A chunk ending in ``\r`` ends its line at once (a server ending
    lines with ``\r`` alone has its message dispatched without waiting for more bytes); a ``\n`` starting the next
    chunk is then the other half of that ``\r\n``, not a blank line. One U+FEFF (byte order mark) at the start of
    the stream is dropped, as the standard says. A line not ended yet is kept in pieces (joined once ended: a line arriving in a million chunks is
    not copied a million times). A line longer than ``limit`` characters sets ``too_long`` (what to say) and ends
    the reading: ``feed`` gives the lines before it, then nothing more."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.too_long: str | None = None
        self._pieces: list[str] = []
        self._size = 0
        self._cr = False  # the last chunk ended in \r: a \n starting the next one ends no line
        self._started = False  # the stream's first character was seen (a byte order mark there is dropped)

    def feed(self, text: str) -> list[str]:
        if self.too_long is not None or not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._cr and text.startswith("\n"):
            text = text[1:]
        self._cr = False
        if "\n" not in text and "\r" not in text:  # no end of line: kept, not joined yet
            self._keep(text)
            return []
        text = "".join(self._pieces) + text
        self._pieces, self._size = [], 0
        self._cr = text.endswith("\r")
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._keep(lines.pop())
        for at, line in enumerate(lines):
            if len(line) > self.limit:
                self.too_long = f"a line longer than {self.limit} characters"
                return lines[:at]
        return lines

    def _keep(self, text: str) -> None:
        if text:
            self._pieces.append(text)
            self._size += len(text)
            if self._size > self.limit:
                self.too_long = f"a line longer than {self.limit} characters"
                self._pieces = []


class Blocks:
    """Lines to messages: ``line`` answers a ``ServerSentEvent`` when ``line`` ends a block with data,
    :data:`COMMENT` for a comment, else None. ``retry`` is the last reconnection time the stream set (ms)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._size = 0
        self._event = ""
        self._data: list[str] = []
        self._id = ""  # the last event id: kept across blocks, as the standard says
        self.retry: int | None = None

    def line(self, line: str) -> ServerSentEvent | object | None:
        if not line:
            if not self._data:  # no data: nothing is dispatched (the event type is forgotten)
                self._event, self._size = "", 0
                return None
            sse = ServerSentEvent(event=self._event or "message", data="\n".join(self._data), id=self._id,
                                  retry=self.retry)
            self._event, self._data, self._size = "", [], 0
            return sse
        if line.startswith(":"):
            return COMMENT
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._size += len(value) + 1
            if self._size > self.limit:
                raise MessageTooLarge(f"a message whose data is longer than {self.limit} characters")
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            # (past 15 digits: a delay longer than any the client waits; int() of 4,300+ digits raises ValueError)
            self.retry = int(value) if len(value) <= 15 else 10**15
        return None


__all__ = ["COMMENT", "Blocks", "Lines", "MessageTooLarge"]
