"""Limits at the public port: the HTTP parser's, before the app sees a request.

uvicorn's default parser (httptools) buffers request headers without a limit: a client
could send megabytes of headers and the server would parse them all. h11 stops buffering
an unfinished header block past ``MAX_HEADER_BYTES`` (``h11_max_incomplete_event_size``;
a block that arrives whole in one read of at most 64 KiB is parsed: the bound is the
larger of the two); :class:`LimitedH11Protocol`
answers that, and any malformed request, with the JSON error body every other error has
(431 for headers over the limit, as h11 hints, else 400). The number of headers is
counted in the unparsed head before h11 parses it (``MAX_HEADER_COUNT``, 431 too);
:class:`api.middleware.HeaderLimitsMiddleware` checks it again for servers other than
this one (Serve's own proxy, the test client).
WebSocket frames are not parsed by h11 (the socket is handed to the WebSocket protocol
after the upgrade), so the frame path's speed does not depend on this parser; that
protocol's message size is bounded here too (:func:`ws_protocol_max_bytes`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from api.settings import Settings

#: The end of a request head as h11 finds it (it accepts bare LF line ends too).
_BLANK_LINE = re.compile(rb"\n\r?\n")


class _HintingConnection(h11.Connection):
    """h11's connection, remembering the status its last protocol error suggests, and
    refusing a request head with more than ``max_header_count`` lines before parsing it.

    h11 checks each header line with a regular expression: a head of 16 KiB of tiny
    headers costs it about 200 times an ordinary request's parse (bench/README.md). The
    head's lines are counted in the unparsed buffer first, at C speed.
    """

    error_status = 400
    error_message = "invalid HTTP request"

    def __init__(self, max_header_bytes: int, max_header_count: int) -> None:
        super().__init__(h11.SERVER, max_header_bytes)
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count

    def next_event(self) -> Any:
        """As h11's, noting the status and reason of a RemoteProtocolError before it is
        raised."""
        try:
            if self.their_state is h11.IDLE:
                self._check_header_count()
            return super().next_event()
        except _TooManyHeaders as exc:
            self.error_status, self.error_message = 431, str(exc)
            raise
        except h11.RemoteProtocolError as exc:
            self.error_status = exc.error_status_hint
            if self.error_status == 431:  # h11's only 431: its buffer limit
                self.error_message = f"request headers larger than {self.max_header_bytes} bytes"
            raise

    def _check_header_count(self) -> None:
        """Refuse a head (whole or still arriving) with too many lines, unparsed."""
        buffered = self.trailing_data[0]
        blank = _BLANK_LINE.search(buffered)
        if blank is not None:
            # Line ends before the blank line's: the request line's and those of all
            # headers but the last (its end starts the match), one per header.
            headers = buffered.count(b"\n", 0, blank.start())
        else:  # still arriving: every ended line but the request line is a header
            headers = buffered.count(b"\n") - 1
        if headers > self.max_header_count:
            raise _TooManyHeaders(
                f"more than {self.max_header_count} request headers", error_status_hint=431
            )


class _TooManyHeaders(h11.RemoteProtocolError):
    """A request head with more lines than the header count allows."""


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose refusals are JSON: 431 past the header limits."""

    #: Set by :func:`uvicorn_limits` (uvicorn builds the protocol, so it cannot be passed).
    max_header_count = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn's own default when none is given: h11's 16 KiB.
        limit = self.config.h11_max_incomplete_event_size or 16 * 1024
        self.conn = _HintingConnection(limit, self.max_header_count)

    def send_400_response(self, msg: str) -> None:
        """Refuse a request that could not be parsed, in the API's error shape."""
        status = getattr(self.conn, "error_status", 400)
        message = getattr(self.conn, "error_message", "invalid HTTP request")
        body = json.dumps({"error": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"x-content-type-options", b"nosniff"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=status, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()


class LingeringWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing gently after refusing what a client sent.

    On a message over the limit (or any protocol error) uvicorn's protocol writes the
    close frame (1009) and closes the socket at once. The rest of the message is then
    unread, so the kernel answers with a reset, which can overtake the close frame: the
    client sees an abrupt end instead of 1009. Here the server half-closes after the close
    frame and reads and discards what still arrives, for at most :attr:`linger_s`, before
    closing: bounded time, no memory.
    """

    linger_s = 2.0
    _lingering = False

    def data_received(self, data: bytes) -> None:
        """As uvicorn's, except that while lingering what arrives is dropped unread."""
        if not self._lingering:
            super().data_received(data)

    def handle_parser_exception(self) -> None:
        """Send the close frame, tell the app, then linger instead of closing."""
        assert self.conn.close_sent is not None
        self.queue.put_nowait(
            {
                "type": "websocket.disconnect",
                "code": self.conn.close_sent.code,
                "reason": self.conn.close_sent.reason,
            }
        )
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()
        self.loop.call_later(self.linger_s, self.transport.close)


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn.Config options that bound what a request may make the parser hold."""
    protocol = type(
        "LimitedH11Protocol", (LimitedH11Protocol,), {"max_header_count": settings.max_header_count}
    )
    return {
        "http": protocol,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "ws": LingeringWebSocketProtocol,
        "ws_max_size": ws_protocol_max_bytes(settings),
    }


def ws_protocol_max_bytes(settings: Settings) -> int:
    """The largest WebSocket message the protocol layer assembles: twice the app's limit.

    A message a little over ``ws_max_message_bytes`` reaches the app, which answers it
    with a ``too_large`` error and keeps the session. A larger one is refused by the
    WebSocket protocol from its frame header, before its payload is buffered: the socket
    closes with 1009 (RFC 6455, message too big; :class:`LingeringWebSocketProtocol`) and
    the app saves the session as for any close. Without this bound each socket could make
    the replica hold uvicorn's default of 16 MiB several times over (the frame, the joined
    message, its text).
    """
    return 2 * settings.ws_max_message_bytes
