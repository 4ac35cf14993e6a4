"""The wallet's "Share with my organisation": a learner shares a badge imported from elsewhere
with an organisation whose roster they are on, or withdraws it (``issuer.wallet.orgs``). A
refusal (it does not verify, the organisation does not trust its issuer) is an error page
saying why."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from issuer.http.deps import ServicesDep, SessionDep
from issuer.http.sessions import LearnerForm
from issuer.wallet import badges as wallet
from issuer.wallet import orgs as sharing

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.post("/wallet/badges/{ref}/orgs/{org}/share")
def share(
    ref: str, org: str, services: ServicesDep, db: SessionDep, signed: LearnerForm
) -> Response:
    row = wallet.imported_credential(db, signed.id, ref)
    sharing.share(db, services, signed.id, org, row, "wallet")
    return RedirectResponse(f"/wallet/badges/{ref}?done=org_shared", status_code=303)


@router.post("/wallet/badges/{ref}/orgs/{org}/withdraw")
def withdraw(ref: str, org: str, db: SessionDep, signed: LearnerForm) -> Response:
    row = wallet.imported_credential(db, signed.id, ref)
    sharing.withdraw(db, signed.id, org, sharing.credential_ref(row))
    return RedirectResponse(f"/wallet/badges/{ref}?done=org_withdrawn", status_code=303)
