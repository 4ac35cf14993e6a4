"""``issuer.http.negotiation.preferred``: RFC 9110 §12.5.1 quality values and specificity."""

from __future__ import annotations

import pytest

from issuer.http.negotiation import preferred

OFFERED = ("text/html", "application/ld+json", "application/json")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("", "text/html"),
        ("*/*", "text/html"),  # a tie goes to the first offered
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
        ("application/json", "application/json"),
        ("application/json, application/ld+json, */*;q=0.5", "application/ld+json"),
        ("text/html;q=0.1, application/*;q=0.5", "application/ld+json"),
        ("application/*;q=0.5, application/json;q=0", "application/ld+json"),
        ("APPLICATION/JSON", "application/json"),
        ("application/json;q=abc, text/html;q=0.1", "text/html"),  # a malformed q counts as 0
        ("application/json;q=2", "application/json"),  # q is at most 1
        ("image/png", "text/html"),  # nothing offered is acceptable: the first
        ("garbage, , ;q=1", "text/html"),
        ("text/*;q=0.3, application/json;q=0.4", "application/json"),
    ],
)
def test_preferred(accept: str | None, chosen: str) -> None:
    assert preferred(accept, OFFERED) == chosen
