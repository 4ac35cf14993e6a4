"""The embedded worker: background work in a thread of the serving process (SQLite)."""

from __future__ import annotations

import logging
import queue
import threading

from issuer.context import Services
from issuer.effects import run_due
from issuer.issuing import jobs
from issuer.worker import catch_up

log = logging.getLogger("laurel.worker")


class ThreadDispatcher:
    """One worker thread: bulk jobs one after another, effects when told, and a catch-up every
    ``tick`` seconds (also right after start: a crash's leftovers are resumed)."""

    def __init__(self, services: Services, tick: float | None = None) -> None:
        self.services = services
        self.tick = tick or services.settings.worker_tick_seconds
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._effects_queued = threading.Event()
        self._thread: threading.Thread | None = None
        self.owner = jobs.worker_name()

    def bulk(self, job_id: str) -> None:
        self._queue.put(job_id)

    def effects(self) -> None:
        if not self._effects_queued.is_set():
            self._effects_queued.set()
            self._queue.put("")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="laurel-worker", daemon=True)
        self._thread.start()
        self._queue.put("tick")

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.tick)
            except queue.Empty:
                item = "tick"
            if item is None:
                return
            try:
                self._do(item)
            except Exception:  # logged; the catch-up retries whatever was left
                log.exception("background work %r failed", item)

    def _do(self, item: str) -> None:
        if item == "tick":
            catch_up(self.services, self)
        elif item == "":
            self._effects_queued.clear()
            run_due(self.services, limit=500)
        else:
            jobs.run(self.services, item, self.owner)
