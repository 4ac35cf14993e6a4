"""Starting and stopping background work for a serving process or a worker process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from issuer.context import Services
from issuer.core.db import is_postgres
from issuer.worker.threads import ThreadDispatcher


class _Polled:
    """Dispatches nothing: a separate worker process finds the work at its next catch-up."""

    def bulk(self, job_id: str) -> None:
        pass

    def effects(self) -> None:
        pass


def start(services: Services) -> Callable[[], None]:
    """Set ``services.dispatcher`` for a serving process and start its embedded worker unless
    ``LAUREL_EMBEDDED_WORKER`` is off; returns what stops them."""
    embedded = services.settings.embedded_worker
    if is_postgres(services.engine):
        from issuer.worker.engine import EmbeddedWorker, ProcrastinateDispatcher

        dispatcher = ProcrastinateDispatcher(services)
        services.dispatcher = dispatcher
        worker = EmbeddedWorker(services) if embedded else None
        if worker is not None:
            worker.start()

        def stop() -> None:
            if worker is not None:
                worker.stop()
            dispatcher.close()

        return stop
    if not embedded:
        services.dispatcher = _Polled()
        return lambda: None
    threads = ThreadDispatcher(services)
    services.dispatcher = threads
    threads.start()
    return threads.stop


def run_worker(services: Services) -> None:
    """Run a dedicated worker in this process until it is stopped (Ctrl-C, SIGTERM)."""
    if is_postgres(services.engine):
        import asyncio

        from issuer.worker.engine import run_worker_async

        asyncio.run(run_worker_async(services))
        return
    threads = ThreadDispatcher(services)
    services.dispatcher = threads
    threads.start()
    try:
        threading.Event().wait()
    finally:
        threads.stop()
