"""Building OB 3.0 credentials for tests."""

from __future__ import annotations

import hashlib
from typing import Any

OB_CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def identifiers(email: str, salt: str = "s4lt") -> list[dict[str, Any]]:
    """A credential subject's ``identifier``: ``email``, hashed."""
    digest = hashlib.sha256(f"{email}{salt}".encode()).hexdigest()
    return [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "salt": salt,
            "identityHash": "sha256$" + digest,
        }
    ]


def issued_to(credential: dict[str, Any], email: str) -> dict[str, Any]:
    """``credential`` (unsigned) with ``email`` as its recipient."""
    credential["credentialSubject"]["identifier"] = identifiers(email)
    return credential


def make_credential(issuer_id: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid (unsigned) OpenBadgeCredential issued by ``issuer_id``."""
    salt = "s4lt"
    credential: dict[str, Any] = {
        "@context": list(OB_CONTEXTS),
        "id": "urn:uuid:5c1e6d1a-0f37-4b8e-9a52-3d7c1b2e4f60",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Leading People",
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "HRD Institute"},
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {
            "id": "urn:uuid:0e4a1f5c-2b7d-4c3e-8f19-6a5b4c3d2e1f",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                    "identityHash": "sha256$"
                    + hashlib.sha256(f"learner@example.org{salt}".encode()).hexdigest(),
                }
            ],
            "achievement": {
                "id": "urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": "Leading People",
                "description": "Leading people, a LEAD Certificate Program course.",
                "criteria": {"narrative": "Attended every session and passed the assessment."},
            },
        },
    }
    credential.update(overrides)
    return credential
