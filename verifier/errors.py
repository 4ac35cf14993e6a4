"""Errors raised inside the verifier; ``verify_credential`` turns them into check outcomes.

::

    VerifierError
    ├── InputError                 the input cannot be read as a credential (not verified)
    │   ├── TooLarge
    │   ├── MalformedInput         not JSON / JWS / PNG / SVG, bad encoding, too deep
    │   │   └── TooComplex         over a limit on the work it needs (rdfc_budget)
    │   └── NoCredentialFound      an image without a baked credential
    ├── FetchError                 a URL could not be fetched (network, size, status)
    ├── JsonLdError                context not bundled, dropped term, relative IRI
    ├── KeyResolutionError         no usable key for a verification method or kid
    │   └── UnsupportedMethod      a DID method or URI scheme Laurel does not resolve
    ├── ProofError                 the proof is missing, malformed or does not verify
    │   ├── UnsupportedProof       unknown proof type or cryptosuite
    │   ├── InvalidSignature       the signature does not match
    │   └── AlgorithmNotAllowed    a JWT alg outside the caller's allow-list
    ├── BindingError               the key does not belong to the issuer
    ├── ClaimMismatch              a JWT claim disagrees with the credential
    ├── Expired / NotYetValid      the validity window excludes ``now``
    ├── Revoked                    a status list marks the credential revoked
    └── Indeterminate              a check could not be decided (e.g. a fetch failed)
        └── StatusUnavailable      the status could not be determined
            ├── StatusRetrievalError     the list could not be fetched or read
            ├── StatusVerificationError  the list does not verify, is no status list, is
            │                            outside its validity window or has another purpose
            ├── StatusListLengthError    the list has fewer than 131,072 entries
            ├── RangeError               the entry's index is outside the list
            └── MalformedValueError      the entry or the list's encodedList is malformed

The status errors' names are Bitstring Status List v1.0's error types ("Processing Errors"):
each one's check ``code`` (``status_retrieval_error``, …) upper-cased is the ``#`` fragment of
its type URL (``STATUS_TYPES``).
"""

from __future__ import annotations


class VerifierError(Exception):
    """Base of every error the verifier raises."""


class InputError(VerifierError):
    """The input cannot be read as a credential."""


class TooLarge(InputError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"input is {size} bytes, over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class MalformedInput(InputError):
    """Not valid JSON, JWS, PNG or SVG (or nested too deeply)."""


class TooComplex(MalformedInput):
    """The input would take more work than the verifier allows: too many JSON values, nodes or
    blank nodes, or canonicalisation over its step budget or CPU-time deadline
    (``verifier.rdfc_budget``)."""


class NoCredentialFound(InputError):
    """An image that carries no baked credential."""


class FetchError(VerifierError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"could not fetch {url}: {reason}")
        self.url = url
        self.reason = reason


class JsonLdError(VerifierError):
    """JSON-LD processing failed or would lose data."""


class NotInTerms(JsonLdError):
    """A document says in other words what a term of its contexts says (a term's IRI as a key,
    ``@nest``, ``@included``, an aliased ``@index``…): its checks, which read the terms, would not
    see what its signature covers (``verifier.expansion.check_spelling``)."""


class KeyResolutionError(VerifierError):
    """No usable public key could be found for a verification method."""


class UnsupportedMethod(KeyResolutionError):
    """A DID method or URI scheme that is not resolved."""


class ProofError(VerifierError):
    """The proof is missing, malformed or invalid."""


class UnsupportedProof(ProofError):
    """An unknown proof type or cryptosuite."""


class InvalidSignature(ProofError):
    """The signature does not verify."""


class AlgorithmNotAllowed(ProofError):
    def __init__(self, alg: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"JWT algorithm {alg!r} is not in the allow-list {list(allowed)}")
        self.alg = alg
        self.allowed = allowed


class BindingError(VerifierError):
    """The signing key is not bound to the credential's issuer."""


class ClaimMismatch(VerifierError):
    """A JWT claim disagrees with the credential it carries."""


class Expired(VerifierError):
    """``validUntil`` is in the past."""


class NotYetValid(VerifierError):
    """``validFrom`` is in the future."""


class Revoked(VerifierError):
    """A status list marks the credential as revoked."""


class Indeterminate(VerifierError):
    """A check could not be decided either way."""


class StatusUnavailable(Indeterminate):
    """The credential's status could not be determined."""


class StatusRetrievalError(StatusUnavailable):
    """BSL STATUS_RETRIEVAL_ERROR: the status list could not be fetched or read."""


class StatusVerificationError(StatusUnavailable):
    """BSL STATUS_VERIFICATION_ERROR: the status list cannot be trusted for this entry."""


class StatusListLengthError(StatusUnavailable):
    """BSL STATUS_LIST_LENGTH_ERROR: the list is shorter than the minimum."""


class RangeError(StatusUnavailable):
    """BSL RANGE_ERROR: the entry's index is beyond the end of the list."""


class MalformedValueError(StatusUnavailable):
    """BSL MALFORMED_VALUE_ERROR: the entry or the list's ``encodedList`` is malformed."""


STATUS_TYPES = "https://www.w3.org/ns/credentials/status-list#"
"""BSL error type URLs: this, then the error's name (``STATUS_RETRIEVAL_ERROR``, …)."""
BSL_CODES = frozenset(
    {
        "status_retrieval_error",
        "status_verification_error",
        "status_list_length_error",
        "range_error",
        "malformed_value_error",
    }
)
"""The check codes of the Bitstring Status List errors."""
