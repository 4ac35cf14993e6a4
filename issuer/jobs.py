"""Jobs run from cron or the command line, each piece of work in a unit of its own, so that one
odd row cannot stop (or roll back) the rest. A piece of work that verifies a badge from elsewhere
reads the hosts it names first, with no write transaction open (``network_first``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session

from issuer.context import Services
from issuer.core.errors import NotFound
from issuer.effects import work
from issuer.models import ImportedCredential
from issuer.models.base import utcnow
from issuer.verification.remembered import network_first
from issuer.wallet.imports import foresee_recheck, recheck, stale


def recheck_stale(
    services: Services, older_than: timedelta = timedelta(days=1), *, now: datetime | None = None
) -> int:
    """Re-verify every imported badge last checked more than ``older_than`` before ``now``;
    returns how many were re-checked."""
    moment = now or utcnow()
    cutoff, after, count = moment - older_than, 0, 0
    while True:
        with work(services, write=False) as db:
            ids = stale(db, cutoff, after)
        if not ids:
            return count
        for row_id in ids:
            try:
                with (
                    network_first(services, _foresee(services, row_id, moment)),
                    work(services) as db,
                ):
                    row = db.get(ImportedCredential, row_id)
                    if row is not None:
                        recheck(db, services, row, now=moment)
                        count += 1
            except NotFound:  # deleted by its learner meanwhile
                pass
            after = row_id


def _foresee(services: Services, row_id: int, moment: datetime) -> Callable[[Session], None]:
    def look(db: Session) -> None:
        row = db.get(ImportedCredential, row_id)
        if row is not None:
            foresee_recheck(db, services, row, now=moment)

    return look
