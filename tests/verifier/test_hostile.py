"""Hostile input (issue 13): the verifier's work per request is bounded, and a document over a
limit is refused early as input, with a reason a person can act on.

No test measures time (project rule); work is measured instead: the number of Python calls a
verification makes (``work_budget`` from ``test_bad_input``; an ordinary credential needs about
50,000), canonicalisation steps, and memory with ``tracemalloc``.
"""

from __future__ import annotations

import copy
import json
import logging
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from pyld import jsonld as pyld_jsonld

from issuer.crypto.keys import did_jwk
from tests.issuer.credentials import make_credential
from tests.vectors import VECTORS
from tests.verifier.test_bad_input import (
    BIG_2MB,
    LEADING_CHANGE,
    assert_human_reason,
    billion_laughs,
    png_with_chunk,
    png_with_itxt,
    signed,
    svg_with_doctype,
    verify_recorded,
    with_status,
    work_budget,
)
from tests.verifier.test_embedded import clr, transcript
from verifier import (
    Outcome,
    Report,
    Verdict,
    canonicalize,
    fastcanon,
    rdfc_budget,
    safejson,
    stats,
    verify_credential,
)
from verifier.baking import KEYWORD, MAX_TEXT, read_png, read_svg
from verifier.cborld_contexts import CborldError
from verifier.cborld_values import decode_multibase
from verifier.errors import JsonLdError, MalformedInput, NoCredentialFound, TooComplex
from verifier.expansion import expand, options
from verifier.fastcanon import canonicalize_fast
from verifier.fetch import MappingFetcher
from verifier.jsonld import canonicalize_reference, node_map_comparisons
from verifier.multibase import MAX_BASE58_BYTES, MAX_BASE58_CHARS, b58encode, b64url_encode
from verifier.proof import jwt as vcjwt
from verifier.sources import OFFER_READ_BYTES, offered_credential

LINK = "https://poison.example/link"


def refused_as_too_complex(report: Report, *mentions: str) -> None:
    """The report refuses the input as too complex, and says why."""
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    check = report.check("input")
    assert check is not None and check.outcome is Outcome.FAILED, report.to_dict()
    assert check.code == "too_complex", check
    assert [c.name for c in report.checks] == ["input"], "nothing else was worked on"
    for word in mentions:
        assert word in check.reason, check.reason
    assert_human_reason(report)


def with_evidence(count: int, ident: Callable[[int], str | None]) -> dict[str, Any]:
    """leading-change.json with ``count`` evidence entries (its signature no longer holds)."""
    credential = copy.deepcopy(LEADING_CHANGE)
    credential["evidence"] = [
        {"type": ["Evidence"]} | ({"id": name} if (name := ident(i)) else {}) for i in range(count)
    ]
    return credential


@pytest.fixture
def counted() -> Iterator[Callable[[str], int]]:
    """How much each ``verifier.stats`` counter grew during the test."""
    before = stats.snapshot()
    yield lambda name: stats.snapshot().get(name, 0) - before.get(name, 0)


# --- blank nodes, nodes, values ---------------------------------------------------------------


def test_a_blank_node_bomb_of_two_megabytes_is_refused_up_front(
    counted: Callable[[str], int],
) -> None:
    """The audit's bomb: 40,000 evidence entries with blank-node ids in under 2 MB took minutes
    (PyLD's node map compares each value with every one before it). Refused before any JSON-LD
    processing, in a few Python calls per entry (the old path made ~15,000 per entry)."""
    bomb = json.dumps(with_evidence(40_000, lambda i: f"_:b{i}"))
    assert len(bomb) < BIG_2MB
    with work_budget(1_500_000):
        report, fetched = verify_recorded(bomb)
    refused_as_too_complex(report, "100,000")
    assert fetched == []
    assert counted(stats.CANON_TOO_COMPLEX) == 1
    assert counted(stats.CANON_FAST) == counted(stats.CANON_FALLBACK) == 0


