"""Drain this Ray node before its pod goes: the ingress pods' preStop hook.

``python -m inference.serve.drain --host POD_IP --port 8100 [--deadline-s 60]`` asks
Ray's GCS to drain the node it runs on (``ray drain-node``: the same request the
autoscaler makes before it removes a node). Serve then moves the node's replicas away: it
stops the ingress replica gracefully, whose app ends every open session with its
summary, saved, closes the socket with 1012 and hands its outbox on (api/app.py's
lifespan). The hook waits until the replica's public port stops answering, so Kubernetes
kills the pod only after that.

Without this hook a rolling upgrade or a node pool scale-down kills the pod's Ray
processes at once: sessions open there end without a summary.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

#: How often the port is tried while the replica drains.
POLL_S = 0.5


def request_drain(deadline_s: int, ray: str = "ray", address: str | None = None) -> None:
    """Ask the GCS (at ``address``, else the node's own cluster) to drain this node:
    Serve stops its replicas gracefully."""
    where = ["--address", address] if address else []
    subprocess.run(  # noqa: S603 (fixed arguments; `ray` is the operator's own command)
        [
            ray,
            "drain-node",
            *where,
            "--reason",
            "DRAIN_NODE_REASON_PREEMPTION",
            "--reason-message",
            "the pod is terminating",
            "--deadline-remaining-seconds",
            str(deadline_s),
        ],
        check=True,
        timeout=30,
    )


def port_open(host: str, port: int) -> bool:
    """True while something accepts connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def wait_closed(host: str, port: int, timeout_s: float) -> bool:
    """Wait until ``host:port`` stops accepting; False if it still does at the deadline."""
    deadline = time.monotonic() + timeout_s
    while port_open(host, port):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Drain, then wait for the ingress port to close; 1 if it did not in time."""
    parser = argparse.ArgumentParser(prog="python -m inference.serve.drain")
    parser.add_argument("--port", type=int, required=True, help="the ingress's public port")
    parser.add_argument("--host", required=True, help="where it listens (the pod's address)")
    parser.add_argument("--deadline-s", type=int, default=60, help="until the pod is killed")
    parser.add_argument("--ray", default="ray", help="the ray command")
    parser.add_argument("--address", help="the GCS (host:port); default: this node's cluster")
    args = parser.parse_args(argv)
    host = args.host
    request_drain(args.deadline_s, args.ray, args.address)
    if wait_closed(host, args.port, args.deadline_s):
        print(f"drain: {host}:{args.port} closed; the node is drained", file=sys.stderr)
        return 0
    print(f"drain: {host}:{args.port} still open after {args.deadline_s} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
