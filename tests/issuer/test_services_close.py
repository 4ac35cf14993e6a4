"""``Services.close`` closes every connection the services opened: the engine's and the badge
pages' own reader (SQLite), which ``laurel serve`` used to leave open until exit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from issuer.context import Services
from issuer.core.db import make_engine, migrate
from issuer.core.settings import Settings
from issuer.http.gate import page_reader


def test_close_disposes_the_page_reader_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laurel.db'}"
    settings = Settings(
        database_url=url,
        keys_dir=tmp_path / "keys",
        key_passphrase="test-passphrase",
        base_url="https://laurel.test",
    )
    services = Services.from_settings(settings, make_engine(url))
    migrate(services.engine)
    reader = page_reader(services)
    assert reader is not None and reader is not services.engine
    for engine in (services.engine, reader):
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert reader.pool.checkedin() == 1  # type: ignore[attr-defined]  # a QueuePool
    services.close()
    assert reader.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert services.engine.pool.checkedin() == 0  # type: ignore[attr-defined]
    assert not Path(f"{tmp_path / 'laurel.db'}-wal").exists()  # the last close checkpointed
