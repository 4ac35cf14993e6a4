"""The verifier's tests measure processing budgets (``verifier.rdfc_budget`` counts the thread's
CPU time, which includes the garbage collections the test's own allocations trigger). A full run
leaves a large heap behind from the tests before; every full collection would walk it and count
that against the budget under test. So each module starts with that heap collected and frozen
(``gc.freeze``: moved out of the collector's way), and gives it back after."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _settled_heap() -> Iterator[None]:
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
