"""The many-nodes bar (issue 18) on a real two-node cluster: scripts/local-cluster with two
ingress replicas (one per node, each serving the app on its node's address), the
cluster's own PostgreSQL and Redis.

One cluster serves the whole module (starting one costs about half a minute of two
cores), so the drills run in this file's order, each leaving the cluster as it found it;
the one that kills a node (the issue's third) comes last. By the issue's numbers:

1. logins: 30 concurrent wrong passwords for one account over both replicas: at most
   LOGIN_ATTEMPTS_PER_ACCOUNT (5) are answered 401, the rest 429;
2. sockets: a user's 4th socket is refused with 4429 on whichever replica it lands;
4. scale-down during a database outage: the removed replica's sessions get their
   summary (pending) and close 1012; once the database is back every session is in
   history once;
5. partition: node 2 cut off for 10 s; sessions on node 1 go on throughout, those on
   node 2 end saved, once;
3. uploads: 8 uploads over both replicas, each done once with the clip's hand-counted
   reps, while node 2 is killed in the middle of a job of its own, which node 1 finishes.

Every wait is a poll with a deadline; what a drill measured is in its assertion messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
import sqlalchemy
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.streamer.http import access_token, base_url, fresh_credentials
from tests.clips import CLIP, clip_jpegs
from tests.conftest import VIDEOS_DIR, register_over_http
from tests.system.cluster import Cluster, local_cluster

pytestmark = [
    pytest.mark.once,  # the cluster has a database of its own
    pytest.mark.ray,
    pytest.mark.video,
    pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present"),
]
EXERCISE = "shoulder_press"
#: Frames per second each live session sends (a camera's pace, every 2nd frame of the clip).
FPS = 15


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """Two nodes, an ingress replica on each; the settings the drills need."""
    with local_cluster(
        NODES="2",
        INGRESS_REPLICAS="2",
        # Short upload leases: a job whose node died is taken over within seconds.
        UPLOAD_LEASE_S="4",
        UPLOAD_POLL_S="0.5",
        # A frame (and its call) sent to a pose replica on a cut-off node is given up after
        # this, and the session's next frame goes on; Serve's router sends a few calls
        # there before it counts that replica as busy, each costing this long.
        WS_FRAME_TIMEOUT_S="2",
        # Longer than the partition (sessions on the cut node go on when it is back),
        # short enough that a session whose client vanished is saved soon.
        WS_IDLE_TIMEOUT_S="20",
        # Once the database is back, sessions left pending are stored within seconds.
        OUTBOX_RETRY_FIRST_S="0.5",
        OUTBOX_RETRY_MAX_S="2",
        # Two shared cores: a Redis call can take longer than the 0.5 s default here.
        REDIS_TIMEOUT_S="2",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    """The clip's JPEG frames a live session sends (every 2nd: 15 fps)."""
    return [jpeg for _t, jpeg in clip_jpegs(str(CLIP), step=2)]


def _clip_reps() -> int:
    """The clip's hand-counted reps, from the shared manifest."""
    manifest = json.loads((VIDEOS_DIR / "manifest.json").read_text())
    (entry,) = (v for v in manifest["videos"] if v["file"] == CLIP.name)
    reps: int = entry["reps"]
    return reps


