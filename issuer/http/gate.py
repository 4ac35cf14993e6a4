"""``VerificationSlot``: the dependency of every public verification route (``/verify``,
``/api/v1/verify``): the client's allowance, then one of the bounded slots for the request's
duration (``issuer.verification.gate``). ``page_slots``: the badge pages' own bound, and
``page_reader`` the database they may read in the event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from issuer.context import Services
from issuer.core.db import loop_reader
from issuer.http.deps import ServicesDep, Slots
from issuer.verification.gate import Gate

GATE = "laurel.verification_gate"


def gate(services: ServicesDep) -> Gate:
    found = services.cache.get(GATE)
    if not isinstance(found, Gate):
        found = services.cache.setdefault(GATE, Gate(services.settings))
    assert isinstance(found, Gate)
    return found


async def verification_slot(request: Request, services: ServicesDep) -> AsyncIterator[None]:
    door = gate(services)
    door.admit(request.client.host if request.client else "unknown")
    async with door.slot():
        yield


VerificationSlot = Annotated[None, Depends(verification_slot)]

PAGES = "laurel.page_slots"


def page_slots(services: Services) -> Slots:
    """The slots of the badge pages (``/v/{id}``): at most ``page_concurrency`` verify at once
    in a process, the others wait in the event loop (up to ``verify_queue_seconds``, then 503).
    No allowance per client: many employers may open one certificate's QR code from one office
    address."""
    found = services.cache.get(PAGES)
    if not isinstance(found, Slots):
        settings = services.settings
        made = Slots(settings.page_concurrency, settings.verify_queue_seconds, area="pages")
        found = services.cache.setdefault(PAGES, made)
    assert isinstance(found, Slots)
    return found


PAGE_READER = "laurel.page_reader"


def page_reader(services: Services) -> Engine | None:
    """The engine a badge page reads through in the event loop, holding one of the page slots
    (``core.db.loop_reader``: a connection per slot, on SQLite only), or None: the page runs in
    a worker thread."""
    if PAGE_READER not in services.cache:
        reader = loop_reader(services.engine, services.settings.page_concurrency)
        services.cache.setdefault(PAGE_READER, reader)
    found = services.cache[PAGE_READER]
    assert found is None or isinstance(found, Engine)
    return found
