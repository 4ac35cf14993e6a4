"""Background work on PostgreSQL, with procrastinate (https://procrastinate.readthedocs.io).

Tasks: ``laurel.bulk`` (one bulk job), ``laurel.effects`` (the post-commit effects that are due)
and ``laurel.tick``, every minute and at every worker's start: retry the jobs of workers that
stopped sending heartbeats, then ``catch_up``. Queueing locks keep at most one waiting
``laurel.bulk`` per job, one ``laurel.effects`` and one ``laurel.tick``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.engine import make_url

from issuer.context import Services
from issuer.effects import run_due
from issuer.issuing import jobs
from issuer.worker import skill_spans, stale_jobs

log = logging.getLogger("laurel.worker")

BULK, EFFECTS, TICK = "laurel.bulk", "laurel.effects", "laurel.tick"


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (its driver name removed)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateDispatcher:
    """Defers jobs from any thread of the serving process (a small pool of its own)."""

    def __init__(self, services: Services) -> None:
        connector = procrastinate.SyncPsycopgConnector(
            conninfo=conninfo(services.settings.database_url), min_size=1, max_size=4
        )
        self.app = procrastinate.App(connector=connector)
        self.app.open()

    def bulk(self, job_id: str) -> None:
        self._defer(BULK, f"bulk:{job_id}", job_id=job_id)

    def effects(self) -> None:
        self._defer(EFFECTS, "effects")

    def _defer(self, task: str, lock: str, **arguments: Any) -> None:
        try:
            self.app.configure_task(task, queueing_lock=lock).defer(**arguments)
        except AlreadyEnqueued:
            pass  # one is waiting already; it will see this work too
        except Exception:  # the periodic catch-up dispatches it later
            log.exception("could not defer %s", task)

    def close(self) -> None:
        self.app.close()


def worker_app(services: Services) -> procrastinate.App:
    """The procrastinate app a worker runs, with Laurel's tasks."""
    settings = services.settings
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(settings.database_url),
            min_size=1,
            max_size=settings.worker_concurrency + 2,
        )
    )
    owner = jobs.worker_name()

    @app.task(name=BULK)
    def bulk_job(job_id: str) -> None:
        jobs.run(services, job_id, owner)

    @app.task(name=EFFECTS)
    def effects() -> None:
        run_due(services, limit=500)

    @app.periodic(cron="* * * * *")
    @app.task(name=TICK, queueing_lock="tick")
    async def tick(timestamp: int) -> None:
        await retry_stalled(app, services)
        await catch_up_async(app, services)

    return app


async def retry_stalled(app: procrastinate.App, services: Services) -> int:
    """Put back in the queue the jobs of workers that stopped sending heartbeats (killed)."""
    stalled = await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=services.settings.worker_stalled_seconds
    )
    count = 0
    for job in stalled:
        log.warning("retrying job %s of a stalled worker", job.id)
        await app.job_manager.retry_job(job)
        count += 1
    return count


async def catch_up_async(app: procrastinate.App, services: Services) -> int:
    """``catch_up`` for a worker: defer the bulk jobs no live worker holds, and the effects."""
    stale = await asyncio.to_thread(stale_jobs, services)
    for job_id in stale:
        log.info("resuming bulk job %s", job_id)
        await _defer_async(app, BULK, f"bulk:{job_id}", job_id=job_id)
    await _defer_async(app, EFFECTS, "effects")
    await asyncio.to_thread(skill_spans, services)
    return len(stale)


async def _defer_async(app: procrastinate.App, task: str, lock: str, **arguments: Any) -> None:
    with contextlib.suppress(AlreadyEnqueued):
        await app.configure_task(task, queueing_lock=lock).defer_async(**arguments)


async def run_worker_async(services: Services, stop: asyncio.Event | None = None) -> None:
    """Run a worker until ``stop`` is set (or forever): at start, retry stalled jobs and catch
    up, then take jobs as they come."""
    settings = services.settings
    app = worker_app(services)
    async with app.open_async():
        await retry_stalled(app, services)
        await catch_up_async(app, services)
        worker = asyncio.create_task(
            app.run_worker_async(
                concurrency=settings.worker_concurrency,
                install_signal_handlers=stop is None,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_seconds,
                delete_jobs="successful",
                shutdown_graceful_timeout=30,
            )
        )
        if stop is None:
            await worker
            return
        await stop.wait()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


class EmbeddedWorker:
    """A procrastinate worker in a thread of the serving process."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        ready = threading.Event()

        def main() -> None:
            async def run() -> None:
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                ready.set()
                await run_worker_async(self.services, self._stop)

            try:
                asyncio.run(run())
            except Exception:
                log.exception("the embedded worker stopped")

        self._thread = threading.Thread(target=main, name="laurel-worker", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self, timeout: float = 40.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
