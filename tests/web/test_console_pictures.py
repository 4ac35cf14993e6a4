"""An uploaded badge picture in the console's achievement editor: PNG and JPEG are re-encoded
as Laurel's own 512×512 PNG (no metadata) and replace the drawn badge everywhere the badge is
drawn (the editor, the credential's baked PNG and SVG); SVG, non-pictures, huge and oversized
files are refused with a message and change nothing; removing it draws the design again."""

from __future__ import annotations

import base64
import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from issuer.artifacts.uploads import SIZE
from issuer.context import Services
from tests.issuer.conftest import make_issuer
from tests.web.conftest import Inbox
from tests.web.conftest import mail_services as mail_services  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox
from tests.web.conftest import site as site
from tests.web.console_steps import csrf, join

FIELDS = {
    "key": "data-literacy",
    "name": "Data Literacy",
    "description": "Reading and questioning data.",
    "criteria": "Pass the final assessment.",
    "achievementType": "Certificate",
    "hours": "12",
    "validity": "",
    "skills": "",
    "shape": "shield",
    "color": "#0a7f3f",
}


def _picture(kind: str = "PNG", size: tuple[int, int] = (300, 150)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 40))
    out = io.BytesIO()
    image.save(
        out, format=kind, **({"exif": b"Exif\x00\x00secret-camera"} if kind == "JPEG" else {})
    )
    return out.getvalue()


def _red(pixel: Any) -> bool:
    """The upload's red, as a JPEG keeps it (within a few levels)."""
    return all(abs(a - b) <= 6 for a, b in zip(pixel[:3], (200, 30, 40), strict=True))


def _save(
    staff: TestClient, path: str, picture: tuple[str, bytes, str] | None, **extra: Any
) -> Any:
    form = staff.get(path)
    files = {"picture": picture} if picture else {"picture": ("", b"", "application/octet-stream")}
    return staff.post(
        path,
        data={**FIELDS, **extra, "csrf": csrf(form.text)},
        files=files,
        follow_redirects=False,
    )


def test_an_uploaded_picture_replaces_the_drawn_badge(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    headers = make_issuer(mail_services, site, "hrd")
    staff = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    made = _save(staff, "/console/achievements/new", ("logo.jpg", _picture("JPEG"), "image/jpeg"))
    assert made.status_code == 303, made.text

    svg = staff.get("/console/achievements/data-literacy/badge.svg").content
    assert b"data:image/png;base64," in svg and b"#0A7F3F" not in svg.upper()
    embedded = base64.b64decode(svg.split(b"base64,")[1].split(b'"')[0])
    with Image.open(io.BytesIO(embedded)) as kept:
        assert kept.format == "PNG" and kept.size == (SIZE, SIZE) and kept.mode == "RGBA"
        assert _red(kept.getpixel((SIZE // 2, SIZE // 2)))
        corner = kept.getpixel((SIZE // 2, 10))
        assert isinstance(corner, tuple) and corner[3] == 0  # letterboxed on transparency
    assert b"secret-camera" not in embedded

    issued = site.post(
        "/api/v1/issuers/hrd/credentials",
        json={"recipient": {"email": "kim@x.example"}, "achievement": "data-literacy"},
        headers=headers,
    )
    assert issued.status_code == 201, issued.text
    uuid = issued.json()["id"].removeprefix("urn:uuid:")
    baked = site.get(f"/v/{uuid}/badge.png")
    assert baked.status_code == 200
    with Image.open(io.BytesIO(baked.content)) as badge:
        assert badge.size == (SIZE, SIZE)
        assert _red(badge.getpixel((SIZE // 2, SIZE // 2)))
        assert "openbadgecredential" in badge.info  # the credential is baked in

    edit = "/console/achievements/data-literacy"
    assert 'id="drop_picture"' in staff.get(edit).text
    kept = _save(staff, edit, None, name="Data Literacy I")  # no new file: the picture stays
    assert kept.status_code == 303
    assert b"data:image/png" in staff.get(f"{edit}/badge.svg").content
    dropped = _save(staff, edit, None, drop_picture="yes")
    assert dropped.status_code == 303
    assert b"#0A7F3F" in staff.get(f"{edit}/badge.svg").content.upper()


def test_what_is_not_a_fitting_picture_is_refused(
    site: TestClient, mail_services: Services, mailbox: Inbox
) -> None:
    make_issuer(mail_services, site, "hrd")
    staff = join(site, mailbox, mail_services, "hrd", "issuer@hrd.example", "issuer")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024 + 10)
    for name, data, reason in (
        ("x.svg", svg, "SVG is not accepted"),
        ("x.png", b"GIF89a not really", "not a PNG or JPEG"),
        ("x.png", b"\x89PNG\r\n\x1a\n" + b"broken", "cannot be read"),
        ("x.png", big, "over 2 MB"),
        ("x.png", _picture("PNG", (5000, 10)), "at most 4096"),
    ):
        refused = _save(staff, "/console/achievements/new", (name, data, "image/png"))
        assert refused.status_code == 400, (name, refused.text[:300])
        assert reason in refused.text, (reason, refused.text[:2000])
    assert "Data Literacy" not in staff.get("/console/achievements").text
