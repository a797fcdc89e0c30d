"""The upload worker: runs queued analyses inside the ingress, beside live sessions.

Why the ingress's own background task rather than a deployment of its own: a job's
frames then go through the ingress's batching pose client, in the same backend calls as
live frames, and the share of the pose budget jobs may take is enforced where live
frames take theirs (:meth:`api.ws.scheduler.BackendCredits.job_frame`); ``serve run``
and KubeRay start it with the app, and no second deployment has to be scaled or
reached. Decoding runs on worker threads (PyAV releases the GIL while FFmpeg works).

Each job is claimed with a lease in the database and renewed by a heartbeat while it
runs. A worker that dies (killed replica, restart) stops renewing; once the lease runs
out any worker claims the job again and runs it from its start. The history entry is
keyed by the job (``upload-<id>``), so however often a job runs it is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from api.context import AppContext
from api.errors import DatabaseUnavailableError
from api.metrics import AppMetrics
from api.saving import SessionSaver
from api.session_core import SessionCore
from api.uploads.job_stream import JobStream, frame_timeout_s
from api.uploads.job_video import job_video
from api.wakeup import Wakeup
from api.ws.scheduler import BackendCredits
from db import analyses, repo
from db.models import UploadAnalysis
from inference.analysis import analyse_frames
from inference.pose_client import PoseBackendError, PoseClient
from inference.videofile import VideoProbeError, read_frames

logger = logging.getLogger(__name__)


class LeaseLostError(Exception):
    """Another worker took the job over, or it was deleted: stop without a trace."""


def session_key(job_id: int) -> str:
    """The history entry's key of an upload: one entry per upload, however often it runs."""
    return f"upload-{job_id}"


