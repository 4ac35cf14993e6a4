"""``test_fuzz_api.py`` on PostgreSQL: the same test, in a file of its own so that
``--dist loadfile`` can run it beside the SQLite half instead of after it."""

from __future__ import annotations

import pytest

from tests.reliability.test_fuzz_api import seeded, test_no_request_gets_a_server_error

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

__all__ = ["seeded", "test_no_request_gets_a_server_error"]
