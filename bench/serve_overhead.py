"""Serving overhead of the real stack: an echo pose deployment against the engine, saturated.

    python bench/serve_overhead.py [--mode echo|engine|both] [--streams 16 [32 ...]]
        [--seconds 20] [--warmup 5] [--port P] [--clip PATH] [--streams-per-user 3]
        [--env KEY=VALUE] [--start-timeout 300] [--json]

For each mode it starts the real ``posecoach serve`` (``python -m inference.serve.cli
serve``: migrate, embedded local Ray on loopback, ray_config.yaml) in a subprocess of its
own session, with a throw-away SQLite database and Ray temp folder, registers users and
drives ``--streams`` WebSocket sessions closed loop: each sends the next binary JPEG frame
of the clip as soon as the previous one is answered, so the server is saturated and the
answered frames/s is the most it does. Modes:

- ``echo``: ray_config.yaml with :class:`bench.echo_pose.EchoPoseDeployment` in place of
  PoseDeployment (one replica): same Ingress, sessions, analyzers, call batching and
  direct port, but every frame is answered with a fixed pose, no decode, no engine (what
  Ray's own Serve benchmarks do with an echo deployment).
- ``engine``: ray_config.yaml as it is.

During the measured ``--seconds`` (after ``--warmup``) the CPU time of every process of
the server's session is sampled (psutil) and split by process title: the ingress
replica, the pose replica(s), Serve's proxy and controller, Ray's core (gcs, raylet),
the ``posecoach serve`` driver and the rest; the load client runs in this process and
is reported apart. Reported per mode: answered frames/s, p50/p99 latency (send ->
``frame_processed``), CPU ms per answered frame and cores busy for the ingress, the pose
replicas and the whole server; for echo also frames/s per ingress core and the server's
CPU ms per frame outside the engine (all of it: no engine, no decode there). Several
``--streams`` counts run one after another on the same server; each mode's best (most
frames/s) is its capacity. The machine should be quiet: on a shared box the figures
measure the neighbours too (the load average at the start is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import yaml
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serve_latency import DEFAULT_CLIP, STREAMS_PER_USER, load_frames, stream_tokens

REPO_ROOT = Path(__file__).resolve().parents[1]

MODES = ("echo", "engine")

#: Ray Serve's published echo figures (Anyscale's serve-performance results, 2025: unary
#: ASGI ingress -> echo deployment, 10 KB payload, one replica on a 16-vCPU worker).
REFERENCE = (
    "reference: Ray Serve echo, 1 replica, 10 KB payload, 16-vCPU worker: ~2,200 requests/s "
    "optimized (HAProxy, gRPC, throughput mode), ~450 by default (Anyscale serve-performance "
    "results; github.com/anyscale/serve-performance-blog)"
)

#: Variables of this process that would point the server at another database.
_DB_VARIABLES = ("DATABASE_URL", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_HOST", "DB_PORT")

#: Runs ``python ARGS`` in this process's place, asking Linux first to send it SIGTERM
#: when the bench dies (PR_SET_PDEATHSIG survives exec): a killed bench leaves no server.
_SERVE_UNLESS_ORPHANED = (
    "import ctypes, os, signal, sys; "
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)

#: What ``posecoach serve`` logs once every application is RUNNING (inference.serve.cli).
_SERVING_LINE = b"posecoach serving on"


# --- the server -----------------------------------------------------------------------


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


def server_env(work: Path, extra: dict[str, str]) -> dict[str, str]:
    """The server's environment: this one's, less any database, plus the bench settings."""
    env = {k: v for k, v in os.environ.items() if k not in _DB_VARIABLES}
    env.update(
        {
            "DATA_DIR": str(work),  # the SQLite file goes here
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DEBUG": "false",
            # Registration cheap: argon2 at its minimum cost.
            "ARGON2_MEMORY_KIB": "64",
            "ARGON2_TIME_COST": "1",
            # Closed loop runs a stream far past a camera's 30 frames/s: no rate limit
            # drops (a dropped frame is never answered), and every user registers.
            "WS_MAX_FRAMES_PER_S": "100000",
            "LOGIN_ATTEMPTS_PER_IP": "100000",
            "RAY_AUTH_MODE": "disabled",
            "RAY_USAGE_STATS_ENABLED": "0",
            # This run's Ray files in its own folder, not the shared /tmp/ray.
            "RAY_TMPDIR": str(work / "ray"),
            # Ray workers (and the echo's builder) import bench.echo_pose.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p
            ),
        }
    )
    env.update(extra)
    return env


def write_echo_config(path: Path, port: int) -> Path:
    """ray_config.yaml as ``posecoach serve --port`` reads it, with the echo deployment."""
    from inference.serve import loopback

    loopback.prepare_environment(os.environ)  # before ray is imported (by the runner)
    from bench.echo_pose import echo_config_data
    from inference.serve import runner

    data = echo_config_data(runner.config_data(runner.DEFAULT_CONFIG, port=port))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class Server:
    """A running ``posecoach serve``: its main process, public port and log."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """``host:port`` of the public port."""
        return f"127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _ready(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/readyz"
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def start_server(
    mode: str, port: int, work: Path, extra_env: dict[str, str], timeout_s: float
) -> Server:
    """``posecoach serve`` for ``mode`` in a new session; returns once it answers."""
    command = ["-m", "inference.serve.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if mode == "echo":
        command += ["--config", str(write_echo_config(work / "echo_config.yaml", port))]
    log = work / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE_UNLESS_ORPHANED, *command],
            cwd=work,  # no stray .env is read
            env=server_env(work, extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its session holds every Ray process it starts
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + timeout_s
    try:
        while not (_SERVING_LINE in log.read_bytes() and _ready(port)):
            if process.poll() is not None:
                raise RuntimeError(f"posecoach serve exited:\n{server.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"posecoach serve not ready:\n{server.log_tail()}")
            time.sleep(1.0)
    except BaseException:
        stop_server(server)
        raise
    return server


def session_members(session_id: int) -> list[psutil.Process]:
    """Every live process of the session (the server and each Ray process it started)."""
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(OSError, psutil.Error):
            if os.getsid(proc.pid) == session_id:
                members.append(proc)
    return members


def stop_server(server: Server, timeout_s: float = 60.0) -> list[int]:
    """SIGTERM (Serve and Ray shut down), then SIGKILL what is left of its session only;
    returns the pids that had to be killed."""
    session_id = server.process.pid  # start_new_session: its pid is the session id
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(10)
    deadline = time.monotonic() + 10
    while (left := session_members(session_id)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return [proc.pid for proc in left]


# --- CPU --------------------------------------------------------------------------------


def category(cmdline: str, pid: int, server_pid: int) -> str:
    """Which part of the server a process is, from its title (Ray sets ``ray::...``)."""
    if pid == server_pid:
        return "driver"  # posecoach serve: Ray's driver, Serve's client
    if "ServeReplica" in cmdline:
        if re.search(r":Ingress\b", cmdline):
            return "ingress"
        if "PoseDeployment" in cmdline:  # PoseDeployment or EchoPoseDeployment
            return "pose"
        return "other_replica"
    if "ServeController" in cmdline:
        return "serve_controller"
    if "ProxyActor" in cmdline:
        return "serve_proxy"
    if "raylet" in cmdline or "gcs_server" in cmdline:
        return "ray_core"
    return "ray_other"  # agents, log monitor, idle workers


def _cpu_s(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


@dataclass
class CpuWindow:
    """CPU seconds per part of the server over one window, and this process's own."""

    t0: float  # perf_counter
    t1: float
    by_category: dict[str, float]
    #: Part -> "pid title" of each process counted in it.
    processes: dict[str, list[str]]
    client_s: float

    @property
    def seconds(self) -> float:
        """The window's length."""
        return self.t1 - self.t0

    @property
    def server_s(self) -> float:
        """The whole server tree's CPU seconds."""
        return sum(self.by_category.values())


