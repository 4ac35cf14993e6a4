"""The ``laurel`` command line."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from issuer import cli_orgs
from issuer import cli_orgs_hours as orgs_hours
from verifier import Outcome, Report, Verdict, verify_credential
from verifier.errors import FetchError, InputError
from verifier.fetch import LOOPBACK, HttpFetcher
from verifier.identity import IssuerIdentity
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


issuer_app = typer.Typer(help="Manage issuers.", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys.", no_args_is_help=True)
keys_app = typer.Typer(help="Manage signing keys.", no_args_is_help=True)
templates_app = typer.Typer(help="The badge catalogue.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
wallet_app = typer.Typer(help="Learners' wallets.", no_args_is_help=True)
effects_app = typer.Typer(
    help="Work that follows a change (programme awards): list what is pending, run it again.",
    no_args_is_help=True,
)
programs_app = typer.Typer(
    help="Programmes (certificates awarded on completion).", no_args_is_help=True
)
app.add_typer(issuer_app, name="issuer")
app.add_typer(apikey_app, name="apikey")
app.add_typer(keys_app, name="keys")
app.add_typer(templates_app, name="templates")
app.add_typer(audit_app, name="audit")
app.add_typer(wallet_app, name="wallet")
app.add_typer(effects_app, name="effects")
app.add_typer(programs_app, name="programs")
staff_app = typer.Typer(help="An issuer's staff in the console.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
webhooks_app = typer.Typer(help="An issuer's webhook endpoints.", no_args_is_help=True)
emails_app = typer.Typer(help="An issuer's emails to learners.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(emails_app, name="emails")
xapi_app = typer.Typer(help="An issuer's xAPI settings: LMS accounts, LRS.", no_args_is_help=True)
app.add_typer(xapi_app, name="xapi")


def _demo_environment(base_url: str = "http://127.0.0.1:8000") -> None:
    """The demo's settings, unless set otherwise: its database and keys in the current
    directory, so that `laurel serve --demo` and `laurel issue --demo` run in one directory
    share them. Its badges verify whatever port it runs at next (``Settings.own_path``).
    A database set in the environment is used instead, with a warning: the demo institute and
    its admin API key go into it (a production database, perhaps)."""
    import os

    from issuer.demo import SLUG

    if os.environ.get("LAUREL_DATABASE_URL"):
        typer.echo(
            f"laurel: warning: LAUREL_DATABASE_URL is set, so --demo works in that database "
            f"({_shown_url(os.environ['LAUREL_DATABASE_URL'])}), not ./laurel-demo.db: "
            f"`laurel serve --demo` seeds the demo institute '{SLUG}' and an admin API key "
            "into it. Unset LAUREL_DATABASE_URL to keep the demo apart.",
            err=True,
        )
    os.environ.setdefault("LAUREL_DATABASE_URL", "sqlite:///./laurel-demo.db")
    os.environ.setdefault("LAUREL_KEYS_DIR", "./keys/demo")
    os.environ.setdefault("LAUREL_BASE_URL", base_url)


def _shown_url(url: str) -> str:
    """A database URL fit for a log: its password hidden."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "a URL that does not parse"


