"""The wallet's "Add to Learner Credential Wallet": the learner, signed in, creates a single-use
VC-API exchange for a badge of theirs (``issuer.wallet.exchanges``) and gets the LCW deep link as
a button and as a QR code to scan with the phone, and the legacy ``dccrequest://`` link. The
page holds a capability, so it is never cached (``NO_STORE``, as every wallet page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from issuer.artifacts.qr import qr_svg
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import LearnerForm
from issuer.wallet import exchanges
from issuer.web.render import wallet_page as page

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/wallet/badges/{ref}/lcw")
def add_to_lcw(
    ref: str, request: Request, services: ServicesDep, db: SessionDep, signed: LearnerForm
) -> Response:
    credential, offer = exchanges.offer_for_learner(db, services, signed.id, ref)
    svg = qr_svg(offer.lcw).decode().split("?>", 1)[-1].strip()
    return page(
        request,
        services,
        "wallet_lcw.html",
        session=signed,
        ref=ref,
        name=credential.document.get("name", ""),
        offer=offer,
        qr=Markup(svg),  # built by issuer.artifacts.qr, which escapes the URL in it
    )
