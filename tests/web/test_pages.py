"""The public verification page and /verify, through HTTP (no browser): every state gets its own
honest verdict, downloads verify, and bad input gets a clear message — never a 500."""

from __future__ import annotations

import json

import httpx
import pytest
from typer.testing import CliRunner

from issuer.cli import app as cli
from tests.web.conftest import Live, post_verify
from verifier import Verdict, verify_credential
from verifier.baking import read_png, read_svg
from verifier.fetch import HttpFetcher


@pytest.mark.parametrize(
    ("state", "verdict", "reason"),
    [
        ("valid", "Verified", None),
        ("revoked", "Revoked on ", "revoked"),
        ("expired", "Expired on ", "expired"),
        ("tampered", "Not verified", "signature does not match"),
    ],
)
def test_page_verdicts(live: Live, state: str, verdict: str, reason: str | None) -> None:
    response = live.client.get(f"/v/{getattr(live.badges, state)}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert f'<h1 id="verdict-title">{verdict}' in html
    if reason:
        assert reason in html
    assert "Leading People" in html and "Kim Min-jun" in html
    assert 'property="og:title"' in html and "<script" not in html


def test_page_details_and_unknown_id(live: Live) -> None:
    html = live.client.get(f"/v/urn:uuid:{live.badges.valid}").text
    assert "Team Building" in html  # the skill the achievement aligns to
    assert "Capstone" in html  # evidence
    assert "Learning hours" in html and "24" in html
    assert "Issued in error" in live.client.get(f"/v/{live.badges.revoked}").text
    missing = live.client.get("/v/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "Badge not found" in missing.text
    assert live.client.get("/v/not-an-id").status_code == 404


def test_a_verifier_revalidates_this_instances_status_list(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lists are served ``max-age=0, must-revalidate`` with an ETag: another verifier asks
    for the list at every verification, and an unchanged list comes back as a 304 without its
    body; the verdict is the same."""
    asked: list[tuple[str | None, int]] = []
    get_once = HttpFetcher._get_once

    def recording(
        self: HttpFetcher, transport: httpx.BaseTransport, url: str, headers: dict[str, str]
    ) -> tuple[int, bytes, str | None, httpx.Headers]:
        answer = get_once(self, transport, url, headers)
        if "/status/" in url:
            asked.append((headers.get("If-None-Match"), answer[0]))
        return answer

    monkeypatch.setattr(HttpFetcher, "_get_once", recording)
    fetcher = HttpFetcher(allow_loopback_http=True)
    for badge, verdict in (
        (live.badges.valid, Verdict.VERIFIED),
        (live.badges.revoked, Verdict.NOT_VERIFIED),
    ):
        document = live.client.get(f"/v/{badge}/credential.json").json()
        for _ in range(2):
            assert verify_credential(document, fetcher=fetcher).verdict is verdict
    assert asked[0] == (None, 200)
    assert len(asked) == 4 and all(status == 304 and tag for tag, status in asked[1:])


def test_downloads_verify(live: Live, tmp_path: object) -> None:
    fetcher = HttpFetcher(allow_loopback_http=True)
    badge = live.badges.valid
    document = live.client.get(f"/v/{badge}/credential.json").json()
    assert verify_credential(document, fetcher=fetcher).verdict is Verdict.VERIFIED
    token = live.client.get(f"/v/{badge}/credential.jwt").text
    assert verify_credential(token, fetcher=fetcher).verdict is Verdict.VERIFIED
    png = live.client.get(f"/v/{badge}/badge.png")
    assert png.headers["content-type"] == "image/png"
    assert json.loads(read_png(png.content)) == document
    svg = live.client.get(f"/v/{badge}/badge.svg")
    assert json.loads(read_svg(svg.content)) == document


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_baked_badges_round_trip_through_laurel_verify(
    live: Live, kind: str, tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    path = tmp_path / f"badge.{kind}"
    path.write_bytes(live.client.get(f"/v/{live.badges.valid}/badge.{kind}").content)
    result = CliRunner().invoke(cli, ["verify", str(path), "--allow-local"])
    assert result.exit_code == 0, result.output
    revoked = tmp_path / f"revoked.{kind}"
    revoked.write_bytes(live.client.get(f"/v/{live.badges.revoked}/badge.{kind}").content)
    assert CliRunner().invoke(cli, ["verify", str(revoked), "--allow-local"]).exit_code == 1


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_the_badge_link_gives_a_verifier_the_credential(live: Live) -> None:
    """``/v/{id}`` is the link a learner shares: a browser gets the page, a client that prefers
    JSON (a verifier given the link) the signed credential, the same bytes as credential.json."""
    badge = live.badges.valid
    document = live.client.get(f"/v/{badge}/credential.json").json()
    page = live.client.get(f"/v/{badge}", headers={"Accept": BROWSER})
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    for accept, media_type in (
        ("application/vc+ld+json", "application/vc+ld+json"),
        ("application/json, application/ld+json, */*;q=0.5", "application/ld+json"),
        ("text/html;q=0.2, application/json", "application/json"),
    ):
        answer = live.client.get(f"/v/{badge}", headers={"Accept": accept})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == media_type
        assert answer.headers["vary"] == "Accept"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.json() == document
    missing = live.client.get(
        "/v/00000000-0000-0000-0000-000000000000", headers={"Accept": "application/json"}
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404


def test_the_badge_page_offers_its_credential(live: Live) -> None:
    """A verifier that gets the page (it asks for HTML, or ignores ``Accept``) finds the
    credential through the page's ``<link rel="alternate">`` (``verifier.sources``)."""
    badge = live.badges.valid
    html = live.client.get(f"/v/{badge}").text
    assert (
        f'<link rel="alternate" type="application/vc+ld+json" href="/v/{badge}/credential.json">'
        in html
    )

    def browser_like(url: str) -> bytes:  # every answer as a browser would get it
        response = live.client.get(url.removeprefix(live.base_url), headers={"Accept": "text/html"})
        response.raise_for_status()
        return response.content

    report = verify_credential(f"{live.base_url}/v/{badge}", fetcher=browser_like)
    assert report.verdict is Verdict.VERIFIED, report.to_dict()


def test_laurel_verify_takes_the_badge_link(live: Live) -> None:
    for badge, code in ((live.badges.valid, 0), (live.badges.revoked, 1)):
        link = f"{live.base_url}/v/{badge}"
        result = CliRunner().invoke(cli, ["verify", link, "--allow-local", "--json"])
        assert result.exit_code == code, result.output
        report = json.loads(result.stdout)
        assert report["checks"][0] == {
            "name": "input",
            "outcome": "passed",
            "reason": "read a credential from a URL",
            "required": True,
        }


Uploads = dict[str, tuple[str, bytes, str]]


def _verify_form(live: Live, files: Uploads | None = None, **form: str) -> str:
    response = post_verify(live.client, "/verify", data=form, files=files)
    assert response.status_code in (200, 400), response.text
    return response.text


def test_verify_page_accepts_every_form(live: Live) -> None:
    assert "Verify an Open Badge" in live.client.get("/verify").text
    document = live.client.get(f"/v/{live.badges.valid}/credential.json").text
    assert ">Verified<" in _verify_form(live, pasted=document)
    png = live.client.get(f"/v/{live.badges.valid}/badge.png").content
    assert ">Verified<" in _verify_form(live, files={"upload": ("badge.png", png, "image/png")})
    svg = live.client.get(f"/v/{live.badges.revoked}/badge.svg").content
    page = _verify_form(live, files={"upload": ("badge.svg", svg, "image/svg+xml")})
    assert ">Revoked" in page and "revoked" in page
    qr = live.client.get(f"/v/{live.badges.expired}/qr.png").content
    page = _verify_form(live, files={"upload": ("photo.png", qr, "image/png")})
    assert ">Expired on " in page and "It was genuine" in page
    page = _verify_form(live, url=f"{live.base_url}/v/{live.badges.valid}")
    assert ">Verified<" in page


@pytest.mark.parametrize(
    ("files", "form", "message"),
    [
        (
            {"upload": ("big.json", b"{" + b" " * (3 * 1024 * 1024) + b"}", "application/json")},
            {},
            "over 2 MB",
        ),
        ({"upload": ("noise.bin", bytes(range(256)) * 8, "application/octet-stream")}, {}, "not"),
        ({"upload": ("empty.json", b"", "application/json")}, {}, "empty"),
        (None, {}, "paste a credential"),
        (
            {
                "upload": (
                    "bomb.svg",
                    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaa">'
                    b'<!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;'
                    b"</svg>",
                    "image/svg+xml",
                )
            },
            {},
            "forbidden XML feature",
        ),
        (
            {
                "upload": (
                    "xxe.svg",
                    b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM '
                    b'"file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
                    "image/svg+xml",
                )
            },
            {},
            "forbidden XML feature",
        ),
        (None, {"pasted": "{not json"}, "not valid JSON"),
    ],
)
def test_verify_page_bad_input(
    live: Live, files: Uploads | None, form: dict[str, str], message: str
) -> None:
    response = post_verify(live.client, "/verify", data=form, files=files)
    assert response.status_code in (200, 400)
    assert message in response.text
    assert "root:" not in response.text


def test_png_without_credential_or_qr(live: Live) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, "PNG")
    page = _verify_form(live, files={"upload": ("plain.png", buffer.getvalue(), "image/png")})
    assert "No QR code found in this picture" in page
    assert 'id="details-title"' not in page  # no empty details card


def test_unreachable_status_and_unknown_issuer_could_not_verify(live: Live) -> None:
    from issuer.crypto.keys import generate_ed25519
    from issuer.crypto.signing import sign_data_integrity
    from tests.issuer.credentials import make_credential
    from tests.vectors import VECTORS

    complete = (VECTORS / "1edtech-validator/complete.json").read_text()
    page = _verify_form(live, pasted=complete)
    assert ">Could not verify<" in page and "revocation list could not be fetched" in page
    key, did = generate_ed25519(), "did:web:unknown-issuer.example"
    foreign = sign_data_integrity(make_credential(did), key, f"{did}#key-1")
    page = _verify_form(live, pasted=json.dumps(foreign))
    assert ">Could not verify<" in page and "unknown-issuer.example" in page


def test_certificate_qr_code_leads_to_the_page(live: Live) -> None:
    import pypdfium2
    import zxingcpp

    pdf = live.client.get(f"/v/{live.badges.valid}/certificate.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(pdf.content)
    image = document[0].render(scale=170 / 72).to_pil()
    document.close()
    [code] = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert code.text == f"{live.base_url}/v/{live.badges.valid}"
    page = live.client.get(code.text.removeprefix(live.base_url))
    assert '<h1 id="verdict-title">Verified</h1>' in page.text


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.7/badge.json",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/x",
        "http://192.168.1.1/badge.json",
    ],
)
def test_verify_page_makes_no_request_to_private_addresses(
    live: Live, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    requested: list[str] = []

    def get_once(
        self: HttpFetcher, transport: object, target: str
    ) -> tuple[int, bytes, str | None, httpx.Headers]:
        requested.append(target)
        return 200, b"{}", None, httpx.Headers()

    monkeypatch.setattr(HttpFetcher, "_get_once", get_once)
    live.services.network = HttpFetcher()
    page = _verify_form(live, url=url)
    assert requested == []
    assert ">Could not verify<" in page
    assert "private or local" in page or "only https" in page


def test_api_verify_reads_baked_badges_and_jwts(live: Live) -> None:
    badge = live.badges.valid
    for path, content_type in (
        ("badge.png", "image/png"),
        ("badge.svg", "image/svg+xml"),
        ("credential.jwt", "text/plain"),
    ):
        body = live.client.get(f"/v/{badge}/{path}").content
        report = live.client.post(
            "/api/v1/verify", content=body, headers={"Content-Type": content_type}
        ).json()
        assert report["verdict"] == "verified", (path, report["reason"])
    revoked = live.client.get(f"/v/{live.badges.revoked}/badge.png").content
    report = live.client.post(
        "/api/v1/verify", content=revoked, headers={"Content-Type": "image/png"}
    ).json()
    assert report["verdict"] == "not verified" and "revoked" in report["reason"]