@contextmanager
def _services(demo: bool = False, *, check_keys: bool = True) -> Iterator[Any]:
    """Services from the environment, with a clear message (exit 2) for bad settings, a key
    passphrase that does not open the keys (unless ``check_keys`` is off: changing the
    passphrase), or a database that cannot be reached; the database connections are closed
    afterwards."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from issuer.app import check_key_passphrase
    from issuer.context import Services
    from issuer.core.db import migrate
    from issuer.core.settings import Settings
    from issuer.crypto.keystore import KeyStoreError
    from issuer.http.problems import unavailable

    try:
        settings = Settings(demo=demo) if demo else Settings()
    except ValidationError as exc:
        messages = "; ".join(_setting_error(e) for e in exc.errors())
        typer.echo(f"laurel: invalid settings: {messages}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    services = Services.from_settings(settings)
    try:
        migrate(services.engine)
        if check_keys:
            try:
                check_key_passphrase(services)
            except KeyStoreError as exc:  # at start only: a command's own errors are its own
                typer.echo(f"laurel: {exc.detail}", err=True)
                raise typer.Exit(EXIT_COULD_NOT_RUN) from None
        yield services
    except (DBAPIError, PoolTimeout) as exc:
        if not unavailable(exc):
            raise
        reason = str(exc.orig if isinstance(exc, DBAPIError) else exc).strip().splitlines()
        typer.echo(
            f"laurel: the database cannot be reached: {reason[0] if reason else exc}", err=True
        )
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    finally:
        services.close()


@contextmanager
def _unit(demo: bool = False, *, write: bool = True, check_keys: bool = True) -> Iterator[Any]:
    """Services and one unit of work for a command: ``(services, session)``, committed when the
    block ends (then the effects it emitted run)."""
    from issuer.effects import work

    with (
        _services(demo, check_keys=check_keys) as services,
        work(services, write=write) as session,
    ):
        yield services, session


def _fail(exc: Exception) -> NoReturn:
    detail = getattr(exc, "detail", str(exc))
    typer.echo(f"laurel: {detail}", err=True)
    raise typer.Exit(EXIT_NOT_VERIFIED)


@issuer_app.command("create")
def issuer_create(
    name: Annotated[str, typer.Option(help="The institute's name.")],
    slug: Annotated[str, typer.Option(help="Short URL name, e.g. hrd-institute.")],
    did_method: Annotated[
        str | None,
        typer.Option(help="web (production) or key (offline); default: LAUREL_DID_METHOD (web)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="The institute's website (https); see `laurel issuer domain-linkage`."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="A contact email.")] = None,
    signatory_name: Annotated[
        str | None, typer.Option(help="Who signs its certificates, e.g. the director.")
    ] = None,
    signatory_title: Annotated[str | None, typer.Option(help="The signatory's title.")] = None,
    location: Annotated[
        str | None, typer.Option(help='Where the institute is, e.g. "Jincheon, Korea".')
    ] = None,
) -> None:
    """Create an issuer profile with its keys; prints its id (DID)."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import create_issuer

    if did_method not in (None, "web", "key"):
        typer.echo("laurel: --did-method is 'web' or 'key'", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    try:
        with _unit() as (services, db):
            base_url = services.settings.base_url
            created = create_issuer(
                db,
                services,
                slug=slug,
                name=name,
                url=url,
                email=email,
                did_method=did_method,
                signatory_name=signatory_name,
                signatory_title=signatory_title,
                location=location,
            )
    except LaurelError as exc:
        _fail(exc)
    typer.echo(created.did)
    if created.did.startswith("did:web:") and base_url.startswith("http://"):
        typer.echo(
            f"laurel: warning: a did:web is resolved over https only, and LAUREL_BASE_URL is "
            f"{base_url}: no verifier (this instance's included) can read this issuer's key, so "
            "its badges will not verify. Set an https LAUREL_BASE_URL, or use --did-method key "
            "(LAUREL_DID_METHOD=key) for a trial on this machine.",
            err=True,
        )


@issuer_app.command("update")
def issuer_update(
    slug: Annotated[str, typer.Option(help="The issuer's slug.")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    url: Annotated[str | None, typer.Option(help="The institute's website (https).")] = None,
    email: Annotated[str | None, typer.Option(help="A contact email.")] = None,
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
    location: Annotated[str | None, typer.Option(help="Where the institute is.")] = None,
) -> None:
    """Change an issuer's profile; credentials issued from now on carry it."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import update_issuer

    given = {"name": name, "url": url, "email": email, "description": description}
    changes = {k: v for k, v in {**given, "location": location}.items() if v is not None}
    if not changes:
        typer.echo("laurel: nothing to change; give --name, --url, … ", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    try:
        with _unit() as (services, db):
            updated = update_issuer(db, services, slug, changes, "cli")
    except LaurelError as exc:
        _fail(exc)
    typer.echo(updated.did)


@issuer_app.command("domain-linkage")
def issuer_domain_linkage(
    issuer: Annotated[str, typer.Option(help="The issuer's slug.")],
    origin: Annotated[
        str | None,
        typer.Option(help="The website's origin, e.g. https://www.example.ac.kr (default: --url)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the file here (default: print).")] = None,
) -> None:
    """The DID Configuration to publish at {origin}/.well-known/did-configuration.json, so that
    verifiers see the issuer controls its website (shown as "linked")."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import did_configuration_for

    try:
        with _unit(write=False) as (services, db):
            document = did_configuration_for(db, services, issuer, origin)
    except LaurelError as exc:
        _fail(exc)
    text = json.dumps(document, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, "utf-8")
        typer.echo(
            f"wrote {out}: publish it at {origin or 'the website'}"
            "/.well-known/did-configuration.json"
        )


@apikey_app.command("create")
def apikey_create(
    issuer: Annotated[str, typer.Option(help="The issuer's slug.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: issue,revoke,read,admin.")] = (
        "issue,revoke,read"
    ),
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.apikeys import create_api_key, parse_scopes

    try:
        with _unit() as (_, db):
            key = create_api_key(db, issuer, parse_scopes(scopes), name)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"API key for {issuer} (scopes {scopes}); store it now, it is not shown again:")
    typer.echo(key)


@staff_app.command("invite")
def staff_invite(
    issuer: Annotated[str, typer.Option(help="The issuer's slug.")],
    email: Annotated[str, typer.Option(help="Who is invited.")],
    role: Annotated[str, typer.Option(help="owner, issuer or viewer.")] = "viewer",
    language: Annotated[str, typer.Option(help="The email's language: en or ko.")] = "en",
) -> None:
    """Invite someone to an issuer's console; the single-use link (valid 7 days) is emailed and
    printed on the last line."""
    from issuer.core.errors import LaurelError
    from issuer.people.staff import invite

    try:
        with _unit() as (services, db):
            link = invite(db, services, issuer, email, role, "cli", language)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"invited {email.strip().lower()} to {issuer} as {role}; the invitation link:")
    typer.echo(link)


@keys_app.command("rotate")
def keys_rotate(issuer: Annotated[str, typer.Option(help="The issuer's slug.")]) -> None:
    """New signing keys; old ones stay published so earlier credentials keep verifying."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import rotate_keys

    try:
        with _unit() as (services, db):
            kids = rotate_keys(db, services, issuer)
    except LaurelError as exc:
        _fail(exc)
    for kid in kids:
        typer.echo(kid)


@keys_app.command("rewrap")
def keys_rewrap(
    check: Annotated[
        bool, typer.Option("--check", help="Only list the keys that need it; exit 1 if any do.")
    ] = False,
    from_old_passphrase: Annotated[
        bool,
        typer.Option(
            "--from-old-passphrase",
            help="Change the passphrase: decrypt every key with LAUREL_OLD_KEY_PASSPHRASE (asked "
            "for if unset) and encrypt it with LAUREL_KEY_PASSPHRASE.",
        ),
    ] = False,
) -> None:
    """Encrypt private keys again with the current scheme (scrypt): those written with an older,
    weaker one (PBKDF2, 2,048 iterations), or all of them under a new passphrase. Back up the key
    store first."""
    import os

    from issuer.core.errors import LaurelError
    from issuer.crypto.keystore import OLD_PASSPHRASE, rewrap_keys, weak_keys

    old = None
    if from_old_passphrase:
        old = os.environ.get(OLD_PASSPHRASE) or typer.prompt(
            "The old passphrase", hide_input=True, err=True
        )
    try:
        with _unit(check_keys=old is None) as (services, db):
            if check:
                weak = weak_keys(db, services.keystore)
                for row in weak:
                    typer.echo(f"{row.kid}: {services.keystore.protection(row)}")
            else:
                rows = rewrap_keys(db, services.keystore, old_passphrase=old)
    except LaurelError as exc:
        _fail(exc)
    scheme = services.keystore.cost
    if check:
        typer.echo(f"{len(weak)} keys to re-encrypt with {scheme}")
        if weak:
            raise typer.Exit(EXIT_NOT_VERIFIED)
        return
    typer.echo(f"{len(rows)} keys re-encrypted with {scheme}")


@templates_app.command("load")
def templates_load(
    issuer: Annotated[str, typer.Option(help="The issuer's slug.")],
    language: Annotated[
        str | None,
        typer.Option(help="en or ko: the achievements' language (default: the issuer's)."),
    ] = None,
) -> None:
    """Add (or update) every catalogue achievement for an issuer, in its language (the one set
    with `laurel emails set --language`) unless --language says otherwise."""
    from issuer.catalogue import CatalogueError
    from issuer.core.errors import LaurelError
    from issuer.issuing.templates import load_templates

    if language not in (None, "en", "ko"):
        typer.echo("laurel: --language is en or ko", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    chosen: Literal["en", "ko"] | None = "ko" if language == "ko" else None
    if language == "en":
        chosen = "en"
    try:
        with _unit() as (services, db):
            count = load_templates(db, services, issuer, language=chosen)
    except (LaurelError, CatalogueError) as exc:
        _fail(exc)
    typer.echo(f"{count} achievements loaded for {issuer}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain and that it ends at its anchored head; exit 1 if an entry
    was altered or removed (the last ones too). Prints the head: note it elsewhere to compare."""
    from issuer.core.audit import head, verify_chain

    with _unit(write=False) as (_, db):
        count, problem = verify_chain(db)
        anchored = head(db)
    if problem:
        typer.echo(f"audit log BROKEN after {count} good entries: {problem}", err=True)
        raise typer.Exit(EXIT_NOT_VERIFIED)
    where = f"; head: entry {anchored.seq}, sha256 {anchored.hash}" if anchored else ""
    typer.echo(f"audit log intact: {count} entries{where}")


@wallet_app.command("recheck")
def wallet_recheck(
    older_than_hours: Annotated[
        float, typer.Option(help="Re-verify imports last checked longer ago than this.")
    ] = 24.0,
) -> None:
    """Re-verify imported badges (revocation may have happened since); run it from cron."""
    from datetime import timedelta

    from issuer.jobs import recheck_stale

    with _services() as services:
        count = recheck_stale(services, timedelta(hours=older_than_hours))
    typer.echo(f"{count} imported badges re-checked")


@wallet_app.command("purge")
def wallet_purge() -> None:
    """Delete sign-in links, sessions, OAuth codes and tokens, and OpenID4VCI offers and nonces
    that expired (or were revoked) over a day ago; run it from cron."""
    from issuer.oauth.oid4vci import purge as purge_oid4vci
    from issuer.oauth.tokens import purge as purge_oauth
    from issuer.people.signin import purge

    with _unit() as (_, db):
        count = purge(db)
        oauth = purge_oauth(db)
        offers = purge_oid4vci(db)
    typer.echo(f"{count} expired sign-in links and sessions removed")
    typer.echo(f"{oauth} expired or revoked OAuth codes and tokens removed")
    typer.echo(f"{offers} expired OpenID4VCI offers and nonces removed")


@effects_app.command("list")
def effects_list() -> None:
    """Effects not done yet (new, or failed and waiting to be retried), with their last error."""
    from issuer.effects import pending

    with _unit(write=False) as (_, db):
        rows = pending(db, limit=500)
        for row in rows:
            error = f" — {row.last_error}" if row.last_error else ""
            typer.echo(
                f"{row.id}  {row.kind}  {json.dumps(row.payload)}  attempts {row.attempts}, "
                f"next {row.run_after.isoformat()}{error}"
            )
    typer.echo(f"{len(rows)} pending")
    if any(row.attempts for row in rows):
        raise typer.Exit(EXIT_NOT_VERIFIED)


@effects_app.command("run")
def effects_run(
    now: Annotated[bool, typer.Option(help="Also retry failed effects before their back-off.")] = (
        False
    ),
) -> None:
    """Run the effects that are due (cron runs this; awards are idempotent, so it is safe)."""
    from issuer.effects import retry_now, run_due

    with _services() as services:
        if now:
            retry_now(services)
        done, failed = run_due(services, limit=500)
    typer.echo(f"{done} done, {failed} failed")
    if failed:
        raise typer.Exit(EXIT_NOT_VERIFIED)


@programs_app.command("reconcile")
def programs_reconcile(issuer: Annotated[str, typer.Option(help="The issuer's slug.")]) -> None:
    """Award every programme certificate the issuer's learners have completed and not received
    (after a catalogue change, or a failure): safe to run any time, nothing is awarded twice."""
    from issuer.core.db import unit_of_work
    from issuer.core.errors import LaurelError
    from issuer.effects import run_due
    from issuer.programs.awards import reconcile

    with _services() as services:
        try:
            with unit_of_work(services.engine) as db:
                learners = reconcile(db, services, issuer)
        except LaurelError as exc:
            _fail(exc)
        done = failed = 0
        while True:
            ran, broke = run_due(services, limit=500)
            done, failed = done + ran, failed + broke
            if ran == 0:
                break
    typer.echo(f"{learners} learners checked; {done} effects done, {failed} failed")
    if failed:
        raise typer.Exit(EXIT_NOT_VERIFIED)


@app.command("issue")
def issue_csv(
    issuer: Annotated[str, typer.Option(help="The issuer's slug.")],
    csv: Annotated[Path, typer.Option(help="A CSV file (see docs/api.md for the columns).")],
    report: Annotated[
        Path | None,
        typer.Option(help="Write the per-row report (row, status, id, link, error) to this CSV."),
    ] = None,
    demo: Annotated[
        bool, typer.Option(help="Issue from the demo of `laurel serve --demo` in this directory.")
    ] = False,
) -> None:
    """Issue a credential for every row of a CSV file, with a progress bar; prints each
    credential's id and public page (or writes them to --report)."""
    from rich.progress import Progress

    from issuer.core.errors import LaurelError
    from issuer.issuing.bulk import MAX_ROWS, csv_rows, issue_rows

    # Read through once first, keeping nothing: a file that breaks on its last line is refused
    # before any row is issued; then it is read again, a step at a time, as it is issued.
    try:
        with csv.open(encoding="utf-8-sig", newline="") as handle:
            total = sum(1 for _ in csv_rows(handle))
    except UnicodeDecodeError:
        typer.echo("laurel: the CSV is not UTF-8 text; save it as 'CSV UTF-8'", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    except (OSError, LaurelError) as exc:
        typer.echo(f"laurel: {getattr(exc, 'detail', exc)}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    if total > MAX_ROWS:
        typer.echo(f"laurel: a CSV holds at most {MAX_ROWS:,} rows, not {total:,}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    try:
        if demo:
            _demo_environment()
        with (
            csv.open(encoding="utf-8-sig", newline="") as handle,
            _unit(demo) as (services, db),
            Progress(transient=True) as bar,
        ):
            task = bar.add_task("Issuing", total=total)
            result = issue_rows(
                db, services, issuer, csv_rows(handle), "cli", lambda done: bar.advance(task, done)
            )
            base = services.settings.base_url
    except LaurelError as exc:
        _fail(exc)
    except (OSError, UnicodeDecodeError) as exc:  # the file changed after it was checked
        again = "running it again issues only the rows not yet issued"
        typer.echo(f"laurel: {csv} could not be read again ({exc}); {again}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    lines = _issue_report(result["rows"], base)
    if report is not None:
        _write_report(report, lines)
    errors = [row for row in lines if row["status"] == "error"]
    for row in lines:
        if row["status"] == "error":
            typer.echo(f"row {row['row']}: {row['error']}", err=True)
        elif report is None:
            typer.echo(f"row {row['row']}: {row['status']}  {row['id']}  {row['link']}")
    issued = sum(1 for row in lines if row["status"] == "issued")
    typer.echo(
        f"{issued} issued, {len(lines) - issued - len(errors)} already issued, "
        f"{len(errors)} errors" + (f"; report written to {report}" if report else "")
    )
    if errors:
        raise typer.Exit(EXIT_NOT_VERIFIED)


def _issue_report(rows: list[dict[str, Any]], base_url: str) -> list[dict[str, Any]]:
    """Each row of a bulk report with its credential's public page."""
    return [
        {
            "row": row["row"],
            "status": row["status"],
            "id": row.get("id", ""),
            "link": f"{base_url}/v/{row['id'].removeprefix('urn:uuid:')}" if row.get("id") else "",
            "error": row.get("error", ""),
        }
        for row in rows
    ]


def _write_report(path: Path, lines: list[dict[str, Any]]) -> None:
    import csv as csv_module

    from issuer.core.spreadsheet import record

    try:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv_module.DictWriter(handle, ["row", "status", "id", "link", "error"])
            writer.writeheader()
            writer.writerows(record(line) for line in lines)
    except OSError as exc:
        typer.echo(f"laurel: the report could not be written: {exc}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None


SlugOption = Annotated[str, typer.Option(help="The issuer's slug.")]


@webhooks_app.command("add")
def webhooks_add(
    issuer: SlugOption,
    url: Annotated[str, typer.Option(help="The receiver's https URL.")],
    events: Annotated[
        str,
        typer.Option(
            help="Comma-separated: credential.issued,credential.revoked,program.completed."
        ),
    ] = "credential.issued,credential.revoked,program.completed",
    description: Annotated[str | None, typer.Option(help="A label for the endpoint.")] = None,
) -> None:
    """Add a webhook endpoint; its signing secret is printed once, alone on the last line."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import webhooks

    wanted = [e.strip() for e in events.split(",") if e.strip()]
    try:
        with _unit() as (services, db):
            endpoint, secret = webhooks.add(
                db, services, get_issuer(db, issuer), url, wanted, description
            )
            number = endpoint.id
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"webhook {number} for {issuer}: {url} ({', '.join(sorted(wanted))})")
    typer.echo("signing secret; store it now, it is not shown again:")
    typer.echo(secret)


@webhooks_app.command("list")
def webhooks_list(issuer: SlugOption) -> None:
    """The issuer's webhook endpoints."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import webhooks

    try:
        with _unit(write=False) as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            for endpoint in webhooks.endpoints(db, found.id):
                typer.echo(f"{endpoint.id}  {endpoint.url}  {','.join(endpoint.events)}")
    except LaurelError as exc:
        _fail(exc)


@webhooks_app.command("remove")
def webhooks_remove(
    issuer: SlugOption, endpoint: Annotated[int, typer.Argument(help="The endpoint's id.")]
) -> None:
    """Remove a webhook endpoint: nothing more is sent to it."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import webhooks

    try:
        with _unit() as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            webhooks.remove(db, found.id, endpoint)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"webhook {endpoint} removed")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    issuer: SlugOption,
    endpoint: Annotated[int, typer.Argument(help="The endpoint's id.")],
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """An endpoint's deliveries, newest first: state, attempts, last status, next attempt."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import webhooks

    try:
        with _unit(write=False) as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            for item in webhooks.deliveries(db, found.id, endpoint, limit):
                d = item.public()
                typer.echo(
                    f"{d['id']}  {d['eventId']}  {d['type']}  {d['state']}  attempts "
                    f"{d['attempts']}  last {d['lastStatus'] or d['lastError'] or '-'}  next "
                    f"{d['nextAttemptAt'] or '-'}"
                )
    except LaurelError as exc:
        _fail(exc)


@webhooks_app.command("replay")
def webhooks_replay(
    issuer: SlugOption,
    endpoint: Annotated[int, typer.Argument(help="The endpoint's id.")],
    delivery: Annotated[int, typer.Argument(help="The delivery's id.")],
) -> None:
    """Send a delivery that was not acknowledged again now (same webhook-id)."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import webhooks

    try:
        with _unit() as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            webhooks.replay(db, found.id, endpoint, delivery)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"delivery {delivery} replayed")


@emails_app.command("show")
def emails_show(issuer: SlugOption) -> None:
    """The language and templates of the issuer's emails to learners (JSON)."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import emails

    try:
        with _unit(write=False) as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            settings = emails.settings_of(db, found.id)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(json.dumps(settings, ensure_ascii=False, indent=2))


@emails_app.command("set")
def emails_set(
    issuer: SlugOption,
    language: Annotated[str | None, typer.Option(help="en or ko: the emails' language.")] = None,
    event: Annotated[str | None, typer.Option(help="issued or revoked: which template.")] = None,
    lang: Annotated[str, typer.Option(help="en or ko: the template's language.")] = "en",
    subject: Annotated[str | None, typer.Option(help="The subject ('' for the default).")] = None,
    body_file: Annotated[
        Path | None, typer.Option(help="A UTF-8 text file with the body (empty: the default).")
    ] = None,
) -> None:
    """Set the language of the issuer's emails, or override one template's subject or body."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import emails

    fields: dict[str, str | None] = {}
    if subject is not None:
        fields["subject"] = subject or None
    if body_file is not None:
        fields["body"] = body_file.read_text(encoding="utf-8") or None
    if fields and event is None:
        typer.echo("laurel: --event is needed with --subject or --body-file", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    templates = {event: {lang: fields}} if event and fields else None
    try:
        with _unit() as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            emails.configure(db, found.id, language=language, templates=templates)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"emails of {issuer} updated")


@xapi_app.command("show")
def xapi_show(issuer: SlugOption) -> None:
    """The issuer's LMS account home page and LRS (JSON; never the LRS secret)."""
    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import lrs

    try:
        with _unit(write=False) as (_, db):
            found = get_issuer(db, issuer)
            assert found.id is not None
            settings = lrs.public(lrs.settings_of(db, found.id))
    except LaurelError as exc:
        _fail(exc)
    typer.echo(json.dumps(settings, ensure_ascii=False, indent=2))


@xapi_app.command("set")
def xapi_set(
    issuer: SlugOption,
    account_home_page: Annotated[
        str | None,
        typer.Option(help="The LMS's actor.account.homePage ('' to remove it)."),
    ] = None,
    lrs_endpoint: Annotated[
        str | None, typer.Option(help="The LRS's xAPI endpoint (https); needs --lrs-key.")
    ] = None,
    lrs_key: Annotated[str | None, typer.Option(help="The LRS's Basic auth key.")] = None,
    no_lrs: Annotated[bool, typer.Option("--no-lrs", help="Stop reporting to the LRS.")] = False,
) -> None:
    """Set the issuer's LMS account home page, or the LRS its badges are reported to (the LRS
    secret is read from LAUREL_LRS_SECRET, or asked for without echo)."""
    import os

    from issuer.core.errors import LaurelError
    from issuer.institutes.issuers import get_issuer
    from issuer.notify import lrs

    changes: dict[str, object] = {}
    if account_home_page is not None:
        changes["account_home_page"] = account_home_page
    if no_lrs:
        changes["lrs"] = None
    elif lrs_endpoint is not None:
        if not lrs_key:
            typer.echo("laurel: --lrs-key is needed with --lrs-endpoint", err=True)
            raise typer.Exit(EXIT_COULD_NOT_RUN)
        secret = os.environ.get("LAUREL_LRS_SECRET") or typer.prompt("LRS secret", hide_input=True)
        changes["lrs"] = {"endpoint": lrs_endpoint, "key": lrs_key, "secret": secret}
    if not changes:
        typer.echo("laurel: nothing to set", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN)
    try:
        with _unit() as (services, db):
            lrs.update(db, services, get_issuer(db, issuer), changes)
    except LaurelError as exc:
        _fail(exc)
    typer.echo(f"xAPI settings of {issuer} updated")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Seed a demo institute and print how to try it.")] = (
        False
    ),
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Serving processes on the port (Linux). Each has its own socket "
            "(SO_REUSEPORT), so connections spread evenly; one that dies is started again.",
        ),
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Run the API and pages; creates or migrates the database first."""
    from issuer import serving

    if demo:
        _demo_environment(f"http://{host}:{port}")
    if workers > 1:
        if not serving.supported():
            typer.echo(
                "laurel: --workers needs Linux (SO_REUSEPORT); run one process per port "
                "behind a proxy instead",
                err=True,
            )
            raise typer.Exit(EXIT_COULD_NOT_RUN)
        if port == 0:  # each process would get a port of its own
            typer.echo("laurel: --workers needs a --port other than 0", err=True)
            raise typer.Exit(EXIT_COULD_NOT_RUN)
        try:
            serving.check_free(host, port)
        except OSError as exc:
            typer.echo(f"laurel: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    with _services(demo=demo) as services:
        _check_trust_lists(services)
        _warn_about_statistics(services)
        _warn_about_sso(services)
        if demo:
            from issuer.demo import seed_demo
            from issuer.effects import work

            with work(services) as db:
                lines = seed_demo(db, services)
            for line in lines:
                typer.echo(line)
        if workers == 1:
            _serve_here(services, host, port, access_log)
            return
    # The checks above ran once, here; each process opens its own connections and keys.
    typer.echo(f"laurel serve: {workers} processes on http://{host}:{port}", err=True)
    code = serving.supervise(
        _serve_process,
        (host, port, demo, access_log),
        workers,
        lambda line: typer.echo(f"laurel serve: {line}", err=True),
    )
    raise typer.Exit(code)


def _setting_error(error: Any) -> str:
    """One settings error, naming its environment variable (``LAUREL_PORT: Input should be …``);
    a rule across settings has none to name."""
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    location = error.get("loc") or ()
    return f"LAUREL_{str(location[0]).upper()}: {message}" if location else message


def _warn_about_statistics(services: Any) -> None:
    """A warning on standard error (the service runs) when PostgreSQL keeps no planner
    statistics of Laurel's tables (``statistics_warnings``)."""
    from issuer.core.db import statistics_warnings

    for warning in statistics_warnings(services.engine):
        typer.echo(f"laurel: warning: {warning}", err=True)


def _warn_about_sso(services: Any) -> None:
    """A warning on standard error (the service runs) when single sign-on is set up but signs
    in no one: several issuers, and ``LAUREL_OIDC_ISSUERS`` does not say whose staff use it."""
    from issuer.core.db import unit_of_work
    from issuer.people.staff import sso_issuers

    if not services.settings.oidc_issuer or services.settings.oidc_issuer_slugs:
        return
    with unit_of_work(services.engine, write=False) as db:
        unscoped = sso_issuers(db, services.settings) is None
    if unscoped:
        typer.echo(
            "laurel: warning: LAUREL_OIDC_ISSUER is set, but this instance has several issuers "
            "and LAUREL_OIDC_ISSUERS does not name those whose staff may sign in with it (their "
            "slugs, separated by commas): single sign-on refuses everyone until it does",
            err=True,
        )


def _check_trust_lists(services: Any) -> None:
    from issuer.verification.trust import configured_lists

    try:
        configured_lists(services)
    except ValueError as exc:
        typer.echo(f"laurel: LAUREL_TRUST_LISTS: {exc}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None


def _serve_here(services: Any, host: str, port: int, access_log: bool, ready: Any = None) -> None:
    """Serve in this process, with its embedded worker (``issuer.worker.runtime``). With
    ``ready``, as one process of ``--workers``: on a socket of its own, taken only once the app
    is built (connections the kernel hands to it wait until it serves), and ``ready`` set once
    uvicorn has started (``issuer.serving.run``)."""
    import os

    import uvicorn

    from issuer import serving
    from issuer.app import create_app
    from issuer.worker import runtime

    serving.exit_through_finally_on_sigterm()
    stop = runtime.start(services)
    try:
        app = create_app(services=services)
        if ready is None:
            uvicorn.run(app, host=host, port=port, access_log=access_log)
            return
        try:
            sock = serving.reuse_port_socket(host, port)
        except OSError as exc:
            typer.echo(f"laurel: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_COULD_NOT_RUN) from None
        serving.run(app, sock, ready, host=host, port=port, access_log=access_log)
    finally:
        stop()
        typer.echo(f"laurel serve: process {os.getpid()} stopped its background work", err=True)


def _serve_process(host: str, port: int, demo: bool, access_log: bool, ready: Any) -> None:
    """One process of ``laurel serve --workers N`` (``issuer.serving``): what ``laurel serve``
    runs, on a socket of its own."""
    try:
        with _services(demo=demo) as services:
            _check_trust_lists(services)
            _serve_here(services, host, port, access_log, ready)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)


@app.command()
def worker() -> None:
    """Run background work (bulk jobs, post-commit effects, catch-up) until stopped. On
    PostgreSQL run as many as you like, on any machine; `laurel serve` runs one itself unless
    LAUREL_EMBEDDED_WORKER=false."""
    from issuer.worker.runtime import run_worker

    with _services() as services:
        _warn_about_statistics(services)
        typer.echo("laurel worker: running (Ctrl-C stops)", err=True)
        run_worker(services)


def _read_source(source: str) -> str | bytes:
    if source == "-":
        return sys.stdin.buffer.read(DEFAULT_MAX_BYTES + 1)
    if source.startswith(("https://", "http://", "VP1-")):
        return source  # a URL, or the text of an offline QR code
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source} is not a file, a URL or '-'")
    with path.open("rb") as handle:
        return handle.read(DEFAULT_MAX_BYTES + 1)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: str) -> str:
    """Text from a credential, made safe for a terminal: no escape sequences, no markup."""
    return escape(_CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text))


_IDENTITY_COLOUR = {"known": "green", "linked": "green", "unconfirmed": "yellow"}
_STRENGTH = {"unconfirmed": 0, "linked": 1, "known": 2}


def _identity_line(identity: IssuerIdentity) -> str:
    state = identity.state.value
    words = f"[bold {_IDENTITY_COLOUR[state]}]{state.upper()}[/]  {_safe(identity.reason)}"
    entry = identity.entry
    if entry is not None:
        details = [entry.name, entry.location or entry.country, entry.url]
        words += " — " + _safe(", ".join(d for d in details if d))
    elif identity.linked_domain:
        words += f" ({_safe(identity.linked_domain)})"
    return words


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
        console.print(f"  {'identity':<12} {_identity_line(report.identity)}")
        for skipped in report.identity.not_checked:
            console.print(f"  {'':<12} [dim]not checked: {_safe(skipped)}[/dim]")
    for check in report.checks:
        optional = "" if check.required else " [dim](warning only)[/dim]"
        line = f"{_safe(check.name)}: {_safe(check.reason)}"
        console.print(f"  {_MARKS[check.outcome]} {line}{optional}")


class _LocalNoted:
    """A fetcher that notes the plain-http URLs on this machine it refused (``LOOPBACK``), so
    that ``laurel verify`` can point at ``--allow-local`` for a badge of a local Laurel."""

    def __init__(self, fetcher: HttpFetcher) -> None:
        self._fetcher = fetcher
        self.refused: list[str] = []

    def __call__(self, url: str) -> bytes:
        try:
            return self._fetcher(url)
        except FetchError:
            if url.startswith(LOOPBACK) and not self._fetcher.allow_loopback_http:
                self.refused.append(url)
            raise

    def refresh_within(self, url: str, seconds: float) -> None:
        self._fetcher.refresh_within(url, seconds)


@app.command()
def verify(
    source: Annotated[
        str,
        typer.Argument(
            help="A file (JSON, JWT, baked PNG or SVG, or a photo of an offline QR code), a "
            "URL, an offline QR code's text (VP1-B… or VP1-R…), or '-'."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    email: Annotated[
        str | None, typer.Option(help="Check that the badge was issued to this email.")
    ] = None,
    trust: Annotated[
        list[str] | None,
        typer.Option(
            help="A trust list (file or URL): a DCC registry, a DCC known-registries list, or a "
            "JSON list of issuer ids. Repeat for several; LAUREL_TRUST_LISTS adds more. With a "
            "trust list, an issuer that is not in one exits 1 (see --require).",
        ),
    ] = None,
    require: Annotated[
        str | None,
        typer.Option(
            help="The issuer identity to require: known, linked or unconfirmed (any). Default: "
            "known when a trust list is given, else unconfirmed."
        ),
    ] = None,
    now: Annotated[str | None, typer.Option(help="Verify as of this ISO 8601 time.")] = None,
    allow_local: Annotated[
        bool,
        typer.Option(
            "--allow-local",
            help="Development only: also fetch from this machine (plain http too) and from "
            "private and special-purpose addresses, which are refused by default.",
        ),
    ] = False,
) -> None:
    """Verify an Open Badges credential. Exit 0 verified, 1 not verified (or its issuer is
    weaker than --require), 2 could not decide or could not run."""
    import os

    from issuer.core.settings import split_sources
    from verifier.httpcache import CachingHttpClient
    from verifier.identity import TrustPolicy
    from verifier.registries import load_sources

    console = Console(emoji=False, highlight=False, soft_wrap=True)
    sources = [*(trust or []), *split_sources(os.environ.get("LAUREL_TRUST_LISTS", ""))]
    wanted = require or ("known" if sources else "unconfirmed")
    try:
        if wanted not in _STRENGTH:
            raise ValueError("--require is known, linked or unconfirmed")
        when = datetime.fromisoformat(now.replace("Z", "+00:00")) if now is not None else None
        if when is not None and when.tzinfo is None:
            raise ValueError("--now needs a time zone, e.g. 2026-01-01T00:00:00Z")
        client = CachingHttpClient(
            allow_loopback_http=allow_local, allow_private_addresses=allow_local
        )
        registries = load_sources(sources, client)
        data = _read_source(source)
        if isinstance(data, bytes):  # a photo or scan of an offline QR code is read as its text
            from issuer.artifacts.qrread import vpqr_in_picture

            data = vpqr_in_picture(data) or data
    except (OSError, ValueError, InputError, FetchError) as exc:
        typer.echo(f"laurel verify: {exc}", err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None
    # Refused like the server does, unless --allow-local (e.g. a Laurel running with --demo).
    fetcher = _LocalNoted(
        HttpFetcher(allow_loopback_http=allow_local, allow_private_addresses=allow_local)
    )
    report = verify_credential(
        data, now=when, email=email, fetcher=fetcher, trust=TrustPolicy(registries)
    )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report, console)
    if fetcher.refused and report.verdict is not Verdict.VERIFIED:
        typer.echo(
            f"laurel verify: {fetcher.refused[0]} is on this machine and was not fetched; "
            "for a Laurel running here (laurel serve --demo), add --allow-local",
            err=True,
        )
    if report.verdict is Verdict.VERIFIED:
        if _STRENGTH[report.identity.state.value] < _STRENGTH[wanted]:
            typer.echo(
                f"laurel verify: the signature is genuine, but the issuer is "
                f"{report.identity.state.value}, not {wanted}",
                err=True,
            )
            raise typer.Exit(EXIT_NOT_VERIFIED)
        raise typer.Exit(EXIT_VERIFIED)
    if report.verdict is Verdict.NOT_VERIFIED:
        raise typer.Exit(EXIT_NOT_VERIFIED)
    raise typer.Exit(EXIT_COULD_NOT_RUN)


orgs_app = cli_orgs.use(_unit)
orgs_hours.add_commands(orgs_app, _unit, _fail)
app.add_typer(orgs_app, name="orgs")

if __name__ == "__main__":
    app()
