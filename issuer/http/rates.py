"""Per-address allowances for open doors other than verification (``issuer.http.gate`` bounds
that), each in ``limits`` notation, then 429 with ``Retry-After``: anyone may register an OAuth
client (RFC 7591), so each client address gets ``registration_rate`` registrations; anyone may ask
for an OpenID4VCI nonce, a row until it is purged, so each gets ``nonce_rate`` nonces; any
learner, self-registered, may have Laurel call a badge host of their choosing
(``POST /wallet/connections``), so each learner and each address gets ``connect_rate``
connections started.

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

from issuer.context import Services
from issuer.core import metrics
from issuer.core.errors import TooManyRequests
from issuer.http.deps import ServicesDep

RATES = "laurel.rates"


class Allowance:
    def __init__(self, area: str, rates: str, what: str) -> None:
        self.area, self.what = area, what
        self.rates: list[RateLimitItem] = parse_many(rates) if rates.strip() else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def admit(self, client: str, whose: str = "your address") -> None:
        for rate in self.rates:
            if not self.limiter.hit(rate, self.area, client):
                reset = self.limiter.get_window_stats(rate, self.area, client).reset_time
                metrics.TURNED_AWAY.labels(self.area, "rate_limited").inc()
                raise TooManyRequests(
                    f"too many {self.what} from {whose} (at most {rate}); try again later",
                    retry_after=max(1, math.ceil(reset - time.time())),
                )


def _allowance(services: Services, area: str, rates: str, what: str) -> Allowance:
    found = services.cache.setdefault(RATES, {})
    assert isinstance(found, dict)
    allowance = found.get(area)
    if not isinstance(allowance, Allowance):
        allowance = found.setdefault(area, Allowance(area, rates, what))
    assert isinstance(allowance, Allowance)
    return allowance


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def registration_allowance(request: Request, services: ServicesDep) -> None:
    rates = services.settings.registration_rate
    _allowance(services, "oauth_register", rates, "registrations").admit(_client(request))


async def nonce_allowance(request: Request, services: ServicesDep) -> None:
    rates = services.settings.nonce_rate
    _allowance(services, "oid4vci_nonce", rates, "nonces").admit(_client(request))


def admit_connect(services: Services, learner_id: int, address: str) -> None:
    """Count a badge host connection the learner starts, against ``connect_rate`` per learner
    and per address; ``TooManyRequests`` past either."""
    rates = services.settings.connect_rate
    allowance = _allowance(services, "wallet_connect", rates, "badge host connections")
    allowance.admit(f"learner:{learner_id}", "your account")
    allowance.admit(address)


RegistrationAllowance = Annotated[None, Depends(registration_allowance)]
NonceAllowance = Annotated[None, Depends(nonce_allowance)]
