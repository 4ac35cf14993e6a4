"""The offline QR code (issue 15, part 4): a badge's QR edition as a VPQR on its page and on its
certificate, read back by a real QR decoder (zxing-cpp), verified by ``laurel verify``, ``/verify``
and ``POST /api/v1/verify`` from its text and from a photo, with an honest verdict when the
status list cannot be reached."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pypdfium2
import pytest
from PIL import Image, ImageFilter
from typer.testing import CliRunner

from issuer.artifacts.qr import OFFLINE_LEVEL, qr_png, qr_version
from issuer.artifacts.qrread import read_qr, vpqr_in_picture
from issuer.cli import app as cli
from tests.web.conftest import Live, post_verify
from verifier import Outcome, Verdict, verify_credential, vpqr
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher

runner = CliRunner()


def offline_text(live: Live, badge: str, encoding: str = "B") -> str:
    response = live.client.get(f"/v/{badge}/offline-qr.txt", params={"encoding": encoding})
    assert response.status_code == 200, response.text
    return response.text


def own_site(live: Live) -> Any:
    """A fetcher that reaches the live Laurel only (its status lists), as a verifier online."""

    def fetch(url: str) -> bytes:
        if not url.startswith(live.base_url + "/"):
            raise FetchError(url, "unreachable in tests")
        response = live.client.get(url.removeprefix(live.base_url))
        if response.status_code != 200:
            raise FetchError(url, f"HTTP {response.status_code}")
        return response.content

    return fetch


def no_network(url: str) -> bytes:
    raise FetchError(url, "no network")


def photograph(png: bytes, seed: int = 7) -> bytes:
    """The QR code as a phone photo of a print might show it: on a grey desk, seen at an angle
    (a perspective warp), slightly out of focus, scaled down, and saved as a JPEG."""
    code = Image.open(io.BytesIO(png)).convert("L")
    side = code.size[0]
    desk = Image.new("L", (side + 240, side + 240), 150)
    desk.paste(code, (120, 120))
    w, h = desk.size
    # Perspective coefficients mapping the output back into the input: the top edge is nearer.
    warped = desk.transform(
        (w, h),
        Image.Transform.PERSPECTIVE,
        (1.04, 0.06, -30, 0.02, 1.05, -25, 0.00007, 0.00005),
        resample=Image.Resampling.BICUBIC,
        fillcolor=150,
    )
    rng = random.Random(seed)
    noisy = warped.point(lambda v: max(0, min(255, v + rng.randint(-12, 12))))
    blurred = noisy.filter(ImageFilter.GaussianBlur(1.1))
    small = blurred.resize((int(w * 0.85), int(h * 0.85)), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    small.convert("RGB").save(out, format="JPEG", quality=82)
    return out.getvalue()


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["checks"] if c["name"] == name]
    assert len(found) == 1, report["checks"]
    return found[0]


@pytest.mark.parametrize("encoding", ["B", "R"])
def test_a_typical_badge_fits_version_25_at_level_m(live: Live, encoding: str) -> None:
    for badge in (live.badges.revoked, live.badges.expired):  # issued with the usual fields
        assert qr_version(offline_text(live, badge, encoding), level=OFFLINE_LEVEL) <= 25
    # With evidence, a narrative and a result too, it still fits a certificate (≤ 61 mm).
    assert qr_version(offline_text(live, live.badges.valid, encoding), level=OFFLINE_LEVEL) <= 27


@pytest.mark.parametrize("encoding", ["B", "R"])
def test_offline_qr_png_reads_back_decodes_and_verifies(live: Live, encoding: str) -> None:
    text = offline_text(live, live.badges.valid, encoding)
    assert text.startswith(f"VP1-{encoding}")
    png = live.client.get(
        f"/v/{live.badges.valid}/offline-qr.png", params={"encoding": encoding}
    ).content
    assert read_qr(png) == text  # zxing-cpp reads back exactly what was encoded
    edition = vpqr.read(text)
    stored = live.client.get(f"/v/{live.badges.valid}/credential.json").json()
    assert edition["id"] == stored["id"]
    assert edition["credentialStatus"] == stored["credentialStatus"]  # the same status entry
    subject = stored["credentialSubject"]
    assert edition["credentialSubject"]["id"] == subject["id"]
    assert edition["credentialSubject"]["result"] == subject["result"]
    assert edition["credentialSubject"]["narrative"] == subject["narrative"]
    assert edition["credentialSubject"]["achievement"]["name"] == subject["achievement"]["name"]
    assert "alignment" in subject["achievement"]
    assert "alignment" not in edition["credentialSubject"]["achievement"]
    names = [i["identityHash"] for i in edition["credentialSubject"]["identifier"]]
    assert names == ["Kim Min-jun"]  # the hashed e-mail stays in the full credential
    assert edition["proof"] != stored["proof"]  # signed as its own credential
    report = verify_credential(text, fetcher=own_site(live))
    assert report.verdict is Verdict.VERIFIED, report.to_dict()
    assert report.summary.format == "vpqr"
    assert report.check("offline copy").outcome is Outcome.PASSED  # type: ignore[union-attr]


def test_the_same_badge_always_gives_the_same_offline_qr(live: Live) -> None:
    assert offline_text(live, live.badges.valid) == offline_text(live, live.badges.valid)
    assert offline_text(live, live.badges.valid) != offline_text(live, live.badges.expired)
    bad = live.client.get(f"/v/{live.badges.valid}/offline-qr.txt", params={"encoding": "Z"})
    assert bad.status_code == 400
    assert live.client.get("/v/not-an-id/offline-qr.png").status_code == 404


def test_with_no_network_the_signature_is_checked_and_revocation_is_unknown(live: Live) -> None:
    report = verify_credential(offline_text(live, live.badges.valid), fetcher=no_network)
    assert report.verdict is Verdict.COULD_NOT_DECIDE  # never "verified" without the status
    assert report.check("proof").outcome is Outcome.PASSED  # type: ignore[union-attr]
    assert report.check("status").outcome is Outcome.UNKNOWN  # type: ignore[union-attr]
    note = report.check("offline copy")
    assert note is not None and note.outcome is Outcome.UNKNOWN and not note.required
    assert "revoked since" in note.reason
    assert any(w.startswith("offline copy:") for w in report.warnings)


def test_a_revoked_badge_s_offline_qr_is_revoked_online(live: Live) -> None:
    report = verify_credential(offline_text(live, live.badges.revoked), fetcher=own_site(live))
    assert report.verdict is Verdict.NOT_VERIFIED
    assert report.check("status").code == "revoked"  # type: ignore[union-attr]


@pytest.mark.parametrize("encoding", ["B", "R"])
def test_a_flipped_character_never_verifies(live: Live, encoding: str) -> None:
    text = offline_text(live, live.badges.valid, encoding)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" if encoding == "B" else vpqr._B45
    rng = random.Random(15)
    positions = sorted(rng.sample(range(5, len(text)), 60))
    for position in positions:
        other = rng.choice([c for c in alphabet if c != text[position]])
        tampered = text[:position] + other + text[position + 1 :]
        report = verify_credential(tampered, fetcher=own_site(live))
        assert report.verdict is not Verdict.VERIFIED, (position, report.to_dict())


def test_photographed_offline_qr_is_read_back(live: Live) -> None:
    text = offline_text(live, live.badges.valid)
    png = qr_png(text, scale=6, level=OFFLINE_LEVEL)
    photo = photograph(png)
    assert photo[:2] == b"\xff\xd8"
    assert read_qr(photo) == text
    assert vpqr_in_picture(photo) == text


def test_badge_page_offers_the_offline_qr_and_says_what_it_cannot_know(live: Live) -> None:
    html = live.client.get(f"/v/{live.badges.valid}").text
    assert f'src="/v/{live.badges.valid}/offline-qr.png"' in html
    assert "Offline QR code" in html and "revoked since" in html
    korean = live.client.get(f"/v/{live.badges.valid}?lang=ko").text
    assert "오프라인 QR 코드" in korean


def test_certificate_carries_the_offline_qr_on_its_second_page(live: Live) -> None:
    pdf = live.client.get(f"/v/{live.badges.valid}/certificate.pdf").content
    document = pypdfium2.PdfDocument(pdf)
    try:
        assert len(document) == 2
        first = document[0].render(scale=300 / 72).to_pil()
        second = document[1].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    assert read_qr(_png(first)) == f"{live.base_url}/v/{live.badges.valid}"
    assert read_qr(_png(second)) == offline_text(live, live.badges.valid)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_verify_page_reads_offline_qr_text_and_photo(live: Live) -> None:
    text = offline_text(live, live.badges.valid)
    page = post_verify(live.client, "/verify", data={"pasted": text}).text
    assert ">Verified<" in page and "offline QR code" in page
    photo = photograph(qr_png(text, scale=6, level=OFFLINE_LEVEL))
    files = {"upload": ("photo.jpg", photo, "image/jpeg")}
    page = post_verify(live.client, "/verify", files=files).text
    assert ">Verified<" in page
    revoked = offline_text(live, live.badges.revoked, "R")
    assert ">Revoked" in post_verify(live.client, "/verify", data={"pasted": revoked}).text
    tampered = text[:-20] + ("A" if text[-20] != "A" else "B") + text[-19:]
    page = post_verify(live.client, "/verify", data={"pasted": tampered}).text
    assert ">Verified<" not in page


def test_api_verify_reads_offline_qr_text_and_photo(live: Live) -> None:
    text = offline_text(live, live.badges.valid, "R")
    answer = live.client.post(
        "/api/v1/verify", content=text, headers={"Content-Type": "text/plain"}
    ).json()
    assert answer["verdict"] == "verified", answer
    assert answer["summary"]["format"] == "vpqr"
    assert check(answer, "offline copy")["outcome"] == "passed"
    photo = photograph(qr_png(text, scale=6, level=OFFLINE_LEVEL))
    answer = live.client.post(
        "/api/v1/verify", content=photo, headers={"Content-Type": "image/jpeg"}
    ).json()
    assert answer["verdict"] == "verified", answer
    garbled = live.client.post("/api/v1/verify", content="VP1-B" + "A" * 40).json()
    assert garbled["verdict"] == "not verified"
    assert check(garbled, "input")["outcome"] == "failed"


@pytest.fixture
def cli_offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``laurel verify`` with the network gone: every request is recorded and refused."""
    requested: list[str] = []

    def refuse(self: HttpFetcher, url: str, *_: object) -> bytes:
        requested.append(url)
        raise FetchError(url, "the network is unavailable")

    monkeypatch.setattr(HttpFetcher, "_get", refuse)
    return requested


def test_laurel_verify_reads_offline_qr_text_and_photo(
    live: Live, cli_offline: list[str], tmp_path: Any
) -> None:
    text = offline_text(live, live.badges.valid)
    result = runner.invoke(cli, ["verify", text, "--json"])
    assert result.exit_code == 2, result.output  # could not decide: revocation is unknown
    report = json.loads(result.stdout)
    assert report["verdict"] == "could not decide"
    assert check(report, "proof")["outcome"] == "passed"
    assert check(report, "offline copy")["outcome"] == "unknown"
    assert cli_offline  # it tried the status list, and was refused
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photograph(qr_png(text, scale=6, level=OFFLINE_LEVEL)))
    result = runner.invoke(cli, ["verify", str(photo)])
    assert result.exit_code == 2, result.output
    assert "signature" in result.output and "revoked since" in result.output
    broken = runner.invoke(cli, ["verify", text[:-8] + "AAAAAAAA", "--json"])
    assert broken.exit_code == 1, broken.output
