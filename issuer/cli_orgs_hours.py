"""``laurel orgs hours`` and ``laurel orgs evaluate``: an organisation's learning-hours report
(a table or CSV) and the annual badge for a year (``issuer.orgs.hours``).

``issuer.cli`` registers them (``register``), handing over its unit of work and its way of
failing, so that this module does not import it back."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any, NoReturn

import typer

Unit = Callable[[], AbstractContextManager[Any]]
Fail = Callable[[Exception], NoReturn]


def add_commands(orgs_app: typer.Typer, unit: Unit, fail: Fail) -> None:
    """Add the hours commands to the ``orgs`` group (``issuer.cli_orgs``)."""
    _commands(orgs_app, unit, fail)


def _commands(orgs_app: typer.Typer, _unit: Unit, _fail: Fail) -> None:
    @orgs_app.command("hours")
    def orgs_hours(
        org: Annotated[str, typer.Option(help="The organisation's slug.")],
        year: Annotated[int, typer.Option(help="The calendar year.", min=1900, max=9999)],
        unit: Annotated[
            str | None, typer.Option(help="A unit's code: it and the units below it.")
        ] = None,
        grade: Annotated[str | None, typer.Option(help="One grade only (5 or 5급).")] = None,
        status: Annotated[str | None, typer.Option(help="met, unmet or exempt.")] = None,
        csv: Annotated[bool, typer.Option("--csv", help="CSV (one row per member).")] = False,
    ) -> None:
        """Every member's learning hours for a year against the organisation's rules (zeros too)."""
        from issuer.core.errors import LaurelError
        from issuer.orgs import organisation
        from issuer.orgs.hours import report
        from issuer.people.access import record

        with _unit() as (services, db):
            try:
                found = organisation(db, org)
                result = report(db, services, found, year, unit=unit, grade=grade, status=status)
            except LaurelError as exc:
                _fail(exc)
            record(db, found.issuer_id, "cli", "org.hours", f"{found.slug} {year}")
        if csv:
            typer.echo(result.csv(), nl=False)
            return
        typer.echo(f"{found.name} — learning hours {year}")
        for summary in result.units():
            share = summary.share_met
            typer.echo(
                f"  {summary.code or '(no unit)'}: {summary.members} members, "
                f"{summary.met}/{summary.required} met"
                + ("" if share is None else f" ({100 * share:.0f}%)")
                + f", average {summary.average:.1f} h"
            )
        for m in result.members:
            typer.echo(
                f"{m.name or m.email}\t{m.unit_code or '-'}\t{m.grade or '-'}\t"
                f"{m.total:g} h of {m.required:g}\tdesignated {m.designated:g}\t"
                f"mandatory {m.mandatory:g}\tinformal {m.informal:g}\t{m.status}"
            )

    @orgs_app.command("evaluate")
    def orgs_evaluate(
        org: Annotated[str, typer.Option(help="The organisation's slug.")],
        year: Annotated[int, typer.Option(help="The calendar year.", min=1900, max=9999)],
    ) -> None:
        """Issue the annual badge to every member who met the year's rule and does not hold it yet
        (safe to repeat: never twice)."""
        from issuer.core.errors import LaurelError
        from issuer.orgs import organisation
        from issuer.orgs.hours import evaluate

        with _unit() as (services, db):
            try:
                issued = evaluate(db, services, organisation(db, org), year, actor="cli")
            except LaurelError as exc:
                _fail(exc)
        typer.echo(f"{len(issued)} annual badges issued")
