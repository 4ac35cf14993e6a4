"""Issuance throughput through the HTTP API, on SQLite and on PostgreSQL.

    python bench/issue.py [--count 2000] [--single 300] [--postgres URL] [--batch 1000]
                          [--workers 0] [--database both|sqlite|postgresql] [--verify 200]

For each database it starts ``laurel serve`` in its own process, creates an issuer and an API key,
then issues ``--single`` credentials one request at a time and ``--count`` in bulk requests (JSON
arrays of ``--batch`` rows, one after the other; an upload of more than 1,000 rows is a durable
job, polled every 20 ms, or every 250 ms for uploads of more than 10,000 rows: ``--batch 100000``
is an institute sending its whole cohort at once), and prints credentials per second next to the
library's own Data Integrity signing rate measured in this run, as a ratio per core the server
could use. At the end of each run it prints the server's peak RSS (its own and its signing
workers' high-water marks, summed), checks that every stored credential has its own (status list,
index) pair, and verifies ``--verify`` credentials picked at random with ``verify_credential``
(status lists fetched from the server). ``--workers N`` turns the server's embedded worker off and
runs N ``laurel worker`` processes for the background work (bulk jobs, effects) instead.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from verifier import Verdict, verify_credential
from verifier.errors import FetchError

DEFAULT_POSTGRES = "postgresql+psycopg://root@127.0.0.1:5432/test"
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def library_rate(seconds: float = 2.0) -> float:
    sys.path.insert(0, str(Path(__file__).parent))
    from proofs import typical_credential

    key = generate_ed25519()
    credential = typical_credential(did_key(key))
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        sign_data_integrity(credential, key, did_key_method(key))
        count += 1
    return count / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def laurel(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "issuer.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.extend(_tree(int(child)))
    return found


def peak_rss_mib(pid: int) -> float:
    """The summed VmHWM (peak resident set) of ``pid`` and its descendants, in MiB."""
    total = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


_fetched: dict[str, bytes] = {}
"""A verifying worker's copies of what it fetched from the server (status lists, DID documents):
they do not change while the run is checked."""


def _from_server(base: str) -> Callable[[str], bytes]:
    """A fetcher that asks the server at ``base`` for every URL's path (status lists, DID
    documents), once per URL in this process; a failure is a ``FetchError``, as verifiers
    expect, so the credential is "could not decide" rather than the run crashing."""

    def fetch(url: str) -> bytes:
        if url not in _fetched:
            try:
                response = httpx.get(base + urlsplit(url).path, timeout=60)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise FetchError(url, str(exc)) from exc
            _fetched[url] = response.content
        return _fetched[url]

    return fetch


def _verify_chunk(base: str, documents: list[str]) -> list[str]:
    """The ids of the credentials among ``documents`` (JSON texts) that do not verify (in a
    worker process)."""
    fetch = _from_server(base)
    failed = []
    for text_ in documents:
        document = json.loads(text_)
        if verify_credential(document, fetcher=fetch).verdict is not Verdict.VERIFIED:
            failed.append(str(document.get("id")))
    return failed


def verify_all(database_url: str, base: str, chunk: int = 1000) -> tuple[int, list[str]]:
    """Verify every stored credential on every core, streamed from the database in chunks with
    at most two chunks per core in flight (memory stays flat); the count and the failures."""
    engine = create_engine(database_url)
    failed: list[str] = []
    count = 0
    pool = ProcessPoolExecutor(CORES, mp_context=multiprocessing.get_context("spawn"))
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=chunk).execute(
                text("SELECT CAST(document AS TEXT) FROM credential")
            )
            in_flight: list[Future[list[str]]] = []
            for rows in result.scalars().partitions(chunk):
                count += len(rows)
                in_flight.append(pool.submit(_verify_chunk, base, list(rows)))
                if len(in_flight) >= 2 * CORES:
                    failed.extend(in_flight.pop(0).result())
            for future in in_flight:
                failed.extend(future.result())
    finally:
        pool.shutdown(cancel_futures=True)
        engine.dispose()
    return count, failed


def check_stored(database_url: str, client: httpx.Client, sample: int | None) -> str:
    """Every credential's status entry is unique; ``sample`` random credentials verify, or every
    credential when ``sample`` is None."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows, pairs = connection.execute(
                text(
                    "SELECT count(*), count(DISTINCT status_list_id * 1000000 + status_index) "
                    "FROM credential"
                )
            ).one()
            stored = connection.execute(
                text("SELECT document FROM credential ORDER BY random() LIMIT :n"),
                {"n": sample or 0},
            ).scalars()
            documents = [d if isinstance(d, dict) else json.loads(d) for d in stored]
    finally:
        engine.dispose()

    base = str(client.base_url).rstrip("/")
    if sample is None:
        start = time.perf_counter()
        verified, failed = verify_all(database_url, base)
        took = f" in {time.perf_counter() - start:.0f} s on {CORES} cores"
    else:
        fetch = _from_server(base)
        verified, took = len(documents), ""
        failed = [
            d["id"]
            for d in documents
            if verify_credential(d, fetcher=fetch).verdict is not Verdict.VERIFIED
        ]
    if rows != pairs or failed:
        raise SystemExit(f"{rows} credentials, {pairs} status entries; not verified: {failed[:5]}")
    every = "every credential, " if sample is None else ""
    distinct = f"{rows:,} credentials, {pairs:,} distinct status entries"
    return f"{distinct}, {every}{verified:,} verified{took}"


