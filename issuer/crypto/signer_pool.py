"""Signing in parallel: a pool of worker processes, one per core, for bulk issuance.

Canonicalisation is CPU-bound Python, so threads cannot use a second core; processes can. Each
worker receives the Ed25519 seed with each task and keeps the key object, keyed by the seed
(never by the key id alone: two deployments or tests may reuse an id with another key). The pool is
created on first use and lives as long as the process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from issuer.crypto.signing import sign_data_integrity

MIN_PARALLEL = 64  # fewer documents than this are signed in the calling process

_pool: ProcessPoolExecutor | None = None
_worker_keys: dict[bytes, ed25519.Ed25519PrivateKey] = {}


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _sign_chunk(seed: bytes, kid: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = _worker_keys.get(seed)
    if key is None:
        key = _worker_keys[seed] = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return [sign_data_integrity(document, key, kid) for document in documents]


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the server process has threads, and forking those is unsafe.
        _pool = ProcessPoolExecutor(workers(), mp_context=multiprocessing.get_context("spawn"))
    return _pool


def submit(
    documents: list[dict[str, Any]], key: ed25519.Ed25519PrivateKey, kid: str
) -> Callable[[], list[dict[str, Any]]]:
    """Start signing every document with ``key`` (Data Integrity), in parallel when it pays;
    the returned function waits for and returns the signed documents, in order."""
    if len(documents) < MIN_PARALLEL or workers() == 1:
        signed = [sign_data_integrity(document, key, kid) for document in documents]
        return lambda: signed
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    size = -(-len(documents) // (workers() * 2))
    pool = _get_pool()
    futures = [
        pool.submit(_sign_chunk, seed, kid, documents[i : i + size])
        for i in range(0, len(documents), size)
    ]
    return lambda: [document for future in futures for document in future.result()]


def sign_many(
    documents: list[dict[str, Any]], key: ed25519.Ed25519PrivateKey, kid: str
) -> list[dict[str, Any]]:
    """Sign every document with ``key``, in parallel when it pays."""
    return submit(documents, key, kid)()
