"""A work limit for RDFC-1.0 (§4.4, "the algorithm ... may be subject to poison graphs").

Hashing N-degree quads explores permutations of blank nodes that first-degree hashes cannot tell
apart; a few hundred bytes of mutually linked blank nodes make that take hours. Real credentials
need a handful of such steps. Each canonicalisation (``verifier.rdfc.Rdfc10``) runs inside
``one_canonicalisation()`` and gets a budget of steps (N-degree hash calls plus permutations);
exceeding it raises ``JsonLdError`` instead of hanging.

``shared_budget()`` adds a budget for every canonicalisation inside it together: one verification
canonicalises a CLR and each of its (up to 250) nested credentials, and a poisoned document must
not get a fresh ``MAX_STEPS`` for each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from verifier.errors import JsonLdError

MAX_STEPS = 20_000
MAX_SHARED_STEPS = 5 * MAX_STEPS

_budget: ContextVar[list[int] | None] = ContextVar("rdfc_budget", default=None)
_shared: ContextVar[list[int] | None] = ContextVar("rdfc_shared_budget", default=None)


@contextmanager
def shared_budget(steps: int = MAX_SHARED_STEPS) -> Iterator[None]:
    """Every canonicalisation inside spends from one budget of ``steps`` too."""
    token = _shared.set([steps])
    try:
        yield
    finally:
        _shared.reset(token)


def _spend() -> None:
    budget = _budget.get()
    if budget is not None:
        budget[0] -= 1
        if budget[0] < 0:
            raise JsonLdError(
                "the credential's blank nodes are too entangled to canonicalise "
                f"(more than {MAX_STEPS} RDFC-1.0 steps)"
            )
    shared = _shared.get()
    if shared is not None:
        shared[0] -= 1
        if shared[0] < 0:
            raise JsonLdError(
                "the blank nodes of the credentials in this document are too entangled to "
                f"canonicalise (more than {MAX_SHARED_STEPS} RDFC-1.0 steps in all)"
            )


@contextmanager
def one_canonicalisation() -> Iterator[None]:
    """A budget of ``MAX_STEPS`` for one canonicalisation (and any shared budget around it)."""
    token = _budget.set([MAX_STEPS])
    try:
        yield
    finally:
        _budget.reset(token)


def spend() -> None:
    """Spend one step from the current budgets; raise ``JsonLdError`` at the first step beyond."""
    _spend()