def run(
    database_url: str,
    label: str,
    count: int,
    single: int,
    library: float,
    sample: int | None = 200,
    batch: int = 1000,
    workers: int = 0,
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="laurel-bench-"))
    port = free_port()
    env = {
        **os.environ,
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEY_PASSPHRASE": "bench-passphrase",
        "LAUREL_KEYS_DIR": str(workdir / "keys"),
        "LAUREL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    laurel(env, "issuer", "create", "--name", "Bench Institute", "--slug", "bench")
    key = laurel(env, "apikey", "create", "--issuer", "bench", "--scopes", "admin").split()[-1]
    if workers:
        env["LAUREL_EMBEDDED_WORKER"] = "false"
    server = subprocess.Popen(
        [sys.executable, "-m", "issuer.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    background = [
        subprocess.Popen(
            [sys.executable, "-m", "issuer.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
            for _ in range(900):  # up to 90 s: the machine may be busy
                try:
                    client.get("/issuers/bench")
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
            # warm-up (imports, caches, the signing pool)
            client.post(
                "/api/v1/issuers/bench/credentials/bulk",
                json=[
                    {"recipient": {"email": f"warm{n}@example.org"}, "achievement": "course"}
                    for n in range(200)
                ],
            )
            start = time.perf_counter()
            for n in range(single):
                response = client.post(
                    "/api/v1/issuers/bench/credentials",
                    json={"recipient": {"email": f"s{n}@example.org"}, "achievement": "course"},
                )
                response.raise_for_status()
            single_rate = single / (time.perf_counter() - start)
            start = time.perf_counter()
            poll = 0.25 if batch > 10_000 else 0.02
            for offset in range(0, count, batch):
                rows = [
                    {
                        "recipient": {"email": f"b{n}@example.org", "name": f"Learner {n}"},
                        "achievement": "course",
                    }
                    for n in range(offset, min(count, offset + batch))
                ]
                answer = client.post("/api/v1/issuers/bench/credentials/bulk", json=rows)
                report = answer.json()
                if answer.status_code == 202:  # a job: wait for the worker to finish it
                    while report["status"] != "done":
                        time.sleep(poll)
                        report = client.get(f"{answer.headers['Location']}?limit=1").json()
                assert report["summary"]["issued"] == len(rows), report["summary"]
            bulk_seconds = time.perf_counter() - start
            bulk_rate = count / bulk_seconds
            rss = peak_rss_mib(server.pid) + sum(peak_rss_mib(p.pid) for p in background)
            checked = check_stored(database_url, client, sample)
    finally:
        server.terminate()
        for process in background:
            process.terminate()
        server.wait()
    print(f"{label:<11}{'one by one':<14}{single_rate:>10,.0f}/s{single_rate / library:>10.2f}")
    print(
        f"{label:<11}{'bulk':<14}{bulk_rate:>10,.0f}/s{bulk_rate / library:>10.2f}"
        f"   per core ({CORES}): {bulk_rate / CORES / library:.2f}"
        f"; {count:,} in {bulk_seconds:.1f} s"
    )
    print(f"{label:<11}server peak RSS {rss:,.0f} MiB; {checked}")


def sample_size(value: str) -> int | None:
    """``--verify``: a number of credentials, or ``all`` (None)."""
    if value == "all":
        return None
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise argparse.ArgumentTypeError(f"a number of credentials or 'all', not {value!r}")
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument(
        "--verify",
        type=sample_size,
        default=200,
        help="credentials verified at the end, picked at random; 'all': every one",
    )
    parser.add_argument("--batch", type=int, default=1000, help="rows per bulk request")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="dedicated `laurel worker` processes (PostgreSQL; 0: the server's embedded worker)",
    )
    args = parser.parse_args()
    library = library_rate()
    print(f"library Data Integrity signing: {library:,.0f}/s on one core; {CORES} cores")
    print(f"{'database':<11}{'mode':<14}{'rate':>12}{'× library':>10}")
    if args.database in ("both", "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            db = f"sqlite:///{tmp}/bench.db"
            run(db, "SQLite", args.count, args.single, library, args.verify, args.batch)
    if args.database == "sqlite":
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        run(
            f"{args.postgres}?options=-csearch_path%3D{schema}",
            "PostgreSQL",
            args.count,
            args.single,
            library,
            args.verify,
            args.batch,
            args.workers,
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
