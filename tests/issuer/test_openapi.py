"""The OpenAPI description is served and names every endpoint of DESIGN.md's public interface,
each with a summary."""

from __future__ import annotations

from fastapi.testclient import TestClient

CONTRACT = [
    ("get", "/api/v1/issuers/{slug}/achievements"),
    ("post", "/api/v1/issuers/{slug}/achievements"),
    ("post", "/api/v1/issuers/{slug}/credentials"),
    ("post", "/api/v1/issuers/{slug}/credentials/bulk"),
    ("get", "/api/v1/credentials/{credential_id}"),
    ("post", "/api/v1/credentials/{credential_id}/revoke"),
    ("post", "/api/v1/verify"),
    ("get", "/issuers/{slug}"),
    ("get", "/issuers/{slug}/did.json"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/api/v1/issuers/{slug}/programs"),
    ("get", "/api/v1/issuers/{slug}/credentials"),
    ("get", "/api/v1/issuers/{slug}/skills"),
    ("post", "/api/v1/issuers/{slug}/teams"),
    ("post", "/api/v1/issuers/{slug}/xapi/statements"),
    ("get", "/api/v1/issuers/{slug}/groups"),
    ("put", "/api/v1/issuers/{slug}/groups/{name}"),
    ("delete", "/api/v1/issuers/{slug}/groups/{name}"),
    ("post", "/vc-api/issuers/{slug}/credentials/issue"),
    ("post", "/vc-api/issuers/{slug}/credentials/status"),
    ("post", "/vc-api/credentials/verify"),
    ("post", "/vc-api/presentations/verify"),
    ("post", "/api/v1/credentials/{credential_id}/exchanges"),
    ("post", "/exchanges/{secret}"),
    ("get", "/interactions/{secret}"),
    ("post", "/api/v1/orgs/{org}/trust"),
    ("get", "/api/v1/issuers/{slug}/trusted-by"),
    ("post", "/api/v1/issuers/{slug}/trusted-by/{org}"),
    ("delete", "/api/v1/issuers/{slug}/trusted-by/{org}"),
]


def test_openapi_names_the_public_interface(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for method, path in CONTRACT:
        operation = spec["paths"][path][method]
        assert operation.get("summary"), (method, path)
    assert client.get("/docs").status_code == 200
