"""The service's command line: issuer create, apikey create, keys rotate, templates load, issue
--csv, audit verify (on SQLite and PostgreSQL), and a clear refusal of placeholder secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from issuer.cli import app


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


def test_issuer_lifecycle(env: dict[str, str], tmp_path: Path) -> None:
    code, out = _run(env, "issuer", "create", "--name", "HRD Institute", "--slug", "hrd")
    assert code == 0, out
    assert out.strip() == "did:web:laurel.test:issuers:hrd"
    code, out = _run(env, "issuer", "create", "--name", "Again", "--slug", "hrd")
    assert code == 1 and "exists already" in out

    code, out = _run(env, "apikey", "create", "--issuer", "hrd", "--scopes", "issue,read")
    assert code == 0, out
    assert out.strip().splitlines()[-1].startswith("lrl_")
    code, out = _run(env, "apikey", "create", "--issuer", "hrd", "--scopes", "everything")
    assert code == 1 and "scopes" in out

    code, out = _run(env, "templates", "load", "--issuer", "hrd")
    assert code == 0 and "achievements loaded" in out, out
    code, out = _run(env, "templates", "load", "--issuer", "hrd", "--language", "fr")
    assert code == 2 and "en or ko" in out, out

    csv = tmp_path / "cohort.csv"
    csv.write_text(
        "email,name,achievement\n"
        "a@example.org,Ann,emotional-intelligence\n"
        "b@example.org,Bo,no-such-thing\n",
        encoding="utf-8",
    )
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(csv))
    assert code == 1 and "1 issued, 0 already issued, 1 errors" in out, out
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(csv))
    assert "0 issued, 1 already issued, 1 errors" in out

    code, out = _run(env, "keys", "rotate", "--issuer", "hrd")
    assert code == 0 and "#key-2" in out, out
    code, out = _run(env, "audit", "verify")
    assert code == 0 and "audit log intact" in out, out


def test_placeholder_passphrase_is_refused(env: dict[str, str]) -> None:
    code, out = _run(
        {**env, "LAUREL_KEY_PASSPHRASE": "change-me"},
        "issuer",
        "create",
        "--name",
        "X",
        "--slug",
        "x",
    )
    assert code == 2 and "LAUREL_KEY_PASSPHRASE" in out


def test_issuer_create_follows_laurel_did_method(env: dict[str, str]) -> None:
    """LAUREL_DID_METHOD chooses the method when --did-method is not given (the option's own
    default used to override it); --did-method still wins."""
    code, out = _run(
        {**env, "LAUREL_DID_METHOD": "key"}, "issuer", "create", "--name", "A", "--slug", "a"
    )
    assert code == 0 and out.strip().startswith("did:key:z6Mk"), out
    code, out = _run(
        {**env, "LAUREL_DID_METHOD": "key"},
        "issuer",
        "create",
        "--name",
        "B",
        "--slug",
        "b",
        "--did-method",
        "web",
    )
    assert code == 0 and out.strip() == "did:web:laurel.test:issuers:b", out
    code, out = _run(env, "issuer", "create", "--name", "C", "--slug", "c", "--did-method", "x")
    assert code == 2 and "'web' or 'key'" in out


def test_issuer_create_warns_of_a_did_web_over_http(env: dict[str, str]) -> None:
    """A did:web resolves over https only: on an http base URL its badges could not verify
    anywhere, so creating one says so (and still creates it: the URL may change before issuing)."""
    plain = {**env, "LAUREL_BASE_URL": "http://127.0.0.1:8000"}
    code, out = _run(plain, "issuer", "create", "--name", "A", "--slug", "a")
    assert code == 0, out
    assert out.splitlines()[0] == "did:web:127.0.0.1%3A8000:issuers:a"
    assert "warning" in out and "--did-method key" in out
    code, out = _run(plain, "issuer", "create", "--name", "B", "--slug", "b", "--did-method", "key")
    assert code == 0 and "warning" not in out


def test_bad_csv_encoding(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "issuer", "create", "--name", "HRD", "--slug", "hrd")
    csv = tmp_path / "latin1.csv"
    csv.write_bytes("email,name,achievement\nä@example.org,Jörg,x\n".encode("latin-1"))
    code, out = _run(env, "issue", "--issuer", "hrd", "--csv", str(csv))
    assert code == 2 and "not UTF-8" in out


def test_templates_load_in_the_issuers_language(env: dict[str, str], database_url: str) -> None:
    """A Korean-language issuer's catalogue achievements are Korean; --language overrides."""
    from sqlmodel import Session, create_engine, select

    from issuer.models import Achievement

    assert _run(env, "issuer", "create", "--name", "NHI", "--slug", "nhi")[0] == 0
    code, out = _run(env, "emails", "set", "--issuer", "nhi", "--language", "ko")
    assert code == 0, out

    def name() -> str:
        engine = create_engine(database_url)
        with Session(engine) as session:
            row = session.exec(select(Achievement).where(Achievement.key == "team-development"))
            found = str(row.one().data["name"])
        engine.dispose()
        return found

    assert _run(env, "templates", "load", "--issuer", "nhi")[0] == 0
    assert name() == "팀 개발"
    assert _run(env, "templates", "load", "--issuer", "nhi", "--language", "en")[0] == 0
    assert name() == "Team Development"
