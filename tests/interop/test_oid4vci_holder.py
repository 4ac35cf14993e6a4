"""An OpenID4VCI 1.0 holder built on ``@openid4vc/openid4vci`` (tests/interop/js-oid4vci/
holder.mjs) collects a badge from Laurel served on loopback HTTP by the pre-authorized code flow —
offer by reference, metadata, token with the tx_code, nonce, an EdDSA did:key proof, both
configurations — and verifies what it got with Digital Bazaar's ``vc`` (ldp_vc, eddsa-rdfc-2022,
the status list fetched from Laurel) and ``jose`` (jwt_vc_json); on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.interop.dcc import NODE_TIMEOUT_S, ensure_node_modules
from tests.units import create_api_key
from tests.web.conftest import Live
from tests.web.conftest import live as live  # the fixtures, for these tests
from tests.web.conftest import mailbox as mailbox

JS_DIR = Path(__file__).resolve().parent / "js-oid4vci"
LDP, JWT = "OpenBadgeCredential_ldp_vc", "OpenBadgeCredential_jwt_vc_json"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="needs node and npm"
)


@pytest.fixture(scope="module", autouse=True)
def _node_modules() -> None:
    if shutil.which("npm") is not None:
        ensure_node_modules(JS_DIR)


def _holder(offer: str, tx_code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(JS_DIR / "holder.mjs"), offer, tx_code],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        check=False,
    )


def _offer(live: Live, credential_id: str) -> dict[str, Any]:
    key = create_api_key(live.services, "hrd", ["issue"])
    made = live.client.post(
        f"/api/v1/credentials/{credential_id}/offers", headers={"Authorization": f"Bearer {key}"}
    )
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    assert answer["credential_offer_uri"].startswith(live.base_url + "/oid4vci/offers/")
    return answer


def test_the_openid4vc_holder_collects_and_verifies_both_formats(live: Live) -> None:
    made = _offer(live, live.badges.valid)
    ran = _holder(made["offer"], made["tx_code"])
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert out["credentialIssuer"] == f"{live.base_url}/issuers/hrd"
    assert out["configurations"] == [LDP, JWT]
    assert out["tokenType"] == "Bearer"
    ldp, vcjwt = out["results"][LDP], out["results"][JWT]
    assert ldp["format"] == "ldp_vc" and ldp["verified"] is True, ldp["errors"]
    assert ldp["subject"] == out["holder"] and ldp["credential"]["id"].endswith(live.badges.valid)
    assert vcjwt["format"] == "jwt_vc_json" and vcjwt["verified"] is True, vcjwt["errors"]
    assert vcjwt["subject"] == out["holder"] == vcjwt["sub"]

    again = _holder(made["offer"], made["tx_code"])  # the offer was used: nothing to resolve
    assert again.returncode == 1 and "404" in again.stderr


def test_the_holder_is_refused_a_wrong_tx_code(live: Live) -> None:
    made = _offer(live, live.badges.tampered)
    wrong = "000000" if made["tx_code"] != "000000" else "111111"
    ran = _holder(made["offer"], wrong)
    assert ran.returncode == 1 and "invalid_grant" in ran.stderr, ran.stderr
