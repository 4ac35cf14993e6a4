"""Per-address allowances for open doors other than verification (``issuer.http.gate`` bounds
that): anyone may register an OAuth client (RFC 7591), so each client address gets
``registration_rate`` registrations (``limits`` notation), then 429 with ``Retry-After``.

Counts are per process, in memory, like the verification gate's.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from issuer.core import metrics
from issuer.core.errors import TooManyRequests
from issuer.http.deps import ServicesDep

RATES = "laurel.rates"


class Allowance:
    def __init__(self, area: str, rates: str, what: str) -> None:
        self.area, self.what = area, what
        self.rates: list[RateLimitItem] = parse_many(rates) if rates.strip() else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, client: str) -> None:
        for rate in self.rates:
            if not self.limiter.hit(rate, self.area, client):
                reset = self.limiter.get_window_stats(rate, self.area, client).reset_time
                metrics.TURNED_AWAY.labels(self.area, "rate_limited").inc()
                raise TooManyRequests(
                    f"too many {self.what} from your address (at most {rate}); try again later",
                    retry_after=max(1, math.ceil(reset - time.time())),
                )


def _registrations(services: ServicesDep) -> Allowance:
    found = services.cache.get(RATES)
    if not isinstance(found, Allowance):
        made = Allowance("oauth_register", services.settings.registration_rate, "registrations")
        found = services.cache.setdefault(RATES, made)
    assert isinstance(found, Allowance)
    return found


async def registration_allowance(request: Request, services: ServicesDep) -> None:
    _registrations(services).admit(request.client.host if request.client else "unknown")


RegistrationAllowance = Annotated[None, Depends(registration_allowance)]
