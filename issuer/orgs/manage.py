"""Running an organisation: creating it for its home issuer, its department tree, its roster,
the issuers it trusts and the equivalences it recognises. Every change is written to the audit
chain in the caller's unit of work.

Uploads (units, roster) are all or nothing: every row is checked first and ``InvalidRows`` lists
each bad one (row number from 1, field, message); nothing is changed then. A full roster upload
marks members missing from it as left (``left_at``), never deletes them: what they learned while
members stays in the organisation's history.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from issuer.core import audit
from issuer.core.errors import BadRequest, Conflict, LaurelError, NotFound
from issuer.institutes.issuers import get_issuer
from issuer.models import (
    Issuer,
    Organisation,
    OrgEquivalence,
    OrgMember,
    OrgTrust,
    OrgUnit,
)
from issuer.models.base import utcnow
from issuer.orgs import members, organisation
from issuer.people.learners import NewLearner, learners_for
from issuer.schemas import normalize_email

MAX_ROWS = 20_000
UNIT_COLUMNS = ("code", "name", "name_ko", "parent", "supervisor_email")
ROSTER_COLUMNS = ("email", "name", "employee_no", "unit", "grade", "role", "executive")
LIMITS = {
    "code": 64,
    "name": 200,
    "name_ko": 200,
    "parent": 64,
    "unit": 64,
    "employee_no": 64,
    "grade": 32,
    "role": 100,
}
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class InvalidRows(LaurelError):
    """An upload with bad rows; ``rows`` lists each problem. Nothing was changed."""

    status, title = 422, "Invalid rows"

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        shown = "; ".join(f"row {r['row']}: {r['field']}: {r['message']}" for r in rows[:5])
        super().__init__(f"{len(rows)} problem(s), nothing was changed: {shown}")
        self.rows = rows


@dataclass
class _Rows:
    """Checked rows and the problems found so far."""

    problems: list[dict[str, Any]]

    def bad(self, row: int, field: str, message: str) -> None:
        self.problems.append({"row": row, "field": field, "message": message})


# --- the organisation ------------------------------------------------------------------------


def create(
    session: Session, issuer: Issuer, slug: str, name: str, name_ko: str | None, actor: str
) -> Organisation:
    """An organisation run from ``issuer`` (its home; one per issuer)."""
    if session.exec(select(Organisation).where(Organisation.issuer_id == issuer.id)).first():
        raise Conflict(f"{issuer.slug!r} is already the home of an organisation")
    if session.exec(select(Organisation).where(Organisation.slug == slug)).first():
        raise Conflict(f"there is already an organisation {slug!r}")
    assert issuer.id is not None
    org = Organisation(slug=slug, issuer_id=issuer.id, name=name.strip(), name_ko=name_ko)
    session.add(org)
    session.flush()
    audit.append(session, actor, "org.create", f"org:{slug}", {"issuer": issuer.slug})
    return org


def home_org(session: Session, issuer_id: int | None, slug: str) -> Organisation:
    """Organisation ``slug`` if ``issuer_id`` is its home (else 404, as if it did not exist)."""
    org = organisation(session, slug)
    if org.issuer_id != issuer_id:
        raise NotFound(f"no organisation {slug!r}")
    return org


def describe(session: Session, org: Organisation) -> dict[str, Any]:
    home = session.get(Issuer, org.issuer_id)
    assert home is not None
    return {
        "slug": org.slug,
        "name": org.name,
        "nameKo": org.name_ko,
        "issuer": home.slug,
        "units": units(session, org),
        "members": len(members(session, org)),
        "trusted": trusted(session, org),
    }


# --- departments -----------------------------------------------------------------------------


def units(session: Session, org: Organisation) -> list[dict[str, Any]]:
    """The department tree: each unit with its ``children``."""
    rows = list(
        session.exec(select(OrgUnit).where(OrgUnit.org_id == org.id).order_by(col(OrgUnit.code)))
    )
    by_id = {u.id: u for u in rows}
    nodes: dict[int | None, dict[str, Any]] = {
        u.id: {
            "code": u.code,
            "name": u.name,
            "nameKo": u.name_ko,
            "parent": by_id[u.parent_id].code if u.parent_id in by_id else None,
            "supervisorEmail": u.supervisor_email,
            "children": [],
        }
        for u in rows
    }
    roots = []
    for unit in rows:
        if unit.parent_id in nodes:
            nodes[unit.parent_id]["children"].append(nodes[unit.id])
        else:
            roots.append(nodes[unit.id])
    return roots


def flatten(tree: Iterable[Mapping[str, Any]], parent: str | None = None) -> list[dict[str, Any]]:
    """Rows (``code``, ``name``, …, ``parent``) from a nested tree as ``units`` gives it."""
    rows: list[dict[str, Any]] = []
    for node in tree:
        row = {name: node.get(name, node.get(_camel(name))) for name in UNIT_COLUMNS}
        row["parent"] = node.get("parent") or parent
        rows.append(row)
        children = node.get("children") or []
        if isinstance(children, list):
            rows.extend(flatten(children, str(node.get("code") or "")))
    return rows


def replace_units(
    session: Session, org: Organisation, rows: Sequence[Mapping[str, Any]], actor: str
) -> dict[str, int]:
    """Make ``rows`` the organisation's departments: units are kept by code (members stay in
    them), new ones added, missing ones removed (their members then belong to no unit)."""
    checked = _check_units(rows)
    existing = {u.code: u for u in session.exec(select(OrgUnit).where(OrgUnit.org_id == org.id))}
    wanted = {row["code"]: row for row in checked}
    gone = [u for code, u in existing.items() if code not in wanted]
    gone_ids = [u.id for u in gone]
    if gone_ids:
        for member in session.exec(select(OrgMember).where(col(OrgMember.unit_id).in_(gone_ids))):
            member.unit_id = None
            session.add(member)
        for unit in session.exec(select(OrgUnit).where(col(OrgUnit.parent_id).in_(gone_ids))):
            unit.parent_id = None
            session.add(unit)
        session.flush()
        session.execute(delete(OrgUnit).where(col(OrgUnit.id).in_(gone_ids)))
    assert org.id is not None
    kept = {code: u for code, u in existing.items() if code in wanted}
    for code, row in wanted.items():
        unit = kept.get(code) or OrgUnit(org_id=org.id, code=code, name=row["name"])
        unit.name, unit.name_ko = row["name"], row["name_ko"]
        unit.supervisor_email = row["supervisor_email"]
        session.add(unit)
        kept[code] = unit
    session.flush()
    for code, row in wanted.items():
        kept[code].parent_id = kept[row["parent"]].id if row["parent"] else None
        session.add(kept[code])
    session.flush()
    summary = {"units": len(wanted), "added": len(wanted) - (len(existing) - len(gone))}
    summary["removed"] = len(gone)
    audit.append(session, actor, "org.units", f"org:{org.slug}", summary)
    return summary


def _check_units(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    found = _Rows([])
    if len(rows) > MAX_ROWS:
        raise BadRequest(f"at most {MAX_ROWS} units")
    checked: list[dict[str, Any]] = []
    codes: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        row = _texts(found, number, raw, UNIT_COLUMNS)
        for field in ("code", "name"):
            if not row[field]:
                found.bad(number, field, "required")
        if row["code"] in codes:
            found.bad(number, "code", f"{row['code']!r} is also on row {codes[row['code']]}")
        elif row["code"]:
            codes[row["code"]] = number
        row["supervisor_email"] = _email(found, number, "supervisor_email", row["supervisor_email"])
        checked.append(row)
    parents = {row["code"]: row["parent"] for row in checked}
    for number, row in enumerate(checked, start=1):
        if row["parent"] and row["parent"] not in parents:
            found.bad(number, "parent", f"there is no unit {row['parent']!r} in the upload")
        elif row["parent"] and _cycle(parents, row["code"]):
            found.bad(number, "parent", "the units' parents form a cycle")
    if found.problems:
        raise InvalidRows(found.problems)
    return checked


def _cycle(parents: Mapping[str, str | None], code: str) -> bool:
    seen, at = {code}, parents.get(code)
    while at:
        if at in seen:
            return True
        seen.add(at)
        at = parents.get(at)
    return False


# --- the roster ------------------------------------------------------------------------------


def roster(session: Session, org: Organisation) -> list[dict[str, Any]]:
    """The members with the email HR uploaded each with (rows from before migration 0023: the
    one the home issuer knows, ``known_emails``), never another address the learner joined."""
    from issuer.people.emails import known_emails

    unit_codes = dict(
        session.exec(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.org_id == org.id)).all()
    )
    people = members(session, org)
    unset = [m.learner_id for m in people if m.email is None]
    emails = known_emails(session, org.issuer_id, unset) if unset else {}
    return [
        {
            "email": m.email or emails.get(m.learner_id),
            "name": m.name,
            "employeeNo": m.employee_no,
            "unit": unit_codes.get(m.unit_id) if m.unit_id else None,
            "grade": m.grade,
            "role": m.role,
            "executive": m.executive,
        }
        for m in people
    ]


def replace_roster(
    session: Session,
    org: Organisation,
    rows: Sequence[Mapping[str, Any]],
    actor: str,
    *,
    full: bool = True,
) -> dict[str, int]:
    """Add or update the members in ``rows`` (learners are created for emails not seen before);
    with ``full``, members missing from ``rows`` are marked as left."""
    unit_ids = dict(
        session.exec(select(OrgUnit.code, OrgUnit.id).where(OrgUnit.org_id == org.id)).all()
    )
    checked = _check_roster(rows, set(unit_ids))
    # the roster keeps the name (``OrgMember.name``); the learner record keeps none of it
    learners = learners_for(session, {row["email"]: NewLearner() for row in checked})
    current = {
        m.learner_id: m for m in session.exec(select(OrgMember).where(OrgMember.org_id == org.id))
    }
    assert org.id is not None
    now, added, listed = utcnow(), 0, set()
    before = {learner: m.left_at is None for learner, m in current.items()}
    for row in checked:
        learner_id = learners[row["email"]].id
        assert learner_id is not None
        listed.add(learner_id)
        # counted by the rows given: two emails of one wallet must not tell HR they are one
        if not before.get(learner_id):
            added += 1
        member = current.get(learner_id)
        if member is None:
            member = current[learner_id] = OrgMember(org_id=org.id, learner_id=learner_id)
        member.email = row["email"]
        member.left_at = None
        member.unit_id = unit_ids[row["unit"]] if row["unit"] else None
        member.name, member.employee_no = row["name"], row["employee_no"]
        member.grade, member.role, member.executive = row["grade"], row["role"], row["executive"]
        session.add(member)
    left = 0
    if full:
        for learner_id, member in current.items():
            if learner_id not in listed and member.left_at is None:
                member.left_at = now
                session.add(member)
                left += 1
    session.flush()
    summary = {"members": len(checked), "added": added, "updated": len(checked) - added}
    summary["left"] = left
    audit.append(session, actor, "org.roster", f"org:{org.slug}", summary)
    return summary


def _check_roster(rows: Sequence[Mapping[str, Any]], units: set[str]) -> list[dict[str, Any]]:
    found = _Rows([])
    if len(rows) > MAX_ROWS:
        raise BadRequest(f"a roster has at most {MAX_ROWS} rows")
    checked: list[dict[str, Any]] = []
    emails: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        row = _texts(found, number, raw, ROSTER_COLUMNS)
        email = _email(found, number, "email", row["email"])
        if email is None and not row["email"]:
            found.bad(number, "email", "required")
        elif email in emails:
            found.bad(number, "email", f"{email} is also on row {emails[email]}")
        elif email:
            emails[email] = number
        row["email"] = email
        if row["unit"] and row["unit"] not in units:
            found.bad(number, "unit", f"there is no unit {row['unit']!r}; upload the units first")
        executive = raw.get("executive")
        if isinstance(executive, bool):
            row["executive"] = executive
        elif (row["executive"] or "").lower() in TRUE | FALSE:
            row["executive"] = (row["executive"] or "").lower() in TRUE
        else:
            found.bad(number, "executive", "write true or false")
        checked.append(row)
    if found.problems:
        raise InvalidRows(found.problems)
    return checked


# --- trusted issuers -------------------------------------------------------------------------


def trusted(session: Session, org: Organisation) -> list[dict[str, Any]]:
    """The home issuer (always trusted) and every issuer the organisation trusts, each with
    ``agreed``: false while a local issuer has not agreed (its badges do not count yet)."""
    home = session.get(Issuer, org.issuer_id)
    assert home is not None
    listed = [
        {"issuerRef": home.did, "name": home.name, "local": home.slug, "home": True, "agreed": True}
    ]
    rows = session.exec(
        select(OrgTrust).where(OrgTrust.org_id == org.id).order_by(col(OrgTrust.id))
    )
    for row in rows:
        local = session.get(Issuer, row.issuer_id) if row.issuer_id else None
        listed.append(
            {
                "issuerRef": row.issuer_ref,
                "name": row.name,
                "local": local.slug if local else None,
                "home": False,
                "agreed": row.agreed_at is not None,
            }
        )
    return listed


def trust(
    session: Session,
    org: Organisation,
    actor: str,
    *,
    issuer: str | None = None,
    issuer_ref: str | None = None,
    name: str | None = None,
    agreed: bool = False,
) -> dict[str, Any]:
    """Trust a local issuer (by slug or DID) or one elsewhere (its id as its credentials write
    it, a DID or an https URL, with a display ``name``). A local issuer's badges are another
    tenant's data: the trust is pending until that issuer agrees (``issuer.orgs.agreements``),
    unless ``agreed`` (the instance's operator, who runs every issuer on it). Trusting one
    again changes nothing but that."""
    assert org.id is not None
    if (issuer is None) == (issuer_ref is None):
        raise BadRequest("give either issuer (a local issuer's slug) or issuerRef (a DID or URL)")
    local: Issuer | None = None
    if issuer is not None:
        local = get_issuer(session, issuer)
        ref, shown = local.did, (name or local.name)
    else:
        ref = (issuer_ref or "").strip()
        if not ref.startswith(("did:", "https://", "http://")):
            raise BadRequest("issuerRef is a DID (did:…) or a URL (https://…)")
        local = session.exec(select(Issuer).where(Issuer.did == ref)).first()
        if not name and local is None:
            raise BadRequest("give the issuer's display name (name)")
        shown = name or (local.name if local else ref)
    if local is not None and local.id == org.issuer_id:
        raise Conflict("the home issuer is always trusted")
    existing = session.exec(
        select(OrgTrust).where(OrgTrust.org_id == org.id, OrgTrust.issuer_ref == ref)
    ).first()
    agreed = agreed or local is None
    if existing is None:
        existing = OrgTrust(
            org_id=org.id,
            issuer_ref=ref,
            issuer_id=local.id if local else None,
            name=shown,
            agreed_at=utcnow() if agreed else None,
        )
        session.add(existing)
        session.flush()
        details = {"issuerRef": ref, "local": local.slug if local else None, "agreed": agreed}
        audit.append(session, actor, "org.trust", f"org:{org.slug}", details)
    elif agreed and existing.agreed_at is None:
        existing.agreed_at = utcnow()
        session.add(existing)
        session.flush()
        audit.append(session, actor, "org.trust.agree", f"org:{org.slug}", {"issuerRef": ref})
    return {
        "issuerRef": ref,
        "name": existing.name,
        "local": local.slug if local else None,
        "agreed": existing.agreed_at is not None,
    }


def distrust(session: Session, org: Organisation, ref_or_slug: str, actor: str) -> None:
    row = session.exec(
        select(OrgTrust).where(OrgTrust.org_id == org.id, OrgTrust.issuer_ref == ref_or_slug)
    ).first()
    if row is None:
        local = session.exec(select(Issuer).where(Issuer.slug == ref_or_slug)).first()
        if local is not None:
            row = session.exec(
                select(OrgTrust).where(OrgTrust.org_id == org.id, OrgTrust.issuer_id == local.id)
            ).first()
    if row is None:
        raise NotFound(f"the organisation does not trust {ref_or_slug!r}")
    session.delete(row)
    session.flush()
    audit.append(session, actor, "org.distrust", f"org:{org.slug}", {"issuerRef": row.issuer_ref})


# --- equivalences ----------------------------------------------------------------------------


def equivalences(session: Session, org: Organisation) -> list[dict[str, Any]]:
    """The organisation's equivalences: ``issuerRef`` (null: declared before issuers were
    named and not bound by migration 0020 — it counts for nothing), ``achievementId`` and the
    catalogue ``achievementKey``."""
    rows = session.exec(
        select(OrgEquivalence)
        .where(OrgEquivalence.org_id == org.id)
        .order_by(col(OrgEquivalence.external_id), col(OrgEquivalence.id))
    )
    return [
        {
            "issuerRef": row.issuer_ref,
            "achievementId": row.external_id,
            "achievementKey": row.achievement_key,
        }
        for row in rows
    ]


EQUIVALENCE_FIELDS = ("issuerRef", "achievementId", "achievementKey")


def replace_equivalences(
    session: Session,
    org: Organisation,
    given: Sequence[Mapping[str, Any]],
    keys: set[str],
    actor: str,
) -> list[dict[str, Any]]:
    """Make ``given`` the organisation's equivalences: each names a trusted issuer elsewhere
    (``issuerRef``), the id of one of its achievements (``achievementId``) and the catalogue
    achievement among ``keys`` it counts as (``achievementKey``)."""
    assert org.id is not None
    trusted = set(
        session.exec(
            select(OrgTrust.issuer_ref).where(
                OrgTrust.org_id == org.id, col(OrgTrust.issuer_id).is_(None)
            )
        )
    )
    found = _Rows([])
    seen: set[tuple[str, str]] = set()
    for number, item in enumerate(given, start=1):
        if not isinstance(item, Mapping) or set(item) != set(EQUIVALENCE_FIELDS):
            found.bad(
                number, "equivalence", "an object of issuerRef, achievementId, achievementKey"
            )
            continue
        issuer, external, key = (item[name] for name in EQUIVALENCE_FIELDS)
        if not all(isinstance(value, str) for value in (issuer, external, key)):
            found.bad(number, "equivalence", "issuerRef, achievementId, achievementKey are text")
            continue
        if issuer not in trusted:
            found.bad(number, "issuerRef", f"{issuer[:100]!r} is not an issuer elsewhere it trusts")
        if not external.strip() or len(external) > 600:
            found.bad(number, "achievementId", "an achievement id of 1 to 600 characters")
        if key not in keys:
            found.bad(number, "achievementKey", f"{key!r} is not an achievement of the catalogue")
        if (issuer, external) in seen:
            found.bad(number, "achievementId", "this issuer's achievement is given twice")
        seen.add((issuer, external))
    if found.problems:
        raise InvalidRows(found.problems)
    session.execute(delete(OrgEquivalence).where(col(OrgEquivalence.org_id) == org.id))
    for item in given:
        session.add(
            OrgEquivalence(
                org_id=org.id,
                issuer_ref=item["issuerRef"],
                external_id=item["achievementId"],
                achievement_key=item["achievementKey"],
            )
        )
    session.flush()
    audit.append(session, actor, "org.equivalences", f"org:{org.slug}", {"count": len(given)})
    return equivalences(session, org)


# --- helpers ---------------------------------------------------------------------------------


def read_csv(text: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of a CSV upload with a header naming (some of) ``columns``."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in reader.fieldnames or []]
        unknown = [h for h in header if h not in columns]
        if not header or unknown or columns[0] not in header:
            raise BadRequest(
                f"the CSV header must name {columns[0]} and may name {', '.join(columns[1:])}"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        reader.fieldnames = header
        return [{k: v for k, v in row.items() if k in columns} for row in reader]
    except csv.Error as exc:  # a field over the csv module's limit, a stray quote or NUL
        raise BadRequest(f"CSV line {reader.reader.line_num}: {exc}") from None


def _texts(
    found: _Rows, number: int, raw: Mapping[str, Any], columns: tuple[str, ...]
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name in columns:
        value = raw.get(name, raw.get(_camel(name)))
        if isinstance(value, bool) and name == "executive":
            row[name] = None
            continue
        if value is not None and not isinstance(value, str | int | float):
            found.bad(number, name, "must be text")
            value = None
        text = " ".join(str(value).split()) if value is not None else ""
        if any(ord(c) < 32 for c in text):
            found.bad(number, name, "control characters are not allowed")
        if name in LIMITS and len(text) > LIMITS[name]:
            found.bad(number, name, f"at most {LIMITS[name]} characters")
        row[name] = text or None
    return row


def _email(found: _Rows, number: int, field: str, value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalize_email(value)
    except ValueError:
        found.bad(number, field, f"{value!r} is not an email address")
        return None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
