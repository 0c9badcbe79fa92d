"""Console: the dashboard — the KPIs of a period (``casework.reports``) with charts drawn on the
server as SVG, the trend by month, the current trend alerts and the monthly report download.

Who: admin, officer, psea and viewer (not focal points). Every figure is an aggregate, so
sensitive cases appear as counts only. A bar links to the queue filtered to the cases behind
it — for officers and PSEA focal points, who have a queue; the queue then shows each of them
only what they may see.

Query string: ``from``, ``to`` (YYYY-MM-DD, local days, Arabic-Indic digits accepted; default:
this month so far), ``location`` (a governorate or district code). A value not understood is
dropped with a notice on the page, never an error.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from admin import bp
from admin.forms import organisation_today
from admin.queue import CHANNELS, location_options, parse_queue_args
from admin.security import roles_required
from casework import audit, charts, programme
from casework.access import REPORT_ROLES, listed_cases
from casework.models import Role, User, utcnow
from casework.programme_kpis import programme_kpis
from casework.report_files import (
    FORMATS,
    MEDIA_TYPES,
    Labels,
    Section,
    bar_fractions,
    build_report,
    format_value,
    kept_path,
    lessons_section,
    parse_month,
    preferred_section,
    programme_section,
    render,
    report_filename,
    sections,
    summary_rows,
    trend_series,
)
from casework.reports import UNKNOWN, UNTRIAGED, KpiReport, kpis, local_midnight, month_start
from casework.text import ascii_digits
from casework.trends import TrendAlert, trend_alerts
from config.data import OrgData
from extensions import db
from services import services

DASHBOARD_ROLES = tuple(REPORT_ROLES)
QUEUE_ROLES = (Role.OFFICER, Role.PSEA)  # the dashboard roles that have a case queue
MAX_DAYS = 731
DOWNLOAD_MONTHS = 12
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class DashboardRequest:
    start: date
    end: date
    location: str | None
    notices: list[str] = field(default_factory=list)


def parse_dashboard_args(args: Mapping[str, str], today: date, org: OrgData
                         ) -> DashboardRequest:
    """The period and place asked for; anything not understood falls back with a notice."""
    notices: list[str] = []
    start = _day(args.get("from"), _("From"), notices)
    end = _day(args.get("to"), _("To"), notices)
    start, end = start or (month_start(end) if end else month_start(today)), end or today
    if end < start or (end - start).days >= MAX_DAYS:
        notices.append(_("The period must end after it starts and last at most two years; "
                         "this month is shown instead."))
        start, end = month_start(today), today
    location = (args.get("location") or "").strip() or None
    if location is not None and org.location(location) is None:
        notices.append(_("The location given was not understood and was ignored."))
        location = None
    return DashboardRequest(start, end, location, notices)


@bp.get("/dashboard")
@roles_required(*DASHBOARD_ROLES)
def dashboard() -> ResponseReturnValue:
    settings, org = services().settings, services().org_data
    tz = ZoneInfo(settings.sawti_timezone)
    now = utcnow()
    today = now.astimezone(tz).date()
    wanted = parse_dashboard_args(request.args, today, org)
    report = kpis(db.session, wanted.start, wanted.end, tz=tz, now=now,
                  location=wanted.location)
    lang = str(get_locale() or "ar")
    labels = Labels(org, lang)
    links = _Links(g.user, org, wanted)
    all_sections = [*sections(report, labels),
                    *_programme_sections(report, labels, wanted, org, tz, now)]
    return render_template(
        "admin/dashboard.html",
        wanted=wanted, report=report, labels=labels, summary=summary_rows(report, labels),
        tiles=_tiles(report, labels), sections=all_sections,
        charts={section.key: section_chart(section, labels.rtl, links.for_section(section))
                for section in all_sections},
        trend=trend_chart(report, labels, links.for_month),
        six_months=six_month_share_chart(report, labels),
        alerts=trend_alerts(db.session, now, tz=tz), alert_link=links.for_alert,
        overdue_link=links.overdue(), presets=_presets(today),
        locations=location_options(org, lang), formats=FORMATS,
        months=[month_start(today, back) for back in range(DOWNLOAD_MONTHS)],
        month_label=labels.month, fmt=_format,
    )


@bp.get("/dashboard/report")
@roles_required(*DASHBOARD_ROLES)
def dashboard_report() -> ResponseReturnValue:
    """The monthly report file: the copy kept for that month when this reader gets the
    management version, else made now."""
    settings = services().settings
    fmt = (request.args.get("format") or "").strip().lower()
    try:
        month = parse_month(request.args.get("month") or "")
    except ValueError:
        flash(_("Choose a month for the report."), "error")
        return redirect(url_for("admin.dashboard"))
    if month > organisation_today().replace(day=1):
        flash(_("That month has not begun: choose this month or an earlier one."), "error")
        return redirect(url_for("admin.dashboard"))
    if fmt not in FORMATS:
        flash(_("Choose Excel, PDF or CSV."), "error")
        return redirect(url_for("admin.dashboard"))
    lang = str(get_locale() or "ar")
    include_sensitive = g.user.role == Role.PSEA
    case_filter = listed_cases(g.user) if g.user.role == Role.OFFICER and g.user.locations \
        else None
    audit.record(db.session, "report.downloaded", actor=g.user.email,
                 month=month.strftime("%Y-%m"), format=fmt, sensitive=include_sensitive)
    db.session.commit()
    if not include_sensitive and case_filter is None:  # the management report: log it
        programme.record_generated(db.session, month, utcnow(), g.user)
    name = report_filename(month, fmt, lang)
    kept = kept_path(settings.sawti_instance_path, month, fmt, lang)
    if not include_sensitive and case_filter is None and kept.is_file():
        return send_file(kept, mimetype=MEDIA_TYPES[fmt], as_attachment=True,
                         download_name=name)
    report = build_report(db.session, month, org=services().org_data,
                          org_name=settings.org_name_in(lang),
                          tz=ZoneInfo(settings.sawti_timezone), lang=lang,
                          include_sensitive=include_sensitive, case_filter=case_filter,
                          case_list=fmt != "pdf",
                          configured_channels=programme.configured_channels(settings),
                          due_day=settings.sawti_report_due_day)
    return send_file(io.BytesIO(render(report, fmt)), mimetype=MEDIA_TYPES[fmt],
                     as_attachment=True, download_name=name)


def _programme_sections(report: KpiReport, labels: Labels, wanted: DashboardRequest,
                        org: OrgData, tz: ZoneInfo, now: datetime) -> list[Section]:
    """The programme KPIs (organisation-wide, with rows per governorate; the six-month and
    days-to-close figures follow the location chosen) and the period's lessons learned."""
    settings = services().settings
    figures = programme_kpis(db.session, report, tz=tz, now=now,
                             configured=programme.configured_channels(settings),
                             locations=[place.code for place in org.governorates],
                             due_day=settings.sawti_report_due_day)
    lessons = programme.list_lessons(
        db.session, begin=local_midnight(wanted.start, tz),
        finish=local_midnight(wanted.end + timedelta(days=1), tz))
    section = lessons_section(list(reversed(lessons)), labels)
    section = replace(section, title=_("Lessons learned in the period"))
    return [programme_section(figures, labels), preferred_section(figures, labels), section]


