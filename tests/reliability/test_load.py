"""64 clients at once on one process: every request is answered, none with an error. (How fast:
``bench/load.py``; a test never asserts a duration.)"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.issuer.conftest import ACHIEVEMENT
from tests.reliability.conftest import Live
from tests.units import create_api_key, create_issuer

CLIENTS = 64
ROUNDS = 6


def test_sixty_four_clients_are_all_answered(live_postgres: Live) -> None:
    base, services = live_postgres.base, live_postgres.services
    create_issuer(services, slug="hrd", name="HRD Institute", did_method="key")
    key = create_api_key(services, "hrd", ["issue", "admin"])
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=120, headers=headers) as setup:
        assert setup.post("/api/v1/issuers/hrd/achievements", json=ACHIEVEMENT).status_code == 201
        rows = [
            {"recipient": {"email": f"seed{n}@example.org"}, "achievement": "leading-people"}
            for n in range(16)
        ]
        report = setup.post("/api/v1/issuers/hrd/credentials/bulk", json=rows).json()
        ids = [r["id"].removeprefix("urn:uuid:") for r in report["rows"]]
        credential = setup.get(f"/api/v1/credentials/{ids[0]}").json()
    status_path = "/" + credential["credentialStatus"]["statusListCredential"].split("/", 3)[3]

    def client(number: int) -> list[tuple[str, int | str]]:
        seen: list[tuple[str, int | str]] = []
        with httpx.Client(base_url=base, timeout=120) as http:
            for round_ in range(ROUNDS):
                kind = (number + round_) % 4
                try:
                    if kind == 0:
                        answer = http.get(f"/v/{ids[(number + round_) % len(ids)]}")
                    elif kind == 1:
                        answer = http.get(status_path)
                    elif kind == 2:
                        answer = http.post("/api/v1/verify", json=credential)
                    else:
                        body: dict[str, Any] = {
                            "recipient": {"email": f"c{number}r{round_}@example.org"},
                            "achievement": "leading-people",
                        }
                        answer = http.post(
                            "/api/v1/issuers/hrd/credentials", json=body, headers=headers
                        )
                    seen.append((("page", "status", "verify", "issue")[kind], answer.status_code))
                except httpx.HTTPError as exc:
                    seen.append((("page", "status", "verify", "issue")[kind], type(exc).__name__))
        return seen

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for seen in pool.map(client, range(CLIENTS)) for a in seen]
    tally = Counter(answers)
    expected = {("page", 200), ("status", 200), ("verify", 200), ("issue", 201)}
    assert set(tally) <= expected, tally
    assert sum(tally.values()) == CLIENTS * ROUNDS
