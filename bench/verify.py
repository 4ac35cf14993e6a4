"""Full verification against the bare proof check and raw Ed25519, measured in the same run.

    python bench/verify.py [--seconds 0.4] [--rounds 7] [--reference-schema]

The credential is ``bench/proofs.py``'s typical badge with a Bitstring Status List entry; the
status list (a signed ``BitstringStatusListCredential`` of 131,072 entries from the same issuer)
is served from memory, as an HTTP cache would serve it. Rows are measured in interleaved rounds
(each row ``--seconds`` of CPU time per round) so that other load on the machine falls on every
row alike; rates are per second of this thread's CPU time (``time.thread_time``: per core, and
not lowered by other processes waiting for the cores); each figure is the median over the rounds,
and each ratio the median of the per-round ratios.

Rows: raw Ed25519 sign and verify; Data Integrity sign; the bare proof check
(``data_integrity.verify_proof``: canonical form, proof config, key, signature);
``verify_credential`` of the Data Integrity credential (every check, status included) and of the
same credential as an EdDSA VC-JWT. ``--reference-schema`` leaves every schema check to the
reference validator (``jsonschema``), as before the compiled one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from proofs import NOW, typical_credential

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
from issuer.crypto.signing import sign_data_integrity, sign_jwt
from issuer.issuing.bitstring import empty_bits, status_entry, status_list_credential
from verifier import Verdict, verify_credential
from verifier.fetch import MappingFetcher
from verifier.keys import DefaultKeyResolver
from verifier.proof import data_integrity
from verifier.schema import use_compiled_validator

LIST_URL = "https://hrd.example.org/status/1"

Row = tuple[str, Callable[[], object], str | None, float | None]
"""(name, operation, the row it is compared with, the target ratio)."""


def rate(operation: Callable[[], object], seconds: float) -> float:
    """Operations per second of this thread's CPU time (per core, whatever else runs)."""
    count, start = 0, time.thread_time()
    while (elapsed := time.thread_time() - start) < seconds:
        operation()
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.4, help="time per row and round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reference-schema", action="store_true")
    args = parser.parse_args()
    use_compiled_validator(not args.reference_schema)

    key = generate_ed25519()
    issuer = did_key(key)
    method = did_key_method(key)
    unsigned_list = status_list_credential(
        LIST_URL, issuer, bytes(empty_bits()), valid_from="2026-01-01T00:00:00Z"
    )
    status_list = sign_data_integrity(unsigned_list, key, method)
    fetcher = MappingFetcher({LIST_URL: json.dumps(status_list).encode("utf-8")})
    credential = {**typical_credential(issuer), "credentialStatus": status_entry(LIST_URL, 7)}
    signed = sign_data_integrity(credential, key, method)
    token = sign_jwt(credential, key, kid=method)
    message, resolver = b"x" * 64, DefaultKeyResolver(fetcher)
    signature, public = key.sign(message), key.public_key()
    for document in (signed, token):
        report = verify_credential(document, now=NOW, fetcher=fetcher)
        assert report.verdict is Verdict.VERIFIED, report.reason()
        assert report.check("status") is not None and "not set" in report.check("status").reason  # type: ignore[union-attr]

    rows: list[Row] = [
        ("raw Ed25519 sign", lambda: key.sign(message), None, None),
        ("raw Ed25519 verify", lambda: public.verify(signature, message), None, None),
        (
            "Data Integrity sign",
            lambda: sign_data_integrity(credential, key, method),
            "raw Ed25519 sign",
            0.10,
        ),
        (
            "Data Integrity proof verify (bare)",
            lambda: data_integrity.verify_proof(signed, signed["proof"][0], resolver),
            "raw Ed25519 verify",
            None,
        ),
        (
            "verify_credential, Data Integrity",
            lambda: verify_credential(signed, now=NOW, fetcher=fetcher),
            "Data Integrity proof verify (bare)",
            0.85,
        ),
        (
            "verify_credential, VC-JWT EdDSA",
            lambda: verify_credential(token, now=NOW, fetcher=fetcher),
            "raw Ed25519 verify",
            0.20,
        ),
    ]
    rates: dict[str, list[float]] = {name: [] for name, *_ in rows}
    for _ in range(args.rounds):
        for name, operation, _, _ in rows:
            operation()
            rates[name].append(rate(operation, args.seconds))

    print(f"credential: {len(json.dumps(signed))} bytes of JSON, status list served from memory")
    print(f"schema validator: {'reference only' if args.reference_schema else 'compiled first'}")
    print(f"{args.rounds} interleaved rounds of {args.seconds:g} s per row; medians")
    print(f"{'operation':<38}{'per second':>12}  {'ratio':>8}  {'target':>7}  compared with")
    for name, _, baseline, target in rows:
        median = statistics.median(rates[name])
        if baseline is None:
            print(f"{name:<38}{median:>12,.0f}")
            continue
        ratio = statistics.median(a / b for a, b in zip(rates[name], rates[baseline], strict=True))
        wanted = f"≥{target:.2f}" if target is not None else ""
        print(f"{name:<38}{median:>12,.0f}  {ratio:>8.3f}  {wanted:>7}  {baseline}")


if __name__ == "__main__":
    main()