class UploadWorker:
    """Claims and runs upload analyses, at most ``UPLOAD_JOBS`` at once."""

    def __init__(
        self,
        context: AppContext,
        saver: SessionSaver,
        metrics: AppMetrics,
        credits: BackendCredits,
    ) -> None:
        self._context = context
        self._saver = saver
        self._metrics = metrics
        self._credits = credits
        self.owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._jobs: set[asyncio.Task[None]] = set()
        self._wakeup = Wakeup()

    def wake(self) -> None:
        """Look for work now (an upload was queued)."""
        self._wakeup.wake()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run jobs while the block runs (the app's lifespan); nothing without a pose client."""
        client = self._context.pose_client
        if client is None or self._context.settings.upload_jobs == 0:
            yield
            return
        with self._wakeup.listening() as wake:
            task = asyncio.create_task(self._loop(client, wake), name="posecoach-uploads")
            try:
                yield
            finally:
                # Running jobs stop here; their leases run out and a worker takes them again.
                for job in [task, *self._jobs]:
                    job.cancel()
                await asyncio.gather(task, *self._jobs, return_exceptions=True)

    async def _loop(self, client: PoseClient, wake: asyncio.Event) -> None:
        settings = self._context.settings
        while True:
            wake.clear()
            try:
                while len(self._jobs) < settings.upload_jobs:
                    job = await self._context.db(
                        analyses.claim_next,
                        self.owner,
                        settings.upload_lease_s,
                        settings.upload_max_attempts,
                    )
                    if job is None:
                        break
                    self._start(client, job, wake)
                counts = await self._context.db(analyses.count_by_status)
                for state, n in counts.items():
                    self._metrics.upload_jobs.set(n, labels={"state": state})
            except DatabaseUnavailableError:
                logger.warning("upload worker: database unavailable; trying again shortly")
            except Exception:
                logger.exception("upload worker: looking for jobs failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(settings.upload_poll_s):
                    await wake.wait()

    def _start(self, client: PoseClient, job: UploadAnalysis, wake: asyncio.Event) -> None:
        task = asyncio.create_task(self._run(client, job), name=f"posecoach-upload-{job.id}")
        self._jobs.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._jobs.discard(done)
            wake.set()  # a place is free: claim the next job

        task.add_done_callback(finished)

    async def _run(self, client: PoseClient, job: UploadAnalysis) -> None:
        assert job.id is not None
        started, outcome = time.monotonic(), "done"
        logger.info("upload %s: analysing (attempt %s)", job.id, job.attempts)
        try:
            await self._analyse(client, job)
        except LeaseLostError:
            outcome = "lost"
            logger.info("upload %s: taken over or deleted; stopped", job.id)
        except (PoseBackendError, TimeoutError) as exc:
            outcome = "retry"
            retry_in = self._context.settings.upload_retry_s * job.attempts
            logger.warning(
                "upload %s: pose backend failed (%s); again in %.0f s", job.id, exc, retry_in
            )
            reason = f"pose backend failed: {exc or type(exc).__name__}"
            await self._quietly(analyses.release, job.id, self.owner, reason, retry_in)
        except VideoProbeError as exc:
            outcome = "failed"
            await self._end(job, analyses.fail, f"the video could not be read: {exc}")
        except DatabaseUnavailableError:
            outcome = "retry"  # the lease runs out and the job is run again
            logger.warning("upload %s: database unavailable; the job will run again", job.id)
        except Exception as exc:
            outcome = "failed"
            logger.exception("upload %s: analysis failed", job.id)
            await self._end(job, analyses.fail, f"analysis failed: {type(exc).__name__}")
        finally:
            self._metrics.upload_job_duration.observe(
                time.monotonic() - started, labels={"result": outcome}
            )

    async def _analyse(self, client: PoseClient, job: UploadAnalysis) -> None:
        assert job.id is not None
        settings = self._context.settings
        user = await self._context.db(repo.get_user, job.user_id)
        core = SessionCore.open(
            key=session_key(job.id),
            exercise=job.exercise_type,
            source="upload",
            started_at=repo.as_utc(job.created_at),
            stream=JobStream(
                client.open_stream(),
                self._credits,
                frame_timeout_s(settings.ws_frame_timeout_s, job.attempts),
            ),
            body_weight_kg=user.weight if user else None,
            set_gap_s=settings.set_gap_s,
        )
        progress = [0]
        async with self._heartbeat(job.id, progress):
            # Copied inside the heartbeat: reading a large video back takes a while too.
            async with job_video(self._context, job) as path:
                # At most UPLOAD_MAX_FRAMES, whatever the header said.
                frames = itertools.islice(read_frames(path, job.rate), settings.upload_max_frames)
                async for step in analyse_frames(frames, core):
                    progress[0] = step.index + 1
                    self._metrics.upload_frames.inc()
            summary = core.summary()
            record = core.record(
                summary,
                duration_s=summary.duration_s,
                details={"source": "upload", "analysis_id": job.id},
            )
            saved = await self._saver.save(job.user_id, record)
        done = await self._context.db(
            analyses.complete,
            job.id,
            self.owner,
            session_id=saved.row_id,
            summary=record.details,
            frames_done=progress[0],
        )
        if not done:  # (done: the stored video went with the state change)
            raise LeaseLostError
        logger.info("upload %s: %s reps in %s frames", job.id, summary.reps, progress[0])

    @contextlib.asynccontextmanager
    async def _heartbeat(self, job_id: int, progress: list[int]) -> AsyncIterator[None]:
        """Renew the lease (with the progress) while the block runs; a lost lease cancels
        the block and raises LeaseLostError."""
        settings = self._context.settings
        body = asyncio.current_task()
        lost = False

        async def beat() -> None:
            nonlocal lost
            while True:
                await asyncio.sleep(min(settings.upload_lease_s / 3, 2.0))
                try:
                    held = await self._context.db(
                        analyses.renew, job_id, self.owner, progress[0], settings.upload_lease_s
                    )
                except DatabaseUnavailableError:
                    continue  # keep going: the lease may outlive a short outage
                if not held:
                    lost = True
                    if body is not None:
                        body.cancel()
                    return

        beater = asyncio.create_task(beat())
        try:
            yield
        except asyncio.CancelledError:
            if lost and body is not None:
                body.uncancel()  # our own cancel, turned into the error it stands for
                raise LeaseLostError from None
            raise
        finally:
            beater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beater

    async def _end(self, job: UploadAnalysis, end: Any, reason: str) -> None:
        assert job.id is not None
        # Ending the job deletes its stored video in the same transaction.
        await self._quietly(end, job.id, self.owner, reason)

    async def _quietly(self, fn: Any, *args: object) -> bool:
        try:
            return bool(await self._context.db(fn, *args))
        except Exception:
            logger.exception("upload worker: could not record a job's state")
            return False
