"""``laurel verify`` refuses private and special-purpose addresses like the server does, and
``--allow-local`` lifts that for development (docs/verifier.md, "Fetching").

The sockets are watched: every TCP connection the fetcher asks for is recorded (and refused, so
nothing leaves the machine), and a refused URL must not ask for any.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from issuer.cli import app
from tests.verifier.local_servers import answering, http_server, record_connections

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "docs" / "examples" / "leading-change.json").read_bytes()
runner = CliRunner()


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    return record_connections(monkeypatch)


def verify(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["verify", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "private or local address"),
        ("http://169.254.169.254/latest/meta-data/", "only https"),
        ("https://2852039166/latest/meta-data/", "private or local address"),
        ("https://[::ffff:169.254.169.254]/latest/", "private or local address"),
        ("https://10.1.2.3/badge.json", "private or local address"),
        ("https://10.255.0.1:8443/badge.json", "private or local address"),
        ("https://[fd00::1]/badge.json", "private or local address"),
        ("https://127.0.0.1/badge.json", "private or local address"),
        ("http://127.0.0.1:8000/badge.json", "only https"),
    ],
)
def test_laurel_verify_refuses_private_addresses(
    sockets: list[tuple[str, int]], url: str, reason: str
) -> None:
    code, report = verify(url)
    assert code == 2
    assert report["checks"][0]["outcome"] == "unknown"
    assert reason in report["checks"][0]["reason"]
    assert sockets == []


def test_allow_local_reaches_private_addresses(sockets: list[tuple[str, int]]) -> None:
    code, report = verify("https://10.1.2.3/badge.json", "--allow-local")
    assert code == 2
    assert "ConnectError" in report["checks"][0]["reason"]
    assert sockets == [("10.1.2.3", 443)]


def test_allow_local_verifies_a_badge_served_over_http_on_this_machine() -> None:
    routes = {"/badge.json": (200, {"Content-Type": "application/json"}, EXAMPLE)}
    with http_server(answering(routes)) as port:
        url = f"http://127.0.0.1:{port}/badge.json"
        refused, report = verify(url)
        assert refused == 2
        assert "only https" in report["checks"][0]["reason"]
        verified, report = verify(url, "--allow-local")
    assert verified == 0, report["checks"]


def test_a_refused_url_on_this_machine_points_at_allow_local() -> None:
    """A badge of a Laurel running here (``laurel serve --demo``) names plain-http URLs on this
    machine: refused, the verdict says why and the command says what would fetch them."""
    routes = {"/badge.json": (200, {"Content-Type": "application/json"}, EXAMPLE)}
    with http_server(answering(routes)) as port:
        url = f"http://127.0.0.1:{port}/badge.json"
        refused = runner.invoke(app, ["verify", url, "--json"])
        allowed = runner.invoke(app, ["verify", url, "--allow-local", "--json"])
    assert refused.exit_code == 2
    assert f"{url} is on this machine and was not fetched" in refused.stderr
    assert "add --allow-local" in refused.stderr
    assert json.loads(refused.stdout)["verdict"] == "could not decide"
    assert allowed.exit_code == 0
    assert allowed.stderr == ""


def test_no_hint_for_a_refused_address_elsewhere(sockets: list[tuple[str, int]]) -> None:
    result = runner.invoke(app, ["verify", "https://10.1.2.3/badge.json", "--json"])
    assert result.exit_code == 2
    assert "--allow-local" not in result.stderr


def test_a_trust_list_on_a_private_address_is_not_fetched(
    sockets: list[tuple[str, int]],
) -> None:
    example = str(ROOT / "docs" / "examples" / "leading-change.json")
    result = runner.invoke(app, ["verify", example, "--trust", "https://10.0.0.5/list.json"])
    assert result.exit_code == 1  # the issuer cannot be known from a list that was not read
    assert "10.0.0.5 is a private or local address" in result.output
    assert sockets == []
