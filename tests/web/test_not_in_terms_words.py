"""The page says in Korean why a credential not written in its contexts' terms is refused, not
the generic "the signature or key is missing or malformed"."""

from __future__ import annotations

from issuer.web.i18n_verdict import check_reason
from verifier import Check, Outcome


def test_a_credential_not_in_its_terms_is_explained_in_korean() -> None:
    english = "the key 'https://www.w3.org/2018/credentials#credentialStatus' is the IRI of …"
    for name in ("proof", "context"):
        check = Check(name, Outcome.FAILED, english, code="not_in_terms")
        assert check_reason(check, "en") == english
        korean = check_reason(check, "ko")
        assert "정해진 용어" in korean and korean != english
    generic = check_reason(Check("proof", Outcome.FAILED, english, code="proof_error"), "ko")
    assert "정해진 용어" not in generic
