"""The public pages under concurrent clients, next to the library's own verification rate.

    python bench/verify_page.py [--seconds 30] [--clients 64] [--workers 2]
                                [--client threads|autocannon] [--uvicorn] [--badges 1000]

Starts ``laurel serve --workers`` (SQLite, a did:key issuer, each process on its own socket;
``--uvicorn``: uvicorn's ``--workers`` instead, one socket shared by the processes; the public
verification rate limit lifted), issues a credential, then drives ``GET /v/{id}`` (that badge
again and again, then ``--badges`` other badges asked for in turn: more than a process remembers
rendered pages of, so each of those pages is rendered),
``GET /status/{n}``, ``GET /status/{n}`` with ``If-None-Match`` (answered 304 from the list's
ETag), ``POST /api/v1/verify`` and ``GET /healthz`` (what the server and these clients manage at
all) with ``--clients`` concurrent clients for ``--seconds`` each, and prints requests per
second, p50 and p99 latency, errors (any status of 400 or more, or no answer) and the server's
CPU time per request (its processes' user and system time, from ``/proc``, and the busiest
process's share of it) next to
``verify_credential`` of the same credential measured in this process in the same run (one core).
Clients are Python threads in this process, so they share the cores with the server: the figures
are a floor. ``--client autocannon`` drives the same requests with autocannon instead (a Node.js
load generator, installed from the npm registry into the temporary directory on first use),
which costs the shared cores far less than 64 Python threads. Also shows that serving a baked
badge or a QR code again does not re-render the image.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Spec:
    """One endpoint's request, and the status every answer should have."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: int = 200
    paths: tuple[str, ...] = ()
    """When given, each request takes the next of these paths (``path`` is not asked for)."""

    def send(self, client: httpx.Client, number: int) -> httpx.Response:
        path = self.paths[number % len(self.paths)] if self.paths else self.path
        return client.request(self.method, path, headers=self.headers, content=self.body)


AUTOCANNON = "autocannon@8"


def autocannon() -> Path:
    """autocannon (a Node.js load generator), installed from the npm registry once into the
    temporary directory."""
    home = Path(tempfile.gettempdir()) / "laurel-bench-autocannon"
    tool = home / "node_modules" / ".bin" / "autocannon"
    if not tool.exists():
        home.mkdir(exist_ok=True)
        npm = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(home)]
        subprocess.run([*npm, AUTOCANNON], check=True)
    return tool


IN_TURN = """
const autocannon = require(process.argv[2]);
const options = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const paths = options.paths;
let next = 0;
delete options.paths;
const inTurn = (request) => ({ ...request, path: paths[next++ % paths.length] });
options.requests = [{ setupRequest: inTurn }];
autocannon(options, (error, result) => {
  if (error) { console.error(error); process.exit(1); }
  process.stdout.write(JSON.stringify(result));
});
"""
"""autocannon's own API, for requests that take ``Spec.paths`` in turn (its command has no such
option)."""


def drive_autocannon(
    tool: Path, base: str, spec: Spec, clients: int, seconds: float
) -> dict[str, Any]:
    """``load.drive``'s figures, measured by autocannon: ``clients`` connections, each sending
    its next request when the last is answered. An error is any answer other than
    ``spec.expect``, a failed connection or a timeout."""
    duration = max(1, round(seconds))
    if spec.paths:
        options = {"url": base, "connections": clients, "duration": duration}
        options.update(method=spec.method, headers=spec.headers, paths=list(spec.paths))
        module = tool.parent.parent / "autocannon"
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "options.json").write_text(json.dumps(options))
            (Path(folder) / "in_turn.js").write_text(IN_TURN)
            command = ["node", f"{folder}/in_turn.js", str(module), f"{folder}/options.json"]
            out = subprocess.run(command, capture_output=True, check=True)
        return _figures(json.loads(out.stdout), spec)
    command = [str(tool), "-j", "-c", str(clients), "-d", str(duration)]
    command += ["-m", spec.method]
    for name, value in spec.headers.items():
        command += ["-H", f"{name}={value}"]
    with tempfile.NamedTemporaryFile(suffix=".body") as body:
        if spec.body is not None:
            body.write(spec.body)
            body.flush()
            command += ["-i", body.name]
        out = subprocess.run([*command, base + spec.path], capture_output=True, check=True)
    return _figures(json.loads(out.stdout), spec)


def _figures(report: dict[str, Any], spec: Spec) -> dict[str, Any]:
    wrong = sum(
        stats["count"]
        for code, stats in report.get("statusCodeStats", {}).items()
        if int(code) != spec.expect
    )
    return {
        "rate": report["requests"]["total"] / report["duration"],
        "p50": report["latency"]["p50"] / 1000,
        "p99": report["latency"]["p99"] / 1000,
        "errors": wrong + report["errors"] + report["timeouts"],
        "count": report["requests"]["total"],
    }