@pytest.mark.parametrize(
    ("ident", "mentions"),
    [
        (lambda i: f"_:b{i}", "blank nodes"),
        (lambda i: None, "blank nodes"),
        (lambda i: f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "JSON objects"),
    ],
    ids=["8,000 labelled", "8,000 unlabelled", "12,000 with IRIs"],
)
def test_over_the_node_limits_is_refused_up_front(
    ident: Callable[[int], str | None], mentions: str
) -> None:
    """The audit's 16-second case (8,000 labelled entries, 430 KB), its unlabelled twin, and
    more objects than ``MAX_NODES`` even when none is a blank node."""
    count = 12_000 if mentions == "JSON objects" else 8_000
    with work_budget(1_000_000):
        report, _ = verify_recorded(with_evidence(count, ident))
    refused_as_too_complex(report, mentions)


def test_a_credential_with_many_blank_nodes_within_the_limits_verifies(
    counted: Callable[[str], int],
) -> None:
    """Blank-node labels no longer send a credential to the reference path: 300 evidence
    entries, labelled and not, verify on the fast path."""

    def evidence(credential: dict[str, Any]) -> None:
        credential["evidence"] = [
            {"type": ["Evidence"], "name": f"Session {i}"} | ({"id": f"_:e{i}"} if i % 2 else {})
            for i in range(300)
        ]

    report, _ = verify_recorded(signed(evidence))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert counted(stats.CANON_FALLBACK) == 0
    assert counted(stats.CANON_FAST) >= 1


def test_a_status_list_over_the_limits_is_refused_with_its_reason() -> None:
    url = "https://status.example/1"
    status_list = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": "BitstringStatusList", "evidence": [{}] * 6_000},
    }
    with work_budget(1_000_000):
        report, fetched = verify_recorded(
            with_status(url)(), {url: json.dumps(status_list).encode()}
        )
    assert fetched == [url]
    status = report.check("status")
    assert status is not None and status.outcome is not Outcome.PASSED, report.to_dict()
    assert "blank nodes" in status.reason, status.reason


def test_the_limits_leave_room_for_a_clr_of_250_badges() -> None:
    """The largest CLR Laurel verifies in full (420 KB) is well inside every size limit."""
    size = rdfc_budget.check_document(clr(transcript(250)))
    assert size.values * 4 < rdfc_budget.MAX_VALUES
    assert size.nodes * 4 < rdfc_budget.MAX_NODES
    assert size.blank_nodes * 4 < rdfc_budget.MAX_BLANK_NODES


def test_many_values_of_one_property_are_refused_on_the_reference_path() -> None:
    """PyLD's toRdf searches a node's values before adding each: 2,000 tags are 2 million
    comparisons. The reference path refuses before it starts; the fast path has no such cost."""
    credential = make_credential("https://a.example/issuers/1")
    credential["credentialSubject"]["achievement"]["tag"] = [f"t{i}" for i in range(2_000)]
    with work_budget(2_000_000), pytest.raises(TooComplex, match="comparisons"):
        canonicalize_reference(credential)
    canonicalize(credential)


def test_the_template_cache_holds_badges_and_not_large_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An expanded template holds ~15 times its skeleton in memory: 512 cached shapes of hostile
    2 MB documents would hold gigabytes. Badge-sized shapes are cached, larger ones are not."""
    expansions = 0

    def counting(document: Any) -> list[Any]:
        nonlocal expansions
        expansions += 1
        return expand(document)

    monkeypatch.setattr(fastcanon, "expand", counting)
    badge = make_credential("https://a.example/issuers/1")
    for _ in range(2):
        canonicalize_fast(badge)
    assert expansions <= 1  # none if another test cached this shape first
    large = with_evidence(3_000, lambda i: f"urn:uuid:00000000-0000-4000-8000-{i:012d}")
    large.pop("proof")
    expansions = 0
    for _ in range(2):
        canonicalize_fast(large)
    assert expansions == 2
    assert all(len(key) <= fastcanon.MAX_CACHED_SKELETON for key in fastcanon._templates)
    assert fastcanon._cached_chars == sum(len(key) for key in fastcanon._templates)
    assert fastcanon._cached_chars <= fastcanon.CACHE_CHARS


def _pyld_comparisons(document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> int:
    """The comparisons PyLD's node map really makes for ``document`` (counted, then unpatched)."""
    calls = 0
    compare = pyld_jsonld.JsonLdProcessor.compare_values

    def counting(first: Any, second: Any) -> bool:
        nonlocal calls
        calls += 1
        return bool(compare(first, second))

    expanded = expand(document)
    with monkeypatch.context() as patch:
        patch.setattr(pyld_jsonld.JsonLdProcessor, "compare_values", staticmethod(counting))
        pyld_jsonld.to_rdf(expanded, {**options(), "produceGeneralizedRdf": False})
    return calls


