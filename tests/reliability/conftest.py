"""The service fixtures of tests/issuer (``services``, ``client``), for the reliability suite."""

from tests.issuer.conftest import client, services

__all__ = ["client", "services"]
