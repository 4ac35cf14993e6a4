"""The verdict told plainly and the same everywhere (HTTP, no browser): who issued it, each state
with its date in the page's language, stamped artifacts for badges that are not valid, Korean
throughout, the narrative and results, and /verify's email check and uploads."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pypdfium2
import pytest
from PIL import Image

from issuer.crypto.keys import did_key, did_key_method, generate_ed25519, multikey
from issuer.crypto.signing import sign_data_integrity
from tests.issuer.credentials import make_credential
from tests.web.conftest import Live, post_verify
from verifier.baking import read_png, read_svg
from verifier.fetch import MappingFetcher

LINKED = "did:web:badges.linked.example"


def linked_badge(live: Live) -> str:
    """A badge of a did:web issuer whose own domain serves its DID document (the live server's
    network is pointed at that document)."""
    key = generate_ed25519()
    document = {
        "id": LINKED,
        "verificationMethod": [
            {
                "id": f"{LINKED}#key-1",
                "type": "Multikey",
                "controller": LINKED,
                "publicKeyMultibase": multikey(key),
            }
        ],
        "assertionMethod": [f"{LINKED}#key-1"],
    }
    live.services.network = MappingFetcher(
        {"https://badges.linked.example/.well-known/did.json": json.dumps(document).encode()}
    )
    credential = make_credential(LINKED)
    credential["issuer"]["name"] = "Linked Academy"
    return json.dumps(sign_data_integrity(credential, key, f"{LINKED}#key-1"))


def university_badge() -> str:
    """Anyone can make a did:key, call it a university and sign a medical degree."""
    key = generate_ed25519()
    credential = make_credential(did_key(key))
    credential["issuer"]["name"] = "Seoul National University"
    credential["credentialSubject"]["achievement"]["name"] = "Doctor of Medicine"
    return json.dumps(sign_data_integrity(credential, key, did_key_method(key)))


def verdict_of(html: str) -> tuple[str, str, str]:
    found = re.search(
        r'<section class="verdict (\w+)" id="verdict" data-kind="([\w-]+)" '
        r'data-identity="(\w+)"',
        html,
    )
    assert found, html[:2000]
    tone, kind, identity = found.groups()
    return tone, kind, identity


def pdf_text(data: bytes) -> str:
    document = pypdfium2.PdfDocument(data)
    try:
        text: str = document[0].get_textpage().get_text_range()
        return text
    finally:
        document.close()


# --- who issued it ------------------------------------------------------------------------------


def test_own_issuer_is_known_and_green(live: Live) -> None:
    html = live.client.get(f"/v/{live.badges.valid}").text
    assert verdict_of(html) == ("good", "verified", "known")
    assert 'data-state="known"' in html and "Known issuer" in html
    assert "HRD Institute" in html and "https://hrd.example.org" in html


def test_self_made_university_is_unconfirmed_and_never_green(live: Live) -> None:
    html = post_verify(live.client, "/verify", data={"pasted": university_badge()}).text
    tone, kind, identity = verdict_of(html)
    assert (tone, kind, identity) == ("caution", "unconfirmed", "unconfirmed")
    assert "Genuine, but the issuer is not confirmed" in html
    assert "anyone can create an issuer like this" in html.lower()
    assert "“Seoul National University” is the issuer's own claim" in html.replace("&#39;", "'")
    assert 'class="verdict good"' not in html


def test_a_name_written_backwards_is_shown_as_written(live: Live) -> None:
    """Audit 10: a badge from elsewhere may carry "etutitsnI DOOG" after a right-to-left
    override, which a browser draws as "GOOD Institute"; pages write every value without
    bidirectional controls, so it reads in the order it is written."""
    key = generate_ed25519()
    credential = make_credential(did_key(key))
    credential["issuer"]["name"] = "\u202eetutitsnI DOOG\u202c"
    credential["credentialSubject"]["achievement"]["name"] = "\u2067enicideM fo rotcoD\u2069"
    badge = json.dumps(sign_data_integrity(credential, key, did_key_method(key)))
    html = post_verify(live.client, "/verify", data={"pasted": badge}).text
    assert verdict_of(html)[2] == "unconfirmed"
    assert "etutitsnI DOOG" in html and "enicideM fo rotcoD" in html
    assert not set(html) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_the_json_report_says_the_same(live: Live) -> None:
    report = live.client.post("/api/v1/verify", content=university_badge()).json()
    assert report["verdict"] == "verified"
    assert report["issuerIdentity"]["state"] == "unconfirmed"
    own = live.client.get(f"/v/{live.badges.valid}/credential.json").content
    assert live.client.post("/api/v1/verify", content=own).json()["issuerIdentity"]["state"] == (
        "known"
    )


# --- each state, with its date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "tone", "kind", "words"),
    [
        ("expired", "caution", "expired", ["Expired on 1 January 2021", "It was genuine"]),
        ("future", "caution", "not-yet-valid", ["valid from 1 January 2099"]),
        ("revoked", "bad", "revoked", ["Revoked on ", "Issued in error"]),
        ("tampered", "bad", "failed", ["Not verified", "Do not rely on this badge"]),
    ],
)
def test_states_read_differently(
    live: Live, state: str, tone: str, kind: str, words: list[str]
) -> None:
    html = live.client.get(f"/v/{getattr(live.badges, state)}").text
    assert verdict_of(html)[:2] == (tone, kind)
    for word in words:
        assert word in html


def test_wallet_cards_and_profile_show_one_not_yet_valid_state(live: Live) -> None:
    from sqlmodel import Session, select

    from issuer.models import Credential
    from issuer.wallet import badges as wallet

    with Session(live.services.engine) as db:
        row = db.get(Credential, live.badges.future)
        assert row is not None and row.learner_id is not None
        [card] = [b for b in wallet.badges(db, row.learner_id) if b.credential_id == row.id]
        assert card.status == "not-yet-valid"
        assert card.status_on is not None and card.status_on.isoformat() == "2099-01-01"
        stored = db.exec(select(Credential)).all()
        assert len(stored) == 5


# --- artifacts are never clean for a badge that is not valid -------------------------------------


@pytest.mark.parametrize(
    ("state", "stamp"),
    [("revoked", "REVOKED "), ("expired", "EXPIRED 2021-01-01"), ("future", "NOT VALID BEFORE")],
)
def test_certificates_are_stamped(live: Live, state: str, stamp: str) -> None:
    text = pdf_text(live.client.get(f"/v/{getattr(live.badges, state)}/certificate.pdf").content)
    assert stamp in text
    clean = pdf_text(live.client.get(f"/v/{live.badges.valid}/certificate.pdf").content)
    for word in ("REVOKED", "EXPIRED", "NOT VALID"):
        assert word not in clean


def test_baked_images_are_stamped_and_still_carry_the_credential(live: Live) -> None:
    for kind in ("revoked", "valid"):
        badge = getattr(live.badges, kind)
        png = live.client.get(f"/v/{badge}/badge.png").content
        svg = live.client.get(f"/v/{badge}/badge.svg").content
        document = live.client.get(f"/v/{badge}/credential.json").json()
        assert json.loads(read_png(png)) == document
        assert json.loads(read_svg(svg)) == document
        assert ("REVOKED" in svg.decode()) is (kind == "revoked")
    revoked = Image.open(io.BytesIO(live.client.get(f"/v/{live.badges.revoked}/badge.png").content))
    pixels = revoked.convert("RGB").tobytes()
    red = sum(1 for i in range(0, len(pixels), 3) if pixels[i] > 150 and pixels[i + 1] < 80)
    assert red > 1000  # the red band is there


def test_korean_certificate_and_stamp(live: Live) -> None:
    text = pdf_text(live.client.get(f"/v/{live.badges.revoked}/certificate.pdf?lang=ko").content)
    assert "수료증" in text and "취소됨" in text


# --- Korean throughout ----------------------------------------------------------------------------


def test_korean_page_verdict_identity_checks_and_dates(live: Live) -> None:
    html = live.client.get(f"/v/{live.badges.expired}?lang=ko").text
    assert "2021년 1월 1일에 만료됨" in html
    assert "진본이었지만 더 이상 유효하지 않습니다" in html
    assert "확인된 발급 기관" in html
    assert "서명이 유효합니다" in html  # a check's reason, in Korean
    assert "유효 기간이 지났습니다" in html
    assert "기술 정보" in html  # the English detail stays available


def test_korean_survives_the_verify_form(live: Live) -> None:
    form = live.client.get("/verify?lang=ko").text
    assert 'action="/verify?lang=ko"' in form
    fresh = live.client.__class__(live.client.app)  # no language cookie
    html = post_verify(fresh, "/verify?lang=ko", data={"pasted": university_badge()}).text
    assert "진본이지만 발급 기관 미확인" in html and "미확인 발급 기관" in html


# --- what an award says ---------------------------------------------------------------------------


def test_page_shows_narrative_results_and_type_in_words(live: Live) -> None:
    html = live.client.get(f"/v/{live.badges.valid}").text
    assert "Led the cohort&#39;s capstone on cross-agency change." in html
    assert 'id="results"' in html and "(Completed)" in html
    assert '<p class="muted" id="achievement-type">Course</p>' in html
    korean = live.client.get(f"/v/{live.badges.valid}?lang=ko").text
    assert ">교육 과정<" in korean and "(이수)" in korean


# --- /verify: email, photos, PDFs, things that are not badges -------------------------------------


def test_verify_checks_the_email(live: Live) -> None:
    document = live.client.get(f"/v/{live.badges.valid}/credential.json").text
    right = post_verify(
        live.client, "/verify", data={"pasted": document, "email": "Valid@Example.org "}
    )
    assert 'data-check="recipient"' in right.text
    assert "matches" in right.text or "issued to" in right.text
    assert verdict_of(right.text)[1] == "verified"
    wrong = post_verify(
        live.client, "/verify", data={"pasted": document, "email": "someone@else.org"}
    )
    assert verdict_of(wrong.text)[1] == "failed"
    qr = live.client.get(f"/v/{live.badges.valid}/qr.png").content
    via_qr = post_verify(
        live.client,
        "/verify",
        data={"email": "someone@else.org"},
        files={"upload": ("photo.png", qr, "image/png")},
    )
    assert verdict_of(via_qr.text)[1] == "failed"


def test_verify_reads_the_qr_code_of_a_certificate_pdf(live: Live) -> None:
    pdf = live.client.get(f"/v/{live.badges.valid}/certificate.pdf").content
    html = post_verify(
        live.client, "/verify", files={"upload": ("certificate.pdf", pdf, "application/pdf")}
    ).text
    assert verdict_of(html)[:2] == ("good", "verified")


def test_verify_takes_a_phone_photo(live: Live) -> None:
    from issuer.artifacts.qr import qr_png

    url = f"{live.base_url}/v/{live.badges.valid}"
    photo = Image.new("RGB", (4032, 3024), (226, 222, 214))
    code = Image.open(io.BytesIO(qr_png(url))).convert("RGB").resize((700, 700))
    photo.paste(code.rotate(6, expand=True, fillcolor=(226, 222, 214)), (1700, 1100))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92)
    assert buffer.tell() > 2 * 1024 * 1024 or len(buffer.getvalue()) > 200_000
    html = post_verify(
        live.client, "/verify", files={"upload": ("IMG_0001.jpg", buffer.getvalue(), "image/jpeg")}
    ).text
    assert verdict_of(html)[1] == "verified"


def test_something_that_is_not_a_badge_has_no_details_card(live: Live) -> None:
    html = post_verify(live.client, "/verify", data={"pasted": "hello, I am not a badge"}).text
    assert 'id="not-a-badge"' in html
    assert 'id="details-title"' not in html and 'id="identity"' not in html


def test_a_too_complex_credential_is_named_so_in_both_languages(live: Live) -> None:
    """A credential over the verifier's limits (here 6,000 blank nodes) is refused as input, and
    the page says why, in the page's language."""
    bomb = json.loads(university_badge())
    bomb["evidence"] = [{"id": f"_:b{n}", "type": ["Evidence"]} for n in range(6000)]
    english = post_verify(live.client, "/verify", data={"pasted": json.dumps(bomb)}).text
    assert "blank nodes" in english and 'id="details-title"' not in english
    korean = post_verify(live.client, "/verify?lang=ko", data={"pasted": json.dumps(bomb)}).text
    assert "너무 복잡해서" in korean


