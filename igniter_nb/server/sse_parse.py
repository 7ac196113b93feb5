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


class Lines:
    """Complete lines of the text fed in chunks; a trailing ``\\r`` waits for the next chunk (it may be half of a
    ``\\r\\n``)."""

    def __init__(self) -> None:
        self._rest = ""

    def feed(self, text: str) -> list[str]:
        text = self._rest + text
        keep_cr = text.endswith("\r")
        if keep_cr:
            text = text[:-1]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._rest = lines.pop() + ("\r" if keep_cr else "")
        return lines


class Blocks:
    """Lines to messages: ``line`` answers a ``ServerSentEvent`` when ``line`` ends a block with data,
    :data:`COMMENT` for a comment, else None. ``retry`` is the last reconnection time the stream set (ms)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id = ""  # the last event id: kept across blocks, as the standard says
        self.retry: int | None = None

    def line(self, line: str) -> ServerSentEvent | object | None:
        if not line:
            if not self._data:  # no data: nothing is dispatched (the event type is forgotten)
                self._event = ""
                return None
            sse = ServerSentEvent(event=self._event or "message", data="\n".join(self._data), id=self._id,
                                  retry=self.retry)
            self._event, self._data = "", []
            return sse
        if line.startswith(":"):
            return COMMENT
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry = int(value)
        return None


__all__ = ["COMMENT", "Blocks", "Lines"]
