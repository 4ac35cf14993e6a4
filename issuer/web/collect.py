"""The page behind a badge email's "collect your badge" link (``issuer.wallet.collect``): no
sign-in, the link is the capability. Opening it (``GET``, which mail scanners do) makes nothing;
its buttons (``POST``, double-submit CSRF) make a fresh single-use exchange for the Learner
Credential Wallet — the deep link as a button and a QR code, and the legacy ``dccrequest://`` link
— or an OpenID4VCI offer whose QR code and transaction code the page shows. Pages holding a
capability are never cached (``NO_STORE``, as every page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from markupsafe import Markup

from issuer.artifacts.qr import qr_svg
from issuer.core.errors import LaurelError
from issuer.http.cookies import check_form
from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import CsrfField
from issuer.oauth import oid4vci
from issuer.wallet import collect, exchanges
from issuer.web.render import form_before_sign_in, wallet_message

router = APIRouter(tags=["pages"], include_in_schema=False)
Token = Annotated[str, Path(max_length=200)]


def _svg(url: str) -> Markup:
    svg = qr_svg(url).decode("utf-8")
    return Markup(svg[svg.index("<svg") :])  # our own SVG: the URL in its title is escaped


@router.get("/collect/{token}")
def collect_page(token: Token, request: Request, services: ServicesDep, db: SessionDep) -> Response:
    try:
        credential = collect.credential_for(db, services, token)
    except LaurelError as exc:
        return wallet_message(request, services, exc.status, exc.detail)
    return form_before_sign_in(
        request, services, "collect.html", token=token, credential=credential, step="start"
    )


@router.post("/collect/{token}/{wallet}")
def collect_into(
    token: Token,
    wallet: Annotated[str, Path(pattern="^(lcw|oid4vci)$")],
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    csrf: CsrfField = "",
) -> Response:
    """A fresh exchange (``lcw``) or OpenID4VCI offer (``oid4vci``) for the link's badge."""
    check_form(request, services, csrf, None)
    try:
        credential = collect.credential_for(db, services, token)
        actor = f"collect:{credential.id}"
        if wallet == "lcw":
            offer = exchanges.create_exchange(db, services, credential, actor=actor)
            return form_before_sign_in(
                request,
                services,
                "collect.html",
                token=token,
                credential=credential,
                step="lcw",
                offer=offer,
                qr=_svg(offer.lcw),
            )
        made = oid4vci.create_offer(db, services, credential.id, actor=actor)
    except LaurelError as exc:
        return wallet_message(request, services, exc.status, exc.detail)
    return form_before_sign_in(
        request,
        services,
        "collect.html",
        token=token,
        credential=credential,
        step="oid4vci",
        offer=made,
        qr=_svg(made.offer),
    )
