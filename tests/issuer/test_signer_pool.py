"""The signer pool's worker processes end with the process that started them, however it ends
(kill -9 included), instead of living on as orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from issuer.crypto import signer_pool
from issuer.crypto.keys import did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential

SIGN_TWICE = """
import threading, time
from issuer.crypto import signer_pool
from issuer.crypto.keys import did_key_method, generate_ed25519
from tests.issuer.credentials import make_credential

signer_pool.workers = lambda: 2  # a pool even on a machine with one core
key = generate_ed25519()
documents = [make_credential("did:example:issuer") for _ in range(signer_pool.MIN_PARALLEL)]
# started from a request thread that then ends, as a server's idle threads do: the workers live on
request = threading.Thread(target=signer_pool.sign_many, args=(documents, key, "did:example:1#1"))
request.start()
request.join()
signer_pool.sign_many(documents, key, did_key_method(key))
print("signed", flush=True)
time.sleep(3600)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child its new parent has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_their_server_is_killed() -> None:
    """A process that signed with the pool is killed with SIGKILL (no clean-up runs): its workers
    notice and exit (before, they waited for work forever). They do not end with the thread that
    started them, though (as ``PR_SET_PDEATHSIG`` would make them)."""
    root = Path(__file__).resolve().parents[2]
    with subprocess.Popen(
        [sys.executable, "-c", SIGN_TWICE], cwd=root, stdout=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None
        try:
            assert server.stdout.readline().strip() == "signed"
            workers = _children(server.pid)
            assert len(workers) >= 2  # the pool's workers (and multiprocessing's resource tracker)
        finally:
            os.kill(server.pid, signal.SIGKILL)
    for _ in range(1200):  # generous: this asserts that they exit, not how fast
        if not any(_running(pid) for pid in workers):
            break
        time.sleep(0.1)
    still = [pid for pid in workers if _running(pid)]
    for pid in still:
        os.kill(pid, signal.SIGKILL)  # leave nothing behind when the test fails
    assert still == []


def test_the_pool_signs_what_the_calling_process_would(monkeypatch: pytest.MonkeyPatch) -> None:
    """Byte for byte, in order: the workers send back proofs only and this process attaches
    them, so the result must be exactly what ``sign_data_integrity`` makes here (Ed25519 is
    deterministic; only ``created``, the workers' clock, is taken from their answer)."""
    monkeypatch.setattr(signer_pool, "workers", lambda: 2)  # a pool even on one core
    key = generate_ed25519()
    method = did_key_method(key)
    documents = [make_credential(f"did:example:{n}") for n in range(signer_pool.MIN_PARALLEL)]
    documents[1]["proof"] = {"type": "DataIntegrityProof", "proofValue": "zExisting"}
    signed = signer_pool.sign_many(documents, key, method)
    expected = [
        sign_data_integrity(document, key, method, created=result["proof"][-1]["created"])
        for document, result in zip(documents, signed, strict=True)
    ]
    assert [json.dumps(d) for d in signed] == [json.dumps(d) for d in expected]
    assert signed[1]["proof"][0]["proofValue"] == "zExisting" and len(signed[1]["proof"]) == 2
    assert "proof" not in documents[0]  # the caller's documents are left as they were
