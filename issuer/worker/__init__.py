"""Background work: bulk jobs, post-commit effects and the periodic catch-up, and where they run.

* PostgreSQL (production): **procrastinate**, a job engine on PostgreSQL itself. Requests defer
  jobs (``ProcrastinateDispatcher``); ``laurel worker`` processes, on any number of machines, run
  them (and ``laurel serve`` runs one in-process unless ``LAUREL_EMBEDDED_WORKER=false``). A
  worker that dies is noticed by its missing heartbeat and its jobs are retried elsewhere.
* SQLite (the embedded default): the same jobs run in a thread of the ``laurel serve`` process
  (``ThreadDispatcher``); after a crash, the next start resumes them.
* Tests and one-shot commands: ``InlineDispatcher`` runs the work in the calling thread.

Whatever runs them, the jobs' state lives in Laurel's own tables (``bulk_job``,
``pending_effect``), written in the same transactions as the changes they follow; dispatching
only says "look now". ``catch_up`` finds whatever a lost dispatch or a dead worker left behind,
so nothing depends on a dispatch arriving.
"""

from __future__ import annotations

import logging

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.dispatch import Dispatcher
from issuer.effects import run_due
from issuer.issuing import jobs
from issuer.skills import spans

log = logging.getLogger("laurel.worker")


class InlineDispatcher:
    """Runs the work at once, in the calling thread (a request's background task, a command)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def bulk(self, job_id: str) -> None:
        jobs.run(self.services, job_id)

    def effects(self) -> None:
        run_due(self.services)


def dispatcher(services: Services) -> Dispatcher:
    return services.dispatcher or InlineDispatcher(services)


def dispatch_effects(services: Services) -> None:
    """After a commit that emitted effects (``issuer.http.deps``)."""
    dispatcher(services).effects()


def catch_up(services: Services, to: Dispatcher | None = None) -> int:
    """Dispatch every bulk job no live worker holds, and the effects that are due; returns how
    many jobs were dispatched. Run periodically by every kind of worker."""
    target = to or dispatcher(services)
    stale = stale_jobs(services)
    for job_id in stale:
        log.info("resuming bulk job %s", job_id)
        target.bulk(job_id)
    target.effects()
    skill_spans(services)
    return len(stale)


def skill_spans(services: Services) -> None:
    """Rebuild the skill spans the log names (``issuer.skills.spans``); a failure is logged and
    left to the next catch-up (the cloud is right without them)."""
    try:
        spans.catch_up(services.engine)
    except Exception:
        log.exception("skill spans not rebuilt")


def stale_jobs(services: Services) -> list[str]:
    with unit_of_work(services.engine, write=False) as session:
        return jobs.resumable(session)