def _node_map_documents() -> list[dict[str, Any]]:
    documents = [clr(transcript(40)), with_evidence(300, lambda i: f"_:b{i % 50}")]
    for path in sorted(VECTORS.rglob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        if isinstance(data, dict) and "@context" in data:
            documents.append(data)
    return documents


def test_the_node_map_estimate_is_an_upper_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = 0
    for document in _node_map_documents():
        try:
            expanded = expand(document)
        except JsonLdError:
            continue
        actual = _pyld_comparisons(document, monkeypatch)
        estimate = node_map_comparisons(expanded)
        assert actual <= estimate <= 2 * actual + 10, (actual, estimate)
        checked += 1
    assert checked > 20


# --- RDFC-1.0 steps and the deadline ------------------------------------------------------------


def two_hubs(children: int) -> dict[str, Any]:
    """Two alike blank nodes with ``children`` alike blank children each: RDFC-1.0 tries every
    permutation of the children, and each permutation costs time in proportion to their number.
    (It cannot be signed, so its signature is leading-change.json's and no longer holds.)"""
    credential = copy.deepcopy(LEADING_CHANGE)
    credential["credentialSubject"][LINK] = [
        {LINK: [{LINK: "x"} for _ in range(children)]} for _ in range(2)
    ]
    return credential


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    spent = 0
    spend = rdfc_budget._spend

    def counting(n: int = 1) -> None:
        nonlocal spent
        spent += n
        spend(n)

    monkeypatch.setattr(rdfc_budget, "_spend", counting)
    return lambda: spent


def test_a_permutation_costs_its_length(steps: Callable[[], int]) -> None:
    """Regression: permutations of 1,000 alike children were one step each, so the 20,000-step
    budget allowed 20,000 permutations of 1,000 nodes (seconds of work, twice over with the
    fallback). Now each costs its length, and the budget ends it after a few."""
    with work_budget(1_500_000):
        report, _ = verify_recorded(two_hubs(1_000))
    refused_as_too_complex(report, "too entangled", "20,000")
    assert steps() <= rdfc_budget.MAX_STEPS + 1_001


def test_one_verification_shares_one_step_budget(steps: Callable[[], int]) -> None:
    """Documents canonicalised in one verification (a CLR and its nested credentials, status
    lists, endorsements) spend from one shared budget as well as their own."""
    reasons = []
    with rdfc_budget.shared_budget(steps=3 * rdfc_budget.MAX_STEPS):
        for _ in range(8):
            with pytest.raises(TooComplex) as refused:
                canonicalize(two_hubs(7))
            reasons.append(str(refused.value))
    assert "in all" not in reasons[0]
    assert reasons[-1].endswith("(more than 60,000 RDFC-1.0 steps in all)")
    assert steps() <= 3 * rdfc_budget.MAX_STEPS + 8 * 100


class _Clock:
    """``time.thread_time`` for ``rdfc_budget``: ``step`` seconds of CPU per reading."""

    def __init__(self, step: float) -> None:
        self.step = step
        self.now = 0.0

    def thread_time(self) -> float:
        self.now += self.step
        return self.now


def test_canonicalisation_stops_at_its_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU time is checked between phases and at every step; with a clock that races, a sound
    credential is refused as too complex rather than worked on past the deadline."""
    monkeypatch.setattr(rdfc_budget, "time", _Clock(step=rdfc_budget.MAX_SECONDS * 0.6))
    report, _ = verify_recorded(LEADING_CHANGE)
    refused_as_too_complex(report, "s of processing")


def test_a_verification_stops_at_its_shared_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rdfc_budget, "time", _Clock(step=1.0))
    with rdfc_budget.shared_budget(seconds=1.5), pytest.raises(TooComplex, match="in all"):
        canonicalize(LEADING_CHANGE)


# --- counters ---------------------------------------------------------------------------------


def test_every_documented_counter_is_in_the_snapshot() -> None:
    snapshot = stats.snapshot()
    assert set(stats.COUNTERS) <= set(snapshot)
    assert all(name.startswith("verifier_") and name.endswith("_total") for name in stats.COUNTERS)
    assert all(isinstance(value, int) for value in snapshot.values())


def test_a_fallback_to_the_reference_path_is_counted_and_logged(
    counted: Callable[[str], int], caplog: pytest.LogCaptureFixture
) -> None:
    credential = make_credential("https://a.example/issuers/1")
    credential["credentialSubject"]["https://example.org/steps"] = {"@list": ["a", "b"]}
    with caplog.at_level(logging.INFO, logger="verifier.jsonld"):
        canonicalize(credential)
    assert counted(stats.CANON_FALLBACK) == 1
    assert counted(stats.CANON_FAST) == counted(stats.CANON_FAST_ERROR) == 0
    assert "declined (lists)" in caplog.text


def test_a_fast_path_error_is_counted_and_a_disagreement_warned(
    counted: Callable[[str], int],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(document: Any) -> str:
        raise KeyError("a fast-path bug")

    monkeypatch.setattr("verifier.jsonld.canonicalize_fast", broken)
    credential = make_credential("https://a.example/issuers/1")
    with caplog.at_level(logging.INFO, logger="verifier.jsonld"):
        assert canonicalize(credential) == canonicalize_reference(credential)
        with pytest.raises(JsonLdError):
            canonicalize(make_credential("https://a.example/issuers/1", undefinedTerm="x"))
    assert counted(stats.CANON_FALLBACK) == counted(stats.CANON_FAST_ERROR) == 2
    assert counted(stats.CANON_FAST_DISAGREEMENT) == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "a fast-path bug" in warnings[0].getMessage()


def test_a_refusal_is_counted(counted: Callable[[str], int]) -> None:
    with pytest.raises(TooComplex):
        canonicalize(with_evidence(6_000, lambda i: None))
    assert counted(stats.CANON_TOO_COMPLEX) == 1


# --- JSON ---------------------------------------------------------------------------------------


DUPLICATES = {
    "id at top level": '{"id": "urn:a", "type": ["VerifiableCredential"], "id": "urn:b"}',
    "credentialSubject twice": (
        '{"credentialSubject": {"id": "urn:a"}, "credentialSubject": {"id": "urn:b"}}'
    ),
    "nested in the achievement": '{"credentialSubject": {"achievement": {"name": 1, "name": 2}}}',
    "in an array": '{"evidence": [{}, {"id": "urn:a", "id": "urn:a"}]}',
}


@pytest.mark.parametrize("text", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_duplicate_keys_are_refused(text: str) -> None:
    with pytest.raises(MalformedInput, match="twice"):
        safejson.loads(text)


def test_a_credential_with_two_subjects_is_refused_as_input() -> None:
    """Regression: the last ``credentialSubject`` won here, the first elsewhere; the same bytes
    meant two credentials."""
    text = json.dumps(LEADING_CHANGE)
    other = json.dumps({**LEADING_CHANGE["credentialSubject"], "id": "urn:uuid:someone-else"})
    twice = text[:-1] + f', "credentialSubject": {other}}}'
    for source in (twice, twice.encode()):
        report, _ = verify_recorded(source)
        check = report.check("input")
        assert check is not None and check.outcome is Outcome.FAILED
        assert "'credentialSubject' twice" in check.reason


def test_duplicate_keys_in_a_jwt_header_are_refused() -> None:
    """``{"alg": "RS256", "alg": "none"}``: which one a JOSE library reads is its own choice."""
    header = b64url_encode(b'{"alg":"RS256","alg":"none"}')
    report, _ = verify_recorded(f"{header}.e30.c2lnbmF0dXJl")
    check = report.check("input")
    assert check is not None and check.outcome is Outcome.FAILED
    assert "'alg' twice" in check.reason


HUGE = {
    "100,000-digit integer": "9" * 100_000,
    "negative 100,000-digit integer": "-" + "9" * 100_000,
    "2,000,000-digit integer": "1" * 2_000_000,
    "1e400": "1e400",
    "-1e400": "-1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
}


@pytest.mark.parametrize("number", HUGE.values(), ids=HUGE.keys())
def test_huge_numbers_are_refused_quickly(number: str) -> None:
    with work_budget(1_000), pytest.raises(MalformedInput) as refused:
        safejson.loads(f'{{"credentialSubject": {{"creditsEarned": {number}}}}}')
    assert any(word in str(refused.value) for word in ("digits", "range", "NaN", "Infinity"))


def test_the_digit_limit_does_not_depend_on_the_process_setting() -> None:
    assert safejson.loads("9" * safejson.MAX_INTEGER_DIGITS) == int("9" * 4_300)
    with pytest.raises(MalformedInput, match="4,301 digits"):
        safejson.loads("9" * (safejson.MAX_INTEGER_DIGITS + 1))


@pytest.mark.parametrize(
    "text", ["[" * 100_000, '{"a": ' * 100_000, '{"a": [' * 50_000], ids=["[", "{", "{["]
)
def test_deep_nesting_is_refused_quickly(text: str) -> None:
    with work_budget(1_000), pytest.raises(MalformedInput, match="nested more than 64"):
        safejson.loads(text)


# --- JWT algorithms and keys --------------------------------------------------------------------


def jwt_signed_by(key: Any, alg: str, *, sign_as: str | None = None) -> str:
    """A VC-JWT from a did:jwk issuer whose one key is ``key``, signed with ``sign_as`` (default
    ``alg``) under a header that says ``alg``."""
    did = did_jwk(key)
    credential = make_credential(did)
    header = {"alg": alg, "kid": f"{did}#0", "typ": "JWT"}
    signing_input = vcjwt.signing_input(header, {**credential, **vcjwt.claims_for(credential)})
    signature = jwt.get_algorithm_by_name(sign_as or alg).sign(signing_input, key)
    return vcjwt.assemble(signing_input, signature)


WRONG_KEYS: dict[str, Callable[[], str]] = {
    "ES256 with P-384": lambda: jwt_signed_by(ec.generate_private_key(ec.SECP384R1()), "ES256"),
    "ES256 with secp256k1": lambda: jwt_signed_by(ec.generate_private_key(ec.SECP256K1()), "ES256"),
    "EdDSA with P-256": lambda: jwt_signed_by(
        ec.generate_private_key(ec.SECP256R1()), "EdDSA", sign_as="ES256"
    ),
    "EdDSA with Ed448": lambda: jwt_signed_by(ed448.Ed448PrivateKey.generate(), "EdDSA"),
    "RS256 with 1024 bits": lambda: jwt_signed_by(rsa.generate_private_key(65537, 1024), "RS256"),
    "ES256 with an RSA key": lambda: jwt_signed_by(
        rsa.generate_private_key(65537, 2048), "ES256", sign_as="RS256"
    ),
}


@pytest.mark.parametrize("build", WRONG_KEYS.values(), ids=WRONG_KEYS.keys())
def test_a_jwt_algorithm_takes_only_its_own_kind_of_key(build: Callable[[], str]) -> None:
    report, _ = verify_recorded(build())
    assert report.verdict is Verdict.NOT_VERIFIED, report.to_dict()
    proof = report.check("proof")
    assert proof is not None and proof.outcome is Outcome.FAILED, report.to_dict()
    assert_human_reason(report)


def test_the_reason_names_the_key_and_what_the_algorithm_needs() -> None:
    report, _ = verify_recorded(WRONG_KEYS["ES256 with P-384"]())
    proof = report.check("proof")
    assert proof is not None
    assert proof.reason == "ES256 needs a P-256 key; the key is a P-384 key"
    report, _ = verify_recorded(WRONG_KEYS["RS256 with 1024 bits"]())
    proof = report.check("proof")
    assert proof is not None and "an RSA key of 1024 bits" in proof.reason


@pytest.mark.parametrize(
    ("build", "alg"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256"),
        (ed25519.Ed25519PrivateKey.generate, "EdDSA"),
        (lambda: rsa.generate_private_key(65537, 2048), "RS256"),
    ],
    ids=["ES256 with P-256", "EdDSA with Ed25519", "RS256 with 2048 bits"],
)
def test_each_algorithm_with_its_own_key_verifies(build: Callable[[], Any], alg: str) -> None:
    """Control: the same tokens with the right keys verify, offline."""
    report, _ = verify_recorded(jwt_signed_by(build(), alg))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_a_header_jwk_for_another_algorithm_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = jwt_signed_by(key, "ES256")
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    header = {"alg": "ES256", "jwk": {**jwk, "alg": "ES384"}}
    _, payload, signature = token.split(".")
    forged = f"{b64url_encode(json.dumps(header).encode())}.{payload}.{signature}"
    report, _ = verify_recorded(forged)
    proof = report.check("proof")
    assert proof is not None and proof.outcome is Outcome.FAILED
    assert "'ES384'" in proof.reason


# --- baked images -------------------------------------------------------------------------------


def peak_memory(read: Callable[[], Any]) -> int:
    """Bytes allocated at the peak while ``read`` runs (whatever it raises)."""
    tracemalloc.start()
    try:
        read()
    except (MalformedInput, NoCredentialFound):
        pass
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


BOMB = zlib.compress(b" " * 200_000_000, 9)  # 194 KB that inflate to 200 MB


def ztxt(keyword: bytes) -> bytes:
    return png_with_chunk(b"zTXt", keyword + b"\x00\x00" + BOMB)


@pytest.mark.parametrize(
    "png",
    [
        png_with_itxt(BOMB, compressed=True),
        ztxt(KEYWORD),
        ztxt(b"Comment"),
        png_with_chunk(b"iTXt", b"Comment\x00\x01\x00\x00\x00" + BOMB),
    ],
    ids=["credential iTXt", "zTXt with the keyword", "zTXt comment", "another iTXt"],
)
def test_a_png_decompression_bomb_is_refused_in_bounded_memory(png: bytes) -> None:
    assert len(png) < BIG_2MB
    assert peak_memory(lambda: read_png(png)) < 2 * MAX_TEXT + len(png) + 1_000_000
    report, _ = verify_recorded(png)
    check = report.check("input")
    assert check is not None and check.outcome is Outcome.FAILED


def test_the_credential_itxt_inflates_to_at_most_the_limit() -> None:
    exact = zlib.compress(b"x" * MAX_TEXT)
    assert read_png(png_with_itxt(exact, compressed=True)) == "x" * MAX_TEXT
    with pytest.raises(MalformedInput, match="larger than the limit \\(2,097,152 bytes"):
        read_png(png_with_itxt(zlib.compress(b"x" * (MAX_TEXT + 1)), compressed=True))
    with pytest.raises(MalformedInput, match="cut short"):
        read_png(png_with_itxt(zlib.compress(b"x" * 1000)[:-8], compressed=True))


SVG_ATTACKS = {
    "billion laughs": billion_laughs(),
    "external entity": svg_with_doctype(
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
        "<openbadges:credential>&xxe;</openbadges:credential>",
    ),
    "quadratic blowup": svg_with_doctype(
        f'<!ENTITY a "{"a" * 100_000}">',
        f"<openbadges:credential>{'&a;' * 10_000}</openbadges:credential>",
    ),
}


@pytest.mark.parametrize("svg", SVG_ATTACKS.values(), ids=SVG_ATTACKS.keys())
def test_svg_entities_are_refused_in_bounded_memory(svg: bytes) -> None:
    with pytest.raises(MalformedInput, match="forbidden XML feature"):
        read_svg(svg)
    assert peak_memory(lambda: read_svg(svg)) < 10 * len(svg) + 1_000_000
    report, _ = verify_recorded(svg)
    check = report.check("input")
    assert check is not None and check.outcome is Outcome.FAILED
    assert "forbidden XML feature" in check.reason


def test_a_png_that_only_looks_like_a_bomb_still_reads() -> None:
    """Control: a small compressed credential chunk is read as before."""
    text = json.dumps(LEADING_CHANGE)
    png = png_with_itxt(zlib.compress(text.encode()), compressed=True)
    assert read_png(png) == text
    report, _ = verify_recorded(png)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


@pytest.mark.parametrize("encoding", ["UTF-32", "shift_jis", "bogus", "rot13", "idna", "punycode"])
def test_an_svg_in_an_encoding_expat_cannot_read_is_refused(encoding: str) -> None:
    """expat raises ``ValueError`` or ``LookupError`` for these declarations; they escaped
    ``verify_credential`` (a 500 on the API) until read as bad input."""
    svg = f'<?xml version="1.0" encoding="{encoding}"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    with pytest.raises(MalformedInput, match="the SVG's text cannot be read"):
        read_svg(svg.encode())
    url = "https://badges.example/b.svg"
    for source, table in ((svg.encode(), {}), (url, {url: svg.encode()})):
        report = verify_credential(source, fetcher=MappingFetcher(table))
        check = report.check("input")
        assert check is not None and check.outcome is Outcome.FAILED, report.checks
        assert "the SVG's text cannot be read" in check.reason


@pytest.mark.parametrize(
    "piece",
    ["<a b='", "<!--", "<a", '<link a="', "<link ", "<script", "<link " + "a=" * 1020 + ">"],
)
def test_a_page_of_unclosed_markup_is_read_in_one_pass(piece: str) -> None:
    """``html.parser`` took minutes on 256 KB of ``<a b='`` (quadratic, CVE-2025-6069); the
    links of a page are now found in one pass, and a link after such markup still counts."""
    markup = piece * (OFFER_READ_BYTES // len(piece) // 2)
    page = f"<!doctype html><html><head>{markup}".encode()
    assert offered_credential(page, "https://badges.example/v/1") is None
    link = '<link rel="alternate" type="application/vc+ld+json" href="/c.json">'
    closed = "<a b=''>" * 1000 + "<!-- x -->" * 1000 + "<script>var a = '<link>';</script>"
    found = offered_credential(f"<!doctype html>{closed}{link}".encode(), "https://b.example/v")
    assert found == "https://b.example/c.json"


def test_long_base58_values_are_refused_before_they_are_converted() -> None:
    """Base58 takes time that grows with the square of the length: a 400 KB ``proofValue`` or
    ``did:key`` took 17–19 s to read, 64 KB of CBOR-LD bytes 7 s to write back."""
    forged = copy.deepcopy(LEADING_CHANGE)
    forged["proof"][0]["proofValue"] = "z" + "2" * 300_000
    report, _ = verify_recorded(forged)
    assert "longer than any key or signature" in str(report.check("proof"))
    forged = copy.deepcopy(LEADING_CHANGE)
    forged["proof"][0]["verificationMethod"] = "did:key:z" + "2" * 300_000
    report, _ = verify_recorded(forged)
    assert report.verdict is Verdict.NOT_VERIFIED
    assert "longer than any key or signature" in str(report.check("proof"))
    with pytest.raises(ValueError, match="too many to write"):
        b58encode(b"\xff" * (MAX_BASE58_BYTES + 1))
    assert len(b58encode(b"\xff" * MAX_BASE58_BYTES)) == MAX_BASE58_CHARS
    with pytest.raises(CborldError, match="too long"):
        decode_multibase(b"z" + b"\xff" * 65_536)
