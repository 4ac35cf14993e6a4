"""Settings, read once from ``LAUREL_*`` environment variables and validated at start."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_PASSPHRASE = "change-me"
MIN_PASSPHRASE = 12  # characters


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAUREL_", extra="ignore")

    database_url: str = "sqlite:///./laurel.db"
    base_url: str = "http://127.0.0.1:8000"
    keys_dir: Path = Path("keys")
    key_passphrase: str = PLACEHOLDER_PASSPHRASE
    key_store: Literal["file", "database"] = "file"
    key_kdf_cost: Literal["strong", "test"] = "strong"
    """How hard new keys' passphrase is stretched (scrypt): ``test`` is for test suites only, it
    makes keys far cheaper to guess."""
    did_method: Literal["web", "key"] = "web"
    demo: bool = False
    max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "laurel@localhost"
    embedded_worker: bool = True
    """``laurel serve`` also runs background work (bulk jobs, effects) in its own process; turn
    off when dedicated ``laurel worker`` processes do it."""
    worker_concurrency: int = Field(default=2, ge=1, le=64)
    bulk_step: int = Field(default=250, ge=1, le=5000)
    """Rows a bulk job issues per transaction (a commit each; the issuer's status list is
    held for one step at a time)."""
    job_lease_seconds: float = Field(default=60.0, gt=0)
    """How long a bulk job stays with the worker that took it without progress; after that
    another worker resumes it (a worker that died mid-job)."""
    worker_tick_seconds: float = Field(default=30.0, gt=0)
    """SQLite's embedded worker looks for leftover work (resumable jobs, due effects) this often
    (PostgreSQL workers: every minute, and at start)."""
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_stalled_seconds: float = Field(default=30.0, gt=0)
    """A worker silent this long is considered dead, and its jobs are retried elsewhere."""
    request_queue_seconds: float = Field(default=30.0, ge=0)
    """How long a request may wait for a database connection when all are in use, then 503."""
    verify_concurrency: int = Field(default=0, ge=0)
    """Public verifications (``/verify``, ``/api/v1/verify``) running at once per process; 0:
    twice the CPU count. More wait up to ``verify_queue_seconds``, then get 503."""
    page_concurrency: int = Field(default=2, ge=1)
    """Badge pages (``/v/{id}``) verifying at once per process; more wait in the event loop up to
    ``verify_queue_seconds``, then get 503. A process runs Python on one core at a time, so two
    (one verifying while the next reads the database) serve as many pages as more, with a
    shorter tail of slow answers (docs/operations.md, "Worker-thread hand-offs"). On SQLite a
    page of an own badge is made in the event loop, so those run one at a time whatever this
    says ("Badge pages in the event loop")."""
    verify_queue_seconds: float = Field(default=10.0, ge=0)
    verify_rate: str = "60/minute;600/hour"
    """Public verifications per client address (``limits`` notation), then 429."""
    registration_rate: str = "20/hour;100/day"
    """OAuth 2.0 dynamic client registrations per client address (``limits`` notation), then 429."""
    nonce_rate: str = "30/minute;300/hour"
    """OpenID4VCI nonces (``POST /oid4vci/nonce``, each a row until purged) per client address
    (``limits`` notation), then 429."""
    connect_rate: str = "10/minute;30/hour"
    """Badge hosts a learner may start connecting (``POST /wallet/connections``: Laurel calls the
    host's discovery and registration URLs), per learner and per client address (``limits``
    notation), then 429."""
    wallet_max_credentials: int = Field(default=2000, ge=1)
    """Badges from elsewhere one learner's wallet keeps (imported in the wallet, or stored by an
    app through the OB 3.0 API's upsertCredential); a new one beyond is refused (409)."""
    wallet_max_bytes: int = Field(default=200 * 1000 * 1000, ge=2_000_000)
    """Their total size, as sent (each is at most 2 MB); a new one beyond is refused (409)."""
    service_name: str = "Laurel"
    """This instance's name, as other systems show it (the OB 3.0 API's discovery document)."""
    terms_url: str | None = None
    """The operator's terms of service; unset: ``{base_url}/terms``, which says none are set."""
    privacy_url: str | None = None
    """The operator's privacy policy; unset: ``{base_url}/privacy``, Laurel's own description of
    what it keeps."""
    metrics_token: str | None = None
    """Bearer token for ``GET /metrics``; without one, only loopback clients may read it."""
    exchange_ttl_seconds: int = Field(default=900, ge=30, le=7 * 24 * 3600)
    """How long a wallet exchange (``POST /api/v1/credentials/{id}/exchanges``, the Learner
    Credential Wallet's "Add" link and QR code) can be used; 15 minutes by default."""
    collect_link_days: int = Field(default=30, ge=1, le=365)
    """How long the "collect your badge" link in a badge email (``/collect/{token}``) works;
    it also stops working once the badge is in a wallet (bound to a holder) or revoked."""
    staff_mfa: Literal["optional", "required"] = "optional"
    """``required``: owners must sign in to the console with a TOTP second factor as well (they
    enrol on their first sign-in); other staff may still choose to."""
    oidc_issuer: str | None = None
    """The institute's OpenID Connect provider (its issuer URL; discovered at
    ``/.well-known/openid-configuration``): staff may sign in to the console with it. Unset: no
    single sign-on."""
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_name: str = "single sign-on"
    """The provider's name on the console's sign-in button ("Sign in with …")."""
    oidc_scopes: str = "openid email profile"
    oidc_issuers: str = ""
    """The issuers (their slugs, separated by commas) whose staff may sign in with the provider.
    Unset: the instance's issuer when it has only one; with several, single sign-on signs in no
    one until this names them (one provider vouching for emails must not open every
    institute's console)."""
    trust_lists: str = ""
    """Trust lists this instance's verifications consult, besides its own issuers: URLs or files
    (DCC registries, DCC "known registries" lists, simple lists), separated by commas, spaces or
    new lines."""
    fetch_cache_seconds: float = Field(default=300.0, ge=0, le=86400)
    """The longest the service keeps a document fetched from another host (a did:web document, a
    status list, a DID Configuration) for later verifications, when its caching headers allow
    that long; 0 fetches them afresh for every operation."""

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if not self.demo and self.key_passphrase in (PLACEHOLDER_PASSPHRASE, ""):
            raise ValueError(
                "LAUREL_KEY_PASSPHRASE must be set to a real secret (it encrypts issuer keys); "
                "only `laurel serve --demo` runs with the placeholder"
            )
        if not self.demo and len(self.key_passphrase) < MIN_PASSPHRASE:
            raise ValueError(
                f"LAUREL_KEY_PASSPHRASE must be at least {MIN_PASSPHRASE} characters long (it "
                f"has {len(self.key_passphrase)}; a few unrelated words are best). Keys encrypted "
                "with a shorter one: set the new one and run `LAUREL_OLD_KEY_PASSPHRASE=<old> "
                "laurel keys rewrap --from-old-passphrase`"
            )
        for name in ("terms_url", "privacy_url"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"https?://[^\s<>\"]+", value):
                raise ValueError(f"LAUREL_{name.upper()} must be an http(s) URL")
        self.base_url = self.base_url.rstrip("/")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError(
                "LAUREL_OIDC_ISSUER needs LAUREL_OIDC_CLIENT_ID and LAUREL_OIDC_CLIENT_SECRET"
            )
        return self

    @property
    def oidc_button(self) -> str | None:
        """The console sign-in page's single sign-on button label, if single sign-on is set."""
        return self.oidc_name if self.oidc_issuer else None

    @property
    def oidc_issuer_slugs(self) -> list[str]:
        """``LAUREL_OIDC_ISSUERS`` as a list of slugs."""
        return [part for part in re.split(r"[\s,]+", self.oidc_issuers) if part]

    @property
    def trust_sources(self) -> list[str]:
        return split_sources(self.trust_lists)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]`` of the base URL."""
        scheme, rest = self.base_url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def own_path(self, url: str) -> str | None:
        """What follows the base URL in ``url`` (``/status/3``) when ``url`` is this instance's
        own, else ``None``. A demo (``laurel serve --demo``) owns its host at any port: its badges
        carry the URLs of the port they were issued at, and the next run may use another."""
        try:
            parts, base = urlsplit(url), urlsplit(self.base_url)
            same_port = parts.port == base.port
        except ValueError:  # not a port number
            return None
        if (parts.scheme, parts.hostname) != (base.scheme, base.hostname) or "@" in parts.netloc:
            return None
        if not (same_port or self.demo):
            return None
        rest = url.split(parts.netloc, 1)[1]
        prefix = base.path.rstrip("/")
        return rest[len(prefix) :] if rest.startswith(prefix + "/") else None

    @property
    def host(self) -> str:
        """The host (and port) part of the base URL, as did:web writes it."""
        authority = self.base_url.split("://", 1)[-1].split("/", 1)[0]
        return authority.replace(":", "%3A")


def split_sources(value: str) -> list[str]:
    """``LAUREL_TRUST_LISTS``: URLs or file paths separated by commas, spaces or new lines."""
    return [part for part in re.split(r"[\s,]+", value) if part]
