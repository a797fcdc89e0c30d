"""Limits at the public port: the HTTP parser's, before the app sees a request.

uvicorn's default parser (httptools) buffers request headers without a limit: a client
could send megabytes of headers and the server would parse them all. h11 stops buffering
an unfinished header block past ``MAX_HEADER_BYTES`` (``h11_max_incomplete_event_size``;
a block that arrives whole in one read of at most 64 KiB is parsed: the bound is the
larger of the two); :class:`LimitedH11Protocol`
answers that, and any malformed request, with the JSON error body every other error has
(431 for headers over the limit, as h11 hints, else 400). The number of headers is
checked by :class:`api.middleware.HeaderLimitsMiddleware`, once their size is bounded.
WebSocket frames are not parsed by h11 (the socket is handed to the WebSocket protocol
after the upgrade), so the frame path's speed does not depend on this parser.
"""

from __future__ import annotations

import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.settings import Settings


class _HintingConnection(h11.Connection):
    """h11's connection, remembering the status its last protocol error suggests."""

    error_status = 400

    def next_event(self) -> Any:
        """As h11's, noting the status hint of a RemoteProtocolError before it is raised."""
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.error_status = exc.error_status_hint
            raise


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose refusals are JSON: 431 past the header limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn's own default when none is given: h11's 16 KiB.
        limit = self.config.h11_max_incomplete_event_size or 16 * 1024
        self.conn = _HintingConnection(h11.SERVER, limit)

    def send_400_response(self, msg: str) -> None:
        """Refuse a request that could not be parsed, in the API's error shape."""
        status = getattr(self.conn, "error_status", 400)
        if status == 431:
            message = (
                f"request headers larger than {self.config.h11_max_incomplete_event_size} bytes"
            )
        else:
            message = "invalid HTTP request"
        body = json.dumps({"error": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
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


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn.Config options that bound what a request may make the parser hold."""
    return {"http": LimitedH11Protocol, "h11_max_incomplete_event_size": settings.max_header_bytes}
