"""The wallet's "phone wallet (OpenID4VCI)" action: the learner offers one of their own issued
badges to an OpenID4VCI wallet on their phone. The page shows the offer as a QR code to scan and
the 6-digit transaction code to type into the wallet (never in a URL: the page is the answer to
the POST, and is not stored). English and Korean; no JavaScript."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from issuer.artifacts.qr import qr_svg
from issuer.core.errors import NotFound
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import LearnerForm
from issuer.oauth import oid4vci
from issuer.wallet import badges as wallet
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/wallet/badges/{ref}/oid4vci")
def offer_to_phone_wallet(
    ref: str, request: Request, services: ServicesDep, db: SessionDep, signed: LearnerForm
) -> Response:
    if not ref.startswith("c-"):
        raise NotFound("only a badge issued here can be sent to a phone wallet")
    badge = wallet.issued_credential(db, signed.id, ref)
    made = oid4vci.create_offer(db, services, badge.id, actor=f"learner:{signed.id}")
    svg = qr_svg(made.offer).decode("utf-8")
    return page(
        request,
        services,
        "wallet_oid4vci.html",
        session=signed,
        ref=ref,
        offer=made,
        qr=Markup(svg[svg.index("<svg") :]),  # our own SVG: the URL in its title is escaped
    )
