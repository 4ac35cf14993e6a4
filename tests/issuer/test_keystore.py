"""Key stores: the file store (encrypted PKCS#8 files, owner-only) and the database store
(encrypted rows, for several app processes), and what a wrong passphrase does."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError
from sqlmodel import Session, select
from typer.testing import CliRunner

from issuer.cli import app
from issuer.context import Services
from issuer.core.db import make_engine, migrate, writer
from issuer.core.settings import Settings
from issuer.crypto.keys import from_pkcs8
from issuer.crypto.keystore import DatabaseKeyStore, FileKeyStore, KeyStoreError
from issuer.crypto.pkcs8 import STRONG, TEST
from issuer.models import SigningKey
from issuer.schemas import IssueRequest
from tests.issuer.conftest import ACHIEVEMENT, issue_body
from tests.units import create_issuer, issue


def _services(
    database_url: str, tmp_path: Path, store: Literal["file", "database"], passphrase: str
) -> Services:
    settings = Settings(
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        key_passphrase=passphrase,
        key_store=store,
        base_url="https://laurel.test",
    )
    services = Services.from_settings(settings, make_engine(database_url))
    migrate(services.engine)
    return services


def _achievement(services: Services) -> None:
    from issuer.core.db import writer
    from issuer.institutes.issuers import get_issuer
    from issuer.issuing.achievements import save_achievement
    from issuer.schemas import AchievementIn

    with Session(writer(services.engine)) as session:
        save_achievement(
            session, get_issuer(session, "hrd"), AchievementIn.model_validate(ACHIEVEMENT)
        )
        session.commit()


def test_database_key_store_lets_another_process_sign(database_url: str, tmp_path: Path) -> None:
    first = _services(database_url, tmp_path, "database", "db-passphrase")
    create_issuer(first, slug="hrd", name="HRD")
    _achievement(first)
    assert not (tmp_path / "keys").exists()  # nothing on disk
    with Session(first.engine) as session:
        rows = list(session.exec(select(SigningKey)))
    assert rows and all(row.private_pem and b"ENCRYPTED" in row.private_pem for row in rows)
    # a second "process": fresh key store, same database
    second = _services(database_url, tmp_path, "database", "db-passphrase")
    issued = issue(second, "hrd", IssueRequest.model_validate(issue_body()))
    assert issued.created
    wrong = _services(database_url, tmp_path, "database", "another-passphrase")
    with pytest.raises(KeyStoreError, match="LAUREL_KEY_PASSPHRASE"):
        issue(wrong, "hrd", IssueRequest.model_validate(issue_body("x@example.org")))
    for services in (first, second, wrong):
        services.engine.dispose()


def test_file_key_store_writes_owner_only_encrypted_files(
    database_url: str, tmp_path: Path
) -> None:
    services = _services(database_url, tmp_path, "file", "file-passphrase")
    create_issuer(services, slug="hrd", name="HRD")
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 2
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    with Session(services.engine) as session:
        assert all(row.private_pem is None for row in session.exec(select(SigningKey)))
    fresh = FileKeyStore(tmp_path / "keys", "file-passphrase")
    with Session(services.engine) as session:
        row = session.exec(select(SigningKey)).first()
    assert row is not None and fresh.load(row) is not None
    with pytest.raises(KeyStoreError):
        DatabaseKeyStore("file-passphrase").load(row)
    services.engine.dispose()


def _cli(services: Services, *args: str, **extra: str) -> tuple[int, str]:
    environment = {
        "LAUREL_DATABASE_URL": services.settings.database_url,
        "LAUREL_KEYS_DIR": str(services.settings.keys_dir),
        "LAUREL_KEY_PASSPHRASE": services.settings.key_passphrase,
        "LAUREL_KEY_STORE": services.settings.key_store,
        "LAUREL_BASE_URL": services.settings.base_url,
        **extra,
    }
    result = CliRunner().invoke(app, list(args), env=environment)
    return result.exit_code, result.output


def _stored(services: Services, row: SigningKey) -> bytes:
    keystore = services.keystore
    if isinstance(keystore, FileKeyStore):
        return keystore._path(row.kid).read_bytes()
    assert row.private_pem is not None
    return row.private_pem


def _as_before(services: Services, passphrase: str) -> list[SigningKey]:
    """Every key written again as Laurel wrote keys before: PBKDF2, 2,048 iterations."""
    with Session(writer(services.engine)) as session:
        rows = list(session.exec(select(SigningKey)))
        for row in rows:
            key = from_pkcs8(_stored(services, row), services.settings.key_passphrase.encode())
            old = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(passphrase.encode()),
            )
            if services.settings.key_store == "file":
                FileKeyStore(services.settings.keys_dir, "unused")._path(row.kid).write_bytes(old)
            else:
                row.private_pem = old
                session.add(row)
        session.commit()
    return rows


@pytest.mark.parametrize("store", ["file", "database"])
def test_keys_written_before_are_used_and_rewrapped(
    database_url: str, tmp_path: Path, store: Literal["file", "database"]
) -> None:
    """Keys encrypted the old way (PBKDF2, 2,048 iterations) still sign; `laurel keys rewrap
    --check` lists them (exit 1), `laurel keys rewrap` encrypts them with scrypt, once."""
    services = _services(database_url, tmp_path, store, "the-store-passphrase")
    create_issuer(services, slug="hrd", name="HRD")
    _achievement(services)
    rows = _as_before(services, "the-store-passphrase")
    fresh = _services(database_url, tmp_path, store, "the-store-passphrase")
    assert issue(fresh, "hrd", IssueRequest.model_validate(issue_body())).created

    code, out = _cli(fresh, "keys", "rewrap", "--check")
    assert code == 1 and f"{len(rows)} keys to re-encrypt" in out and "PBKDF2, 2,048" in out, out
    code, out = _cli(fresh, "keys", "rewrap")
    assert code == 0 and f"{len(rows)} keys re-encrypted with scrypt" in out, out
    code, out = _cli(fresh, "keys", "rewrap", "--check")
    assert code == 0 and "0 keys to re-encrypt" in out, out
    code, out = _cli(fresh, "keys", "rewrap")
    assert code == 0 and "0 keys re-encrypted" in out, out

    again = _services(database_url, tmp_path, store, "the-store-passphrase")
    with Session(again.engine) as session:
        for row in session.exec(select(SigningKey)):
            assert again.keystore.protection(row).kdf == "scrypt"
    assert issue(again, "hrd", IssueRequest.model_validate(issue_body("b@example.org"))).created
    code, out = _cli(again, "audit", "verify")
    assert code == 0, out
    for each in (services, fresh, again):
        each.engine.dispose()


@pytest.mark.parametrize("store", ["file", "database"])
def test_rewrap_changes_the_passphrase_all_keys_or_none(
    database_url: str, tmp_path: Path, store: Literal["file", "database"]
) -> None:
    """A shorter passphrase than is now allowed is moved away from: with the old one given,
    every key is encrypted with the new one. A wrong old passphrase changes nothing."""
    services = _services(database_url, tmp_path, store, "the-store-passphrase")
    create_issuer(services, slug="hrd", name="HRD")
    _achievement(services)
    _as_before(services, "short")
    with Session(services.engine) as session:
        before = [_stored(services, row) for row in session.exec(select(SigningKey))]

    code, out = _cli(
        services, "keys", "rewrap", "--from-old-passphrase", LAUREL_OLD_KEY_PASSPHRASE="wrong"
    )
    assert code == 1 and "LAUREL_OLD_KEY_PASSPHRASE" in out, out
    with Session(services.engine) as session:
        assert [_stored(services, row) for row in session.exec(select(SigningKey))] == before

    code, out = _cli(
        services,
        "keys",
        "rewrap",
        "--from-old-passphrase",
        LAUREL_KEY_PASSPHRASE="a new, long passphrase",
        LAUREL_OLD_KEY_PASSPHRASE="short",
    )
    assert code == 0 and f"{len(before)} keys re-encrypted" in out, out
    renewed = _services(database_url, tmp_path, store, "a new, long passphrase")
    assert issue(renewed, "hrd", IssueRequest.model_validate(issue_body())).created
    if store == "file":
        assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == sorted(
            p.name for p in (tmp_path / "keys").glob("*.pem")
        )
        assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in (tmp_path / "keys").iterdir())
    services.engine.dispose()
    renewed.engine.dispose()


@pytest.mark.parametrize("passphrase", ["short", "elevenchars", ""])
def test_a_short_passphrase_is_refused_at_start(passphrase: str) -> None:
    with pytest.raises(ValidationError, match=r"at least 12 characters|real secret"):
        Settings(key_passphrase=passphrase)
    Settings(key_passphrase="twelve chars")
    Settings(demo=True)  # the demo runs with its placeholder


def test_the_store_encrypts_with_the_configured_cost(tmp_path: Path) -> None:
    strong = Settings(key_passphrase="test-passphrase", keys_dir=tmp_path, key_kdf_cost="strong")
    assert Services.from_settings(strong).keystore.cost == STRONG
    cheap = Settings(key_passphrase="test-passphrase", keys_dir=tmp_path, key_kdf_cost="test")
    assert Services.from_settings(cheap).keystore.cost == TEST
