"""The public pages under concurrent clients, next to the library's own verification rate.

    python bench/verify_page.py [--seconds 30] [--clients 64] [--workers 2]

Starts ``laurel serve`` (SQLite, a did:key issuer, ``--workers`` processes; the public
verification rate limit lifted), issues a credential, then drives ``GET /v/{id}``,
``GET /status/{n}``, ``GET /status/{n}`` with ``If-None-Match`` (answered 304 from the list's
ETag), ``POST /api/v1/verify`` and ``GET /healthz`` (what the server and these clients manage at
all) with ``--clients`` concurrent clients for ``--seconds`` each, and prints requests per
second, p50 and p99 latency and errors (any status of 400 or more, or no answer) next to
``verify_credential`` of the same credential measured in this process in the same run (one core).
Clients are Python threads in this process, so they share the cores with the server: the figures
are a floor. Also shows that serving a baked badge or a QR code again does not re-render the
image.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from issue import free_port, laurel
from load import drive

from verifier import verify_credential
from verifier.fetch import MappingFetcher


def library_rate(document: dict[str, Any], status: bytes, seconds: float) -> float:
    fetcher = MappingFetcher({document["credentialStatus"]["statusListCredential"]: status})
    now = datetime.now(UTC)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        verify_credential(document, now=now, fetcher=fetcher)
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LAUREL_DATABASE_URL": f"sqlite:///{workdir}/bench.db",
        "LAUREL_KEY_PASSPHRASE": "bench-passphrase",
        "LAUREL_KEYS_DIR": str(workdir / "keys"),
        "LAUREL_BASE_URL": base,
        "LAUREL_DID_METHOD": "key",
        "LAUREL_VERIFY_RATE": "1000000/minute",
    }
    laurel(env, "issuer", "create", "--name", "Bench Institute", "--slug", "bench")
    key = laurel(env, "apikey", "create", "--issuer", "bench", "--scopes", "admin").split()[-1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "issuer.app:create_app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for _ in range(900):  # up to 90 s: the machine may be busy
                try:
                    client.get("/verify")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            client.post(
                "/api/v1/issuers/bench/achievements",
                json={
                    "key": "course",
                    "name": "Bench Course",
                    "description": "A benchmark course.",
                    "criteria": "Finish it.",
                    "achievementType": "Course",
                    "creditsAvailable": 8,
                },
            )
            document = client.post(
                "/api/v1/issuers/bench/credentials",
                json={
                    "recipient": {"email": "a@example.org", "name": "김민준"},
                    "achievement": "course",
                },
            ).json()
            status = client.get(
                document["credentialStatus"]["statusListCredential"].removeprefix(base)
            ).content
            uuid = document["id"].removeprefix("urn:uuid:")
            verdict = client.post("/api/v1/verify", json=document).json()["verdict"]
            if verdict != "verified":  # pages that fail fast are no measure of pages that pass
                raise SystemExit(f"the server's own verification says {verdict!r}, not 'verified'")
            timings = []
            for path in ("badge.png", "badge.png", "qr.png", "qr.png"):
                start = time.perf_counter()
                client.get(f"/v/{uuid}/{path}").raise_for_status()
                timings.append((path, (time.perf_counter() - start) * 1000))
            list_path = document["credentialStatus"]["statusListCredential"].removeprefix(base)
            etag = client.get(list_path).headers["etag"]
        library = library_rate(document, status, 2.0)
        body = httpx.Client().build_request("POST", "x", json=document).content
        json_headers = {"Content-Type": "application/json"}
        runs: dict[str, Callable[[httpx.Client, int], httpx.Response]] = {
            "GET /healthz": lambda c, n: c.get("/healthz"),  # the stack's own ceiling
            "GET /v/{id}": lambda c, n: c.get(f"/v/{uuid}"),
            "GET /status/{n}": lambda c, n: c.get(list_path),
            "GET /status/{n} (304)": lambda c, n: c.get(list_path, headers={"If-None-Match": etag}),
            "POST /api/v1/verify": lambda c, n: c.post(
                "/api/v1/verify", content=body, headers=json_headers
            ),
        }
        results = {
            name: drive(base, request, args.clients, args.seconds) for name, request in runs.items()
        }
    finally:
        server.terminate()
        server.wait()
    print(f"library verify_credential: {library:,.0f}/s (one core, this process)")
    print(
        f"server: {args.workers} worker process(es), {args.clients} concurrent clients, "
        f"{args.seconds:g} s per endpoint"
    )
    print(f"{'endpoint':<24}{'req/s':>8}{'× library':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, result in results.items():
        print(
            f"{name:<24}{result['rate']:>8,.0f}{result['rate'] / library:>11.2f}"
            f"{result['p50'] * 1000:>9.1f}{result['p99'] * 1000:>9.1f}{result['errors']:>8}"
        )
    for path, ms in timings:
        print(f"  {path:<10} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