def _wait(what: str, done: Callable[[], bool], timeout_s: float, every_s: float = 0.5) -> None:
    """Poll ``done`` until it holds; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(every_s)


async def _until(what: str, done: Callable[[], bool], timeout_s: float) -> None:
    """:func:`_wait` inside the event loop (the streams run meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        await asyncio.sleep(0.2)


def _history(base: str, token: str) -> list[dict[str, Any]] | None:
    """The user's history, or None while the server cannot answer (database away)."""
    try:
        r = httpx.get(
            f"http://{base}/api/exercises/history/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    except httpx.TransportError:
        return None
    if r.status_code != 200:
        return None
    rows: list[dict[str, Any]] = r.json()
    return rows


def _histories_once(base: str, tokens: list[str], timeout_s: float) -> list[int]:
    """Waits until every user has a history entry; then each user's count (1: once)."""
    counts: dict[int, int] = {}

    def all_seen() -> bool:
        for i, token in enumerate(tokens):
            if counts.get(i, 0) == 0:
                rows = _history(base, token)
                counts[i] = 0 if rows is None else len(rows)
        return all(counts.values())

    _wait(f"every user's session in history (counts so far {counts})", all_seen, timeout_s)
    # Read again: an entry stored twice (two replicas, the outbox) would show by now.
    return [len(_history(base, token) or []) for token in tokens]


# --- live sessions ---------------------------------------------------------------------------


@dataclass
class Live:
    """One camera-paced exercise session on one ingress replica, and what it got back."""

    base: str
    token: str
    processed_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    close_code: int | None = None
    #: Set when ``exercise_completed`` arrives.
    completed: asyncio.Event = field(default_factory=asyncio.Event)

    def processed_between(self, start: float, end: float) -> int:
        """``frame_processed`` answers received in [start, end] (monotonic time)."""
        return sum(start <= t <= end for t in self.processed_at)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time in [start, end] without a ``frame_processed``."""
        times = [start, *(t for t in self.processed_at if start <= t <= end), end]
        return max(b - a for a, b in itertools.pairwise(times))

    async def run(self, frames: list[bytes], stop: asyncio.Event) -> None:
        """Start, send frames at FPS until ``stop`` (or the server closes), then
        ``stop_exercise`` and wait for the summary."""
        url = f"ws://{self.base}/ws/exercise/{EXERCISE}/?token={self.token}"
        async with connect(url, max_size=None, compression=None, open_timeout=30) as ws:
            await ws.send('{"type": "start_exercise"}')
            started = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert started["type"] == "exercise_started", started
            receiver = asyncio.create_task(self._receive(ws))
            i = 0
            while not stop.is_set() and not receiver.done():
                try:
                    await ws.send(frames[i % len(frames)])
                except ConnectionClosed:
                    break
                i += 1
                await asyncio.sleep(1 / FPS)
            if not receiver.done():
                with contextlib.suppress(ConnectionClosed):
                    await ws.send('{"type": "stop_exercise"}')
                # The summary, or the server's close (a cut node may never answer).
                completed = asyncio.create_task(self.completed.wait())
                await asyncio.wait([completed, receiver], timeout=60, return_when="FIRST_COMPLETED")
                completed.cancel()
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
        self.close_code = ws.close_code

    async def _receive(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                message = json.loads(raw) if isinstance(raw, str) else {}
                kind = message.get("type")
                if kind == "frame_processed":
                    self.processed_at.append(time.monotonic())
                elif kind == "error":
                    self.errors.append(message["error"])
                elif kind == "exercise_completed":
                    self.summary = message
                    self.completed.set()


def _sessions(bases: list[str], per_base: int) -> list[Live]:
    """``per_base`` sessions on each of ``bases``, each of a user of its own (so that a
    user's history count is that session's count)."""
    return [Live(base, register_over_http(base)) for _ in range(per_base) for base in bases]


# --- 1. logins -------------------------------------------------------------------------------


def test_concurrent_wrong_logins_over_both_replicas_are_throttled_per_account(
    cluster: Cluster,
) -> None:
    bases = [cluster.node_base(1), cluster.node_base(2)]
    credentials = fresh_credentials()
    access_token(base_url(bases[0]), credentials)  # registers the account
    wrong = {"email": credentials.email, "password": credentials.password + "-wrong"}

    async def attempts() -> list[tuple[str, int]]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def attempt(base: str) -> tuple[str, int]:
                r = await client.post(f"http://{base}/api/auth/login/", json=wrong)
                return base, r.status_code

            return await asyncio.gather(*(attempt(bases[i % 2]) for i in range(30)))

    answers = asyncio.run(attempts())
    by_replica = {b: sorted(code for base, code in answers if base == b) for b in bases}
    codes = [code for _base, code in answers]
    refused, throttled = codes.count(401), codes.count(429)
    assert refused + throttled == 30, f"other answers than 401/429: {by_replica}"
    # Per replica the limit would let up to 5 through on each (10 in all): 5 in all
    # means the count is shared. At least one: the password really was checked.
    measured = f"401s: {refused}, 429s: {throttled}; per replica {by_replica}"
    print(measured)  # shown with -rP: what the drill measured
    assert 1 <= refused <= 5, measured


# --- 2. sockets ------------------------------------------------------------------------------


async def _close_code_of_extra_socket(url: str) -> int | None:
    """The close code a socket to ``url`` gets without sending anything (None: it stayed
    open for 10 s)."""
    try:
        async with connect(url, open_timeout=30) as ws:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    with contextlib.suppress(ConnectionClosed):
                        await ws.recv()
            return ws.close_code
    except InvalidStatus as exc:
        # A refused handshake tells a real client nothing but "403".
        pytest.fail(f"{url}: handshake refused ({exc.response.status_code}), no close code")


async def _start_when_a_place_is_free(url: str, timeout_s: float) -> str:
    """Opens a socket and starts an exercise, again while it is refused with 4429 (a
    closed socket's place is given back just after the close); the answer's type."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with connect(url, open_timeout=30) as ws:
            try:
                await ws.send('{"type": "start_exercise"}')
                kind: str = json.loads(await ws.recv())["type"]
                return kind
            except ConnectionClosed:
                assert ws.close_code == 4429, ws.close_code
        assert time.monotonic() < deadline, "no place came free"
        await asyncio.sleep(0.2)


def test_a_users_fourth_socket_is_refused_4429_on_either_replica(cluster: Cluster) -> None:
    bases = [cluster.node_base(1), cluster.node_base(2)]
    token = register_over_http(bases[0])
    urls = [f"ws://{b}/ws/exercise/{EXERCISE}/?token={token}" for b in bases]

    async def scenario() -> tuple[list[int | None], str]:
        async with contextlib.AsyncExitStack() as stack:
            # Three open sockets: two on node 1's replica, one on node 2's.
            opened = [await stack.enter_async_context(connect(u)) for u in (*urls, urls[0])]
            for ws in opened:
                await ws.send('{"type": "start_exercise"}')
                assert json.loads(await ws.recv())["type"] == "exercise_started"
            codes = [await _close_code_of_extra_socket(u) for u in urls]
            # Node 2's closes: its place is free again for a socket on either replica.
            await opened[1].close()
            after = await _start_when_a_place_is_free(urls[0], timeout_s=15)
        return codes, after

    codes, after = asyncio.run(scenario())
    assert codes == [4429, 4429], f"4th socket's close code on node 1, node 2: {codes}"
    assert after == "exercise_started"


# --- 4. scale-down during a database outage --------------------------------------------------


def test_scale_down_during_a_database_outage_loses_no_session(
    cluster: Cluster, frames: list[bytes]
) -> None:
    bases = [cluster.node_base(1), cluster.node_base(2)]
    lives = _sessions(bases, per_base=3)
    timings: dict[str, float] = {}
    db_stopped = False

    async def scenario() -> list[str]:
        nonlocal db_stopped
        stop = asyncio.Event()
        streams = [asyncio.create_task(live.run(frames, stop)) for live in lives]
        try:
            await _until(
                "10 frames answered in every session",
                lambda: all(len(live.processed_at) >= 10 for live in lives),
                90,
            )
            await asyncio.to_thread(cluster.run, "db-stop")
            db_stopped = True
            started = time.monotonic()
            left = await asyncio.to_thread(cluster.scale_ingress, 1)
            timings["scale_down_s"] = time.monotonic() - started
            gone = {b for b in bases if f"http://{b}/" not in left}
            await _until(
                "the removed replica's sessions closed",
                lambda: all(live.close_code is not None for live in lives if live.base in gone),
                30,
            )
            # Sessions on the replica left go on: they stop normally, the database still down.
            stop.set()
            await asyncio.gather(*streams)
            return left
        finally:
            stop.set()
            await asyncio.gather(*streams, return_exceptions=True)

    try:
        left = asyncio.run(scenario())
    finally:
        if db_stopped:
            cluster.run("db-start")
    assert len(left) == 1, left
    kept = left[0].removeprefix("http://").rstrip("/")
    removed = [live for live in lives if live.base != kept]
    survived = [live for live in lives if live.base == kept]
    assert len(removed) == len(survived) == 3
    for live in removed:
        assert live.summary is not None, f"no summary before the close ({live.close_code})"
        assert live.summary["type"] == "exercise_completed"
        assert (live.summary["saved"], live.summary["pending"]) == (False, True), live.summary
        assert live.close_code == 1012, live.close_code
    for live in survived:
        assert live.summary is not None and live.summary["pending"] is True, live.summary
        assert live.close_code == 1000, live.close_code
    started = time.monotonic()
    counts = _histories_once(kept, [live.token for live in lives], timeout_s=120)
    timings["stored_after_db_start_s"] = time.monotonic() - started
    measured = f"removed {sorted({live.base for live in removed})}; {timings}; history {counts}"
    print(measured)  # shown with -rP
    assert counts == [1] * 6, measured
    # The next drills want two replicas again.
    assert len(cluster.scale_ingress(2)) == 2


# --- 5. partition ----------------------------------------------------------------------------


async def _pose_replica_on(cluster: Cluster, node: int, timeout_s: float) -> list[str]:
    """Waits until node ``node`` runs a pose replica; the nodes of all of them then."""
    deadline = time.monotonic() + timeout_s
    while True:
        placement = await asyncio.to_thread(cluster.running_on, "PoseDeployment")
        if cluster.address(node) in placement:
            return placement
        assert time.monotonic() < deadline, f"no pose replica on node {node}: {placement}"
        await asyncio.sleep(1)


def test_a_cut_off_node_leaves_the_other_unhurt_and_its_sessions_saved(
    cluster: Cluster, frames: list[bytes]
) -> None:
    near, far = cluster.node_base(1), cluster.node_base(2)
    lives = _sessions([near, far], per_base=2)
    on_near = [live for live in lives if live.base == near]
    on_far = [live for live in lives if live.base == far]
    window: dict[str, Any] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        streams = [asyncio.create_task(live.run(frames, stop)) for live in lives]
        try:
            await _until(
                "10 frames answered in every session",
                lambda: all(len(live.processed_at) >= 10 for live in lives),
                90,
            )
            # Node 1's sessions can only go on with a pose replica of their own node: the
            # load scales the deployment out (one replica fits beside the head's ingress).
            window["pose_on"] = await _pose_replica_on(cluster, 1, timeout_s=120)
            window["cut"] = time.monotonic()
            await asyncio.to_thread(cluster.run, "partition", "2", "10")
            window["back"] = time.monotonic()
            back = window["back"]
            # Node 1's sessions go on; node 2's go on once their link is back, or end.
            await _until(
                "20 frames answered after the cut on node 1, and on node 2 unless it closed",
                lambda: (
                    all(live.processed_between(back, float("inf")) >= 20 for live in on_near)
                    and all(
                        live.close_code is not None
                        or live.processed_between(back, float("inf")) >= 20
                        for live in on_far
                    )
                ),
                90,
            )
            stop.set()
            await asyncio.gather(*streams)
        finally:
            stop.set()
            await asyncio.gather(*streams, return_exceptions=True)

    asyncio.run(scenario())
    # The link is down from the start of `partition` (its last 10 s) to its end. In that
    # time a session at 15 fps sends 150 frames; a few calls routed to node 2's pose
    # replica cost WS_FRAME_TIMEOUT_S each (an error for their frames).
    cut, back = window["back"] - 10, window["back"]
    during = [live.processed_between(cut, back) for live in on_near]
    node1 = (
        f"node 1: frames answered during the 10 s cut {during}, longest gap "
        f"{[round(live.longest_gap(cut, back), 1) for live in on_near]} s, errors "
        f"{[len(live.errors) for live in on_near]}, pose replicas on {window['pose_on']}"
    )
    assert all(n >= 20 for n in during), node1
    for live in on_near:
        assert live.summary is not None and live.summary["saved"] is True, live.summary
    counts = _histories_once(near, [live.token for live in lives], timeout_s=120)
    outcome = [(v.close_code, (v.summary or {}).get("saved"), len(v.errors)) for v in on_far]
    node2 = f"node 2: (close code, saved, errors) {outcome}"
    print(f"{node1}; {node2}; history entries per session {counts}")  # shown with -rP
    assert counts == [1] * 4, f"history entries per session {counts}; {node1}; {node2}"


# --- 3. uploads, and a node killed mid-job (last: node 2 stays dead) --------------------------


def _upload(base: str, token: str) -> int:
    r = httpx.post(
        f"http://{base}/api/exercises/{EXERCISE}/upload/",
        files={"video": ("set.mp4", CLIP.read_bytes(), "video/mp4")},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    job_id: int = r.json()["analysis_id"]
    return job_id


def _analysis(base: str, token: str, job_id: int) -> dict[str, Any]:
    r = httpx.get(
        f"http://{base}/api/exercises/analyses/{job_id}/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()
    return job


def _owner_pid(owner: str) -> int:
    """The process of an upload worker's lease owner (``host-pid-random``, see
    api/uploads/worker.py): the same pid namespace holds every node here."""
    return int(owner.rsplit("-", 2)[1])


def test_uploads_are_each_done_once_though_a_node_dies_mid_job(cluster: Cluster) -> None:
    bases = [cluster.node_base(1), cluster.node_base(2)]
    reps = _clip_reps()
    jobs: list[tuple[str, int]] = []  # (token, analysis id), one upload per user
    for i in range(8):
        token = register_over_http(bases[i % 2])
        jobs.append((token, _upload(bases[i % 2], token)))
    engine = sqlalchemy.create_engine(cluster.database_url)
    try:

        def running() -> list[tuple[int, str, int]]:
            with engine.connect() as db:
                rows = db.execute(
                    sqlalchemy.text(
                        "SELECT id, lease_owner, frames_done FROM upload_analyses "
                        "WHERE status = 'running' AND lease_owner IS NOT NULL"
                    )
                ).all()
            return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]

        # A job node 2's worker runs, well under way (its progress is stored with each
        # lease renewal) but not nearly done.
        node2 = cluster.node_pids(2)
        victim: list[tuple[int, str, int]] = []

        def node2_mid_job() -> bool:
            victim[:] = [
                job for job in running() if _owner_pid(job[1]) in node2 and 20 <= job[2] <= 150
            ]
            return bool(victim)

        _wait("a job of node 2's worker under way", node2_mid_job, 120, every_s=0.2)
        victim_id, victim_owner, victim_frames = victim[0]
        cluster.run("kill-node", "2")
        assert cluster.node_pids(2) == set(), "node 2 has processes left"

        # Who runs the victim from now on (until it is done and the lease is cleared); the
        # dead owner's row stays as it was until its lease runs out.
        node1 = cluster.node_pids(1)
        owners_after: set[str] = set()
        survivor = bases[0]

        def all_finished() -> bool:
            owners_after.update(
                owner for i, owner, _n in running() if i == victim_id and owner != victim_owner
            )
            states = [_analysis(survivor, token, job_id)["status"] for token, job_id in jobs]
            return all(state in ("done", "failed") for state in states)

        started = time.monotonic()
        _wait("every upload finished", all_finished, 300, every_s=0.3)
        finish_s = time.monotonic() - started
    finally:
        engine.dispose()

    results = [_analysis(survivor, token, job_id) for token, job_id in jobs]
    summary = [
        (j["id"], j["status"], j["attempts"], (j["summary"] or {}).get("reps")) for j in results
    ]
    assert all(j["status"] == "done" for j in results), summary
    assert all(j["summary"]["reps"] == reps for j in results), f"manifest: {reps}; {summary}"
    (victim_job,) = (j for j in results if j["id"] == victim_id)
    assert victim_job["attempts"] >= 2, victim_job
    assert owners_after, "the victim's new owner was never seen"
    assert all(_owner_pid(o) in node1 for o in owners_after), (owners_after, victim_owner)
    print(  # shown with -rP
        f"killed node 2 during job {victim_id} at {victim_frames} frames; all finished "
        f"{finish_s:.0f} s later; taken over by {sorted(owners_after)}; {summary}"
    )
    for (token, _job_id), job in zip(jobs, results, strict=True):
        history = _history(survivor, token)
        assert history is not None
        assert [h["id"] for h in history] == [job["session_id"]], (
            f"history {history} for analysis {job['id']} (killed job {victim_id} at "
            f"{victim_frames} frames; all finished {finish_s:.0f} s after the kill)"
        )
