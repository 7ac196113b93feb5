"""Reading a server's answer with a size cap (``Client(max_answer_bytes=...)``), so a server that answers more
than expected — a huge history, a proxy's error page, a misbehaving peer — cannot fill this process's memory.
Remote nodes read with a cap (docs/server.md, "Limits").

The body is read as a stream: a declared ``Content-Length`` above the cap is refused before reading, and the
decoded bytes (after gzip and the like, so a small compressed answer that inflates is caught too) are counted
as they arrive; past the cap the connection is dropped and ``AnswerTooLargeError`` raised.
"""

from __future__ import annotations

from typing import Any

import httpx

from igniter_nb.server.errors import AnswerTooLargeError

#: What a ``Client``/``AsyncClient`` reads of one answer unless told otherwise (``max_answer_bytes=``; None: no
#: limit): 64 MiB, the most a live stream's one message may hold too (``follow.MAX_MESSAGE``). Normal answers are far
#: below it — a view or listing page is kilobytes, a request body at most the server's ``max_body_bytes`` (1 MB) —
#: except history pages (up to ``max_history_versions`` snapshots), which ``history`` reads in smaller pages when one
#: is too large. Without a cap, an answer that never ends grows the calling process until it dies.
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024


def check_limit(max_answer_bytes: int | None) -> int | None:
    if max_answer_bytes is not None and (type(max_answer_bytes) is not int or max_answer_bytes < 1):
        raise ValueError(f"max_answer_bytes must be an int >= 1 (or None: no limit), got {max_answer_bytes!r:.80}")
    return max_answer_bytes


def _declared(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def _too_large(method: str, url: str, limit: int, declared: int | None) -> AnswerTooLargeError:
    said = f" (it declared {declared} bytes)" if declared is not None else ""
    return AnswerTooLargeError(f"the answer to {method} {url} is larger than the limit of {limit} bytes{said}; "
                               "Client(max_answer_bytes=N) reads larger answers (None: no limit)",
                               url=url, limit=limit, method=method, declared=declared)


def send_capped(http: httpx.Client, method: str, path: str, url: str, limit: int, **request: Any) -> httpx.Response:
    """``http.request(...)`` reading at most ``limit`` bytes of the answer (the response comes back read)."""
    response = http.send(http.build_request(method, path, **request), stream=True)
    try:
        declared = _declared(response)
        if declared is not None and declared > limit:
            raise _too_large(method, url, limit, declared)
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(method, url, limit, declared)
            chunks.append(chunk)
        response._content = b"".join(chunks)  # what Response.read() sets: .json() and .text read it
    finally:
        response.close()
    return response


async def asend_capped(http: httpx.AsyncClient, method: str, path: str, url: str, limit: int,
                       **request: Any) -> httpx.Response:
    """:func:`send_capped` for an ``httpx.AsyncClient``."""
    response = await http.send(http.build_request(method, path, **request), stream=True)
    try:
        declared = _declared(response)
        if declared is not None and declared > limit:
            raise _too_large(method, url, limit, declared)
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(method, url, limit, declared)
            chunks.append(chunk)
        response._content = b"".join(chunks)
    finally:
        await response.aclose()
    return response
