"""What a person needs next: the credential list has the recipient, the public page and an
``expired`` status (and filters on it); ``laurel issue --csv`` prints each credential's id and
``/v/…`` link or writes them to ``--report``; ``laurel webhooks`` and ``laurel emails``.
SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from issuer.cli import app
from issuer.context import Services
from issuer.core.db import unit_of_work
from issuer.models import Credential
from issuer.models.base import utcnow
from tests.issuer.conftest import BASE_URL, issue_body, make_issuer


def test_the_list_has_recipients_links_and_expired(client: TestClient, services: Services) -> None:
    headers = make_issuer(services, client, "hrd")
    ids = []
    for email in ("ann@example.org", "bo@example.org", "cy@example.org"):
        response = client.post(
            "/api/v1/issuers/hrd/credentials", json=issue_body(email), headers=headers
        )
        ids.append(response.json()["id"].removeprefix("urn:uuid:"))
    with unit_of_work(services.engine) as db:  # Bo's badge ended yesterday
        db.execute(
            update(Credential)
            .where(Credential.id == ids[1])
            .values(valid_until=utcnow() - timedelta(days=1))
        )
    client.post(f"/api/v1/credentials/{ids[2]}/revoke", json={"reason": "x"}, headers=headers)

    listed = client.get("/api/v1/issuers/hrd/credentials", headers=headers).json()
    by_id = {c["id"].removeprefix("urn:uuid:"): c for c in listed["credentials"]}
    assert by_id[ids[0]]["recipient"] == {"email": "ann@example.org", "name": "Kim Min-jun"}
    assert by_id[ids[0]]["verifyUrl"] == f"{BASE_URL}/v/{ids[0]}"
    assert [by_id[i]["status"] for i in ids] == ["active", "expired", "revoked"]
    for status, wanted in (("active", ids[0]), ("expired", ids[1]), ("revoked", ids[2])):
        page = client.get(
            "/api/v1/issuers/hrd/credentials", params={"status": status}, headers=headers
        ).json()
        assert [c["id"] for c in page["credentials"]] == [f"urn:uuid:{wanted}"], status
        assert page["total"] == 1
    bad = client.get("/api/v1/issuers/hrd/credentials", params={"status": "lost"}, headers=headers)
    assert bad.status_code == 422


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(tmp_path / "keys"),
        "LAUREL_KEY_PASSPHRASE": "cli-test-passphrase",
        "LAUREL_BASE_URL": "https://laurel.test",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_issue_csv_prints_ids_and_links_or_writes_a_report(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert _run(env, "issuer", "create", "--name", "HRD Institute", "--slug", "hrd")[0] == 0
    assert _run(env, "templates", "load", "--issuer", "hrd")[0] == 0
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "email,name,achievement\n"
        "a@example.org,Ann,emotional-intelligence\n"
        "b@example.org,Bo,no-such-thing\n",
        encoding="utf-8",
    )
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(cohort))
    assert code == 1, out
    [line] = [x for x in out.splitlines() if x.startswith("row 1:")]
    head, credential, link = line.split("  ")
    assert head == "row 1: issued" and credential.startswith("urn:uuid:")
    assert link == f"https://laurel.test/v/{credential.removeprefix('urn:uuid:')}"
    assert "row 2:" in out and "1 issued, 0 already issued, 1 errors" in out

    report = tmp_path / "report.csv"
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(cohort), "--report", str(report))
    assert code == 1 and f"report written to {report}" in out and credential not in out
    rows = list(csv.DictReader(io.StringIO(report.read_text("utf-8"))))
    first = rows[0]
    assert (first["row"], first["status"], first["id"], first["link"]) == (
        "1",
        "already issued",
        credential,
        link,
    )
    assert rows[1]["status"] == "error" and rows[1]["error"] and not rows[1]["id"]


def test_issue_csv_reads_the_file_a_step_at_a_time_and_refuses_a_broken_one_first(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streamed a step at a time (issue 18), yet a file that breaks on its last line, or holds
    too many rows, is refused before any row is issued."""
    from issuer.issuing import bulk

    monkeypatch.setattr(bulk, "STEP", 2)  # five steps' worth of rows, one of them invalid
    _run(env, "issuer", "create", "--name", "HRD Institute", "--slug", "hrd")
    _run(env, "templates", "load", "--issuer", "hrd")
    good = "".join(f"p{n}@example.org,emotional-intelligence\n" for n in range(8))
    good += "not an email,emotional-intelligence\n"
    broken = tmp_path / "broken.csv"
    broken.write_text(f"email,achievement\n{good}z@example.org,x,extra\n", encoding="utf-8")
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(broken))
    assert code == 2 and "CSV line 11 has more fields than the header" in out, out
    monkeypatch.setattr(bulk, "MAX_ROWS", 8)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(f"email,achievement\n{good}", encoding="utf-8")
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(cohort))
    assert code == 2 and "at most 8 rows, not 9" in out, out
    monkeypatch.setattr(bulk, "MAX_ROWS", 100_000)
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(cohort))
    assert code == 1 and "8 issued, 0 already issued, 1 errors" in out, out  # nothing before
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("row ")] == [
        f"row {n}" for n in range(1, 10)
    ]


def test_webhooks_and_emails_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "issuer", "create", "--name", "HRD Institute", "--slug", "hrd")
    code, out = _run(
        env,
        "webhooks",
        "add",
        "--issuer",
        "hrd",
        "--url",
        "https://hooks.example.org/in",
        "--events",
        "credential.issued",
    )
    assert code == 0, out
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("whsec_")
    code, out = _run(env, "webhooks", "list", "--issuer", "hrd")
    assert code == 0 and "https://hooks.example.org/in" in out and secret not in out
    endpoint = out.split()[0]
    code, out = _run(env, "webhooks", "add", "--issuer", "hrd", "--url", "https://10.1.2.3/in")
    assert code == 1 and "does not send" in out
    code, out = _run(env, "webhooks", "deliveries", "--issuer", "hrd", endpoint)
    assert code == 0 and out == ""
    code, out = _run(env, "webhooks", "remove", "--issuer", "hrd", endpoint)
    assert code == 0, out
    assert _run(env, "webhooks", "list", "--issuer", "hrd")[1] == ""
    assert _run(env, "webhooks", "remove", "--issuer", "hrd", endpoint)[0] == 1

    body = tmp_path / "body.txt"
    body.write_text("{name}: {badges}\n{unsubscribe_url}\n", encoding="utf-8")
    code, out = _run(
        env,
        "emails",
        "set",
        "--issuer",
        "hrd",
        "--language",
        "ko",
        "--event",
        "issued",
        "--lang",
        "ko",
        "--subject",
        "{badge} 발급",
        "--body-file",
        str(body),
    )
    assert code == 0, out
    code, out = _run(env, "emails", "show", "--issuer", "hrd")
    assert '"language": "ko"' in out and '"subject": "{badge} 발급"' in out
    code, out = _run(env, "emails", "set", "--issuer", "hrd", "--language", "fr")
    assert code == 1 and "language" in out
