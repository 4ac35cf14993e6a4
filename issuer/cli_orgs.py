"""``laurel orgs``: organisations across issuers (``issuer.orgs.manage``), registered in
``issuer.cli``, which hands over its unit of work (``use``), so that this module does not import
it back. Bad input prints what is wrong (each bad row of an upload) and exits 1, changing
nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

orgs_app = typer.Typer(help="Organisations across issuers.", no_args_is_help=True)
ACTOR = "cli"
_UNIT: list[Callable[..., AbstractContextManager[Any]]] = []


def use(unit: Callable[..., AbstractContextManager[Any]]) -> typer.Typer:
    """The commands, running in ``unit()`` (``issuer.cli._unit``: services and a session)."""
    _UNIT[:] = [unit]
    return orgs_app


def _fail(exc: Exception) -> NoReturn:
    from issuer.orgs.manage import InvalidRows

    if isinstance(exc, InvalidRows):
        for row in exc.rows:
            typer.echo(f"row {row['row']}: {row['field']}: {row['message']}", err=True)
    typer.echo(f"laurel: {getattr(exc, 'detail', str(exc))}", err=True)
    raise typer.Exit(1)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"laurel: cannot read {path}: {exc}", err=True)
        raise typer.Exit(1) from None


def _run(action: Any, *, write: bool = True) -> Any:
    """``action(services, session)`` in one unit of work; service errors exit 1."""
    from issuer.core.errors import LaurelError

    try:
        with _UNIT[0](write=write) as (services, db):
            return action(services, db)
    except LaurelError as exc:
        _fail(exc)


Org = Annotated[str, typer.Option("--org", help="The organisation's slug.")]


@orgs_app.command("create")
def create(
    issuer: Annotated[str, typer.Option(help="The home issuer's slug.")],
    slug: Annotated[str, typer.Option(help="The organisation's slug, e.g. mois.")],
    name: Annotated[str, typer.Option(help="Its name.")],
    name_ko: Annotated[str | None, typer.Option(help="Its Korean name.")] = None,
) -> None:
    """Create an organisation run from ISSUER's console and API keys."""
    import re

    from issuer.institutes.issuers import get_issuer
    from issuer.orgs import manage

    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", slug):
        typer.echo("laurel: the slug is 1-64 lower-case letters, digits and dashes", err=True)
        raise typer.Exit(1)
    if not name.strip():
        typer.echo("laurel: give the organisation's name", err=True)
        raise typer.Exit(1)

    def action(services: Any, db: Any) -> None:
        manage.create(db, get_issuer(db, issuer), slug, name, name_ko, ACTOR)

    _run(action)
    typer.echo(f"created organisation {slug} (home issuer {issuer})")


@orgs_app.command("units")
def units(org: Org, csv: Annotated[Path, typer.Option(help="code,name,name_ko,parent,…")]) -> None:
    """Replace the department tree from a CSV file."""
    from issuer.orgs import manage, organisation

    rows = _csv(_read(csv), manage.UNIT_COLUMNS)
    summary = _run(
        lambda services, db: manage.replace_units(db, organisation(db, org), rows, ACTOR)
    )
    typer.echo(json.dumps(summary))


@orgs_app.command("roster")
def roster(
    org: Org,
    csv: Annotated[Path, typer.Option(help="email,name,employee_no,unit,grade,role,executive")],
    partial: Annotated[
        bool, typer.Option(help="Only add or update; do not mark missing members as left.")
    ] = False,
) -> None:
    """Upload the roster from a CSV file (members missing from it are marked as left)."""
    from issuer.orgs import manage, organisation

    rows = _csv(_read(csv), manage.ROSTER_COLUMNS)
    summary = _run(
        lambda services, db: manage.replace_roster(
            db, organisation(db, org), rows, ACTOR, full=not partial
        )
    )
    typer.echo(json.dumps(summary))


@orgs_app.command("trust")
def trust(
    org: Org,
    issuer: Annotated[str | None, typer.Option(help="A local issuer's slug.")] = None,
    ref: Annotated[str | None, typer.Option(help="An issuer elsewhere: its DID or URL.")] = None,
    name: Annotated[str | None, typer.Option(help="Its display name.")] = None,
) -> None:
    """Trust an issuer on this Laurel (--issuer) or elsewhere (--ref and --name). The operator
    runs every issuer here: a local issuer's trust is agreed at once (through the API it waits
    for that issuer's agreement)."""
    from issuer.orgs import manage, organisation

    found = _run(
        lambda services, db: manage.trust(
            db, organisation(db, org), ACTOR, issuer=issuer, issuer_ref=ref, name=name, agreed=True
        )
    )
    typer.echo(json.dumps(found))


@orgs_app.command("distrust")
def distrust(
    org: Org, issuer: Annotated[str, typer.Option(help="A local slug, or a DID or URL.")]
) -> None:
    """Stop trusting an issuer."""
    from issuer.orgs import manage, organisation

    _run(lambda services, db: manage.distrust(db, organisation(db, org), issuer, ACTOR))
    typer.echo(f"{org} no longer trusts {issuer}")


@orgs_app.command("show")
def show(org: Org) -> None:
    """The organisation: units, roster size, trusted issuers (JSON)."""
    from issuer.orgs import manage, organisation

    typer.echo(
        json.dumps(
            _run(lambda services, db: manage.describe(db, organisation(db, org))),
            ensure_ascii=False,
            indent=2,
        )
    )


@orgs_app.command("recheck")
def recheck(
    org: Annotated[
        str | None, typer.Option("--org", help="One organisation (default: every one).")
    ] = None,
) -> None:
    """Verify the credentials members shared again; revoked, expired and no longer verifying
    ones stop counting.
    Run it from cron, beside `laurel wallet recheck`. Each organisation in a unit of work of its
    own, the issuers' hosts read first with no write transaction open."""
    from sqlmodel import col, select

    from issuer.effects import work
    from issuer.models import Organisation
    from issuer.orgs import organisation
    from issuer.verification.remembered import network_first
    from issuer.wallet.orgs import Rechecked, foresee_recheck_shared
    from issuer.wallet.orgs import recheck as run

    def slugs(services: Any, db: Any) -> list[str]:
        if org is not None:
            return [organisation(db, org).slug]
        return list(db.exec(select(Organisation.slug).order_by(col(Organisation.id))))

    def each(services: Any, slug: str) -> Rechecked:
        def look(db: Any) -> None:
            foresee_recheck_shared(db, services, organisation(db, slug))

        with network_first(services, look), work(services) as db:
            return run(db, services, organisation(db, slug))

    def action(services: Any, db: Any) -> Rechecked:
        found = slugs(services, db)
        db.commit()  # a read: its connection is given back before any host is asked
        return sum((each(services, slug) for slug in found), Rechecked())

    found: Rechecked = _run(action, write=False)
    typer.echo(
        f"{found.revoked} shared credential(s) newly found revoked, {found.expired} expired, "
        f"{found.rejected} no longer verifying"
    )


def _csv(text: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    from issuer.core.errors import BadRequest
    from issuer.orgs.manage import read_csv

    try:
        return read_csv(text, columns)
    except BadRequest as exc:
        _fail(exc)
