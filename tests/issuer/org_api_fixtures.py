"""A ministry across issuers, for organisation tests: the Ministry of the Interior (home issuer
``ministry``) with two units (the Policy Bureau ``POL`` and, under it, the Data Team ``DATA``),
a roster of four, trusting its own academy (``academy``, another issuer on this Laurel, which
agreed with its own key) and one university elsewhere (a did:key, ``University``); ``rogue`` is
an issuer here it does not trust. Every issuer holds the bundled catalogue. Set up through the
organisations API."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from issuer.context import Services
from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity
from issuer.effects import work
from issuer.models import ImportedCredential, LearnerEmail, SharedCredential
from issuer.schemas import IssueRequest
from issuer.wallet import orgs as sharing
from tests.issuer.credentials import make_credential
from tests.units import create_api_key, create_issuer, import_badge, issue, load_templates

ORG = "mois"
HOME, ACADEMY, ROGUE = "ministry", "academy", "rogue"
KIM, LEE, PARK, CHOI = (f"{n}@mois.example.kr" for n in ("kim", "lee", "park", "choi"))
ISSUED = "2026-01-15T09:00:00Z"
UNITS = {
    "units": [
        {
            "code": "POL",
            "name": "Policy Bureau",
            "nameKo": "정책국",
            "supervisorEmail": "director@mois.example.kr",
            "children": [{"code": "DATA", "name": "Data Team", "nameKo": "데이터팀"}],
        }
    ]
}
ROSTER_CSV = (
    "email,name,employee_no,unit,grade,role,executive\n"
    f"{KIM},Kim Min-jun,E001,POL,5,과장,false\n"
    f"{LEE},Lee Seo-yeon,E002,POL,6,,false\n"
    f"{PARK},Park Ji-ho,E003,DATA,7,,false\n"
    f"{CHOI},Choi Yu-na,E004,DATA,SCS,국장,true\n"
)


@dataclass
class University:
    """An issuer elsewhere: a did:key nobody on this Laurel knows."""

    name: str = "Open University of Testing"
    key: Any = field(default_factory=generate_ed25519)

    @property
    def did(self) -> str:
        return did_key(self.key)

    def credential(
        self, email: str, *, name: str = "Data Literacy", hours: float = 16, **overrides: Any
    ) -> dict[str, Any]:
        """A signed Certificate for ``email`` aligned to ECQ2-4 (under a …/frameworks/ecq/ URL,
        so it names the catalogue's skill) and to an ESCO skill the catalogue does not hold."""
        credential = make_credential(self.did, **overrides)
        credential["issuer"]["name"] = self.name
        subject = credential["credentialSubject"]
        subject["identifier"][0]["identityHash"] = (
            "sha256$" + hashlib.sha256(f"{email}s4lt".encode()).hexdigest()
        )
        subject["creditsEarned"] = hours
        subject["achievement"].update(
            id="https://university.example.org/achievements/data-literacy",
            name=name,
            achievementType="Certificate",
            alignment=[
                {
                    "type": ["Alignment"],
                    "targetName": "Team Building",
                    "targetUrl": "https://university.example.org/frameworks/ecq/ECQ2-4",
                    "targetCode": "ECQ2-4",
                },
                {
                    "type": ["Alignment"],
                    "targetName": "Data analysis",
                    "targetUrl": "https://esco.example.org/skill/S1.2",
                    "targetFramework": "ESCO",
                    "targetCode": "S1.2",
                },
            ],
        )
        return self.sign(credential)

    def sign(self, credential: dict[str, Any]) -> dict[str, Any]:
        return sign_data_integrity(credential, self.key, did_key_method(self.key), created=ISSUED)

    def status_list(self, url: str, revoked: frozenset[int] = frozenset()) -> bytes:
        """The university's signed revocation list at ``url``."""
        from issuer.issuing.bitstring import empty_bits, set_bit, status_list_credential

        bits = empty_bits()
        for index in revoked:
            set_bit(bits, index)
        document = status_list_credential(
            url, self.did, bytes(bits), valid_from="2026-01-01T00:00:00Z"
        )
        return json.dumps(self.sign(document)).encode()


@dataclass
class Ministry:
    services: Services
    client: TestClient
    keys: dict[str, dict[str, str]]
    """API key headers (admin) per issuer slug."""
    university: University

    def learner(self, email: str) -> int:
        with Session(self.services.engine) as db:
            found = db.exec(select(LearnerEmail.learner_id).where(LearnerEmail.email == email))
            return int(found.one())

    def issue(self, slug: str, email: str, achievement: str) -> None:
        body = {"recipient": {"email": email}, "achievement": achievement, "validFrom": ISSUED}
        issue(self.services, slug, IssueRequest.model_validate(body))

    def share(self, email: str, document: dict[str, Any]) -> SharedCredential:
        """``email``'s learner imports ``document`` into their wallet and shares it."""
        learner = self.learner(email)
        row = import_badge(self.services, learner, json.dumps(document).encode())
        with work(self.services) as db:
            imported = db.get(ImportedCredential, row.id)
            assert imported is not None
            shared = sharing.share(db, self.services, learner, ORG, imported, "wallet")
            db.flush()
            db.expunge(shared)
            return shared

    def withdraw(self, email: str, ref: str) -> None:
        with work(self.services) as db:
            sharing.withdraw(db, self.learner(email), ORG, ref)


def ministry(services: Services, client: TestClient) -> Ministry:
    keys = {}
    for slug, name in ((HOME, "Ministry"), (ACADEMY, "MOIS Academy"), (ROGUE, "Rogue Inst")):
        create_issuer(services, slug=slug, name=name)
        load_templates(services, slug)
        keys[slug] = {"Authorization": f"Bearer {create_api_key(services, slug, ['admin'])}"}
    headers = keys[HOME]
    university = University()
    steps = [
        client.post(
            "/api/v1/orgs",
            json={"issuer": HOME, "slug": ORG, "name": "Ministry of the Interior"},
            headers=headers,
        ),
        client.put(f"/api/v1/orgs/{ORG}/units", json=UNITS, headers=headers),
        client.put(
            f"/api/v1/orgs/{ORG}/roster",
            content=ROSTER_CSV.encode(),
            headers={**headers, "Content-Type": "text/csv"},
        ),
        client.post(f"/api/v1/orgs/{ORG}/trust", json={"issuer": ACADEMY}, headers=headers),
        client.post(
            f"/api/v1/orgs/{ORG}/trust",
            json={"issuerRef": university.did, "name": university.name},
            headers=headers,
        ),
        client.post(f"/api/v1/issuers/{ACADEMY}/trusted-by/{ORG}", headers=keys[ACADEMY]),
    ]
    for response in steps:
        assert response.status_code in (200, 201), response.text
    return Ministry(services, client, keys, university)


def small_org(
    services: Services, home: str, emails: list[str], university: University, slug: str = ORG
) -> None:
    """An organisation (``slug``) of existing issuer ``home`` with ``emails`` on its roster (no
    units), trusting ``university``: set up through the services, for web and OB API tests."""
    from issuer.institutes.issuers import get_issuer
    from issuer.orgs import manage

    with work(services) as db:
        org = manage.create(
            db, get_issuer(db, home), slug, "Ministry of the Interior", "행정안전부", "test"
        )
        manage.replace_roster(db, org, [{"email": e} for e in emails], "test")
        manage.trust(db, org, "test", issuer_ref=university.did, name=university.name)
