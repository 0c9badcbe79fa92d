"""Who may see and do what: one set of rules behind the console and the API.

- ``officer``: cases of their locations (all locations when none are assigned; cases whose
  location is not known yet are visible to every officer, so someone triages them). A
  sensitive case is listed — reference, level, dates — but its content is not shown.
- ``psea``: sensitive cases, in full.
- ``focal_point``: only cases referred to them, never with contact details.
- ``admin`` and ``viewer``: no case content (aggregate reports only).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, false, or_, select, true

from casework.models import Case, Referral, Role, User

# Roles that can open case content must use two-factor authentication.
CONTENT_ROLES = frozenset({Role.OFFICER, Role.PSEA, Role.FOCAL_POINT})
# Roles that read the organisation's figures (dashboard, KPIs, monthly report). A focal point
# works only on the cases referred to them, and sees none of the rest, counted or not.
REPORT_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.PSEA, Role.VIEWER})


class Action(StrEnum):
    VIEW = "view"  # open the case's content (messages, notes, documents)
    TRIAGE = "triage"
    NOTE = "note"
    REFER = "refer"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"
    MERGE = "merge"
    ATTACH = "attach"
    ANSWER_REFERRAL = "answer_referral"
    REVEAL_CONTACT = "reveal_contact"


CASE_HANDLING = frozenset(Action) - {Action.ANSWER_REFERRAL}
FOCAL_POINT_ACTIONS = frozenset({Action.VIEW, Action.NOTE})


def listed_cases(user: User) -> ColumnElement[bool]:
    """A filter on Case for the cases this user may see listed."""
    if user.role == Role.OFFICER:
        return _in_locations(user.locations)
    if user.role == Role.PSEA:
        return Case.sensitive.is_(True)
    if user.role == Role.FOCAL_POINT:
        return Case.id.in_(select(Referral.case_id).where(Referral.to_user_id == user.id))
    return false()


def viewable_cases(user: User) -> ColumnElement[bool]:
    """SQL form of ``can(user, Action.VIEW, case)`` for cases already in ``listed_cases``."""
    if not user.active:
        return false()
    if user.role == Role.OFFICER:
        return Case.sensitive.is_(False)
    if user.role in (Role.PSEA, Role.FOCAL_POINT):
        return true()
    return false()


def can(user: User, action: Action, case: Case) -> bool:
    if not user.active:
        return False
    if action is Action.ANSWER_REFERRAL:  # whoever a referral went to answers it
        return any(referral.to_user_id == user.id for referral in case.referrals)
    if user.role == Role.OFFICER:
        return not case.sensitive and _location_allowed(user.locations, case.location) \
            and action in CASE_HANDLING
    if user.role == Role.PSEA:
        return case.sensitive and action in CASE_HANDLING
    if user.role == Role.FOCAL_POINT:
        return action in FOCAL_POINT_ACTIONS and any(
            referral.to_user_id == user.id for referral in case.referrals)
    return False


def can_list(user: User, case: Case) -> bool:
    if user.role == Role.OFFICER:
        return _location_allowed(user.locations, case.location)
    if user.role == Role.PSEA:
        return case.sensitive
    if user.role == Role.FOCAL_POINT:
        return any(referral.to_user_id == user.id for referral in case.referrals)
    return False


def sees_contact_details(user: User) -> bool:
    """Whether the role may ever reveal a contact address (with consent and a reason)."""
    return user.role in (Role.OFFICER, Role.PSEA)


def _in_locations(codes: list[str]) -> ColumnElement[bool]:
    if not codes:
        return true()
    clauses = [Case.location.is_(None)]
    for code in codes:
        clauses += [Case.location == code, Case.location.like(f"{code}-%")]
    return or_(*clauses)


def _location_allowed(codes: list[str], location: str | None) -> bool:
    if not codes or location is None:
        return True
    return any(location == code or location.startswith(code + "-") for code in codes)