# --- charts ----------------------------------------------------------------------------------

def section_chart(section: Section, rtl: bool, link: Callable[[str], str | None] | None = None
                  ) -> Markup | None:
    """One bar per row of the section (lengths from ``bar_fractions``: a share as itself, a
    count against the largest), linked to the queue where ``link`` gives a URL."""
    if section.chart_metric is None or not section.rows:
        return None
    kind = section.kinds[section.chart_metric]
    bars = [charts.Bar(label=name, value=length, shown=_format(values[section.chart_metric], kind),
                       href=link(code) if link else None)
            for (code, name, values), length in zip(section.rows, bar_fractions(section),
                                                    strict=True)]
    return charts.bar_chart(bars, title=section.title, rtl=rtl, full=1.0)


def trend_chart(report: KpiReport, labels: Labels,
                link: Callable[[date], str | None] | None = None) -> Markup:
    """Received, closed and closed within the deadline, month by month over the period."""
    columns = [charts.Column(label=labels.month(month.month, short=True).replace(" ", "\n"),
                             values=[month.received, month.closed, month.within],
                             href=link(month.month) if link else None)
               for month in report.months]
    return charts.column_chart(columns, trend_series(labels), title=_("Trend by month"),
                               rtl=labels.rtl)


def six_month_share_chart(report: KpiReport, labels: Labels) -> Markup:
    columns = [charts.Column(label=labels.month(month.month, short=True).replace(" ", "\n"),
                             values=[month.share])
               for month in report.six_months]
    return charts.column_chart(columns, [_("Share closed within the deadline")],
                               title=_("Closed within the deadline, last six months"),
                               rtl=labels.rtl, percent=True, height=200)


