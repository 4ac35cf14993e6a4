"""A small OpenID Connect provider for the tests, served on loopback (``tests.databases.serving``):
discovery, an authorization endpoint that signs in ``user`` at once (no login form), a token
endpoint (client_secret_basic, single-use codes, PKCE S256 checked) and a JWKS. ID tokens are
signed with joserfc (RS256). Tests make it misbehave: ``claims`` overrides the ID token's claims
(a wrong ``aud``, an old ``exp``, another ``nonce``…) and ``forge`` signs with a key the JWKS
does not have (same ``kid``)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "laurel-console", "s3cret-of-the-client"


class Provider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.impostor = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.user: dict[str, Any] = {"sub": "u-1", "email": "", "email_verified": True}
        self.claims: dict[str, Any] = {}
        self.forge = False
        self.discovery: dict[str, Any] = {}
        """Replaces fields of the discovery document (a provider that gets them wrong)."""
        self.jwks: dict[str, Any] | None = None
        """Served instead of the key set (a provider that gets it wrong)."""
        self.authorizations: list[dict[str, str]] = []
        self.exchanges: list[dict[str, str]] = []
        self._codes: dict[str, dict[str, str]] = {}
        self.app = self._app()

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                **self.discovery,
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            if self.jwks is not None:
                return self.jwks
            return {"keys": [self.key.as_dict(private=False)]}

        @app.get("/authorize")
        def authorize(request: Request) -> Response:
            asked = dict(request.query_params)
            self.authorizations.append(asked)
            if asked.get("client_id") != CLIENT_ID or asked.get("response_type") != "code":
                return JSONResponse({"error": "unauthorized_client"}, status_code=400)
            if asked.get("code_challenge_method") != "S256" or not asked.get("code_challenge"):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self._codes[code] = asked
            back = {"code": code, "state": asked.get("state", "")}
            return RedirectResponse(f"{asked['redirect_uri']}?{urlencode(back)}", status_code=302)

        @app.post("/token")
        async def token(request: Request) -> Response:
            form = {key: str(value) for key, value in (await request.form()).items()}
            self.exchanges.append(form)
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            asked = self._codes.pop(form.get("code", ""), None)  # a code works once
            if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            verifier = form.get("code_verifier", "").encode()
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if challenge.decode() != asked["code_challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 300,
                "nonce": asked.get("nonce"),
                **self.user,
                **self.claims,
            }
            key = self.impostor if self.forge else self.key
            id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token,
                }
            )

        return app
