"""Where background work is sent: the ``Dispatcher`` a process was started with
(``issuer.worker``), seen by the services only through this interface."""

from __future__ import annotations

from typing import Protocol


class Dispatcher(Protocol):
    def bulk(self, job_id: str) -> None:
        """Have a worker run bulk job ``job_id`` (``issuer.issuing.jobs.run``)."""

    def effects(self) -> None:
        """Have a worker run the post-commit effects that are due (``issuer.effects``)."""
