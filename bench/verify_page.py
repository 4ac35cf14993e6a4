"""The verification page and API under concurrent clients, next to the library's own rate.

    python bench/verify_page.py [--seconds 5] [--clients 8] [--workers 2]

The load comes from ``wrk`` (Debian package ``wrk``) when it is installed — a C client that
leaves the cores to the server — and from Python threads otherwise.

Starts ``laurel serve`` (SQLite, a did:key issuer, ``--workers`` processes), issues a credential,
then drives ``GET /v/{id}`` and ``POST /api/v1/verify`` with concurrent clients and prints
requests per second next to ``verify_credential`` measured in this process in the same run. Also
shows that serving a baked badge or a QR code again does not re-render the image.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from issue import free_port, laurel

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


def drive(
    client_factory: Callable[[], httpx.Client],
    request: Callable[[httpx.Client], httpx.Response],
    clients: int,
    seconds: float,
) -> float:
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(index: int) -> None:
        with client_factory() as client:
            while time.perf_counter() < stop:
                response = request(client)
                assert response.status_code == 200, response.text[:200]
                counts[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def wrk(url: str, clients: int, seconds: float, body: bytes | None = None) -> float | None:
    """Requests per second measured by wrk, or None when wrk is not installed."""
    import shutil

    if shutil.which("wrk") is None:
        return None
    args = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{max(1, int(seconds))}s", url]
    script = None
    if body is not None:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        escaped = body.decode().replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = '
            f'"application/json"\nwrk.body = "{escaped}"\n'
        )
        args[1:1] = ["-s", str(script)]
    output = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(output)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=8)
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
            for _ in range(200):
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
            timings = []
            for path in ("badge.png", "badge.png", "qr.png", "qr.png"):
                start = time.perf_counter()
                client.get(f"/v/{uuid}/{path}").raise_for_status()
                timings.append((path, (time.perf_counter() - start) * 1000))
        library = library_rate(document, status, 2.0)
        body = httpx.Client().build_request("POST", "x", json=document).content

        def factory() -> httpx.Client:
            return httpx.Client(base_url=base, timeout=60)

        page = wrk(f"{base}/v/{uuid}", args.clients, args.seconds) or drive(
            factory, lambda c: c.get(f"/v/{uuid}"), args.clients, args.seconds
        )
        api = wrk(f"{base}/api/v1/verify", args.clients, args.seconds, body) or drive(
            factory,
            lambda c: c.post(
                "/api/v1/verify", content=body, headers={"Content-Type": "application/json"}
            ),
            args.clients,
            args.seconds,
        )
    finally:
        server.terminate()
        server.wait()
    print(f"library verify_credential: {library:,.0f}/s (one core, this process)")
    print(f"server: {args.workers} worker process(es), {args.clients} concurrent clients")
    print(f"{'GET /v/{id}':<24}{page:>8,.0f}/s{page / library:>8.2f} × library")
    print(f"{'POST /api/v1/verify':<24}{api:>8,.0f}/s{api / library:>8.2f} × library")
    for path, ms in timings:
        print(f"  {path:<10} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
