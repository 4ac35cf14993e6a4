"""Proof throughput, printed as rates and as ratios to raw Ed25519 measured in the same run.

    python bench/proofs.py [--seconds 1.0]

Rows: raw Ed25519 sign / verify (the baseline); Data Integrity eddsa-rdfc-2022 sign, proof
verify and full ``verify_credential``; VC-JWT sign and verify for RS256, ES256 and EdDSA. The
credential is a typical ~3 KB badge (achievement with alignments, evidence, hashed recipient).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from issuer.crypto.keys import did_jwk, did_key, did_key_method, generate_ed25519, generate_for_jwt
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from verifier import verify_credential
from verifier.fetch import NO_NETWORK
from verifier.jsonld import use_reference_canonicalizer
from verifier.keys import DefaultKeyResolver
from verifier.proof import data_integrity

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def typical_credential(issuer: str) -> dict[str, Any]:
    alignment = [
        {
            "type": ["Alignment"],
            "targetName": name,
            "targetCode": code,
            "targetFramework": "Executive Core Qualifications",
            "targetType": "ceasn:Competency",
            "targetUrl": f"https://laurel.example.org/frameworks/ecq/{code}",
        }
        for code, name in [
            ("ECQ1-1", "Creativity and Innovation"),
            ("ECQ1-4", "Strategic Thinking"),
            ("ECQ2-3", "Developing Others"),
            ("ECQ2-4", "Team Building"),
        ]
    ]
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:0d3c2b1a-9f8e-4d7c-8b6a-5f4e3d2c1b0a",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "LEAD Level 2: Leading People",
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": "HRD Institute",
            "url": "https://hrd.example.org",
            "email": "badges@hrd.example.org",
        },
        "validFrom": "2026-03-01T09:00:00Z",
        "validUntil": "2029-03-01T09:00:00Z",
        "credentialSubject": {
            "id": "urn:uuid:6e5d4c3b-2a19-4f8e-9d7c-6b5a4f3e2d1c",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "b8f1c2",
                    "identityHash": "sha256$" + "ab" * 32,
                }
            ],
            "creditsEarned": 40,
            "achievement": {
                "id": "https://laurel.example.org/achievements/lead-2",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": "LEAD Level 2: Leading People",
                "description": "Second level of the LEAD Certificate Program: two required "
                "courses and three electives on leading people and teams.",
                "criteria": {"narrative": "Complete the two required courses and three electives."},
                "creditsAvailable": 40,
                "alignment": alignment,
                "tag": ["leadership", "LEAD", "level 2"],
            },
        },
        "evidence": [
            {
                "type": ["Evidence"],
                "name": "Capstone project",
                "id": "https://lms.hrd.example.org/evidence/7781",
                "narrative": "Led a six-person team through a reorganisation plan.",
            }
        ],
    }


def rate(operation: Callable[[], object], seconds: float) -> float:
    operation()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        operation()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0, help="time per row")
    seconds = parser.parse_args().seconds

    key = generate_ed25519()
    issuer = did_key(key)
    credential = typical_credential(issuer)
    signed = sign_data_integrity(credential, key, did_key_method(key))
    message = b"x" * 64
    signature = key.sign(message)
    public = key.public_key()
    resolver = DefaultKeyResolver(NO_NETWORK)
    print(f"credential: {len(json.dumps(signed))} bytes of JSON")

    rows: list[tuple[str, float, float]] = []

    def row(name: str, operation: Callable[[], object], baseline: float) -> None:
        rows.append((name, rate(operation, seconds), baseline))

    sign_base = rate(lambda: key.sign(message), seconds)
    verify_base = rate(lambda: public.verify(signature, message), seconds)
    rows += [
        ("raw Ed25519 sign (baseline)", sign_base, sign_base),
        ("raw Ed25519 verify (baseline)", verify_base, verify_base),
    ]

    def di_sign() -> object:
        return sign_data_integrity(credential, key, did_key_method(key))

    def di_verify() -> object:
        return data_integrity.verify_proof(signed, signed["proof"][0], resolver)

    row("Data Integrity sign", di_sign, sign_base)
    row("Data Integrity proof verify", di_verify, verify_base)
    use_reference_canonicalizer(True)
    row("  reference canonicaliser: sign", di_sign, sign_base)
    row("  reference canonicaliser: verify", di_verify, verify_base)
    use_reference_canonicalizer(False)
    row(
        "verify_credential (all checks)",
        lambda: verify_credential(signed, now=NOW, fetcher=NO_NETWORK),
        verify_base,
    )
    for alg in ("RS256", "ES256", "EdDSA"):
        jwt_key = generate_for_jwt(alg)
        did = did_jwk(jwt_key)
        jwt_credential = typical_credential(did)
        token = sign_jwt(jwt_credential, jwt_key, kid=f"{did}#0")
        row(
            f"VC-JWT {alg} sign",
            partial(sign_jwt, jwt_credential, jwt_key, kid=f"{did}#0"),
            sign_base,
        )
        row(
            f"VC-JWT {alg} verify_credential",
            partial(verify_credential, token, now=NOW, fetcher=NO_NETWORK),
            verify_base,
        )

    print(f"{'operation':<38}{'per second':>12}{'× baseline':>14}")
    for name, per_second, baseline in rows:
        print(f"{name:<38}{per_second:>12,.0f}{per_second / baseline:>14.4f}")


if __name__ == "__main__":
    main()
