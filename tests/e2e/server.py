"""A real ``posecoach serve`` in a subprocess, and a clip for Chromium's fake camera."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.videofile import probe, read_frames

#: Variables of the test process that would point the server at another database.
_DB_VARIABLES = ("DATABASE_URL", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT")


#: Runs ``python ARGS`` in this process's place, asking Linux first to send it SIGTERM
#: when the test process dies (PR_SET_PDEATHSIG survives exec): a killed test run leaves
#: no server behind; SIGTERM is what shuts Serve and Ray down cleanly.
_SERVE_UNLESS_ORPHANED = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def free_port_pair() -> int:
    """A port p with p + 1 free too (`posecoach serve` puts Serve's proxy on p + 1)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port: int = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two adjacent free ports")


@dataclass
class LiveServer:
    """A running server: its base URL, main process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output (for failure messages)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def _session_members(session_id: int) -> list[int]:
    """Every process of a session (the server and each Ray process it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) == session_id:
                    members.append(int(entry.name))
    return members


def stop_server(server: LiveServer, timeout_s: float = 60.0) -> list[int]:
    """SIGTERM (Serve and Ray shut down), then SIGKILL what is left; returns those pids."""
    session_id = server.process.pid  # started with start_new_session: pid == session id
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)
    deadline = time.monotonic() + 10
    while (left := _session_members(session_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


@contextlib.contextmanager
def live_server(
    database_url: str, data_dir: Path, env: dict[str, str], timeout_s: float = 300.0
) -> Iterator[LiveServer]:
    """``posecoach serve`` on a free port with its own data folder; stopped at the end."""
    port = free_port_pair()
    data_dir.mkdir(parents=True, exist_ok=True)
    child_env = {k: v for k, v in os.environ.items() if k not in _DB_VARIABLES}
    child_env.update(env)
    child_env.update({"DATABASE_URL": database_url, "DATA_DIR": str(data_dir)})
    log = data_dir / "serve.log"
    serve = ["-m", "inference.serve.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE_UNLESS_ORPHANED, *serve],
            cwd=data_dir,  # no stray .env is read
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one session: every Ray process can be found and ended
        )
    server = LiveServer(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout_s
        while not _ready(server.url):
            if process.poll() is not None:
                raise RuntimeError(f"posecoach serve exited:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"posecoach serve not ready:\n{server.log_tail()}")
            time.sleep(1.0)
        yield server
    finally:
        stop_server(server)


def manifest_entry(videos_dir: Path, name: str) -> dict[str, object]:
    """The manifest's record of one clip."""
    manifest = json.loads((videos_dir / "manifest.json").read_text())
    (entry,) = [v for v in manifest["videos"] if v["file"] == name]
    return dict(entry)


def fake_camera_clip(
    source: Path, target: Path, *, scale: float = 0.5, lead_s: float = 1.5, tail_s: float = 4.0
) -> Path:
    """A Y4M file for ``--use-file-for-fake-video-capture`` made from ``source``.

    Chromium plays it at the clip's frame rate and loops it. ``lead_s`` of the first
    frame come first (the session connects while the person stands still), and ``tail_s``
    of black after the clip: nobody is in those frames, and seeing them tells a test that
    the clip has played once, whatever pace a loaded machine ran it at.
    """
    fps = probe(source).fps
    frames = []
    for _, frame in read_frames(source, step=1):
        height, width = frame.shape[:2]
        size = (round(width * scale / 2) * 2, round(height * scale / 2) * 2)  # even: 4:2:0
        frames.append(cv2.cvtColor(cv2.resize(frame, size), cv2.COLOR_BGR2YUV_I420).tobytes())
    if not frames:
        raise ValueError(f"no frames in {source}")
    black = cv2.cvtColor(np.zeros((size[1], size[0], 3), np.uint8), cv2.COLOR_BGR2YUV_I420)
    rate = round(fps * 1000)
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F{rate}:1000 Ip A1:1 C420jpeg\n".encode())
        for data in (
            [frames[0]] * round(lead_s * fps) + frames + [black.tobytes()] * round(tail_s * fps)
        ):
            out.write(b"FRAME\n")
            out.write(data)
    return target
