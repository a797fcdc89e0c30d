"""An app served by uvicorn on a thread of its own, stopped the way Ray Serve stops an
ingress replica (the app's shutdown first: sessions end saved and close 1012)."""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from starlette.applications import Starlette

from api.services import app_services


class Replica:
    """The app under uvicorn on a thread of its own, with its loop at hand."""

    def __init__(self, app: Starlette, port: int) -> None:
        self.app = app
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
        )
        self.server = uvicorn.Server(config)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve()

    def go_away(self) -> None:
        """What Serve does to a replica it stops: the app's shutdown first (sessions end
        saved, 1012), then the server stops."""
        assert self.loop is not None
        closing = app_services(self.app).sessions.close_for_restart(10.0)
        asyncio.run_coroutine_threadsafe(closing, self.loop).result(30)
        self.server.should_exit = True
        self.thread.join(30)
