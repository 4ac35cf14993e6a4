"""The list of checks every verdict shows (``i18n.check_items``), made in Python rather than in
the template: what a reason says is escaped, Korean pages keep the verifier's English as a
technical detail, and a check that only warns says so."""

from __future__ import annotations

from issuer.web.i18n import check_items
from verifier import Check, Outcome

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
