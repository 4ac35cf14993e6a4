"""The list of checks every verdict shows (``i18n.check_items``), made in Python rather than in
the template: what a reason says is escaped, Korean pages keep the verifier's English as a
technical detail, and a check that only warns says so."""

from __future__ import annotations

from issuer.web.i18n import check_items
from verifier import Check, Outcome
from verifier.errors import BSL_CODES

HOSTILE = 'the <script>alert("x")</script> & co'


def test_every_value_is_escaped() -> None:
    checks = (Check("proof", Outcome.FAILED, HOSTILE), Check("<b>", Outcome.PASSED, "fine"))
    html = str(check_items(checks, "en"))
    assert "<script>" not in html and "<b>" not in html
    assert "the &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
    assert 'data-check="&lt;b&gt;"' in html


def test_outcome_name_warning_and_reason_in_english() -> None:
    checks = (
        Check("proof", Outcome.PASSED, "eddsa-rdfc-2022 signature is valid"),
        Check("endorsements", Outcome.UNKNOWN, "an endorser's key could not be fetched", False),
    )
    items = str(check_items(checks, "en")).strip().split("\n")
    assert items[0].strip() == (
        '<li data-check="proof"><span class="outcome passed">Passed</span> '
        "<strong>signature</strong>: eddsa-rdfc-2022 signature is valid</li>"
    )
    assert '<span class="outcome unknown-o">Unknown</span>' in items[1]
    assert '<span class="muted">(warning only)</span>: an endorser' in items[1]
    assert "<details" not in "".join(items)  # the English reason is the reason shown


def test_korean_keeps_the_verifiers_words_as_a_technical_detail() -> None:
    check = Check("status", Outcome.FAILED, "the credential has been revoked", code="revoked")
    html = str(check_items((check,), "ko"))
    assert '<span class="outcome failed-o">실패</span>' in html
    assert "<summary>기술 정보</summary>" in html
    assert '<span lang="en">the credential has been revoked</span>' in html


def test_korean_says_which_status_list_error_it_was() -> None:
    """Each Bitstring Status List error has its own Korean reason; any other status failure
    that could not be decided keeps the general one."""
    reasons = {
        code: str(check_items((Check("status", Outcome.UNKNOWN, "x", code=code),), "ko"))
        for code in [*sorted(BSL_CODES), "status_unavailable"]
    }
    assert "상태 목록을 가져오지 못해" in reasons["status_retrieval_error"]
    assert "상태 목록을 신뢰할 수 없어" in reasons["status_verification_error"]
    assert "규격보다 짧아" in reasons["status_list_length_error"]
    assert "범위를 벗어나" in reasons["range_error"]
    assert "형식이 잘못되어" in reasons["malformed_value_error"]
    assert "상태 목록을 가져오지 못해" in reasons["status_unavailable"]
