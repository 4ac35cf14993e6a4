"""``laurel verify``: exit 0 verified, 1 not verified, 2 could not decide or could not run.

Driven in-process through ``typer.testing.CliRunner`` with the network replaced by a recorder
that refuses every request (the CLI's default fetcher is the real ``HttpFetcher``), plus one run
of the installed ``laurel`` console script.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from issuer.cli import app
from tests.vectors import VECTORS
from verifier.errors import FetchError
from verifier.fetch import HttpFetcher

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "leading-change.json"
CREDENTIAL: dict[str, Any] = json.loads(EXAMPLE.read_text("utf-8"))
ISSUER = CREDENTIAL["issuer"]["id"]
EMAIL = "learner@example.org"
BAKED_PNG = VECTORS / "1edtech-validator" / "simple-json.png"

runner = CliRunner()


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No test here touches the network: every HttpFetcher request is recorded and refused."""
    requested: list[str] = []

    def refuse(self: HttpFetcher, url: str, *_: object) -> bytes:
        requested.append(url)
        raise FetchError(url, "the network is unavailable in tests")

    monkeypatch.setattr(HttpFetcher, "_get", refuse)
    return requested


def verify(*args: str, stdin: str | bytes | None = None) -> Any:
    return runner.invoke(app, ["verify", *args], input=stdin)


def verify_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = verify(*args, "--json")
    return result.exit_code, json.loads(result.stdout)


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["checks"] if c["name"] == name]
    assert len(found) == 1, report["checks"]
    return found[0]


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), "utf-8")
    return path


# --- verified ----------------------------------------------------------------------------------


