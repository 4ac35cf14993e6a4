"""``laurel orgs``: create an organisation, its units and roster from CSV files, trust issuers;
a roster with a bad row prints each problem, exits 1 and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from issuer.cli import app


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "LAUREL_DATABASE_URL": database_url,
        "LAUREL_KEYS_DIR": str(tmp_path / "keys"),
        "LAUREL_KEY_PASSPHRASE": "cli-test-passphrase",
        "LAUREL_BASE_URL": "https://laurel.test",
    }


def _run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_an_organisation_is_run_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:
    for slug, name in (("ministry", "Ministry"), ("academy", "MOIS Academy")):
        assert _run(env, "issuer", "create", "--name", name, "--slug", slug)[0] == 0
    code, out = _run(
        env, "orgs", "create", "--issuer", "ministry", "--slug", "mois",
        "--name", "Ministry of the Interior", "--name-ko", "행정안전부",
    )  # fmt: skip
    assert code == 0, out
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,name_ko,parent,supervisor_email\n"
        "POL,Policy Bureau,정책국,,director@mois.example.kr\n"
        "DATA,Data Team,데이터팀,POL,\n",
        "utf-8",
    )
    code, out = _run(env, "orgs", "units", "--org", "mois", "--csv", str(units))
    assert (code, json.loads(out)) == (0, {"units": 2, "added": 2, "removed": 0})
    roster = tmp_path / "roster.csv"
    roster.write_text("email,unit,grade\nkim@mois.example.kr,POL,5\nlee@mois.example.kr,DATA,6\n")
    code, out = _run(env, "orgs", "roster", "--org", "mois", "--csv", str(roster))
    assert (code, json.loads(out)) == (0, {"members": 2, "added": 2, "updated": 0, "left": 0})

    bad = tmp_path / "bad.csv"
    bad.write_text("email,unit\nkim@mois.example.kr,POL\nnobody,HR\n")
    code, out = _run(env, "orgs", "roster", "--org", "mois", "--csv", str(bad))
    assert code == 1
    assert "row 2: email: 'nobody' is not an email address" in out
    assert "row 2: unit: there is no unit 'HR'" in out
    cycle = tmp_path / "cycle.csv"
    cycle.write_text("code,name,parent\nA,Unit A,B\nB,Unit B,A\n")
    code, out = _run(env, "orgs", "units", "--org", "mois", "--csv", str(cycle))
    assert code == 1 and "cycle" in out

    assert _run(env, "orgs", "trust", "--org", "mois", "--issuer", "academy")[0] == 0
    code, out = _run(env, "orgs", "trust", "--org", "mois", "--ref", "did:web:uni.example.org")
    assert code == 1 and "display name" in out
    code, out = _run(
        env, "orgs", "trust", "--org", "mois", "--ref", "did:web:uni.example.org",
        "--name", "University",
    )  # fmt: skip
    assert code == 0, out
    code, out = _run(env, "orgs", "show", "--org", "mois")
    shown = json.loads(out)
    assert shown["members"] == 2  # the bad roster changed nothing
    assert [u["code"] for u in shown["units"]] == ["POL"]
    assert [t["name"] for t in shown["trusted"]] == ["Ministry", "MOIS Academy", "University"]
    code, out = _run(env, "orgs", "create", "--issuer", "nowhere", "--slug", "x", "--name", "X")
    assert code == 1 and "nowhere" in out
    code, out = _run(env, "orgs", "recheck")
    assert (code, out.strip()) == (
        0,
        "0 shared credential(s) newly found revoked, 0 expired, 0 no longer verifying",
    )
