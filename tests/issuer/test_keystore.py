"""Key stores: the file store (encrypted PKCS#8 files, owner-only) and the database store
(encrypted rows, for several app processes), and what a wrong passphrase does."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

import pytest
from sqlmodel import Session, select

from issuer.context import Services
from issuer.core.db import make_engine, migrate
from issuer.core.settings import Settings
from issuer.crypto.keystore import DatabaseKeyStore, FileKeyStore, KeyStoreError
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
