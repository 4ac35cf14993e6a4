"""Development plans exported: one plan as JSON (what the API and the wallet download give) and
a year's plans as CSV, one row per activity (and one per objective with no activity), for HR
officers' spreadsheets."""

from __future__ import annotations

import csv
import io
from typing import Any

from issuer.core.spreadsheet import cell
from issuer.orgs.plans import PlanView

CSV_COLUMNS = (
    "plan_id",
    "year",
    "kind",
    "state",
    "employee_no",
    "name",
    "email",
    "target",
    "objective_framework",
    "objective_code",
    "objective_name",
    "level_at_start",
    "level_wanted",
    "level_now",
    "activity",
    "achievement_key",
    "starts_on",
    "ends_on",
    "cost",
    "currency",
    "done_at",
    "credential_ref",
    "signed_by_person_at",
    "signed_by_supervisor_at",
    "reviewed_at",
)


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def as_dict(shown: PlanView, email: str | None = None) -> dict[str, Any]:
    plan, member = shown.plan, shown.member
    return {
        "id": plan.id,
        "year": plan.year,
        "kind": plan.kind,
        "state": plan.state,
        "person": {
            "email": email,
            "name": member.name if member else None,
            "employeeNo": member.employee_no if member else None,
            "grade": member.grade if member else None,
            "role": member.role if member else None,
        },
        "target": plan.target,
        "careerGoal": plan.career_goal,
        "supervisor": plan.supervisor_email,
        "signedByPersonAt": _time(plan.signed_by_person_at),
        "signedBySupervisorAt": _time(plan.signed_by_supervisor_at),
        "review": plan.review,
        "reviewedAt": _time(plan.reviewed_at),
        "objectives": [
            {
                "id": o.objective.id,
                "framework": o.objective.framework,
                "code": o.objective.code,
                "name": o.objective.name,
                "levelAtStart": o.objective.level_at_start,
                "levelWanted": o.objective.level_wanted,
                "levelNow": o.level_now,
                "met": o.met,
                "percent": o.percent,
                "outcome": o.objective.outcome,
            }
            for o in shown.objectives
        ],
        "activities": [
            {
                "id": a.activity.id,
                "objective": a.activity.objective_id,
                "title": a.activity.title,
                "achievement": a.activity.achievement_key,
                "startsOn": _time(a.activity.starts_on),
                "endsOn": _time(a.activity.ends_on),
                "cost": a.activity.cost,
                "currency": a.activity.currency,
                "done": a.done_at is not None,
                "doneAt": _time(a.done_at),
                "credential": a.credential_ref,
            }
            for a in shown.activities
        ],
        "progress": {
            "activities": len(shown.activities),
            "activitiesDone": shown.done,
            "objectives": len(shown.objectives),
            "objectivesMet": shown.met,
        },
    }


def csv_text(views: list[tuple[PlanView, str | None]]) -> str:
    """``views``: each plan with its person's email."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for shown, email in views:
        for row in _rows(shown, email):
            writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _rows(shown: PlanView, email: str | None) -> list[dict[str, Any]]:
    plan, member = shown.plan, shown.member
    common = {
        "plan_id": plan.id,
        "year": plan.year,
        "kind": plan.kind,
        "state": plan.state,
        "employee_no": member.employee_no if member else None,
        "name": member.name if member else None,
        "email": email,
        "target": plan.target,
        "signed_by_person_at": _time(plan.signed_by_person_at),
        "signed_by_supervisor_at": _time(plan.signed_by_supervisor_at),
        "reviewed_at": _time(plan.reviewed_at),
    }
    rows: list[dict[str, Any]] = []
    objectives = {o.objective.id: o for o in shown.objectives}
    planned = {a.activity.objective_id for a in shown.activities}
    for item in shown.activities:
        objective = objectives.get(item.activity.objective_id)
        rows.append(
            {
                **common,
                **(_objective(objective) if objective else {}),
                "activity": item.activity.title,
                "achievement_key": item.activity.achievement_key,
                "starts_on": _time(item.activity.starts_on),
                "ends_on": _time(item.activity.ends_on),
                "cost": f"{item.activity.cost:.2f}",
                "currency": item.activity.currency,
                "done_at": _time(item.done_at),
                "credential_ref": item.credential_ref,
            }
        )
    for objective_id, objective in objectives.items():
        if objective_id not in planned:
            rows.append({**common, **_objective(objective)})
    return rows


def _objective(shown: Any) -> dict[str, Any]:
    o = shown.objective
    return {
        "objective_framework": o.framework,
        "objective_code": o.code,
        "objective_name": o.name,
        "level_at_start": o.level_at_start,
        "level_wanted": o.level_wanted,
        "level_now": shown.level_now,
    }


def _cell(value: Any) -> str:
    """A cell (``issuer.core.spreadsheet.cell``: text a spreadsheet would run as a formula is
    quoted with a leading apostrophe)."""
    return str(cell("" if value is None else str(value)))
