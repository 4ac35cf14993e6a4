"""``verify_credential``: every check of OB 3.0 §8.1 ("Verification"), as one frozen report.

Checks, in order: input, context, type, schema, proof, issuer binding, validity, status, then the
optional ones (endorsements, recipient, refresh). Each check that raises becomes a failed (or
unknown) outcome with the error's message as its plain-language reason; every check runs, so the
report lists everything that is wrong, not only the first thing. Then, apart from the verdict, the
issuer's identity (``verifier.identity``): known, linked or unconfirmed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from verifier import rdfc_budget
from verifier.binding import UnbindableIssuer, check_binding
from verifier.checks import (
    OB_TYPES,
    check_context,
    check_recipient,
    check_type,
    check_validity,
    check_vc_context,
    check_vc_type,
    context_version_note,
    is_vcdm1,
    parse_datetime,
    types_of,
    validity_window,
)
from verifier.errors import (
    FetchError,
    Indeterminate,
    InputError,
    JsonLdError,
    ProofError,
    TooComplex,
    UnsupportedProof,
    VerifierError,
)
from verifier.fetch import Fetcher, HttpFetcher, refresh_within, served_from
from verifier.identity import DEFAULT_POLICY, NOTHING_READ, TrustPolicy, assess
from verifier.jsonld import canonicalize, check_processing
from verifier.keys import DefaultKeyResolver, KeyResolver, ResolvedKey, did_web_url
from verifier.linkage import check_domain_linkage, linked_domains
from verifier.listcache import VERIFIED_LISTS, Recorder, by_default
from verifier.proof import data_integrity
from verifier.proof import jwt as vcjwt
from verifier.registries import StaticRegistry, parse_static
from verifier.report import Check, Outcome, Report, Verdict, decide
from verifier.schema import SchemaUnavailable, validate
from verifier.sources import DEFAULT_MAX_BYTES, Loaded, Source, load
from verifier.status import check_status
from verifier.summary import held_to_claims, summarize
from verifier.transport import Deadline, within

DEFAULT_SKEW = timedelta(minutes=5)
MAX_PROOFS = 8
MAX_ENDORSEMENTS = 16
"""Embedded endorsements verified per credential."""
MAX_NESTED_CREDENTIALS = 250
"""CLR 2.0 nested credentials verified per ClrCredential: a learner's transcript of a few hundred
badges. Nested credentials from one issuer share a DID document and status lists, which
``BoundedFetcher`` fetches once, so they stay within ``MAX_FETCHES``."""
MAX_FETCHES = 16
"""Distinct URLs fetched per verification (nested and endorsing credentials included)."""
FETCH_BUDGET = 20.0
"""Seconds all the fetches of one verification may take together (each fetch has its own,
shorter deadline too: ``verifier.fetch.DEFAULT_DEADLINE``)."""


class BoundedFetcher:
    """One verification's view of the fetcher: each URL is fetched at most once (failures
    included), at most ``MAX_FETCHES`` URLs in all, and all of them (and the trust-list lookups
    inside ``budget()``) within ``FETCH_BUDGET`` seconds, so no credential can make Laurel fetch
    without end. ``what`` is verified (``credential``, ``presentation``), for the reasons given
    when a limit is reached. Made by ``bounded``."""

    def __init__(
        self, fetcher: Fetcher, budget: float | None = None, what: str = "credential"
    ) -> None:
        self.fetcher = fetcher
        self.what = what
        self.results: dict[str, bytes | FetchError] = {}
        seconds = FETCH_BUDGET if budget is None else budget
        self.deadline = Deadline(
            seconds, f"the documents of this {what} took longer than {seconds:g} s to fetch"
        )

    def budget(self) -> AbstractContextManager[None]:
        """Network access inside (any fetcher's, the trust lists' too) ends by the deadline."""
        return within(self.deadline)

    def __call__(self, url: str) -> bytes:
        if url not in self.results:
            if len(self.results) >= MAX_FETCHES:
                raise FetchError(url, f"more than {MAX_FETCHES} documents for one {self.what}")
            try:
                if self.deadline.remaining() <= 0:
                    raise FetchError(url, self.deadline.reason)
                with self.budget():
                    self.results[url] = self.fetcher(url)
            except FetchError as exc:
                self.results[url] = exc
        result = self.results[url]
        if isinstance(result, FetchError):
            raise result
        return result

    def refresh_within(self, url: str, seconds: float) -> None:
        refresh_within(self.fetcher, url, seconds)


def bounded(
    fetcher: Fetcher | None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    what: str = "credential",
) -> BoundedFetcher:
    """``fetcher`` (default: HTTPS, answers of at most ``max_bytes``) bounded for one
    verification. One already bounded is returned as it is: the credentials inside a
    presentation share the presentation's limits (``verifier.presentation``) rather than each
    starting afresh."""
    if isinstance(fetcher, BoundedFetcher):
        return fetcher
    return BoundedFetcher(fetcher or HttpFetcher(max_bytes=max_bytes), what=what)


def _code(error: Exception) -> str:
    """``NotYetValid`` -> ``not_yet_valid``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


