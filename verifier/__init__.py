"""Laurel's standalone Open Badges 3.0 verifier.

Public API::

    from verifier import verify_credential, canonicalize

``verify_credential`` accepts a credential in any form OB 3.0 allows and returns a ``Report``;
``canonicalize`` gives the RDFC-1.0 canonical N-Quads of a JSON-LD document with the bundled
contexts. This package never imports the issuer service.
"""

from verifier.errors import VerifierError
from verifier.jsonld import canonicalize
from verifier.report import Check, Outcome, Report, Summary, Verdict
from verifier.verify import verify_credential

__all__ = [
    "Check",
    "Outcome",
    "Report",
    "Summary",
    "Verdict",
    "VerifierError",
    "canonicalize",
    "verify_credential",
]
