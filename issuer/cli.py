"""The ``laurel`` command line."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from verifier import Outcome, Report, Verdict, verify_credential
from verifier.errors import FetchError, InputError
from verifier.sources import DEFAULT_MAX_BYTES

app = typer.Typer(
    help="Laurel: an Open Badges 3.0 issuer, verifier and skills cloud.", no_args_is_help=True
)

EXIT_VERIFIED, EXIT_NOT_VERIFIED, EXIT_COULD_NOT_RUN = 0, 1, 2

_MARKS = {
    Outcome.PASSED: "[green]✓[/green]",
    Outcome.FAILED: "[red]✗[/red]",
    Outcome.UNKNOWN: "[yellow]?[/yellow]",
    Outcome.SKIPPED: "[dim]-[/dim]",
}


@app.callback()
def main() -> None:
    """Laurel command line."""


def _read_source(source: str) -> str | bytes:
    if source == "-":
        return sys.stdin.buffer.read(DEFAULT_MAX_BYTES + 1)
    if source.startswith(("https://", "http://")):
        return source
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source} is not a file, a URL or '-'")
    with path.open("rb") as handle:
        return handle.read(DEFAULT_MAX_BYTES + 1)


def _load_trust(path: Path) -> list[str]:
    data = json.loads(path.read_text("utf-8"))
    issuers = data.get("issuers", data) if isinstance(data, dict) else data
    if not isinstance(issuers, list) or not all(isinstance(item, str) for item in issuers):
        raise ValueError('a trust file is a JSON list of issuer ids, or {"issuers": [...]}')
    return issuers


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Text from a credential, made safe for a terminal: no escape sequences, no markup."""
    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text))


def _print_report(report: Report, console: Console) -> None:
    colour = {"verified": "green", "not verified": "red", "could not decide": "yellow"}
    verdict = report.verdict.value
    console.print(f"[bold {colour[verdict]}]{verdict.upper()}[/]  {_safe(report.reason())}")
    summary = report.summary
    if summary.issuer_id or summary.achievement_name:
        rows = {
            "issuer": f"{summary.issuer_name or ''} ({summary.issuer_id})",
            "achievement": summary.achievement_name or "-",
            "recipient": summary.recipient_name or summary.recipient_id or "-",
            "valid": f"{summary.valid_from or '-'} → {summary.valid_until or 'no end'}",
        }
        for label, value in rows.items():
            console.print(f"  {label:<12} {_safe(value)}")
    for check in report.checks:
        optional = "" if check.required else " [dim](warning only)[/dim]"
        line = f"{_safe(check.name)}: {_safe(check.reason)}"
        console.print(f"  {_MARKS[check.outcome]} {line}{optional}")


@app.command()
def verify(
    source: Annotated[
        str, typer.Argument(help="A file (JSON, JWT, baked PNG or SVG), a URL, or '-'.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    email: Annotated[
        str | None, typer.Option(help="Check that the badge was issued to this email.")
    ] = None,
    trust: Annotated[
        Path | None, typer.Option(help="A JSON file listing trusted issuer ids.")
    ] = None,
    now: Annotated[str | None, typer.Option(help="Verify as of this ISO 8601 time.")] = None,
) -> None:
    """Verify an Open Badges credential. Exit 0 verified, 1 not verified, 2 could not run."""
    console = Console(emoji=False, highlight=False, soft_wrap=True)
    try:
        when = datetime.fromisoformat(now.replace("Z", "+00:00")) if now is not None else None
        if when is not None and when.tzinfo is None:
            raise ValueError("--now needs a time zone, e.g. 2026-01-01T00:00:00Z")
        trusted = _load_trust(trust) if trust else None
        data = _read_source(source)
    except (OSError, ValueError, InputError, FetchError) as exc:
        typer.echo(f"laurel verify: {exc}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    report = verify_credential(data, now=when, email=email, trusted_issuers=trusted)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, console)
    if report.verdict is Verdict.VERIFIED:
        raise typer.Exit(EXIT_VERIFIED)
    if report.verdict is Verdict.NOT_VERIFIED:
        raise typer.Exit(EXIT_NOT_VERIFIED)
    raise typer.Exit(EXIT_COULD_NOT_RUN)
