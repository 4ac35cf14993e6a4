"""``check_validity``'s window, in the order its checks run: the start must parse, then the end,
then the end must not be before the start, then the start must have come and the end not
passed (each with the clock skew), a VC-JWT's ``exp`` shortening the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from verifier.checks import check_validity
from verifier.errors import Expired, NotYetValid, VerifierError

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)


def window(start: str | None, end: str | None = None) -> dict[str, str]:
    found = {"validFrom": start} if start is not None else {}
    return found | ({"validUntil": end} if end is not None else {})


def test_a_window_around_now_passes_with_its_dates() -> None:
    reason = check_validity(window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00+00:00"), NOW, SKEW)
    assert reason == "valid from 2026-01-01T00:00:00Z until 2027-01-01T00:00:00Z"
    assert check_validity(window("2026-01-01T00:00:00Z"), NOW, SKEW).endswith("with no end date")


def test_an_end_before_the_start_is_refused_before_the_start_is_compared_with_now() -> None:
    future_reversed = window("2030-01-02T00:00:00Z", "2030-01-01T00:00:00Z")
    with pytest.raises(VerifierError, match="validUntil is before validFrom"):
        check_validity(future_reversed, NOW, SKEW)


def test_a_bad_end_is_named_even_when_the_start_is_in_the_future() -> None:
    with pytest.raises(VerifierError, match="validUntil 'soon' is not an ISO 8601 date-time"):
        check_validity(window("2030-01-01T00:00:00Z", "soon"), NOW, SKEW)
    with pytest.raises(VerifierError, match="validFrom 'then' is not an ISO 8601"):
        check_validity(window("then", "soon"), NOW, SKEW)
    with pytest.raises(VerifierError, match="validFrom is missing"):
        check_validity(window(None, "2030-01-01T00:00:00Z"), NOW, SKEW)


def test_the_skew_on_both_ends_and_exp() -> None:
    almost = window("2026-12-04T12:04:59Z", "2026-12-04T11:55:01Z")
    with pytest.raises(VerifierError, match="is before"):
        check_validity(almost, NOW, SKEW)
    assert check_validity(window("2026-12-04T12:04:59Z"), NOW, SKEW)
    with pytest.raises(NotYetValid, match="not valid until 2026-12-04T12:05:01Z"):
        check_validity(window("2026-12-04T12:05:01Z"), NOW, SKEW)
    assert check_validity(window("2026-01-01T00:00:00Z", "2026-12-04T11:55:01Z"), NOW, SKEW)
    with pytest.raises(Expired, match="expired on 2026-12-04T11:54:59Z"):
        check_validity(window("2026-01-01T00:00:00Z", "2026-12-04T11:54:59Z"), NOW, SKEW)
    exp = datetime(2026, 6, 1, tzinfo=UTC)
    with pytest.raises(Expired, match="expired on 2026-06-01T00:00:00Z"):
        check_validity(window("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), NOW, SKEW, exp)
