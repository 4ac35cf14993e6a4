"""``VerificationSlot``: the dependency of every public verification route (``/verify``,
``/api/v1/verify``): the client's allowance, then one of the bounded slots for the request's
duration (``issuer.verification.gate``). ``page_slots``: the badge pages' own bound, and
``page_reader`` the database they may read in the event loop."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


class LoopTurns:
    """Badge pages made in the event loop take turns: one page per turn of the loop, in the order
    they came, and the loop looks for new requests (and sends what is written) between two pages.

    A page made in the loop runs start to end without yielding. Without turns, the loop runs
    every request that arrived together back to back, then looks for new ones; a client whose
    answer went out last in such a run sends its next request a moment after the loop looked,
    so that request waits for the whole next run too: about one request in each run waited
    twice as long as the others, which made the p99 twice the median. With turns the requests
    queue in the order they arrived, and each waits for about as many pages as there are
    clients ahead of it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._busy = False  # a page runs, or the loop has not turned since one did

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._busy or self._waiting:
            future: asyncio.Future[None] = self.loop.create_future()
            self._waiting.append(future)
            try:
                await future
            except BaseException:
                if future.done() and not future.cancelled():
                    self._release()  # it was handed the turn: hand it on
                elif future in self._waiting:
                    self._waiting.remove(future)
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self.loop.call_soon(self._hand_on)  # on the loop's next turn, after it looked for I/O

    def _hand_on(self) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():  # a cancelled waiter is skipped
                future.set_result(None)  # still busy: the turn is that page's
                return
        self._busy = False


TURNS = "laurel.page_turns"


def page_turns(services: Services) -> LoopTurns:
    """This event loop's turns for the badge pages made in it (a new loop, as each test client
    starts, gets turns of its own)."""
    loop = asyncio.get_running_loop()
    found = services.cache.get(TURNS)
    if not (isinstance(found, LoopTurns) and found.loop is loop):
        found = LoopTurns(loop)
        services.cache[TURNS] = found
    return found