def server_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user and system) used so far by process ``pid`` and each of its live
    descendants (uvicorn's worker processes), from ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    used, pending = {}, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:  # ended meanwhile
            continue
        used[current] = (int(fields[11]) + int(fields[12])) / tick
        pending.extend(int(child) for child in children)
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> tuple[float, float]:
    """The server's CPU seconds between two ``server_cpu`` readings, and the busiest process's
    share of them. uvicorn's workers share one listening socket, and whichever wakes first
    accepts every waiting connection, so a few long-lived connections can land on one worker;
    ``laurel serve --workers`` gives each process its own socket (``issuer.serving``)."""
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    total = sum(spent.values())
    return total, (max(spent.values()) / total if total else 0.0)


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
    parser.add_argument("--client", choices=["threads", "autocannon"], default="threads")
    parser.add_argument(
        "--badges",
        type=int,
        default=1000,
        help="badges whose pages are asked for in turn (more than a process remembers)",
    )
    parser.add_argument(
        "--uvicorn", action="store_true", help="uvicorn --workers instead of laurel serve's"
    )
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
    if args.uvicorn:  # one listening socket shared by the processes
        command = ["-m", "uvicorn", "--factory", "issuer.app:create_app", "--log-level", "warning"]
    else:  # a socket per process (issuer.serving)
        command = ["-m", "issuer.cli", "serve", "--no-access-log"]
    server = subprocess.Popen(
        [sys.executable, *command, "--port", str(port), "--workers", str(args.workers)],
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
            badges = []
            for offset in range(0, args.badges, 250):  # a bulk request answered at once
                rows = [
                    {"recipient": {"email": f"b{n}@example.org"}, "achievement": "course"}
                    for n in range(offset, min(args.badges, offset + 250))
                ]
                answer = client.post("/api/v1/issuers/bench/credentials/bulk", json=rows)
                answer.raise_for_status()
                badges += [row["id"].removeprefix("urn:uuid:") for row in answer.json()["rows"]]
        library = library_rate(document, status, 2.0)
        body = httpx.Client().build_request("POST", "x", json=document).content
        json_headers = {"Content-Type": "application/json"}
        specs = {
            "GET /healthz": Spec("GET", "/healthz"),  # the stack's own ceiling
            "GET /v/{id}": Spec("GET", f"/v/{uuid}"),
        }
        if badges:  # --badges 0: no such row
            in_turn = Spec("GET", "/v/{id}", paths=tuple(f"/v/{badge}" for badge in badges))
            specs[f"GET /v/{{id}}, {len(badges):,} ids"] = in_turn
        specs["GET /status/{n}"] = Spec("GET", list_path)
        specs["GET /status/{n} (304)"] = Spec("GET", list_path, {"If-None-Match": etag}, expect=304)
        specs["POST /api/v1/verify"] = Spec("POST", "/api/v1/verify", json_headers, body)
        tool = autocannon() if args.client == "autocannon" else None
        results = {}
        for name, spec in specs.items():
            before = server_cpu(server.pid)
            if tool is not None:
                results[name] = drive_autocannon(tool, base, spec, args.clients, args.seconds)
            else:
                results[name] = drive(base, spec.send, args.clients, args.seconds)
            used, busiest = cpu_since(before, server_cpu(server.pid))
            results[name]["cpu"] = used / max(1, results[name]["count"])
            results[name]["busiest"] = busiest
    finally:
        server.terminate()
        server.wait()
    print(f"library verify_credential: {library:,.0f}/s (one core, this process)")
    print(
        f"server: {args.workers} process(es) "
        f"({'uvicorn, one shared socket' if args.uvicorn else 'laurel serve, a socket each'}), "
        f"{args.clients} concurrent clients "
        f"({args.client}), {args.seconds:g} s per endpoint"
    )
    print(
        f"{'endpoint':<26}{'req/s':>8}{'× library':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'server CPU ms':>15}{'busiest':>9}"
    )
    for name, result in results.items():
        print(
            f"{name:<26}{result['rate']:>8,.0f}{result['rate'] / library:>11.2f}"
            f"{result['p50'] * 1000:>9.1f}{result['p99'] * 1000:>9.1f}{result['errors']:>8}"
            f"{result['cpu'] * 1000:>15.2f}{result['busiest']:>9.0%}"
        )
    print(
        f"(server CPU ms: per request, all server processes; library: {1000 / library:.2f} ms. "
        "busiest: the busiest process's share of the server's CPU)"
    )
    for path, ms in timings:
        print(f"  {path:<10} {ms:7.1f} ms")


if __name__ == "__main__":
    main()
