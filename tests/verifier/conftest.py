"""The verifier's tests measure processing budgets (``verifier.rdfc_budget`` counts the thread's
CPU time, which includes the garbage collections the test's own allocations trigger). A full run
leaves a large heap behind from the tests before; every full collection would walk it and count
that against the budget under test. So each module starts with that heap collected and frozen
(``gc.freeze``: moved out of the collector's way), and gives it back after."""

from __future__ import annotations

import gc
import ssl
from collections.abc import Iterator

import pytest
import trustme


@pytest.fixture(autouse=True, scope="module")
def _settled_heap() -> Iterator[None]:
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority for local TLS servers (``local_servers.server_tls``)."""
    return trustme.CA()


@pytest.fixture
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A client's TLS context that trusts ``ca``."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
