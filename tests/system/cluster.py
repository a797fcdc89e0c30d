"""Driving scripts/local-cluster from tests: start one on a bridge, namespaces, ports and
folders of its own, run its drills, stop it whatever happened.

A missing tool is a failure, not a skip: CI runs these tests as root with PostgreSQL's
server binaries and Redis installed, so a test that quietly skipped there would hide a
broken setup.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
import yaml

from tests.conftest import REPO_ROOT, TEST_SECRET

SCRIPT = REPO_ROOT / "scripts" / "local-cluster"


def harness_missing() -> str | None:
    """Why scripts/local-cluster cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, a bridge)"
    for tool in ("ip", "redis-server", "redis-cli", "runuser"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")) and not os.environ.get("PG_BIN"):
        return "PostgreSQL server binaries not found"
    return None


def require_harness() -> None:
    """Fail the test (never skip it) when scripts/local-cluster cannot run here."""
    missing = harness_missing()
    if missing is not None:
        pytest.fail(f"scripts/local-cluster cannot run here: {missing}")


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def free_net() -> str:
    """A /24 of 10.77.x.0 no interface here uses yet (its first three octets)."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    while True:
        net = f"10.77.{random.randint(1, 254)}"
        if f" {net}." not in used:
            return net


def ingress_urls(output: str) -> list[str]:
    """The ``ingress URL http://ADDR:PORT/`` lines of `start` or `scale-ingress`."""
    return [line.split()[-1] for line in output.splitlines() if line.startswith("ingress URL")]


@dataclass
class Cluster:
    """A running local cluster: its environment, and the ingress URLs it last printed."""

    env: dict[str, str]
    urls: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        """``host:port`` of the first ingress replica (node 1's)."""
        return self.urls[0].removeprefix("http://").rstrip("/")

    def net(self) -> str:
        """The bridge's /24, as its first three octets."""
        return self.env["CLUSTER_NET"]

    def address(self, node: int) -> str:
        """Node ``node``'s address on the bridge."""
        return f"{self.net()}.{node + 1}"

    def node_base(self, node: int) -> str:
        """``host:port`` where node ``node``'s ingress replica serves the app."""
        return f"{self.address(node)}:{self.env.get('PUBLIC_PORT', '8100')}"

    def netns(self, node: int) -> str:
        """Node ``node``'s network namespace."""
        return f"{self.env['NETNS_PREFIX']}-node{node}"

    def node_pids(self, node: int) -> set[int]:
        """The processes in node ``node``'s namespace now."""
        out = subprocess.run(
            ["ip", "netns", "pids", self.netns(node)], capture_output=True, text=True, check=True
        ).stdout
        return {int(pid) for pid in out.split()}

    @property
    def database_url(self) -> str:
        """The cluster's own PostgreSQL, as the replicas reach it."""
        return f"postgresql+psycopg2://posecoach@{self.net()}.1:{self.env['PG_PORT']}/posecoach"

    def run(self, *command: str) -> str:
        """One scripts/local-cluster command; its stdout (a failure fails the test)."""
        done = subprocess.run(
            [str(SCRIPT), *command], env=self.env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self) -> None:
        """`start`; remembers the ingress URLs."""
        self.urls = ingress_urls(self.run("start"))

    def scale_ingress(self, replicas: int) -> list[str]:
        """`scale-ingress N` (returns once Serve runs N and stops none); the URLs left."""
        self.urls = ingress_urls(self.run("scale-ingress", str(replicas)))
        return self.urls

    def running_on(self, deployment: str) -> list[str]:
        """The node addresses of ``deployment``'s RUNNING replicas (one entry each), from
        the dashboard's Serve API."""
        dashboard = f"http://{self.address(1)}:{self.env.get('DASHBOARD_PORT', '8275')}"
        r = httpx.get(f"{dashboard}/api/serve/applications/", timeout=30)
        r.raise_for_status()
        replicas = r.json()["applications"]["posecoach"]["deployments"][deployment]["replicas"]
        return sorted(str(x["node_ip"]) for x in replicas if x["state"] == "RUNNING")

    def pose_replicas(self) -> int:
        """RUNNING pose replicas, as `serve status` reports them."""
        status = yaml.safe_load(self.run("status"))
        app = status["applications"]["posecoach"]
        states = app["deployments"]["PoseDeployment"]["replica_states"]
        return int(states.get("RUNNING", 0))


@contextlib.contextmanager
def local_cluster(**settings: str) -> Iterator[Cluster]:
    """scripts/local-cluster started with ``settings`` (its own and the app's) on a bridge,
    namespaces, ports and folders of its own; `stop` and the folder's removal at the end,
    whatever happened (a failed start included)."""
    require_harness()
    # Short: Ray's AF_UNIX socket paths under it must stay within 107 bytes.
    cluster_dir = tempfile.mkdtemp(prefix="pc-", dir="/tmp")
    tag = f"pct{random.randrange(16**4):04x}"
    env = {
        **os.environ,
        "CLUSTER_DIR": cluster_dir,
        "BRIDGE": tag,
        "NETNS_PREFIX": tag,
        "CLUSTER_NET": free_net(),
        "PG_PORT": str(free_port()),  # PostgreSQL listens on loopback too
        "REDIS_PORT": str(free_port()),
        "SECRET_KEY": TEST_SECRET,
        "ARGON2_MEMORY_KIB": "64",
        "ARGON2_TIME_COST": "1",
        "WS_MAX_FRAMES_PER_S": "1000",
        "LOGIN_ATTEMPTS_PER_IP": "1000",
        # The login drill counts attempts against the shared per-account limit; growing
        # delays would refuse all but the first on their own (they have their own tests).
        "LOGIN_DELAY_BASE_S": "0",
        "RAY_AUTH_MODE": "disabled",  # a private test cluster on a private bridge
        **settings,
    }
    cluster = Cluster(env)
    try:
        cluster.start()
        yield cluster
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=180)
        shutil.rmtree(cluster_dir, ignore_errors=True)


def history_len(base: str, token: str) -> int:
    """How many sessions the user of ``token`` has in history (via ``base``)."""
    r = httpx.get(
        f"http://{base}/api/exercises/history/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return len(r.json())
