"""``VerificationSlot``: the dependency of every public verification route (``/verify``,
``/api/v1/verify``): the client's allowance, then one of the bounded slots for the request's
duration (``issuer.verification.gate``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from issuer.http.deps import ServicesDep
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
