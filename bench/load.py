"""One `laurel serve` process under many concurrent clients: throughput, p50/p99 latency and
errors per endpoint, next to `/healthz` (the framework's own floor) measured in the same run.

    python bench/load.py [--clients 64] [--seconds 8] [--database postgresql|sqlite]

Endpoints: ``GET /v/{id}`` (what a QR code opens), ``GET /status/{n}``, ``POST /api/v1/verify``,
``POST …/credentials`` (issue one), and all four mixed. Clients are Python threads in this
process, so they share the machine's cores with the server: the figures are a floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from issue import free_port, laurel

POSTGRES = os.environ.get(
    "LAUREL_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)
Request = Callable[[httpx.Client, int], httpx.Response]


def drive(base: str, request: Request, clients: int, seconds: float) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.perf_counter() + seconds

    def run(index: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            number = 0
            while time.perf_counter() < stop:
                start = time.perf_counter()
                try:
                    response = request(client, index * 1_000_000 + number)
                    if response.status_code >= 400:
                        errors[index] += 1
                except httpx.HTTPError:
                    errors[index] += 1
                latencies[index].append(time.perf_counter() - start)
                number += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = sorted(t for per_client in latencies for t in per_client)
    return {
        "rate": len(every) / elapsed,
        "p50": statistics.median(every) if every else 0.0,
        "p99": every[min(len(every) - 1, int(len(every) * 0.99))] if every else 0.0,
        "errors": sum(errors),
        "count": len(every),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="laurel-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    schema = f"load_{uuid.uuid4().hex[:8]}"
    if args.database == "postgresql":
        from sqlalchemy import create_engine, text

        admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        database = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    else:
        database = f"sqlite:///{workdir}/load.db"
    env = {
        **os.environ,
        "LAUREL_DATABASE_URL": database,
        "LAUREL_KEY_PASSPHRASE": "load-bench-passphrase",
        "LAUREL_KEYS_DIR": str(workdir / "keys"),
        "LAUREL_BASE_URL": base,
        "LAUREL_DID_METHOD": "key",
        "LAUREL_VERIFY_RATE": "1000000/minute",
    }
    laurel(env, "issuer", "create", "--name", "Load Institute", "--slug", "load")
    key = laurel(env, "apikey", "create", "--issuer", "load", "--scopes", "admin").split()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "issuer.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    headers = {"Authorization": f"Bearer {key}"}
    results: dict[str, dict[str, Any]] = {}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for _ in range(200):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            client.post(
                "/api/v1/issuers/load/achievements",
                json={
                    "key": "course",
                    "name": "Load Course",
                    "description": "A course for the load test.",
                    "criteria": "Finish it.",
                    "achievementType": "Course",
                },
            ).raise_for_status()
            rows = [
                {"recipient": {"email": f"seed{n}@example.org"}, "achievement": "course"}
                for n in range(50)
            ]
            report = client.post("/api/v1/issuers/load/credentials/bulk", json=rows).json()
            ids = [r["id"].removeprefix("urn:uuid:") for r in report["rows"]]
            credential = client.get(f"/api/v1/credentials/{ids[0]}").json()
            verdict = client.post("/api/v1/verify", json=credential).json()["verdict"]
            if verdict != "verified":  # pages that fail fast are no measure of pages that pass
                raise SystemExit(f"the server's own verification says {verdict!r}, not 'verified'")
        status = "/" + credential["credentialStatus"]["statusListCredential"].split("/", 3)[3]
        body = httpx.Client().build_request("POST", "x", json=credential).content

        def page(c: httpx.Client, n: int) -> httpx.Response:
            return c.get(f"/v/{ids[n % len(ids)]}")

        def status_list(c: httpx.Client, n: int) -> httpx.Response:
            return c.get(status)

        def verify(c: httpx.Client, n: int) -> httpx.Response:
            return c.post(
                "/api/v1/verify", content=body, headers={"Content-Type": "application/json"}
            )

        def issue(c: httpx.Client, n: int) -> httpx.Response:
            return c.post(
                "/api/v1/issuers/load/credentials",
                json={"recipient": {"email": f"l{n}@example.org"}, "achievement": "course"},
                headers=headers,
            )

        kinds: list[Request] = [page, status_list, verify, issue]

        def mixed(c: httpx.Client, n: int) -> httpx.Response:
            return kinds[n % 4](c, n)

        scenarios: dict[str, Request] = {
            "GET /healthz": lambda c, n: c.get("/healthz"),
            "GET /v/{id}": page,
            "GET /status/{n}": status_list,
            "POST /api/v1/verify": verify,
            "POST issue one": issue,
            "all four mixed": mixed,
        }
        for name, request in scenarios.items():
            results[name] = drive(base, request, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait()
        if args.database == "postgresql":
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    floor = results["GET /healthz"]["rate"]
    print(f"laurel serve, 1 process, {args.database}, {args.clients} concurrent clients")
    print(f"{'':<22}{'req/s':>9}{'× healthz':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for name, result in results.items():
        print(
            f"{name:<22}{result['rate']:>9,.0f}{result['rate'] / floor:>11.2f}"
            f"{result['p50'] * 1000:>9.0f}{result['p99'] * 1000:>9.0f}"
            f"{result['errors']:>8}"
        )


if __name__ == "__main__":
    main()
