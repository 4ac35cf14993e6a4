"""Reading other hosts ahead, with no write transaction open (docs/operations.md,
"Databases").

Verifying a badge from elsewhere fetches documents of hosts the badge names (its issuer's DID
document, key sets, its status list, the badge itself by URL, an OB 2.0 badge class), each up to
10 s. The work that then stores a verdict (an import, a recheck, a share) runs twice: first
``read_ahead`` runs the part that reads (``look``) in a read-only unit of work, through a network
that remembers every answer (``Remembered``: bodies as they came, ``Fetched`` ones included, and
failures) and gives the unit's connection back before each question; then the caller's write unit
runs the service as before ``answering`` from the same memory, so it waits for no host. What the
first pass did not ask (it is an optimisation: nothing depends on it being complete) the second
asks the network for, holding its write transaction, as everything did before.

``LocalFirstFetcher`` consults ``answering``'s memory (``issuer.verification.fetching``) before
``services.network``; it is a context variable, set in the worker thread that runs the work
(never relied on to cross ``run_in_threadpool``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlmodel import Session

from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.core.errors import LaurelError
from issuer.verification.fetching import Remembered, answering, shared_network


def read_ahead(services: Services, look: Callable[[Session], object]) -> Remembered:
    """The first pass: ``look(session)`` in a read-only unit of work, its network answers
    remembered (the returned ``Remembered``, for ``answering``). A refusal (``LaurelError``) is
    left for the second pass to make, with its own message, as it always has."""
    remembered = Remembered(services.network or shared_network(services))
    with answering(remembered), unit_of_work(services.engine, write=False) as db:
        remembered.before_asking = db.commit  # a read-only unit: gives its connection back
        try:
            look(db)
        except LaurelError:
            pass
        finally:
            remembered.before_asking = None
    return remembered


@contextmanager
def network_first(services: Services, look: Callable[[Session], object]) -> Iterator[Remembered]:
    """``read_ahead(services, look)``, then its memory ``answering`` within the block (where
    the caller opens its write unit)."""
    with answering(read_ahead(services, look)) as remembered:
        yield remembered
