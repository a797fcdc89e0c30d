"""`posecoach serve` as a user starts it: nothing it starts listens beyond loopback.

One server process of its own (free ports, SQLite in a temporary DATA_DIR, DEBUG), apart
from the session's embedded Ray in conftest.py: the runner always starts a new local Ray
(``address="local"``), and the environment handed over names no Ray cluster.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import psutil
import pytest

pytestmark = [pytest.mark.ray, pytest.mark.once]  # a SQLite database of its own

START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 90.0
#: What a user's shell would pass on; no RAY_* or database settings from this process.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


def _free_port_pair() -> int:
    """A port P with P and P + 1 free on 127.0.0.1 (public port and Serve's proxy)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port: int = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two adjacent free ports")


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return bool((mapped or address).is_loopback)


def _session_processes(root: psutil.Process) -> dict[int, psutil.Process]:
    """The server, its descendants, and any process started by one of its raylets.

    Ray's agents and workers carry their raylet's pid in RAY_RAYLET_PID, which also finds
    a worker whose parent died (re-parented to init).
    """
    found = {p.pid: p for p in [root, *root.children(recursive=True)]}
    raylets = {str(pid) for pid, p in found.items() if _name(p) == "raylet"}
    for proc in psutil.process_iter():
        if proc.pid in found:
            continue
        try:
            owner = proc.environ().get("RAY_RAYLET_PID")
        except psutil.Error:
            continue
        if owner in raylets:
            found.update({p.pid: p for p in [proc, *proc.children(recursive=True)]})
    return found


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return "?"


def _listeners(procs: dict[int, psutil.Process]) -> list[tuple[str, str, int]]:
    """(process name, address, port) of every listening TCP and unconnected UDP socket."""
    rows = []
    for proc in procs.values():
        try:
            connections = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        for conn in connections:
            tcp_listen = conn.type == socket.SOCK_STREAM and conn.status == psutil.CONN_LISTEN
            udp_bound = conn.type == socket.SOCK_DGRAM and not conn.raddr
            if tcp_listen or udp_bound:
                rows.append((_name(proc), conn.laddr.ip, conn.laddr.port))
    return sorted(rows)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`posecoach serve --port P` running; killed (with anything it left) at the end."""
    script = Path(sys.executable).with_name("posecoach")
    assert script.exists(), f"console script {script} missing (pip install -e .)"
    port = _free_port_pair()
    env = {key: os.environ[key] for key in INHERITED if key in os.environ}
    env.update(DEBUG="true", DATA_DIR=str(tmp_path / "data"))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(script), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc, port, log
    finally:
        if proc.poll() is None:  # the test failed early: stop it and whatever it started
            procs = _session_processes(psutil.Process(proc.pid))
            proc.terminate()
            _, alive = psutil.wait_procs(list(procs.values()), timeout=STOP_TIMEOUT_S)
            for leftover in alive:
                leftover.kill()


def _wait_serving(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Until /readyz answers 200 and the runner logged that every deployment runs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited {proc.returncode}:\n{log.read_text()[-4000:]}")
        if "posecoach serving on" in log.read_text(errors="replace"):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(1.0)
    pytest.fail(f"not serving after {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-4000:]}")


def test_serve_listens_on_loopback_only_and_leaves_nothing(
    server: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, log = server
    _wait_serving(proc, port, log)
    procs = _session_processes(psutil.Process(proc.pid))
    listeners = _listeners(procs)
    names = {name for name, _, _ in listeners}
    ports = {p for _, _, p in listeners}
    # The scan saw the whole tree: Ray's core servers and both public ports.
    assert {"gcs_server", "raylet"} <= names, listeners
    assert {port, port + 1} <= ports, listeners
    exposed = [row for row in listeners if not _is_loopback(row[1])]
    assert not exposed, f"listening beyond loopback: {exposed}"

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=STOP_TIMEOUT_S) == 0, log.read_text()[-4000:]
    _, alive = psutil.wait_procs(list(procs.values()), timeout=STOP_TIMEOUT_S)
    for leftover in alive:
        leftover.kill()
    assert not alive, f"still running after the server stopped: {[_name(p) for p in alive]}"
