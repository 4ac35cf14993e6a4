"""``laurel serve --demo``: a demo institute with the catalogue, learners and issued badges."""

from __future__ import annotations

from sqlmodel import Session, col, select

from issuer.context import Services
from issuer.institutes.apikeys import create_api_key, revoke_api_key
from issuer.institutes.issuers import create_issuer, get_issuer
from issuer.issuing.credentials import revoke
from issuer.issuing.issuance import issue
from issuer.issuing.templates import load_templates
from issuer.models import Achievement, ApiKey, Credential, Issuer
from issuer.schemas import IssueRequest

SLUG = "demo-institute"
LEARNERS = [
    ("kim.minjun@example.org", "김민준", "Policy Office"),
    ("lee.seoyeon@example.org", "이서연", "Policy Office"),
    ("alex.morgan@example.org", "Alex Morgan", "Digital Transformation"),
    ("priya.nair@example.org", "Priya Nair", "Digital Transformation"),
]


def seed_demo(session: Session, services: Services) -> list[str]:
    """Seed once (idempotent), in the caller's unit of work; return the lines to print: an API
    key (a new one each start, ``_new_key``) and links to try."""
    if session.exec(select(Issuer).where(Issuer.slug == SLUG)).first() is None:
        create_issuer(
            session,
            services,
            slug=SLUG,
            name="Demo HRD Institute",
            url="https://hrd.example.org",
            email="badges@hrd.example.org",
            description="A demo training institute seeded by `laurel serve --demo`.",
            did_method="key",
        )
    count = load_templates(session, services, SLUG)
    achievements = [
        "leadership-skills-for-non-supervisors",
        "emotional-intelligence",
        "leading-through-change",
        "dl-information-and-data-literacy",
        "ai-foundations",
    ]
    first_id = None
    keys = [row.key for row in session.exec(select(Achievement).limit(200))]
    chosen = [key for key in achievements if key in keys] or keys[:4]
    for number, (email, name, group) in enumerate(LEARNERS):
        for key in chosen[: 2 + number % 3]:
            request = IssueRequest.model_validate(
                {
                    "recipient": {"email": email, "name": name, "groups": [group]},
                    "achievement": key,
                }
            )
            issued = issue(
                session,
                services,
                SLUG,
                request,
                idempotency_key=f"demo:{email}:{key}",
                actor="demo",
            )
            first_id = first_id or issued.credential.id
    revoked = session.exec(
        select(Credential).where(col(Credential.revoked_at).is_not(None))
    ).first()
    last = session.exec(select(Credential).order_by(col(Credential.issued_at).desc())).first()
    if revoked is None and last is not None and last.id != first_id:
        revoke(session, last.id, "demo: issued by mistake", None, actor="demo")
    key = _new_key(session)
    base = services.settings.base_url
    return [
        f"Demo institute '{SLUG}' with {count} catalogue achievements and "
        f"{len(LEARNERS)} learners is ready.",
        f"  Front door:    {base}/",
        f"  Profile:       {base}/issuers/{SLUG}",
        f"  Credentials:   curl -H 'Authorization: Bearer {key}' "
        f"{base}/api/v1/issuers/{SLUG}/credentials",
        f"  One badge:     curl -H 'Authorization: Bearer {key}' "
        f"{base}/api/v1/credentials/{first_id}",
        f"  API docs:      {base}/docs",
        f"  Wallet:        {base}/wallet/login — sign in as {LEARNERS[0][0]}; without "
        "LAUREL_SMTP_HOST the sign-in link is written to this log",
        f"  Console:       {base}/console — first `laurel staff invite --issuer {SLUG} "
        "--email you@example.org --role owner`; the invitation is written to this log",
        "API key (admin scopes):",
        key,
    ]


def _new_key(session: Session) -> str:
    """A new admin key named ``demo``, printed at this start; the ones printed at earlier starts
    are revoked, so that old logs and scrollback hold no live admin key. (Keys of other names,
    made by an operator, are left alone.)"""
    issuer = get_issuer(session, SLUG)
    earlier = select(ApiKey).where(
        ApiKey.issuer_id == issuer.id, ApiKey.name == "demo", col(ApiKey.revoked_at).is_(None)
    )
    for old in session.exec(earlier).all():
        assert old.id is not None
        revoke_api_key(session, issuer, old.id, actor="demo")
    return create_api_key(session, SLUG, ["issue", "revoke", "read", "admin"], name="demo")
