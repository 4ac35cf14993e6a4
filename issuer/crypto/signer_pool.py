"""Signing in parallel: a pool of worker processes, one per core, for bulk issuance.

Canonicalisation is CPU-bound Python, so threads cannot use a second core; processes can. Each
worker receives the Ed25519 seed with each task and keeps the key object, keyed by the seed
(never by the key id alone: two deployments or tests may reuse an id with another key). The pool is
created on first use and lives as long as the process.

Workers end with the process that started them, however it ends (kill -9 included): each watches
its parent's sentinel (a pipe whose other end only the parent holds, so it reads end-of-file the
moment the parent is gone) and its parent pid, and exits. ``PR_SET_PDEATHSIG`` is not used: Linux
sends it when the *thread* that started the child ends (prctl(2)), and the pool starts its workers
from whichever request thread first needs them — threads that the server retires when idle.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from issuer.crypto.signing import data_integrity_proof, sign_data_integrity
from verifier.proof.data_integrity import append_proof

MIN_PARALLEL = 64  # fewer documents than this are signed in the calling process

_pool: ProcessPoolExecutor | None = None
_worker_keys: dict[bytes, ed25519.Ed25519PrivateKey] = {}


def workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def _sign_chunk(seed: bytes, kid: str, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each document's proof only (in a worker): the caller has the documents already, and
    unpickling whole signed documents cost it a seventh of its time in a bulk run."""
    key = _worker_keys.get(seed)
    if key is None:
        key = _worker_keys[seed] = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    return [data_integrity_proof(document, key, kid) for document in documents]


def _end_with_parent() -> None:
    """Pool initializer (in each worker): exit as soon as the parent process is gone."""
    parent, parent_pid = multiprocessing.parent_process(), os.getppid()

    def watch() -> None:
        while True:
            if parent is not None:
                parent.join(timeout=1.0)  # returns at once when the parent dies
            else:
                threading.Event().wait(1.0)
            gone = parent is not None and not parent.is_alive()
            if gone or os.getppid() != parent_pid:  # reparented: the parent died
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the server process has threads, and forking those is unsafe.
        _pool = ProcessPoolExecutor(
            workers(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_end_with_parent,
        )
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

    def attached() -> list[dict[str, Any]]:
        proofs = [proof for future in futures for proof in future.result()]
        pairs = zip(documents, proofs, strict=True)
        return [append_proof(document, proof) for document, proof in pairs]

    return attached


def sign_many(
    documents: list[dict[str, Any]], key: ed25519.Ed25519PrivateKey, kid: str
) -> list[dict[str, Any]]:
    """Sign every document with ``key``, in parallel when it pays."""
    return submit(documents, key, kid)()
