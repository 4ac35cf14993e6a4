"""Public verification is open to anyone, so it is bounded: at most ``verify_concurrency``
verifications run at once in a process (more wait up to ``verify_queue_seconds``, then get 503),
and each client address may verify ``verify_rate`` times (``limits`` notation, e.g.
``60/minute;600/hour``), then gets 429. Both answers say when to try again (``Retry-After``).

Counts are per process, in memory: behind several processes a client gets that many per process.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from issuer.core import metrics
from issuer.core.errors import ServiceBusy, TooManyRequests
from issuer.core.settings import Settings


class Gate:
    def __init__(self, settings: Settings) -> None:
        self.size = settings.verify_concurrency or 2 * (os.cpu_count() or 1)
        self._slots: asyncio.Semaphore | None = None  # made in the serving event loop
        self.wait = settings.verify_queue_seconds
        self.rates = parse_many(settings.verify_rate) if settings.verify_rate.strip() else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, client: str) -> None:
        """Count this verification against ``client``'s allowance (429 when it is used up)."""
        for rate in self.rates:
            if not self.limiter.hit(rate, "verify", client):
                reset = self.limiter.get_window_stats(rate, "verify", client).reset_time
                metrics.TURNED_AWAY.labels("verify", "rate_limited").inc()
                raise TooManyRequests(
                    f"too many verifications from your address (at most {rate}); try again soon",
                    retry_after=max(1, math.ceil(reset - time.time())),
                )

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of the verification slots while the block runs (503 if none frees up);
        waiting happens in the event loop, holding no thread."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        try:
            if self._slots.locked():  # else acquiring does not wait
                await asyncio.wait_for(self._slots.acquire(), self.wait)
            else:
                await self._slots.acquire()
        except TimeoutError:
            metrics.TURNED_AWAY.labels("verify", "busy").inc()
            raise ServiceBusy(
                "the verification service is busy; try again in a few seconds", retry_after=5
            ) from None
        try:
            yield
        finally:
            self._slots.release()
