"""A work limit for RDFC-1.0 (§4.4, "the algorithm ... may be subject to poison graphs").

Hashing N-degree quads explores permutations of blank nodes that first-degree hashes cannot tell
apart; a few hundred bytes of mutually linked blank nodes make that take hours. Real credentials
need a handful of such steps. ``install()`` wraps PyLD's URDNA2015 so that each canonicalisation
gets a budget of steps (N-degree hash calls plus permutations); exceeding it raises
``JsonLdError`` instead of hanging.

``shared_budget()`` adds a budget for every canonicalisation inside it together: one verification
canonicalises a CLR and each of its (up to 250) nested credentials, and a poisoned document must
not get a fresh ``MAX_STEPS`` for each of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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


def install() -> None:
    from pyld import canon

    if getattr(canon.URDNA2015, "_laurel_budget", False):
        return
    original_main = canon.URDNA2015.main
    original_hash = canon.URDNA2015.hash_n_degree_quads
    original_permutations = canon.permutations

    def main(self: Any, dataset: Any, options: Any) -> Any:
        token = _budget.set([MAX_STEPS])
        try:
            return original_main(self, dataset, options)
        finally:
            _budget.reset(token)

    def hash_n_degree_quads(self: Any, id_: Any, issuer: Any) -> Any:
        _spend()
        return original_hash(self, id_, issuer)

    def permutations(elements: Any) -> Iterator[Any]:
        for permutation in original_permutations(elements):
            _spend()
            yield permutation

    canon.URDNA2015.main = main
    canon.URDNA2015.hash_n_degree_quads = hash_n_degree_quads
    canon.permutations = permutations
    canon.URDNA2015._laurel_budget = True