# --- drill-down links to the queue -----------------------------------------------------------

class _Links:
    """Queue URLs for the bars, or None: for readers without a queue, and for groups the
    queue cannot filter on (gender, age group, an untriaged level...)."""

    def __init__(self, user: User, org: OrgData, wanted: DashboardRequest) -> None:
        self.user, self.org, self.wanted = user, org, wanted
        self.enabled = user.role in QUEUE_ROLES

    def for_section(self, section: Section) -> Callable[[str], str | None] | None:
        dimension = section.link_dimension
        if not self.enabled or dimension is None:
            return None
        return lambda code: self._queue(dimension, code)

    def for_month(self, first: date) -> str | None:
        if not self.enabled:
            return None
        last = month_start(first, -1) - timedelta(days=1)
        return self._url({"from": max(first, self.wanted.start).isoformat(),
                          "to": min(last, self.wanted.end).isoformat()})

    def for_alert(self, alert: TrendAlert) -> str | None:
        return self._url(alert.queue_args(), period=False) if self.enabled else None

    def overdue(self) -> str | None:
        return self._url({"overdue": "yes"}, period=False) if self.enabled else None

    def _queue(self, dimension: str, code: str) -> str | None:
        if dimension == "location" and code == UNKNOWN:
            code = "none"
        elif code in (UNKNOWN, UNTRIAGED) or (dimension == "channel" and code not in CHANNELS):
            return None
        return self._url({dimension: code})

    def _url(self, filters: dict[str, str], *, period: bool = True) -> str | None:
        args: dict[str, str] = {"view": "all"}
        if period:
            args.update({"from": self.wanted.start.isoformat(), "to": self.wanted.end.isoformat()})
        if self.wanted.location and "location" not in filters:
            args["location"] = self.wanted.location
        args.update(filters)
        parsed = parse_queue_args(args, self.user, self.org)
        if parsed.dropped:  # the queue would drop a filter: better no link than a wrong one
            return None
        return url_for("admin.queue", **parsed.args)


# --- small helpers ---------------------------------------------------------------------------

def _tiles(report: KpiReport, labels: Labels) -> list[tuple[str, str]]:
    wanted = ("received", "closed", "closed_within_deadline_share", "six_months_share",
              "mean_days_to_close", "median_days_to_close", "open", "overdue",
              "referrals_overdue", "replies_failed", "satisfied_share")
    rows = {key: (label, value, kind) for key, label, value, kind in summary_rows(report, labels)}
    return [(rows[key][0], _format(rows[key][1], rows[key][2])) for key in wanted]


def _presets(today: date) -> list[tuple[str, date, date]]:
    this_month = month_start(today)
    last_month = month_start(today, 1)
    return [
        (_("This month"), this_month, today),
        (_("Last month"), last_month, this_month - timedelta(days=1)),
        (_("Last three months"), month_start(today, 2), today),
        (_("Last twelve months"), month_start(today, 11), today),
    ]


def _day(raw: str | None, name: str, notices: list[str]) -> date | None:
    value = ascii_digits((raw or "").strip())
    if not value:
        return None
    if _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    notices.append(_("“%(field)s” must be a date written YYYY-MM-DD; it was ignored.",
                     field=name))
    return None


def _format(value: Any, kind: str) -> str:
    return format_value(value, kind)