def test_verified_credential_exits_0(offline: list[str]) -> None:
    result = verify(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("VERIFIED")
    assert "Every required check passed." in result.stdout
    assert offline == []


def test_human_output_has_no_emoji_substitution() -> None:
    result = verify(str(EXAMPLE))
    assert result.exit_code == 0
    assert ISSUER in result.stdout  # "did:key:" would become an emoji with emoji=True
    assert "\U0001f511" not in result.stdout  # the :key: emoji
    assert "Laurel Demo Institute" in result.stdout
    assert "Leading Change" in result.stdout


def test_json_output(offline: list[str]) -> None:
    code, report = verify_json(str(EXAMPLE))
    assert code == 0
    assert report["verdict"] == "verified"
    assert report["reason"]
    assert {c["name"] for c in report["checks"]} >= {
        "input",
        "context",
        "type",
        "schema",
        "proof",
        "issuer",
        "validity",
        "status",
    }
    for item in report["checks"]:
        assert set(item) == {"name", "outcome", "reason", "required"}
        assert item["outcome"] in ("passed", "failed", "unknown", "skipped")
    assert check(report, "proof")["outcome"] == "passed"
    summary = report["summary"]
    assert summary["issuer_id"] == ISSUER
    assert summary["issuer_name"] == "Laurel Demo Institute"
    assert summary["achievement_name"] == "Leading Change"
    assert summary["valid_from"] == "2026-01-15T09:00:00Z"
    assert summary["alignments"][0]["code"] == "ECQ1"
    assert offline == []


def test_json_output_is_only_json() -> None:
    result = verify(str(EXAMPLE), "--json")
    assert result.stderr == ""
    json.loads(result.stdout)


def test_reading_from_stdin() -> None:
    result = verify("-", stdin=EXAMPLE.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("VERIFIED")


def test_reading_garbage_from_stdin_is_not_verified() -> None:
    result = verify("-", stdin=b"\xff\xfe not a credential")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("NOT VERIFIED")


# --- recipient -----------------------------------------------------------------------------------


def test_matching_email_passes() -> None:
    code, report = verify_json(str(EXAMPLE), "--email", EMAIL)
    assert code == 0
    assert check(report, "recipient")["outcome"] == "passed"


def test_email_is_trimmed_and_lower_cased() -> None:
    code, report = verify_json(str(EXAMPLE), "--email", "  Learner@Example.ORG ")
    assert code == 0, report
    assert check(report, "recipient")["outcome"] == "passed"


def test_other_email_exits_1() -> None:
    result = verify(str(EXAMPLE), "--email", "someone.else@example.org")
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("NOT VERIFIED")
    assert "recipient" in result.stdout
    code, report = verify_json(str(EXAMPLE), "--email", "someone.else@example.org")
    assert code == 1
    assert report["verdict"] == "not verified"
    assert check(report, "recipient")["outcome"] == "failed"
    assert check(report, "recipient")["required"] is True


# --- not verified ----------------------------------------------------------------------------


def test_tampered_copy_exits_1(tmp_path: Path) -> None:
    tampered = copy.deepcopy(CREDENTIAL)
    tampered["credentialSubject"]["achievement"]["name"] = "Leading Everything"
    path = write(tmp_path, "tampered.json", tampered)
    result = verify(str(path))
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("NOT VERIFIED")
    code, report = verify_json(str(path))
    assert code == 1
    assert check(report, "proof")["outcome"] == "failed"


def test_not_yet_valid_exits_1() -> None:
    code, report = verify_json(str(EXAMPLE), "--now", "2009-01-01T00:00:00Z")
    assert code == 1
    assert report["verdict"] == "not verified"
    assert check(report, "validity")["outcome"] == "failed"
    assert check(report, "proof")["outcome"] == "passed"


def test_now_with_an_offset_is_accepted() -> None:
    result = verify(str(EXAMPLE), "--now", "2026-06-01T12:00:00+02:00")
    assert result.exit_code == 0, result.output


def test_a_file_over_2_mb_is_not_verified(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"{" + b" " * (2 * 1024 * 1024) + b"}")
    code, report = verify_json(str(path))
    assert code == 1
    assert check(report, "input")["outcome"] == "failed"


# --- could not run / could not decide ----------------------------------------------------------


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = verify(str(tmp_path / "nowhere.json"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "nowhere.json" in result.stderr


def test_directory_exits_2(tmp_path: Path) -> None:
    result = verify(str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("laurel verify:")


@pytest.mark.parametrize("now", ["yesterday", "2026-13-01T00:00:00Z", "2026-06-01 25:00Z"])
def test_bad_now_exits_2(now: str) -> None:
    result = verify(str(EXAMPLE), "--now", now)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("laurel verify:")
    assert "Traceback" not in result.output


def test_now_without_a_time_zone_exits_2() -> None:
    result = verify(str(EXAMPLE), "--now", "2026-06-01T00:00:00")
    assert result.exit_code == 2
    assert "time zone" in result.stderr


def test_baked_png_with_an_unreachable_issuer_could_not_decide(offline: list[str]) -> None:
    """simple-json.png names its key by https://example.com/issuers/876543#z6Mk…: the signature
    checks out with the key in the fragment, but without the network the issuer cannot confirm
    the key, so the honest verdict offline is "could not decide" (exit 2), never "verified"."""
    result = verify(str(BAKED_PNG))
    assert result.exit_code == 2, result.output
    assert result.stdout.startswith("COULD NOT DECIDE")
    code, report = verify_json(str(BAKED_PNG))
    assert code == 2
    assert report["verdict"] == "could not decide"
    assert report["summary"]["format"] == "png"
    assert check(report, "input")["reason"] == "read a credential from a baked PNG"
    assert check(report, "proof")["outcome"] == "passed"
    assert check(report, "issuer")["outcome"] == "unknown"
    assert offline and all(url.startswith("https://example.com/") for url in offline)


# --- trust registry ----------------------------------------------------------------------------


def test_trust_file_that_lists_the_issuer(tmp_path: Path) -> None:
    trust = write(tmp_path, "trust.json", ["https://other.example", ISSUER])
    code, report = verify_json(str(EXAMPLE), "--trust", str(trust))
    assert code == 0
    assert report["verdict"] == "verified"
    identity = report["issuerIdentity"]
    assert identity["state"] == "known"
    assert identity["evidence"]["registry"] == "trust.json"
    assert report["warnings"] == []


def test_trust_file_that_does_not_list_the_issuer_exits_1(tmp_path: Path) -> None:
    """A genuine signature from an issuer outside the user's trust list is not good enough when
    the user asked for one: exit 1, and the report says why."""
    trust = write(tmp_path, "trust.json", ["https://other.example"])
    code, report = verify_json(str(EXAMPLE), "--trust", str(trust))
    assert code == 1
    assert report["verdict"] == "verified"
    assert report["issuerIdentity"]["state"] == "unconfirmed"
    human = verify(str(EXAMPLE), "--trust", str(trust))
    assert human.exit_code == 1
    assert "UNCONFIRMED" in human.stdout
    assert "the issuer is unconfirmed, not known" in human.stderr
    assert verify(str(EXAMPLE), "--trust", str(trust), "--require", "unconfirmed").exit_code == 0


def test_trust_file_as_an_object(tmp_path: Path) -> None:
    trust = write(tmp_path, "trust.json", {"issuers": [ISSUER]})
    code, report = verify_json(str(EXAMPLE), "--trust", str(trust))
    assert code == 0
    assert report["issuerIdentity"]["state"] == "known"


def test_dcc_registry_file(tmp_path: Path) -> None:
    """The DCC static registry format (VerifierPlus, the Learner Credential Wallet)."""
    registry = {
        "meta": {"created": "2025-01-01T00:00:00+00:00", "updated": "2025-06-01T00:00:00+00:00"},
        "registry": {
            ISSUER: {
                "name": "Example National HRD Institute",
                "location": "Jincheon, Korea",
                "url": "https://www.example.ac.kr",
            }
        },
    }
    trust = write(tmp_path, "community.json", registry)
    code, report = verify_json(str(EXAMPLE), "--trust", str(trust))
    assert code == 0
    entry = report["issuerIdentity"]["evidence"]["entry"]
    assert entry == {
        "registry": "community.json",
        "name": "Example National HRD Institute",
        "location": "Jincheon, Korea",
        "url": "https://www.example.ac.kr",
    }
    human = verify(str(EXAMPLE), "--trust", str(trust))
    assert "KNOWN" in human.stdout and "Jincheon, Korea" in human.stdout


def test_trust_lists_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trust = write(tmp_path, "env.json", [ISSUER])
    monkeypatch.setenv("LAUREL_TRUST_LISTS", f"{tmp_path / 'missing.json'}")
    assert verify(str(EXAMPLE)).exit_code == 2  # a configured list that cannot be read
    monkeypatch.setenv("LAUREL_TRUST_LISTS", str(trust))
    code, report = verify_json(str(EXAMPLE))
    assert code == 0
    assert report["issuerIdentity"]["state"] == "known"


def test_self_made_did_key_university_is_unconfirmed(tmp_path: Path) -> None:
    """Anyone can make a did:key, call it a university and sign a medical degree: genuine
    signature, but the identity is only self-declared, and says so."""
    from issuer.crypto.keys import did_key, did_key_method, generate_ed25519
    from issuer.crypto.signing import sign_data_integrity
    from tests.issuer.credentials import make_credential

    key = generate_ed25519()
    forged = make_credential(did_key(key))
    forged["issuer"]["name"] = "Seoul National University"
    forged["credentialSubject"]["achievement"]["name"] = "Doctor of Medicine"
    path = write(tmp_path, "md.json", sign_data_integrity(forged, key, did_key_method(key)))
    code, report = verify_json(str(path))
    assert code == 0
    assert report["verdict"] == "verified"
    identity = report["issuerIdentity"]
    assert identity["state"] == "unconfirmed"
    assert identity["claimedName"] == "Seoul National University"
    assert "anyone can create an issuer like this" in identity["reason"]
    human = verify(str(path))
    assert "UNCONFIRMED" in human.stdout
    assert "the name “Seoul National University” is the issuer's own claim" in human.stdout
    assert verify(str(path), "--require", "linked").exit_code == 1


def test_bad_require_exits_2() -> None:
    assert verify(str(EXAMPLE), "--require", "famous").exit_code == 2


@pytest.mark.parametrize(
    "content",
    [b'{"issuers": "did:key:z6Mk"}', b"[1, 2]", b"not json", b"\xff\xfe"],
    ids=["issuers not a list", "not strings", "not JSON", "not UTF-8"],
)
def test_bad_trust_file_exits_2(tmp_path: Path, content: bytes) -> None:
    trust = tmp_path / "trust.json"
    trust.write_bytes(content)
    result = verify(str(EXAMPLE), "--trust", str(trust))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("laurel verify:")


def test_missing_trust_file_exits_2(tmp_path: Path) -> None:
    result = verify(str(EXAMPLE), "--trust", str(tmp_path / "nowhere.json"))
    assert result.exit_code == 2
    assert result.stderr.startswith("laurel verify:")


# --- what the credential says is shown, never obeyed -------------------------------------------


def test_markup_in_the_credential_is_printed_literally(tmp_path: Path) -> None:
    hostile = copy.deepcopy(CREDENTIAL)
    hostile["issuer"]["name"] = "[bold red]Totally Trusted[/] :key:"
    result = verify(str(write(tmp_path, "markup.json", hostile)))
    assert result.exit_code == 1  # the signature no longer holds
    assert "[bold red]Totally Trusted[/] :key:" in result.stdout


def test_terminal_control_sequences_in_the_credential_are_not_printed(tmp_path: Path) -> None:
    """A credential is untrusted input: an ESC in a name must not reach the terminal (it can
    clear the screen, retitle the window or fake a "VERIFIED" line)."""
    hostile = copy.deepcopy(CREDENTIAL)
    hostile["issuer"]["name"] = "Evil\x1b[2J\x1b[1;1HVERIFIED\x1b]0;pwned\x07 Institute"
    result = verify(str(write(tmp_path, "escape.json", hostile)))
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout
    assert "\x07" not in result.stdout


# --- the installed console script --------------------------------------------------------------


def test_installed_console_script() -> None:
    script = Path(sys.executable).with_name("laurel")
    assert script.exists(), f"the laurel console script is not installed next to {sys.executable}"
    completed = subprocess.run(
        [str(script), "verify", str(EXAMPLE), "--json"],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    report = json.loads(completed.stdout)
    assert report["verdict"] == "verified"
    assert report["summary"]["issuer_id"] == ISSUER
    human = subprocess.run(
        [str(script), "verify", str(EXAMPLE)], capture_output=True, check=False, cwd=ROOT
    )
    assert human.returncode == 0
    assert ISSUER.encode() in human.stdout


def test_a_bad_setting_is_named_with_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAUREL_FETCH_CACHE_SECONDS", "soon")
    monkeypatch.setenv("LAUREL_KEY_PASSPHRASE", "a passphrase of some length")
    result = runner.invoke(app, ["issuer", "create", "--name", "X", "--slug", "x"])
    assert result.exit_code == 2
    assert result.stderr == (
        "laurel: invalid settings: LAUREL_FETCH_CACHE_SECONDS: Input should be a valid number, "
        "unable to parse string as a number\n"
    )