class _Run:
    """Collects checks for one credential."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def run(
        self,
        name: str,
        step: Callable[[], str | None],
        *,
        required: bool = True,
        skipped: str = "not applicable",
    ) -> bool:
        try:
            reason = step()
        except (Indeterminate, FetchError) as exc:
            self.checks.append(Check(name, Outcome.UNKNOWN, str(exc), required, _code(exc)))
            return False
        except UnbindableIssuer as exc:
            self.checks.append(Check(name, Outcome.FAILED, str(exc), False, _code(exc)))
            return False
        except SchemaUnavailable as exc:
            self.checks.append(Check(name, Outcome.UNKNOWN, str(exc), False, _code(exc)))
            return False
        except VerifierError as exc:
            self.checks.append(Check(name, Outcome.FAILED, str(exc), required, _code(exc)))
            return False
        if reason is None:
            self.checks.append(Check(name, Outcome.SKIPPED, skipped, required=False))
        else:
            self.checks.append(Check(name, Outcome.PASSED, reason, required))
        return True

    def add(self, name: str, outcome: Outcome, reason: str, *, required: bool = True) -> None:
        self.checks.append(Check(name, outcome, reason, required))


def verify_credential(
    source: Source,
    *,
    now: datetime | None = None,
    fetcher: Fetcher | None = None,
    resolve_key: KeyResolver | None = None,
    algorithms: Collection[str] = vcjwt.DEFAULT_ALGORITHMS,
    email: str | None = None,
    trusted_issuers: Collection[str] | None = None,
    clock_skew: timedelta = DEFAULT_SKEW,
    max_bytes: int = DEFAULT_MAX_BYTES,
    check_endorsements: bool = True,
    trust: TrustPolicy | None = None,
    profile: str = "openbadges",
) -> Report:
    """Verify a credential given as JSON (dict, str, bytes), a compact JWS, a baked PNG or SVG,
    or a URL. Never raises for bad input: the report says what went wrong.

    ``profile`` is ``"openbadges"`` (an OB 3.0 or CLR 2.0 credential, pinned contexts, the OB
    schemas) or ``"vc"``: any VCDM 2.0 or 1.1 credential (inline contexts allowed, any type with
    ``VerifiableCredential``, ``validFrom`` optional, every proof must verify), as the W3C VC-API
    verifies.

    ``fetcher`` performs every network access (default: HTTPS with timeouts and size limits),
    at most ``MAX_FETCHES`` documents within ``FETCH_BUDGET`` seconds, unless it is already a
    ``BoundedFetcher`` (``bounded``), whose limits are then shared with its other uses;
    ``resolve_key`` turns a verification method or ``kid`` into a key (default: did:key, did:jwk,
    did:web and HTTPS, through ``fetcher``); ``algorithms`` is the VC-JWT allow-list. ``trust``
    is the policy behind ``Report.identity`` (default: no trust lists, web domains checked);
    ``trusted_issuers`` adds a simple list of issuer ids to it.
    """
    fetcher = bounded(fetcher, max_bytes=max_bytes)
    policy = trust or DEFAULT_POLICY
    if trusted_issuers is not None:
        listed: StaticRegistry = parse_static(list(trusted_issuers), "trusted issuers")
        policy = TrustPolicy((*policy.registries, listed), policy.domain_linkage)
    context = _Context(
        now=now or datetime.now(UTC),
        fetcher=fetcher,
        resolve_key=resolve_key or DefaultKeyResolver(fetcher),
        algorithms=tuple(algorithms),
        skew=clock_skew,
        policy=policy,
        generic=_generic(profile),
    )
    try:
        loaded = load(source, fetcher=fetcher, max_bytes=max_bytes)
    except InputError as exc:
        return _input_failure(Outcome.FAILED, str(exc), _code(exc))
    except FetchError as exc:
        return _input_failure(Outcome.UNKNOWN, str(exc), _code(exc))
    with rdfc_budget.shared_budget(), fetcher.budget():
        return context.verify(loaded, email, check_endorsements, identity=True)


def _generic(profile: str) -> bool:
    if profile not in ("openbadges", "vc"):
        raise ValueError(f"profile is 'openbadges' or 'vc', not {profile!r}")
    return profile == "vc"


def _canonical_form(credential: dict[str, Any], signed_as_json: bool) -> str | JsonLdError | None:
    """The canonical form of the credential without its proof, or why it has none (kept for the
    context and proof checks, so a document is canonicalised once however it fails). A VC-JWT's
    signature covers its bytes (``signed_as_json``): its JSON-LD is processed and checked
    (``check_processing``) but not canonicalised, and the form is None.

    ``TooComplex`` when the credential is over the limits of ``verifier.rdfc_budget``, checked
    first on the whole credential: such a document is refused as input before any other check
    spends time on it.
    """
    rdfc_budget.check_document(credential)
    unsigned = data_integrity.unsigned(credential)
    try:
        if signed_as_json:
            check_processing(unsigned, measured=True)
            return None
        return canonicalize(unsigned, measured=True)
    except JsonLdError as exc:
        return exc


def _claimed_window(decoded: vcjwt.DecodedJwt) -> tuple[datetime | None, datetime | None]:
    """A JWT's ``nbf`` and ``exp`` as times, None where absent or unusable (the claims check
    reports those)."""
    window: list[datetime | None] = []
    for claim in ("nbf", "exp"):
        try:
            window.append(vcjwt.claim_as_datetime(decoded, claim))
        except VerifierError:
            window.append(None)
    return window[0], window[1]


def _input_failure(outcome: Outcome, reason: str, code: str | None = None) -> Report:
    checks = (Check("input", outcome, reason, code=code),)
    return Report(decide(checks), checks)


class _Context:
    def __init__(
        self,
        *,
        now: datetime,
        fetcher: Fetcher,
        resolve_key: KeyResolver,
        algorithms: tuple[str, ...],
        skew: timedelta,
        policy: TrustPolicy = DEFAULT_POLICY,
        generic: bool = False,
    ) -> None:
        self.generic = generic
        self.now = now
        self.fetcher = fetcher
        self.resolve_key = resolve_key
        self.algorithms = algorithms
        self.skew = skew
        self.policy = policy

    def verify(
        self,
        loaded: Loaded,
        email: str | None,
        endorsements: bool,
        status: bool = True,
        identity: bool = False,
    ) -> Report:
        run = _Run()
        decoded = None
        if loaded.jws is not None:
            try:
                decoded = vcjwt.decode(loaded.jws)
            except InputError as exc:
                return _input_failure(Outcome.FAILED, str(exc), _code(exc))
            credential = decoded.credential
        else:
            assert loaded.credential is not None
            credential = loaded.credential
        try:
            canonical = [_canonical_form(credential, decoded is not None)]
        except TooComplex as exc:
            return _input_failure(Outcome.FAILED, str(exc), _code(exc))
        run.add("input", Outcome.PASSED, f"read a credential from {_describe_format(loaded)}")
        run.run("context", lambda: self._context(credential, canonical))
        note = context_version_note(credential)
        if note:
            run.add("context version", Outcome.FAILED, note, required=False)
        kind = check_vc_type if self.generic else check_type
        run.run("type", lambda: kind(credential))
        run.run(
            "schema",
            lambda: self._schema(credential),
            required=not is_vcdm1(credential),
            skipped="no OB 3.0 schema applies to this credential type",
        )
        signer: list[ResolvedKey] = []
        if decoded is not None:
            run.run("proof", lambda: self._jwt_proof(decoded, signer))
            run.run("jwt claims", lambda: vcjwt.check_claims(decoded, self.now))
            departures = vcjwt.departures(decoded)
            if departures:
                run.add("jwt profile", Outcome.FAILED, "; ".join(departures), required=False)
        else:
            run.run("proof", lambda: self._di_proof(credential, canonical, signer, run))
        issuer = vcjwt.issuer_id(credential)
        if signer:
            run.run(
                "issuer",
                lambda: check_binding(
                    _issuers_key(signer, issuer),
                    issuer,
                    fetcher=self.fetcher,
                    resolve_key=self.resolve_key,
                ),
            )
        else:
            run.add(
                "issuer", Outcome.SKIPPED, "no verified proof to bind to the issuer", required=False
            )
        run.run(
            "validity",
            lambda: check_validity(
                credential,
                self.now,
                self.skew,
                vcjwt.exp_as_datetime(decoded) if decoded else None,
                nbf=vcjwt.claim_as_datetime(decoded, "nbf") if decoded else None,
                start_required=not self.generic,
            ),
        )
        if status:
            run.run(
                "status",
                lambda: self._status(credential, issuer),
                skipped="the credential carries no status entry, so it cannot be revoked",
            )
        if loaded.format == "vpqr":
            _offline_note(run)
        if endorsements:
            self._endorsements(credential, run)
            self._nested_credentials(credential, run)
        if email is not None:
            run.run("recipient", lambda: check_recipient(credential, email))
        if "refreshService" in credential:
            run.add("refresh", Outcome.SKIPPED, "refresh services are not called", required=False)
        checks = tuple(run.checks)
        summary = summarize(credential, loaded.format)
        if decoded is not None:
            summary = held_to_claims(summary, *_claimed_window(decoded))
        who = NOTHING_READ
        if identity:
            binding = next((c for c in checks if c.name == "issuer"), None)
            who = assess(
                issuer_id=issuer,
                claimed_name=summary.issuer_name,
                website=summary.issuer_url,
                bound=binding is not None and binding.outcome is Outcome.PASSED,
                policy=self.policy,
                did_domains=self._did_domains,
                link=self._link,
                locate=self._locate,
            )
        return Report(decide(checks), checks, summary, credential, who)

    def _did_domains(self, did: str) -> list[str]:
        """The origins the DID document names in ``LinkedDomains`` services (did:web only: a
        did:key or did:jwk document has no services)."""
        if not did.startswith("did:web:"):
            return []
        return linked_domains(DefaultKeyResolver(self.fetcher).document(did))

    def _locate(self, issuer_id: str) -> tuple[str, str]:
        """Where the issuer's own document is fetched from, and which URL served it (the one
        fetch the key check made, kept for this verification)."""
        if issuer_id.startswith("did:web:"):
            url = did_web_url(issuer_id)
        else:
            url = issuer_id.partition("#")[0]
        return url, served_from(self.fetcher(url), url)

    def _link(self, did: str, origin: str) -> str:
        return check_domain_linkage(
            did, origin, fetcher=self.fetcher, resolve_key=self.resolve_key, now=self.now
        )

    def _context(
        self, credential: dict[str, Any], canonical: list[str | JsonLdError | None]
    ) -> str:
        """Context rules and JSON-LD processing (which fails on dropped terms), whose outcome
        ``_canonical_form`` found."""
        reason = check_vc_context(credential) if self.generic else check_context(credential)
        if isinstance(canonical[0], JsonLdError):
            raise canonical[0]
        return reason

    def _schema(self, credential: dict[str, Any]) -> str | None:
        if self.generic and not any(kind in OB_TYPES for kind in types_of(credential)):
            return None
        if is_vcdm1(credential):
            raise SchemaUnavailable("a VCDM 1.1 credential: the OB 3.0 schemas describe VCDM 2.0")
        return validate(credential, types_of(credential)) or None

    def _di_proof(
        self,
        credential: dict[str, Any],
        canonical: list[str | JsonLdError | None],
        signer: list[ResolvedKey],
        run: _Run,
    ) -> str:
        proofs = credential.get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs] if proofs else []
        if not proofs:
            raise ProofError("the credential has no proof")
        if len(proofs) > MAX_PROOFS:
            raise ProofError(
                f"the credential has {len(proofs)} proofs; at most {MAX_PROOFS} are read"
            )
        document = canonical[0] if canonical else None
        if isinstance(document, JsonLdError):
            raise document  # no signature can be checked over a document with no canonical form
        if self.generic:
            return self._all_proofs(credential, proofs, document, signer)
        errors: list[VerifierError] = []
        for proof in proofs:
            if not isinstance(proof, dict):
                errors.append(ProofError("a proof is not a JSON object"))
                continue
            try:
                signer.append(
                    data_integrity.verify_proof(
                        credential,
                        proof,
                        self.resolve_key,
                        canonical_document=document,
                        now=self.now,
                        skew=self.skew,
                    )
                )
            except VerifierError as exc:
                errors.append(exc)
                continue
            if data_integrity.is_legacy(proof):
                suite = proof.get("cryptosuite") or proof.get("type")
                run.add(
                    "proof suite", Outcome.FAILED, f"{suite} is a deprecated suite", required=False
                )
            if errors:
                skipped = "; ".join(str(error) for error in errors)
                run.add("other proofs", Outcome.FAILED, skipped, required=False)
            suite = proof.get("cryptosuite") or proof.get("type")
            return f"{suite} signature by {proof.get('verificationMethod')} is valid"
        relevant = [e for e in errors if not isinstance(e, UnsupportedProof)] or errors
        raise relevant[0]

    def _all_proofs(
        self,
        credential: dict[str, Any],
        proofs: list[Any],
        document: str | None,
        signer: list[ResolvedKey],
    ) -> str:
        """VC Data Integrity §4.5: every proof of a set must verify. A proof with
        ``previousProof`` (a proof chain) must name proofs of the set, and was made over the
        document with those proofs in it (§4.2, "Add Proof", step 4)."""
        names = {p.get("id") for p in proofs if isinstance(p, dict) and p.get("id")}
        suites = []
        for proof in proofs:
            if not isinstance(proof, dict):
                raise ProofError("a proof is not a JSON object")
            previous = proof.get("previousProof")
            wanted = (
                [] if previous is None else previous if isinstance(previous, list) else [previous]
            )
            for name in wanted:
                if not isinstance(name, str) or name not in names:
                    raise ProofError(f"previousProof {name!r} names no proof of the credential")
            canonical = document
            if wanted:
                chained = [p for p in proofs if isinstance(p, dict) and p.get("id") in wanted]
                canonical = canonicalize({**data_integrity.unsigned(credential), "proof": chained})
            signer.append(
                data_integrity.verify_proof(
                    credential,
                    proof,
                    self.resolve_key,
                    canonical_document=canonical,
                    now=self.now,
                    skew=self.skew,
                )
            )
            suites.append(str(proof.get("cryptosuite") or proof.get("type")))
        return f"{len(proofs)} proof(s) valid: {', '.join(suites)}"

    def _jwt_proof(self, decoded: vcjwt.DecodedJwt, signer: list[ResolvedKey]) -> str:
        signer.append(
            vcjwt.verify_signature(
                decoded, algorithms=self.algorithms, resolve_key=self.resolve_key
            )
        )
        return f"{decoded.header['alg']} JWT signature is valid"

    def _status(self, credential: dict[str, Any], issuer: str | None) -> str | None:
        def verify_list(status_list: dict[str, Any], digest: str) -> None:
            # A list that verified before, with the same answers to what it read, is not
            # verified again (verifier.listcache).
            memo = VERIFIED_LISTS.key(digest, issuer, self.generic, by_default(self.resolve_key))
            if VERIFIED_LISTS.holds(
                memo, self.fetcher, self.resolve_key, now=self.now, skew=self.skew
            ):
                return
            recorder = Recorder(self.fetcher, self.resolve_key)
            reading = _Context(
                now=self.now,
                fetcher=recorder.fetch,
                resolve_key=recorder.resolve,
                algorithms=self.algorithms,
                skew=self.skew,
                policy=self.policy,
                generic=self.generic,
            )
            # The list's own status is not followed: a list that points at itself must not loop.
            status_list_input = Loaded("json", credential=status_list)
            report = reading.verify(status_list_input, None, False, False)
            for name in ("input", "proof", "issuer"):
                check = report.check(name)
                if check is None or check.outcome is not Outcome.PASSED:
                    raise VerifierError(check.reason if check else f"no {name} check")
            # A list outside its validity window may be a stale copy: it says nothing. Its
            # validFrom is optional (VCDM 2.0), whatever the profile asks of the credential.
            check_validity(status_list, self.now, self.skew, start_required=False)
            if vcjwt.issuer_id(status_list) != issuer:
                raise VerifierError("the status list was not issued by the credential's issuer")
            VERIFIED_LISTS.remember(memo, recorder.reads, _kept_within(status_list))

        result = check_status(credential, fetcher=self.fetcher, verify_list=verify_list)
        return result.reason if result else None

    def _endorsements(self, credential: dict[str, Any], run: _Run) -> None:
        items = _collect_endorsements(credential)
        self._verify_embedded(items, "endorsements", "endorsement", MAX_ENDORSEMENTS, run)

    def _nested_credentials(self, credential: dict[str, Any], run: _Run) -> None:
        """CLR 2.0: every AchievementCredential in ``credentialSubject.verifiableCredential``.

        A warning, not a failure: the outer proof already covers their content.
        """
        subject = credential.get("credentialSubject")
        nested = subject.get("verifiableCredential") if isinstance(subject, dict) else None
        if nested:
            items = nested if isinstance(nested, list) else [nested]
            self._verify_embedded(
                items, "nested credentials", "credential", MAX_NESTED_CREDENTIALS, run
            )

    def _verify_embedded(
        self, items: list[Any], check: str, noun: str, limit: int, run: _Run
    ) -> None:
        """Verify credentials embedded in this one, reported as one check that only warns.

        At most ``limit`` are verified (the first ones); when there are more, the check is
        unknown, never passed, since the others were not looked at. One counts as verified only
        when its signature is also tied to its own issuer (its ``issuer`` check passed): an
        endorsement from a ``urn:`` issuer "Seoul National University", signed by any key, is
        genuine only in that nobody changed it.
        """
        if not items:
            return
        failures = []
        for index, item in enumerate(items[:limit]):
            report = self.verify(_as_loaded(item), None, False)
            if report.verdict is not Verdict.VERIFIED:
                failures.append(f"{noun} {index + 1}: {report.reason()}")
                continue
            bound = report.check("issuer")
            if bound is None or bound.outcome is not Outcome.PASSED:
                why = bound.reason if bound is not None else "no issuer check"
                failures.append(
                    f"{noun} {index + 1}: its signature is not tied to its issuer: {why}"
                )
        unchecked = len(items) - limit
        not_checked = f"{unchecked} not checked (at most {limit} {noun}s are verified)"
        if failures:
            failures += [not_checked] if unchecked > 0 else []
            run.add(check, Outcome.FAILED, "; ".join(failures), required=False)
        elif unchecked > 0:
            message = f"{len(items)} {noun}s: the first {limit} verified, {not_checked}"
            run.add(check, Outcome.UNKNOWN, message, required=False)
        else:
            run.add(check, Outcome.PASSED, f"{len(items)} {noun}(s) verified", required=False)


def _kept_within(status_list: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """How long a verified list may be remembered: its validity window, ended sooner by any of
    its proofs' ``expires`` (a proof past it does not verify)."""
    start, end = validity_window(status_list)
    proofs = status_list.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        expires = proof.get("expires") if isinstance(proof, dict) else None
        if isinstance(expires, str):
            try:
                until = parse_datetime(expires, "expires")
            except VerifierError:
                continue
            end = until if end is None or until < end else end
    return start, end