class CpuSampler:
    """Samples the CPU time of every process of the server's session in a thread.

    Each sample adds, per process, the CPU time since its previous sample to the part
    its title names now (an idle Ray worker can become a replica); a process started
    during the window counts from zero; one that exits loses at most its last period.
    """

    def __init__(self, server_pid: int, period_s: float = 0.5) -> None:
        self.server_pid = server_pid
        self.period_s = period_s
        self._last: dict[tuple[int, float], float] = {}
        self._by_category: dict[str, float] = {}
        self._seen: dict[str, dict[int, str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._me = psutil.Process()
        self._t0 = self._t0_epoch = self._client0 = 0.0

    def _members(self) -> list[psutil.Process]:
        found = {p.pid: p for p in session_members(self.server_pid)}
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(self.server_pid)
            found.setdefault(root.pid, root)
            for child in root.children(recursive=True):
                found.setdefault(child.pid, child)
        return list(found.values())

    def _sample(self, baseline: bool) -> None:
        for proc in self._members():
            try:
                key = (proc.pid, proc.create_time())
                cpu = _cpu_s(proc)
                title = " ".join(proc.cmdline()).strip()  # Ray pads its titles
                name = category(title, proc.pid, self.server_pid)
            except psutil.Error:
                continue  # gone meanwhile
            prev = self._last.get(key)
            if prev is None:
                prev = cpu if baseline or key[1] < self._t0_epoch else 0.0
            self._last[key] = cpu
            self._by_category[name] = self._by_category.get(name, 0.0) + cpu - prev
            self._seen.setdefault(name, {})[proc.pid] = title[:80]

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self._sample(baseline=False)

    def start(self) -> None:
        """Take the baseline now and sample until :meth:`stop`."""
        self._t0, self._t0_epoch = time.perf_counter(), time.time()
        self._client0 = _cpu_s(self._me)
        self._sample(baseline=True)
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> CpuWindow:
        """The last sample; the window's totals."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample(baseline=False)
        t1 = time.perf_counter()
        return CpuWindow(
            self._t0,
            t1,
            dict(self._by_category),
            {k: [f"{pid} {t}" for pid, t in sorted(v.items())] for k, v in self._seen.items()},
            _cpu_s(self._me) - self._client0,
        )


# --- the load ---------------------------------------------------------------------------


@dataclass
class Tally:
    """What the streams saw; times are perf_counter seconds."""

    #: (answer time, send -> frame_processed latency in seconds) per answered frame.
    answers: list[tuple[float, float]] = field(default_factory=list)
    #: Frames that shared each answered frame's backend call (latency extension).
    call_frames: list[tuple[float, float]] = field(default_factory=list)
    #: ``{"type": "error"}`` messages (the frame they answer is not counted as answered).
    server_errors: int = 0
    socket_errors: list[str] = field(default_factory=list)


async def closed_loop(
    url: str,
    token: str,
    frames: list[bytes],
    offset: int,
    stop: asyncio.Event,
    tally: Tally,
    answer_timeout_s: float = 30.0,
) -> None:
    """One session: the next frame as soon as the previous one is answered, until ``stop``.

    A socket that fails is recorded as a socket error and ends this stream only.
    """
    try:
        await _closed_loop(url, token, frames, offset, stop, tally, answer_timeout_s)
    except (OSError, TimeoutError, WebSocketException, ConnectionError) as exc:
        tally.socket_errors.append(repr(exc))


async def _closed_loop(
    url: str,
    token: str,
    frames: list[bytes],
    offset: int,
    stop: asyncio.Event,
    tally: Tally,
    answer_timeout_s: float,
) -> None:
    # No permessage-deflate: JPEG does not compress (bench/serve_latency.py).
    async with connect(
        f"ws://{url}/ws/exercise/shoulder_press/?token={token}", max_size=None, compression=None
    ) as ws:
        # The latency extension: each answer says how many frames shared its backend call.
        await ws.send(json.dumps({"type": "start_exercise", "extensions": ["latency"]}))
        started = json.loads(await ws.recv())
        if started.get("type") != "exercise_started":
            raise ConnectionError(f"session not started: {started}")
        n = 0
        while not stop.is_set():
            n += 1
            sent = time.perf_counter()
            await ws.send(frames[(offset + n) % len(frames)])  # binary: frame ids 1, 2, ...
            async with asyncio.timeout(answer_timeout_s):
                while True:
                    msg = json.loads(await ws.recv())
                    kind = msg.get("type")
                    if kind == "frame_processed" and msg.get("frame_id") == n:
                        now = time.perf_counter()
                        tally.answers.append((now, now - sent))
                        frames_in_call = msg.get("latency_ms", {}).get("call_frames")
                        if frames_in_call:
                            tally.call_frames.append((now, float(frames_in_call)))
                        break
                    if kind == "error":
                        tally.server_errors += 1
                        if msg.get("frame_id") in (n, None):
                            break  # this frame is answered with an error: go on
        await ws.send(json.dumps({"type": "stop_exercise"}))
        async with asyncio.timeout(answer_timeout_s):
            while json.loads(await ws.recv()).get("type") != "exercise_completed":
                pass


async def drive(
    url: str,
    tokens: list[str],
    frames: list[bytes],
    warmup_s: float,
    seconds: float,
    sampler: CpuSampler,
) -> tuple[Tally, CpuWindow]:
    """Every stream closed loop for ``warmup_s + seconds``; CPU sampled over the last
    ``seconds``."""
    tally, stop = Tally(), asyncio.Event()

    async def measure() -> CpuWindow:
        try:
            await asyncio.sleep(warmup_s)
            await asyncio.to_thread(sampler.start)
            await asyncio.sleep(seconds)
            return await asyncio.to_thread(sampler.stop)
        finally:
            stop.set()

    measuring = asyncio.create_task(measure())
    step = max(1, len(frames) // max(1, len(tokens)))
    await asyncio.gather(
        *(closed_loop(url, token, frames, i * step, stop, tally) for i, token in enumerate(tokens))
    )
    return tally, await measuring


# --- one mode ---------------------------------------------------------------------------


def _per_frame_ms(cpu_s: float, frames: int) -> float | None:
    return cpu_s * 1000.0 / frames if frames else None


def summarize(mode: str, streams: int, tally: Tally, cpu: CpuWindow) -> dict[str, Any]:
    """The figures of one mode over the CPU window."""
    inside = [lat for at, lat in tally.answers if cpu.t0 <= at <= cpu.t1]
    calls = [n for at, n in tally.call_frames if cpu.t0 <= at <= cpu.t1]
    lat_ms = np.array(inside) * 1000.0
    n, window = len(inside), cpu.seconds
    fps = n / window
    parts = {
        "ingress": cpu.by_category.get("ingress", 0.0),
        "pose": cpu.by_category.get("pose", 0.0),
        "server": cpu.server_s,
    }
    result: dict[str, Any] = {
        "mode": mode,
        "streams": streams,
        "window_s": round(window, 2),
        "answered": n,
        "answered_fps": fps,
        "p50_ms": float(np.percentile(lat_ms, 50)) if n else None,
        "p99_ms": float(np.percentile(lat_ms, 99)) if n else None,
        "handle_calls_per_frame": float(np.mean([1.0 / c for c in calls])) if calls else None,
        "cpu_ms_per_frame": {k: _per_frame_ms(v, n) for k, v in parts.items()},
        "cores_busy": {k: v / window for k, v in parts.items()},
        "server_cpu_s_by_part": {k: round(v, 3) for k, v in sorted(cpu.by_category.items())},
        "server_processes_by_part": dict(sorted(cpu.processes.items())),
        "client_cores_busy": cpu.client_s / window,
        "server_errors": tally.server_errors,
        "socket_errors": tally.socket_errors,
    }
    if mode == "echo":
        ingress_cores = parts["ingress"] / window
        result["echo_fps_per_ingress_core"] = fps / ingress_cores if ingress_cores else None
        result["server_cpu_ms_per_frame_outside_engine"] = _per_frame_ms(parts["server"], n)
    return result


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A short temp folder (Ray's socket paths must stay under ~107 characters)."""
    path = Path(tempfile.mkdtemp(prefix="so-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run_mode(mode: str, args: argparse.Namespace, frames: list[bytes]) -> list[dict[str, Any]]:
    """Start the server for ``mode``, saturate it with each stream count in turn (fresh
    users and sessions each time), stop it; the figures of each count."""
    extra = dict(item.split("=", 1) for item in args.env)
    results = []
    with workdir() as work:
        port = args.port or free_port_pair()
        started = time.monotonic()
        server = start_server(mode, port, work, extra, args.start_timeout)
        try:
            start_s = time.monotonic() - started
            for streams in args.streams:
                tokens = stream_tokens(server.url, streams, args.streams_per_user)
                sampler = CpuSampler(server.process.pid)
                tally, cpu = asyncio.run(
                    drive(server.url, tokens, frames, args.warmup, args.seconds, sampler)
                )
                results.append(summarize(mode, streams, tally, cpu))
        finally:
            killed = stop_server(server)
    for result in results:
        result["server_start_s"] = round(start_s, 1)
        result["killed_after_shutdown"] = killed
    return results


# --- report -----------------------------------------------------------------------------


def _f(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def print_summary(result: dict[str, Any]) -> None:
    """The readable report."""
    load = result["loadavg_at_start"]
    print(
        f"{result['cpus']} CPUs, load average at start {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}; clip {result['clip']} ({result['frame_kb']:.1f} KB per JPEG frame)"
    )
    for r in result["runs"]:
        ms, cores = r["cpu_ms_per_frame"], r["cores_busy"]
        print(
            f"{r['mode']}: {r['streams']} streams closed loop, {r['window_s']:.1f} s measured: "
            f"{r['answered_fps']:.1f} frames/s answered, p50 {_f(r['p50_ms'])} ms, "
            f"p99 {_f(r['p99_ms'])} ms, handle calls per frame "
            f"{_f(r['handle_calls_per_frame'], '.2f')}"
        )
        print(
            f"  CPU ms per frame: ingress {_f(ms['ingress'], '.2f')}, pose "
            f"{_f(ms['pose'], '.2f')}, whole server {_f(ms['server'], '.2f')}"
        )
        print(
            f"  cores busy: ingress {cores['ingress']:.2f}, pose {cores['pose']:.2f}, whole "
            f"server {cores['server']:.2f}; load client (this process, not in the server) "
            f"{r['client_cores_busy']:.2f}"
        )
        by_part = ", ".join(f"{k} {v:.2f}" for k, v in r["server_cpu_s_by_part"].items())
        print(f"  server CPU s by part: {by_part}")
        if r["mode"] == "echo":
            print(
                f"  echo frames/s per ingress core: {_f(r['echo_fps_per_ingress_core'], '.0f')}; "
                "server CPU ms per frame outside the engine: "
                f"{_f(r['server_cpu_ms_per_frame_outside_engine'], '.2f')}"
            )
        if r["server_errors"] or r["socket_errors"]:
            print(f"  errors: {r['server_errors']} server, sockets {r['socket_errors']}")
        if r["killed_after_shutdown"]:
            print(f"  killed after shutdown: {r['killed_after_shutdown']}")
    best = result["best"]
    for mode, r in best.items():
        print(f"best {mode}: {r['answered_fps']:.1f} frames/s answered ({r['streams']} streams)")
    if "echo" in best and "engine" in best:
        echo_ms = best["echo"]["cpu_ms_per_frame"]["server"]
        engine_ms = best["engine"]["cpu_ms_per_frame"]["server"]
        if echo_ms and engine_ms:
            print(
                f"whole-server CPU per frame at each best: engine {engine_ms:.2f} ms, echo "
                f"(serving alone) {echo_ms:.2f} ms = {100 * echo_ms / engine_ms:.0f} % of it"
            )
    print(REFERENCE)


def main() -> int:
    """Parse, measure each mode, print."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=[*MODES, "both"], default="both")
    p.add_argument(
        "--streams",
        type=int,
        nargs="+",
        default=[16],
        help="concurrent closed-loop streams; several counts run one after another on the "
        "same server (e.g. 8 16 32: frames/s stops rising once the server is saturated)",
    )
    p.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds before the measured ones")
    p.add_argument("--port", type=int, default=0, help="public port (default: a free one)")
    p.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    p.add_argument(
        "--streams-per-user",
        type=int,
        default=STREAMS_PER_USER,
        help="streams sharing one user (the server's WS_MAX_SESSIONS_PER_USER, default 3)",
    )
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server environment (settings), e.g. WS_BACKEND_FRAMES_IN_FLIGHT=16",
    )
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds to start")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if any("=" not in item for item in args.env):
        p.error("--env takes KEY=VALUE")
    frames = load_frames(args.clip)
    result: dict[str, Any] = {
        "clip": args.clip.name,
        "frame_kb": float(np.mean([len(f) for f in frames]) / 1024),
        "cpus": os.cpu_count(),
        "loadavg_at_start": list(os.getloadavg()),
        "runs": [],
        "best": {},
    }
    # SIGTERM ends the bench like Ctrl-C: the finally blocks stop the server.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for mode in MODES if args.mode == "both" else (args.mode,):
            runs = run_mode(mode, args, frames)
            result["runs"].extend(runs)
            # The stream count that got the most frames answered: the mode's capacity.
            result["best"][mode] = max(runs, key=lambda r: float(r["answered_fps"]))
    except KeyboardInterrupt:
        print("interrupted (the server was stopped)", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result))
    else:
        print_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
