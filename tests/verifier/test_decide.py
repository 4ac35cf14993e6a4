"""``decide`` (one pass over the checks) gives the verdict its definition gives: any required
failure is "not verified", else any required unknown is "could not decide", else "verified";
checks that are not required (warnings) never change it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifier.report import Check, Outcome, Verdict, decide


def by_definition(checks: tuple[Check, ...]) -> Verdict:
    required = [check for check in checks if check.required]
    if any(check.outcome is Outcome.FAILED for check in required):
        return Verdict.NOT_VERIFIED
    if any(check.outcome is Outcome.UNKNOWN for check in required):
        return Verdict.COULD_NOT_DECIDE
    return Verdict.VERIFIED


checks = st.lists(
    st.builds(
        Check,
        name=st.sampled_from(["input", "proof", "status", "endorsements"]),
        outcome=st.sampled_from(list(Outcome)),
        reason=st.just("reason"),
        required=st.booleans(),
    ),
    max_size=12,
).map(tuple)


@given(checks)
def test_decide_is_its_definition(found: tuple[Check, ...]) -> None:
    assert decide(found) is by_definition(found)


def test_an_unknown_before_a_failure_is_still_not_verified() -> None:
    found = (
        Check("status", Outcome.UNKNOWN, "list unreachable"),
        Check("proof", Outcome.FAILED, "bad signature"),
    )
    assert decide(found) is Verdict.NOT_VERIFIED
    assert decide(found[:1]) is Verdict.COULD_NOT_DECIDE
    assert decide((Check("x", Outcome.FAILED, "warning", required=False),)) is Verdict.VERIFIED
    assert decide(()) is Verdict.VERIFIED