def _issuers_key(signers: list[ResolvedKey], issuer: str | None) -> ResolvedKey:
    """The key of a verified proof that the issuer controls (others in a proof set may be a
    witness's), else the first one, for the binding check to explain."""
    return next((key for key in signers if key.controller == issuer), signers[0])


def _as_loaded(endorsement: Any) -> Loaded:
    if isinstance(endorsement, str):
        return Loaded("jwt", jws=endorsement)
    return Loaded("json", credential=endorsement if isinstance(endorsement, dict) else {})


def _collect_endorsements(credential: dict[str, Any]) -> list[Any]:
    holders: list[Any] = [credential, credential.get("issuer")]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict):
        holders.append(subject.get("achievement"))
    found: list[Any] = []
    for holder in holders:
        if isinstance(holder, dict):
            for key in ("endorsement", "endorsementJwt"):
                value = holder.get(key, [])
                found.extend(value if isinstance(value, list) else [value])
    return found


def _offline_note(run: _Run) -> None:
    """What a check of a QR copy (VPQR) can and cannot know, as a warning beside the checks: the
    signature proves what was issued; only the issuer's status list says it still stands."""
    status = next((check for check in run.checks if check.name == "status"), None)
    if status is not None and status.outcome is Outcome.UNKNOWN:
        run.add(
            "offline copy",
            Outcome.UNKNOWN,
            "the signature of this QR copy was checked, but whether the badge was revoked since "
            "it was issued could not be checked (the issuer's status list was not reachable, "
            "as when there is no network)",
            required=False,
        )
    elif status is not None and status.outcome is Outcome.PASSED:
        run.add(
            "offline copy",
            Outcome.PASSED,
            "read from a QR copy; its status was checked against the issuer's status list",
            required=False,
        )


def _describe_format(loaded: Loaded) -> str:
    names = {
        "vpqr": "an offline QR code (VPQR, CBOR-LD)",
        "json": "JSON",
        "jwt": "a VC-JWT",
        "png": "a baked PNG",
        "svg": "a baked SVG",
        "url": "a URL",
    }
    kind = names.get(loaded.format, loaded.format)
    return f"{kind} (VC-JWT)" if loaded.jws and loaded.format in ("png", "svg", "url") else kind
