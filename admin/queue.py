"""Console: the case queue — "needs action" by default, filters, search, pages, bulk actions.

Filters come from the query string and are validated here: a value that is not understood is
ignored with a notice on the page, never an error. What a person may see is decided by
``casework.queue`` (through ``casework.access``), not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from admin import bp
from admin.security import roles_required, safe_next
from casework.access import Action, can
from casework.channel_names import CHANNEL_NAMES
from casework.models import CaseStatus, Role, User
from casework.queue import (
    UNKNOWN_LOCATION,
    BulkError,
    QueueFilters,
    QueueItem,
    assignable_users,
    bulk_assign,
    bulk_close_duplicate,
    find_cases,
)
from casework.status_names import STATUS_NAMES
from casework.text import ascii_digits
from channels import ADAPTERS
from config.data import OrgData
from extensions import db
from services import services

PER_PAGE = 50
MAX_QUERY_LENGTH = 200
MAX_BULK_CASES = 500
NEEDS_ACTION, ALL_CASES = "needs_action", "all"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"\d{1,9}")

FILTER_LABELS = {
    "view": _l("Show"),
    "status": _l("Status"),
    "level": _l("Level"),
    "category": _l("Category"),
    "channel": _l("Channel"),
    "location": _l("Location"),
    "assignee": _l("Assigned to"),
    "overdue": _l("Overdue"),
    "from": _l("Received from"),
    "to": _l("Received until"),
    "q": _l("Search"),
    "page": _l("Page"),
}
STATUS_LABELS = {CaseStatus(code): _l(name) for code, name in STATUS_NAMES.items()}
CHANNEL_LABELS = {code: _l(name) for code, name in CHANNEL_NAMES.items()}
CHANNELS = tuple(dict.fromkeys([*ADAPTERS, *CHANNEL_LABELS]))


class BadValue(ValueError):
    """A filter value that is not understood."""


@dataclass
class QueueRequest:
    filters: QueueFilters
    page: int
    args: dict[str, str]  # the accepted filters, in canonical form (for links and the form)
    notices: list[str] = field(default_factory=list)  # about the page (view, page number)
    errors: dict[str, str] = field(default_factory=dict)  # per filter, shown under it
    typed: dict[str, str] = field(default_factory=dict)  # what was given for a dropped filter

    @property
    def dropped(self) -> bool:
        """Whether a value was not understood and dropped."""
        return bool(self.notices or self.errors)


def parse_queue_args(args: Mapping[str, str], user: User, org: OrgData) -> QueueRequest:
    """The filters of a queue request; each value not understood is dropped with a notice."""
    parsers: dict[str, Callable[[str], tuple[dict[str, Any], str]]] = {
        "status": _status,
        "level": lambda raw: _level(raw, org),
        "category": lambda raw: _category(raw, org),
        "channel": _channel,
        "location": lambda raw: _location(raw, org),
        "assignee": lambda raw: _assignee(raw, user),
        "overdue": _overdue,
        "from": lambda raw: _date(raw, "created_from"),
        "to": lambda raw: _date(raw, "created_to"),
        "q": _query,
    }
    values: dict[str, Any] = {}
    accepted: dict[str, str] = {}
    notices: list[str] = []
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    for name, parse in parsers.items():
        raw = (args.get(name) or "").strip()
        if not raw:
            continue
        try:
            parsed, canonical = parse(raw)
        except (BadValue, ValueError):
            errors[name], typed[name] = _not_understood(name), raw
            continue
        values.update(parsed)
        accepted[name] = canonical
    start, end = values.get("created_from"), values.get("created_to")
    if start is not None and end is not None and start > end:
        errors["to"] = _("The date range ends before it starts; it was ignored.")
        typed.update({"from": accepted["from"], "to": accepted["to"]})
        del values["created_from"], values["created_to"], accepted["from"], accepted["to"]
    view = (args.get("view") or "").strip()
    if view not in ("", NEEDS_ACTION, ALL_CASES):
        notices.append(_not_understood("view"))
        view = ""
    if not view:  # the default view: needs action, unless the person asked for something
        view = ALL_CASES if accepted else NEEDS_ACTION
    accepted = {"view": view, **accepted}
    values["needs_action"] = view == NEEDS_ACTION
    page = 1
    raw_page = ascii_digits((args.get("page") or "").strip())
    if raw_page:
        if _NUMBER.fullmatch(raw_page) and int(raw_page) >= 1:
            page = int(raw_page)
        else:
            notices.append(_not_understood("page"))
    return QueueRequest(QueueFilters(**values), page, accepted, notices, errors, typed)


@bp.get("/queue")
@roles_required(Role.OFFICER, Role.PSEA, Role.FOCAL_POINT)
def queue() -> ResponseReturnValue:
    org = services().org_data
    tz = ZoneInfo(services().settings.sawti_timezone)
    wanted = parse_queue_args(request.args, g.user, org)
    result = find_cases(db.session, g.user, wanted.filters, wanted.page, PER_PAGE, tz=tz)
    lang = str(get_locale() or "ar")
    bulk = g.user.role in (Role.OFFICER, Role.PSEA)

    def page_url(number: int) -> str:
        return url_for("admin.queue", **wanted.args, page=number)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def selectable(item: QueueItem) -> bool:
        return bulk and (can(g.user, Action.TRIAGE, item.case)
                         or can(g.user, Action.CLOSE, item.case))

    return render_template(
        "admin/queue.html",
        result=result, args=wanted.args, notices=wanted.notices, org=org,
        errors=wanted.errors, typed=wanted.typed,
        bulk=bulk, selectable=selectable, page_url=page_url, when=when, case_url=case_url,
        category_name=lambda code: _named(org.category(code), code, lang),
        location_name=lambda code: _location_name(org, code, lang),
        level_name=lambda level: _named(org.grid.get(level), str(level), lang),
        status_labels=STATUS_LABELS, channel_labels=CHANNEL_LABELS, channels=CHANNELS,
        locations=location_options(org, lang), assignees=assignable_users(db.session),
        unknown_location=UNKNOWN_LOCATION, needs_action=NEEDS_ACTION, all_cases=ALL_CASES,
        back=request.full_path,
    )


@bp.post("/queue/bulk")
@roles_required(Role.OFFICER, Role.PSEA)
def queue_bulk() -> ResponseReturnValue:
    """Assign, or close as duplicates, the selected cases (CSRF checked by CSRFProtect)."""
    back = safe_next(request.form.get("next")) or url_for("admin.queue")
    case_ids = _case_ids(request.form.getlist("case_id"))
    action = request.form.get("action")
    if not case_ids:
        flash(_("Select at least one case."), "error")
    elif action == "assign":
        _bulk_assign(case_ids)
    elif action == "close_duplicate":
        _bulk_close_duplicate(case_ids)
    else:
        flash(_("Choose what to do with the selected cases."), "error")
    return redirect(back)


def case_url(reference: str) -> str:
    """The case page; cases are addressed by reference."""
    try:
        return url_for("admin.case", reference=reference)
    except BuildError:
        return f"/admin/cases/{reference}"


# --- bulk actions ----------------------------------------------------------------------------

def _bulk_assign(case_ids: list[int]) -> None:
    raw = ascii_digits((request.form.get("assignee") or "").strip())
    assignee = db.session.get(User, int(raw)) if _NUMBER.fullmatch(raw) else None
    if assignee is None:
        flash(_("Choose who the cases are assigned to."), "error")
        return
    try:
        result = bulk_assign(db.session, g.user, case_ids, assignee)
    except BulkError:
        flash(_("Cases can only be assigned to an active officer or PSEA focal point."),
              "error")
        return
    flash(ngettext("%(num)s case was assigned.", "%(num)s cases were assigned.", result.done),
          "info")
    _flash_refused(result.refused)


def _bulk_close_duplicate(case_ids: list[int]) -> None:
    reference = (request.form.get("duplicate_of") or "").strip()[:20]
    if not reference:
        flash(_("Give the reference of the case they duplicate."), "error")
        return
    try:
        result = bulk_close_duplicate(db.session, g.user, case_ids, reference)
    except BulkError as error:
        messages = {
            "invalid_reference": _("That is not a valid case reference."),
            "unknown_reference": _("No case with this reference that you can open."),
            "target_is_duplicate": _("That case is itself closed as a duplicate; use the "
                                     "reference of the case that continues."),
        }
        flash(messages.get(error.reason, _("The cases were not closed.")), "error")
        return
    flash(ngettext("%(num)s case was closed as a duplicate.",
                   "%(num)s cases were closed as duplicates.", result.done), "info")
    _flash_refused(result.refused)


def _flash_refused(refused: int) -> None:
    if refused:
        flash(ngettext("%(num)s case was left unchanged: it is closed already, or not yours "
                       "to change.",
                       "%(num)s cases were left unchanged: they are closed already, or not "
                       "yours to change.", refused), "error")


def _case_ids(values: list[str]) -> list[int]:
    digits = (ascii_digits(value.strip()) for value in values)
    ids = [int(value) for value in digits if _NUMBER.fullmatch(value)]
    return list(dict.fromkeys(ids))[:MAX_BULK_CASES]


# --- filter parsing --------------------------------------------------------------------------

def _not_understood(name: str) -> str:
    return _("The value given for “%(filter)s” was not understood and was ignored.",
             filter=FILTER_LABELS[name])


def _status(raw: str) -> tuple[dict[str, Any], str]:
    status = CaseStatus(raw.lower())
    return {"status": status}, status.value


def _level(raw: str, org: OrgData) -> tuple[dict[str, Any], str]:
    raw = ascii_digits(raw)
    if not _NUMBER.fullmatch(raw) or org.grid.get(int(raw)) is None:
        raise BadValue(raw)
    return {"level": int(raw)}, str(int(raw))


def _category(raw: str, org: OrgData) -> tuple[dict[str, Any], str]:
    if org.category(raw) is None:
        raise BadValue(raw)
    return {"category": raw}, raw


def _channel(raw: str) -> tuple[dict[str, Any], str]:
    if raw.lower() not in CHANNELS:
        raise BadValue(raw)
    return {"channel": raw.lower()}, raw.lower()


def _location(raw: str, org: OrgData) -> tuple[dict[str, Any], str]:
    if raw != UNKNOWN_LOCATION and org.location(raw) is None:
        raise BadValue(raw)
    return {"location": raw}, raw


def _assignee(raw: str, user: User) -> tuple[dict[str, Any], str]:
    raw = ascii_digits(raw).lower()
    if raw == "none":
        return {"unassigned": True}, raw
    if raw == "me":
        return {"assignee_id": user.id}, raw
    if not _NUMBER.fullmatch(raw):
        raise BadValue(raw)
    return {"assignee_id": int(raw)}, str(int(raw))


def _overdue(raw: str) -> tuple[dict[str, Any], str]:
    answers = {"yes": True, "1": True, "true": True, "no": False, "0": False, "false": False}
    value = answers.get(ascii_digits(raw).lower())
    if value is None:
        raise BadValue(raw)
    return {"overdue": value}, "yes" if value else "no"


def _date(raw: str, name: str) -> tuple[dict[str, Any], str]:
    raw = ascii_digits(raw)
    if not _DATE.fullmatch(raw):
        raise BadValue(raw)
    day = date.fromisoformat(raw)  # ValueError for 2024-02-30
    return {name: day}, day.isoformat()


def _query(raw: str) -> tuple[dict[str, Any], str]:
    text = " ".join(raw.split())[:MAX_QUERY_LENGTH]
    return {"text": text}, text


# --- display helpers -------------------------------------------------------------------------

def _named(item: Any, fallback: str, lang: str) -> str:
    return item.name(lang) if item is not None else fallback


def _location_name(org: OrgData, code: str | None, lang: str) -> str:
    if not code:
        return _("Not known yet")
    return _named(org.location(code), code, lang)


def location_options(org: OrgData, lang: str) -> list[tuple[str, str]]:
    """The filter's places: each governorate, its districts indented under it."""
    options: list[tuple[str, str]] = []
    for governorate in org.governorates:
        options.append((governorate.code, governorate.name(lang)))
        options += [(district.code, f"— {district.name(lang)}")
                    for district in governorate.districts]
    return options