def answer(live: Live, **form: Any) -> str:
    return post_verify(live.client, "/verify", **form).text


def test_a_linked_issuer_is_blue_and_named_by_its_domain(live: Live) -> None:
    badge = linked_badge(live)
    html = post_verify(live.client, "/verify", data={"pasted": badge}).text
    assert verdict_of(html) == ("linked", "verified", "linked")
    assert "controls the web domain badges.linked.example" in html
    assert "check that this is the institution you expect" in html
    assert LINKED in html


def test_a_list_that_names_only_the_id_does_not_lend_the_badge_its_name(
    live: Live, tmp_path: Any
) -> None:
    """A trust list of ids only (``[did, …]``) vouches for the id, not for the name the badge
    gives itself: the verdict line names the id and says the name is the issuer's own claim."""
    from verifier.httpcache import CachingHttpClient
    from verifier.registries import load_sources

    key = generate_ed25519()
    issuer = did_key(key)
    listed = tmp_path / "ids.json"
    listed.write_text(json.dumps([issuer]))
    settings = live.services.settings
    live.services.cache[("trust-lists", settings.trust_lists)] = load_sources(
        [str(listed)], CachingHttpClient()
    )
    credential = make_credential(issuer)
    credential["issuer"]["name"] = "Seoul National University"
    badge = json.dumps(sign_data_integrity(credential, key, did_key_method(key)))
    html = post_verify(live.client, "/verify", data={"pasted": badge}).text
    assert verdict_of(html) == ("good", "verified", "known")
    verdict = html.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert "from Seoul National University" not in verdict
    assert f"Its issuer {issuer} is listed in" in verdict
    assert "any name the badge shows is the issuer&#39;s own claim" in verdict
