"""A seed-style server: MediaPipe and the analyzer run in the WebSocket handler itself.

    python bench/seed_server.py [--port 8100]

The comparison for ``bench/serve_latency.py``'s one-stream p50 (issue 19): what a naive
coaching server does with one camera stream, with no Ray, no batching and no scheduling.
It speaks just enough of the contract for the bench's paced client: ``register`` answers
a token without storing anyone, the socket takes ``start_exercise``, binary JPEG frames
(numbered 1, 2, ... as the real server numbers them) and ``stop_exercise``, and answers
``frame_processed`` with the frame id. Each socket has its own MediaPipe ``PoseLandmarker``
in VIDEO mode (its own tracking and smoothing) and its own exercise analyzer. Bench only:
it checks no token and keeps nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.analyzers import create_analyzer
from inference.pose.mediapipe_engine import MediaPipeTracker


async def register(_: Request) -> JSONResponse:
    """A token for the bench's client; nobody is stored."""
    return JSONResponse({"access": "seed", "refresh": "seed"}, status_code=201)


async def exercise(websocket: WebSocket) -> None:
    """One session: decode, MediaPipe and the analyzer for every frame, in the handler."""
    await websocket.accept()
    tracker = MediaPipeTracker()
    analyzer = create_analyzer(websocket.path_params["exercise_type"])
    start = time.monotonic()
    frame_id = 0
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                if '"stop_exercise"' in (message.get("text") or ""):
                    summary = analyzer.summary()
                    await websocket.send_json({"type": "exercise_completed", "reps": summary.reps})
                elif '"start_exercise"' in (message.get("text") or ""):
                    await websocket.send_json({"type": "exercise_started"})
                continue
            frame_id += 1
            bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            t = time.monotonic() - start
            pose = tracker.track(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t)
            update = analyzer.update(pose, t)
            await websocket.send_json(
                {"type": "frame_processed", "frame_id": frame_id, "metrics": update.metrics}
            )
    except WebSocketDisconnect:
        return
    finally:
        tracker.close()


def build_app() -> Starlette:
    """The seed-style app."""
    return Starlette(
        routes=[
            Route("/api/auth/register/", register, methods=["POST"]),
            WebSocketRoute("/ws/exercise/{exercise_type}/", exercise),
        ]
    )


def main() -> int:
    """Serve on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    uvicorn.run(
        build_app(),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        ws_per_message_deflate=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
