"""The monthly CRM report as files: Excel (XLSX), PDF and CSV for Power BI.

One ``MonthlyReport`` (the KPIs of ``casework.reports`` for a calendar month in the
organisation's time zone, an anonymised case list and the trend alerts at the month's end) is
written in three forms:

- **XLSX** (openpyxl, write-only so a month of 100,000 cases stays fast): a summary sheet with
  the KPIs, one sheet per breakdown with a native Excel chart, and the anonymised case list —
  reference, dates, channel, level, category, location, status, within deadline; never contact
  data or message text. Sheets read right to left in Arabic.
- **PDF** (WeasyPrint: HTML and CSS laid out by Pango, whose HarfBuzz shaping joins Arabic
  letters, places their marks and orders right-to-left text correctly), with bar and column
  charts drawn in HTML and CSS. It carries the figures and charts but not the case list
  (that is what the XLSX is for).
- **CSV**: a ZIP of two UTF-8 CSV files for Power BI — ``kpis.csv``, every figure in one long
  table (period_start, period_end, section, key, label, metric, value), which appends cleanly
  month after month; and ``cases.csv``, the anonymised case list (times are local, with the
  zone's name in a column). Unzip each month into one folder and load it with Power BI's
  "Folder" source.

Sensitive cases are listed only when ``include_sensitive`` is set (the PSEA unit's copy);
otherwise they appear in the case list as one count. The management report — ``flask report
monthly`` and the files kept each month by ``keep_monthly_report`` — withholds them: it goes to
the line manager, the country director and HQ, beyond the people entitled to see sensitive
cases. ``--include-sensitive`` makes the PSEA unit's copy.

Texts come from the gettext catalogues in the report's language (Arabic by default); category,
location and level names from config/*.yaml.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_timezone_location
from babel.lists import format_list
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import ColumnElement, DateTime, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from casework import programme
from casework.channel_names import channel_name
from casework.models import Case, CaseStatus, LessonLearned, utcnow
from casework.programme_kpis import ProgrammeKpis, Ratio, programme_kpis
from casework.reports import (
    AGE_BUCKETS,
    SATISFACTION_ANSWERS,
    UNKNOWN,
    UNTRIAGED,
    KpiReport,
    governorate_of,
    kpis,
    local_midnight,
    month_start,
    not_duplicate,
)
from casework.status_names import status_name
from casework.text import ascii_digits
from casework.trends import TrendAlert, trend_alerts
from config.data import OrgData

if TYPE_CHECKING:
    from services import Services

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATES = Path(__file__).resolve().parent / "templates"
FORMATS = ("xlsx", "pdf", "csv")
LANGUAGES = ("ar", "en")
KEPT_FOLDER = "reports"
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "application/zip",
}
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


# --- what the report holds --------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRow:
    reference: str
    received: datetime  # local time of the report's time zone, naive (as Excel wants it)
    due: datetime
    closed: datetime | None
    channel: str
    level: int | None
    category: str | None
    location: str | None
    status: str
    within_deadline: bool | None  # None: still open and not yet due


@dataclass(frozen=True)
class MonthlyReport:
    month: date
    lang: str
    org_name: str
    timezone: str
    generated_at: datetime  # local time
    kpis: KpiReport
    cases: list[CaseRow]
    withheld_sensitive: int  # sensitive cases of the list shown as a count only
    alerts: list[TrendAlert]
    labels: Labels
    # The programme KPIs (casework.programme_kpis) and the lessons learned recorded this month.
    programme: ProgrammeKpis | None = None
    lessons: list[LessonLearned] = field(default_factory=list)


def parse_month(raw: str) -> date:
    """"2026-03" (Arabic-Indic digits too) → 1 March 2026; ValueError otherwise."""
    match = _MONTH.fullmatch(ascii_digits(raw.strip()))
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise ValueError("the month must be written YYYY-MM, for example 2026-03")
    return date(int(match.group(1)), int(match.group(2)), 1)


def build_report(session: Session, month: date, *, org: OrgData, org_name: str, tz: tzinfo,
                 lang: str = "ar", now: datetime | None = None,
                 include_sensitive: bool = False,
                 case_filter: ColumnElement[bool] | None = None,
                 case_list: bool = True, configured_channels: Collection[str] = (),
                 due_day: int = 10) -> MonthlyReport:
    """The report of the calendar month holding ``month``. ``case_filter`` narrows the case
    list (an officer's locations); the KPIs always cover the whole organisation. Without
    ``case_list`` (the PDF has none) the cases are counted, not loaded.
    ``configured_channels`` (``programme.configured_channels(settings)``) and ``due_day``
    (``SAWTI_REPORT_DUE_DAY``) feed the programme KPIs."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    now = now or utcnow()
    first = month_start(month)
    last = month_start(month, -1) - timedelta(days=1)
    figures = kpis(session, first, last, tz=tz, now=now)
    rows, withheld = _case_rows(session, first, last, tz, now, include_sensitive, case_filter,
                                load=case_list)
    month_end = min(now, local_midnight(last + timedelta(days=1), tz))
    programme_figures = programme_kpis(
        session, figures, tz=tz, configured=configured_channels,
        locations=[place.code for place in org.governorates], due_day=due_day, now=now)
    lessons = programme.list_lessons(session, begin=local_midnight(first, tz),
                                     finish=local_midnight(last + timedelta(days=1), tz))
    return MonthlyReport(
        month=first, lang=lang, org_name=org_name, timezone=figures.timezone,
        generated_at=now.astimezone(tz), kpis=figures, cases=rows, withheld_sensitive=withheld,
        alerts=trend_alerts(session, month_end, tz=tz), labels=Labels(org, lang),
        programme=programme_figures, lessons=list(reversed(lessons)))


def _case_rows(session: Session, first: date, last: date, tz: tzinfo, now: datetime,
               include_sensitive: bool, case_filter: ColumnElement[bool] | None, *,
               load: bool = True) -> tuple[list[CaseRow], int]:
    """Cases received or closed in the month, oldest first; no contact data, no text."""
    begin, finish = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    where = [not_duplicate(),
             or_((Case.created_at >= begin) & (Case.created_at < finish),
                 (Case.closed_at >= begin) & (Case.closed_at < finish))]
    if case_filter is not None:
        where.append(case_filter)
    withheld = 0
    if not include_sensitive:
        withheld = session.scalar(select(func.count()).select_from(Case)
                                  .where(*where, Case.sensitive.is_(True))) or 0
        where.append(Case.sensitive.is_(False))
    if not load:
        return [], withheld
    naive = DateTime()  # naive UTC straight from the driver: a month can be 100,000 rows
    query = (select(Case.reference, type_coerce(Case.created_at, naive),
                    type_coerce(Case.due_at, naive), type_coerce(Case.closed_at, naive),
                    Case.channel, Case.level, Case.category, Case.location, Case.status)
             .where(*where).order_by(Case.created_at, Case.id))
    local = _Localiser(tz)
    late_after = now.astimezone(UTC).replace(tzinfo=None)
    rows = []
    for reference, created, due, closed, channel, level, category, location, status in \
            session.execute(query):
        within = (closed <= due if status == CaseStatus.CLOSED and closed is not None
                  else (False if due < late_after else None))
        rows.append(CaseRow(reference, local(created), local(due),
                            local(closed) if closed else None, channel, level,
                            category, location, status, within))
    return rows, withheld


class _Localiser:
    """Naive UTC → naive local time, fast: the offset is looked up once per hour of UTC
    (exactly, per value, in an hour where the zone's offset changes)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.offsets: dict[int, timedelta | None] = {}

    def __call__(self, moment: datetime) -> datetime:
        key = moment.toordinal() * 24 + moment.hour
        if key not in self.offsets:
            start = moment.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)
            before = start.astimezone(self.tz).utcoffset()
            after = (start + timedelta(hours=1)).astimezone(self.tz).utcoffset()
            self.offsets[key] = before if before == after else None
        offset = self.offsets[key]
        if offset is None:
            return moment.replace(tzinfo=UTC).astimezone(self.tz).replace(tzinfo=None)
        return moment + offset


# --- names a person reads ---------------------------------------------------------------------

@lru_cache(maxsize=4)
def translations(lang: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS), [lang])


class Labels:
    """Names for the codes in a report, in its language (gettext and config/*.yaml)."""

    def __init__(self, org: OrgData, lang: str) -> None:
        self.org, self.lang = org, lang
        self.gettext: Callable[[str], str] = translations(lang).gettext
        self._cache: dict[tuple[str, Any], str] = {}

    @property
    def rtl(self) -> bool:
        return self.lang == "ar"

    def of(self, dimension: str, code: Any) -> str:
        key = (dimension, code)
        if key not in self._cache:
            self._cache[key] = getattr(self, dimension)(code)
        return self._cache[key]

    def channel(self, code: str) -> str:
        return channel_name(code, self.gettext)

    def zone(self, name: str) -> str:
        """The time zone as people say it («توقيت سوريا», "Syria Time"); UTC as it is."""
        if name.upper() in ("UTC", "ETC/UTC", "GMT"):
            return "UTC"
        try:
            return get_timezone_location(name, locale=self.lang)
        except LookupError:
            return name

    def level(self, key: Any) -> str:
        if key in (None, UNTRIAGED):
            return self.gettext("Not graded yet")
        found = self.org.grid.get(int(key)) if str(key).isdigit() else None
        return f"{found.level} — {found.name(self.lang)}" if found else str(key)

    def category(self, code: str | None) -> str:
        found = self.org.category(code)
        if found is not None:
            return found.name(self.lang)
        return self.gettext("Not set") if code in (None, UNKNOWN) else str(code)

    def location(self, code: str | None) -> str:
        if code in (None, UNKNOWN):
            return self.gettext("Not known yet")
        found = self.org.location(code)
        if found is None:
            return str(code)
        parent = self.org.location(found.parent) if found.parent else None
        return f"{parent.name(self.lang)} — {found.name(self.lang)}" if parent \
            else found.name(self.lang)

    def gender(self, code: str) -> str:
        _ = self.gettext
        return {"female": _("Female"), "male": _("Male"), "other": _("Other"),
                "unknown": _("Not recorded")}.get(code, code)

    def age_group(self, code: str) -> str:
        _ = self.gettext
        return {"child": _("Child (under 18)"), "adult": _("Adult"),
                "elderly": _("Older person"), "unknown": _("Not recorded")}.get(code, code)

    def status(self, code: str) -> str:
        return status_name(code, self.gettext)

    def satisfaction(self, answer: str) -> str:
        _ = self.gettext
        return {"1": _("Satisfied"), "2": _("Partly satisfied"),
                "3": _("Not satisfied")}.get(answer, answer)

    def age(self, bucket: str) -> str:
        _ = self.gettext
        return {"0-2": _("0–2 days"), "3-7": _("3–7 days"), "8-15": _("8–15 days"),
                "16-30": _("16–30 days"), "31+": _("More than 30 days")}.get(bucket, bucket)

    def dimension(self, name: str) -> str:
        _ = self.gettext
        return {"category": _("Category"), "location": _("Location")}.get(name, name)

    def yes_no(self, value: bool | None) -> str:
        return "" if value is None else (self.gettext("Yes") if value else self.gettext("No"))

    def month(self, first: date, *, short: bool = False) -> str:
        return format_date(first, "MMM y" if short else "MMMM y", locale=self.lang)


# --- the shared shape of every form: sections of rows ----------------------------------------

@dataclass(frozen=True)
class Section:
    key: str  # stable, for the CSV
    title: str
    headers: list[str]  # code, name, then one per metric
    metrics: list[str]  # stable metric names, one per value column
    rows: list[tuple[str, str, list[Any]]]  # (code, name, values)
    kinds: list[str]  # per metric: "count", "share", "days", "text"
    chart_metric: int | None = 0  # which metric a chart shows (None: no chart)
    link_dimension: str | None = None  # the queue filter a row's code is (dashboard)


def summary_rows(report: KpiReport, labels: Labels) -> list[tuple[str, str, Any, str]]:
    """(key, label, value, kind) of the headline figures, in reading order."""
    _ = labels.gettext
    k = report
    return [
        ("received", _("Cases received"), k.received, "count"),
        ("received_sensitive", _("Of which sensitive"), k.received_sensitive, "count"),
        ("closed", _("Cases closed"), k.closed, "count"),
        ("closed_within_deadline", _("Closed within the deadline"), k.closed_within_deadline,
         "count"),
        ("closed_within_deadline_share", _("Share closed within the deadline"),
         k.closed_within_deadline_share, "share"),
        ("six_months_share", _("Share closed within the deadline, last six months"),
         k.six_months_share, "share"),
        ("mean_days_to_close", _("Mean days to close"), k.mean_days_to_close, "days"),
        ("median_days_to_close", _("Median days to close"), k.median_days_to_close, "days"),
        ("open", _("Open at the end of the period"), k.open, "count"),
        ("overdue", _("Overdue at the end of the period"), k.overdue, "count"),
        ("referrals_sent", _("Referrals sent"), k.referrals_sent, "count"),
        ("referrals_answered", _("Referrals answered"), k.referrals_answered, "count"),
        ("referrals_overdue", _("Referrals overdue"), k.referrals_overdue, "count"),
        ("replies", _("Replies to people"), k.replies, "count"),
        ("replies_delivered", _("Replies delivered"), k.replies_delivered, "count"),
        ("replies_sent", _("Replies sent, delivery not reported"), k.replies_sent, "count"),
        ("replies_failed", _("Replies failed"), k.replies_failed, "count"),
        ("replies_pending", _("Replies waiting to be sent"), k.replies_pending, "count"),
        ("surveys_sent", _("Satisfaction surveys sent"), k.surveys_sent, "count"),
        ("satisfaction_answers", _("Survey answers"), k.satisfaction_answers, "count"),
        ("satisfied_share", _("Share satisfied"), k.satisfied_share, "share"),
        ("duplicates", _("Duplicates left out"), k.duplicates, "count"),
        ("info_requests", _("Information requests"), k.info_requests, "count"),
        ("info_answered_share", _("Answered at once by the information line"),
         k.info_answered_share, "share"),
        ("info_satisfied_share", _("Automatic answers that satisfied the person"),
         k.info_satisfied_share, "share"),
        ("closed_automatically", _("Cases closed without an officer's work"),
         k.closed_automatically, "count"),
        ("triage_sensitive_recall", _("Sensitive cases the triage assistant flagged (recall)"),
         k.triage_sensitive_recall, "share"),
        ("triage_sensitive_precision", _("Its sensitive flags officers confirmed (precision)"),
         k.triage_sensitive_precision, "share"),
        ("triage_urgent_recall", _("Urgent cases the triage assistant flagged (recall)"),
         k.triage_urgent_recall, "share"),
        ("triage_urgent_precision", _("Its urgent flags officers confirmed (precision)"),
         k.triage_urgent_precision, "share"),
    ]


def sections(report: KpiReport, labels: Labels) -> list[Section]:
    """Every breakdown, as the dashboard, the XLSX, the PDF and the CSV show it."""
    _ = labels.gettext
    received = [
        ("channel", _("Cases received by channel"), report.received_by_channel, "channel"),
        ("level", _("Cases received by level"), report.received_by_level, "level"),
        ("category", _("Cases received by category"), report.received_by_category,
         "category"),
        ("location", _("Cases received by location"), report.received_by_location,
         "location"),
        ("gender", _("Cases received by gender"), report.received_by_gender, None),
        ("age_group", _("Cases received by age group"), report.received_by_age_group, None),
    ]
    result = [
        Section(key=f"received_by_{name}", title=title,
                headers=[_("Code"), _("Name"), _("Cases"), _("Share")],
                metrics=["cases", "share"], kinds=["count", "share"],
                rows=[(code, labels.of(name, code),
                       [count, round(count / report.received, 4) if report.received else None])
                      for code, count in counts.items()],
                link_dimension=link)
        for name, title, counts, link in received
    ]
    result.append(Section(
        key="within_deadline_by_level", title=_("Closed within the deadline, by level"),
        headers=[_("Code"), _("Level"), _("Cases closed"), _("Within deadline"), _("Share")],
        metrics=["closed", "within", "share"], kinds=["count", "count", "share"],
        rows=[(key, labels.of("level", key), [item.closed, item.within, item.share])
              for key, item in report.within_deadline_by_level.items()],
        chart_metric=2))
    result.append(Section(
        key="six_months", title=_("The last six months"),
        headers=[_("Month"), _("Name"), _("Cases received"), _("Cases closed"),
                 _("Closed within the deadline"), _("Share")],
        metrics=["received", "closed", "within", "share"],
        kinds=["count", "count", "count", "share"],
        rows=[(month.month.strftime("%Y-%m"), labels.month(month.month),
               [month.received, month.closed, month.within, month.share])
              for month in report.six_months],
        chart_metric=3))
    result.append(Section(
        key="open_by_age", title=_("Open cases by age"),
        headers=[_("Code"), _("Age"), _("Open"), _("Overdue")],
        metrics=["open", "overdue"], kinds=["count", "count"],
        rows=[(bucket, labels.age(bucket),
               [report.open_by_age.get(bucket, 0), report.overdue_by_age.get(bucket, 0)])
              for bucket, _lower in AGE_BUCKETS]))
    result.append(Section(
        key="satisfaction", title=_("Satisfaction"),
        headers=[_("Code"), _("Answer"), _("Answers"), _("Share")],
        metrics=["answers", "share"], kinds=["count", "share"],
        rows=[(answer, labels.satisfaction(answer),
               [report.satisfaction.get(answer, 0),
                round(report.satisfaction.get(answer, 0) / report.satisfaction_answers, 4)
                if report.satisfaction_answers else None])
              for answer in SATISFACTION_ANSWERS]))
    result.append(Section(
        key="channels_by_location", title=_("Channels used per location"),
        headers=[_("Code"), _("Location"), _("Number of channels"), _("Channels")],
        metrics=["channels", "names"], kinds=["count", "text"],
        rows=[(code, labels.of("location", code),
               [len(names), format_list([labels.of("channel", name) for name in names],
                                        style="unit", locale=labels.lang)])
              for code, names in report.channels_by_location.items()],
        link_dimension="location"))
    return result


def alert_section(alerts: list[TrendAlert], labels: Labels) -> Section:
    _ = labels.gettext
    return Section(
        key="trend_alerts", title=_("Trend alerts"),
        headers=[_("Code"), _("Name"), _("Cases this week"), _("Weekly mean before"),
                 _("Alert above"), _("Of which sensitive")],
        metrics=["count", "mean", "threshold", "sensitive"],
        kinds=["count", "days", "days", "count"],
        rows=[(f"{alert.dimension}:{alert.code}",
               f"{labels.dimension(alert.dimension)}: {labels.of(alert.dimension, alert.code)}",
               [alert.count, alert.mean, alert.threshold, alert.sensitive])
              for alert in alerts],
        chart_metric=None)


def report_sections(report: MonthlyReport) -> list[Section]:
    """Every section of the files, in order: breakdowns, programme KPIs, trend alerts."""
    return [*sections(report.kpis, report.labels), *programme_sections(report),
            alert_section(report.alerts, report.labels)]


def programme_sections(report: MonthlyReport) -> list[Section]:
    if report.programme is None:
        return []
    return [programme_section(report.programme, report.labels),
            preferred_section(report.programme, report.labels),
            lessons_section(report.lessons, report.labels)]


def programme_section(figures: ProgrammeKpis, labels: Labels) -> Section:
    """The job description's KPIs, each with its numerator, denominator and share; the
    result column says "No data" where there is nothing to divide by."""
    _ = labels.gettext
    return Section(
        key="programme_kpis", title=_("Programme KPIs"),
        headers=[_("Code"), _("Indicator"), _("Numerator"), _("Denominator"), _("Share"),
                 _("Result")],
        metrics=["numerator", "denominator", "share", "result"],
        kinds=["count", "count", "share", "text"],
        rows=[(code, name, _programme_values(code, ratio, result, labels))
              for code, name, ratio, result in programme_rows(figures, labels)],
        chart_metric=None)


DAYS_ROWS = ("mean_days_to_close", "median_days_to_close")


def _programme_values(code: str, ratio: Ratio, result: str | None, labels: Labels
                      ) -> list[Any]:
    """Numerator, denominator, share and result of one row; days are not a share, and a
    median has no numerator."""
    if code in DAYS_ROWS:
        numerator = ratio.numerator if code == "mean_days_to_close" else None
        return [numerator, ratio.denominator, None, result]
    return [ratio.numerator, ratio.denominator, ratio.share,
            result or _ratio_text(ratio, labels)]


def programme_rows(figures: ProgrammeKpis, labels: Labels
                   ) -> list[tuple[str, str, Ratio, str | None]]:
    """(code, indicator, ratio, result text or None for the share) in reading order."""
    _ = labels.gettext
    place = labels.location
    rows: list[tuple[str, str, Ratio, str | None]] = [
        ("staff_trained", _("Staff trained on accountability and the CRM (last 12 months)"),
         figures.trained, None)]
    rows += [(f"staff_trained:{code}", f"— {place(code)}", ratio, None)
             for code, ratio in figures.trained_by_location.items()]
    rows += [(f"channels:{code}", _("Accessible channels working in %(place)s")
              % {"place": place(code)}, ratio,
              _channel_list(figures.working_channels.get(code, []), labels))
             for code, ratio in figures.channels_by_location.items()]
    rows += [
        ("closed_within_six_months",
         _("Complaints closed within the deadline, last six months"),
         figures.closed_within_six_months, None),
        ("projects_with_strategy",
         _("Projects with a strategy for informing communities about the CRM"),
         figures.projects_with_strategy, None),
        ("aware", _("People interviewed who know the CRM exists (last six months)"),
         figures.aware, None),
        ("know_how", _("People interviewed who know how to use the CRM (last six months)"),
         figures.know_how, None)]
    rows += [(f"aware:{code}", f"— {place(code)}", ratio, None)
             for code, ratio in figures.aware_by_location.items()]
    rows += _database_rows(figures, labels)
    rows += [
        ("reports_on_time", _("Monthly CRM reports submitted on time (last 12 months)"),
         figures.reports_on_time, None),
        ("mean_days_to_close", _("Mean days to close a case (total days / cases closed)"),
         figures.days_to_close, _days_text(figures.mean_days_to_close, labels)),
        ("median_days_to_close", _("Median days to close a case"),
         Ratio(0, figures.days_to_close.denominator),
         _days_text(figures.median_days_to_close, labels))]
    return rows


def _database_rows(figures: ProgrammeKpis, labels: Labels
                   ) -> list[tuple[str, str, Ratio, str | None]]:
    _ = labels.gettext
    database = figures.case_database
    met = database.met
    last = (format_date(database.last_case_update.date(), "medium", locale=labels.lang)
            if database.last_case_update else _("never"))
    verdict = _("No data") if met is None else (_("Yes") if met else _("No"))
    return [
        ("two_factor", _("Staff with case access who sign in with a second factor"),
         database.two_factor, None),
        ("case_database",
         _("One consistent, password-protected, up-to-date case database"),
         Ratio(int(bool(met)), 0 if met is None else 1),
         _("%(verdict)s (last case update: %(date)s; open cases: %(open)s)")
         % {"verdict": verdict, "date": last, "open": database.open_cases})]


def _ratio_text(ratio: Ratio, labels: Labels) -> str:
    if ratio.share is None:
        return labels.gettext("No data")
    return format_value(ratio.share, "share")


def _days_text(days: float | None, labels: Labels) -> str:
    return labels.gettext("No data") if days is None else format_value(days, "days")


def _channel_list(channels: list[str], labels: Labels) -> str:
    if not channels:
        return labels.gettext("None")
    return format_list([labels.of("channel", name) for name in channels], style="unit",
                       locale=labels.lang)


def preferred_section(figures: ProgrammeKpis, labels: Labels) -> Section:
    _ = labels.gettext
    total = sum(figures.preferred_channels.values())
    return Section(
        key="preferred_channels", title=_("Channels people prefer (awareness surveys)"),
        headers=[_("Code"), _("Channel"), _("People"), _("Share")],
        metrics=["people", "share"], kinds=["count", "share"],
        rows=[(channel, labels.of("channel", channel), [count, round(count / total, 4)])
              for channel, count in figures.preferred_channels.items()])


def lessons_section(lessons: list[LessonLearned], labels: Labels) -> Section:
    _ = labels.gettext
    statuses = {"open": _("Open"), "in_progress": _("In progress"), "done": _("Done")}
    return Section(
        key="lessons_learned", title=_("Lessons learned this month"),
        headers=[_("Code"), _("Lesson"), _("Recommendation"), _("Status"), _("Linked to")],
        metrics=["recommendation", "status", "linked_to"], kinds=["text", "text", "text"],
        rows=[(str(lesson.id), lesson.title, [lesson.recommendation,
                                              statuses.get(lesson.status, lesson.status),
                                              _lesson_links(lesson, labels)])
              for lesson in lessons],
        chart_metric=None)


def _lesson_links(lesson: LessonLearned, labels: Labels) -> str:
    _ = labels.gettext
    links = []
    if lesson.case is not None and lesson.case.sensitive:
        links.append(_("a sensitive case"))  # the management report names none
    elif lesson.case is not None:
        links.append(_("case %(reference)s") % {"reference": lesson.case.reference})
    if lesson.category:
        links.append(labels.of("category", lesson.category))
    if lesson.project is not None:
        links.append(lesson.project.name)
    return format_list(links, style="unit", locale=labels.lang) if links else ""


def report_title(report: MonthlyReport) -> str:
    return report.labels.gettext("Monthly CRM report")


# --- XLSX --------------------------------------------------------------------------------------

def write_xlsx(report: MonthlyReport, out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    labels, _ = report.labels, report.labels.gettext
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    titles: set[str] = set()

    def sheet(title: str) -> Any:
        name = _sheet_name(title, titles)
        worksheet = book.create_sheet(name)
        worksheet.sheet_view.rightToLeft = labels.rtl
        return worksheet

    def cell(worksheet: Any, value: Any, kind: str = "text", strong: bool = False) -> Any:
        item = WriteOnlyCell(worksheet, value=value)
        if strong:
            item.font = bold
        item.number_format = {"share": "0.0%", "days": "0.00", "date": "yyyy-mm-dd hh:mm",
                              "count": "#,##0"}.get(kind, "General")
        return item

    summary = sheet(_("Summary"))
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 18
    summary.append([cell(summary, report.org_name, strong=True)])
    summary.append([cell(summary, report_title(report), strong=True),
                    cell(summary, labels.month(report.month))])
    summary.append([cell(summary, _("Period")),
                    cell(summary, f"{report.kpis.start:%Y-%m-%d} – {report.kpis.end:%Y-%m-%d}")])
    summary.append([cell(summary, _("Time zone")), cell(summary, labels.zone(report.timezone))])
    summary.append([cell(summary, _("Generated")),
                    cell(summary, report.generated_at.replace(tzinfo=None), "date")])
    summary.append([])
    summary.append([cell(summary, _("Indicator"), strong=True),
                    cell(summary, _("Value"), strong=True)])
    for _key, label, value, kind in summary_rows(report.kpis, labels):
        summary.append([cell(summary, label), cell(summary, value, kind)])

    for section in report_sections(report):
        worksheet = sheet(_sheet_title(section, labels))
        worksheet.column_dimensions["B"].width = 40
        worksheet.append([cell(worksheet, section.title, strong=True)])
        worksheet.append([cell(worksheet, header, strong=True) for header in section.headers])
        for code, name, values in section.rows:
            worksheet.append([cell(worksheet, code), cell(worksheet, name),
                              *[cell(worksheet, value, kind)
                                for value, kind in zip(values, section.kinds, strict=True)]])
        if section.chart_metric is not None and section.rows:
            chart = BarChart()
            chart.type = "bar" if len(section.rows) > 6 else "col"
            chart.title = section.title
            chart.legend = None
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            column = 3 + section.chart_metric
            last = 2 + len(section.rows)
            chart.add_data(Reference(worksheet, min_col=column, min_row=2, max_row=last),
                           titles_from_data=True)
            chart.set_categories(Reference(worksheet, min_col=2, min_row=3, max_row=last))
            chart.height = max(7.5, 0.6 * len(section.rows) + 3)
            chart.width = 18
            worksheet.add_chart(chart, f"{_column_letter(len(section.headers) + 2)}2")

    cases = sheet(_("Cases"))
    headers = [_("Reference"), _("Received on"), _("Due"), _("Closed on"), _("Channel"),
               _("Level"), _("Category"), _("Location"), _("Status"), _("Within deadline")]
    for index, width in enumerate((11, 17, 17, 17, 16, 30, 30, 30, 11, 11)):
        cases.column_dimensions[_column_letter(index + 1)].width = width
    cases.append([cell(cases, _("Anonymised case list: no contact details, no messages."),
                       strong=True)])
    cases.append([cell(cases, header, strong=True) for header in headers])
    # One row of each kind of cell; _write_case_rows replaces it with the case list.
    sample = datetime(2000, 1, 1)
    cases.append(["", cell(cases, sample, "date"), cell(cases, sample, "date"),
                  cell(cases, sample, "date"), *[""] * 6])
    buffer = io.BytesIO()
    book.save(buffer)
    _write_case_rows(buffer, cases.path.lstrip("/"), report, out)


# The case list of a busy month is a million cells: openpyxl writes about 50,000 a second,
# so the sheet's rows are written here as SpreadsheetML directly (inline strings, dates as
# serial numbers with the date style openpyxl registered for the template row).
_TEMPLATE_ROW = 3
_EXCEL_EPOCH = datetime(1899, 12, 30)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL_STYLE = re.compile(r'<c r="([A-Z]+)\d+"(?: s="(\d+)")?')


def _write_case_rows(workbook: io.BytesIO, sheet: str, report: MonthlyReport,
                     out: IO[bytes]) -> None:
    with zipfile.ZipFile(workbook) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != sheet:
                target.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            start = xml.index(f'<row r="{_TEMPLATE_ROW}"')
            end = xml.index("</row>", start) + len("</row>")
            styles = dict(_CELL_STYLE.findall(xml[start:end]))
            bold = dict(_CELL_STYLE.findall(xml[:start])).get("A", "")
            with target.open(info.filename, "w") as stream:
                stream.write(xml[:start].encode("utf-8"))
                for chunk in _case_row_xml(report, styles, bold):
                    stream.write(chunk.encode("utf-8"))
                stream.write(xml[end:].encode("utf-8"))


def _case_row_xml(report: MonthlyReport, styles: dict[str, str], bold: str
                  ) -> Iterator[str]:
    """The case list as <row> elements. Cells carry no reference (optional in SpreadsheetML:
    each follows the one before), so a label's cell is one cached string."""
    labels = report.labels
    cells: dict[tuple[str, Any], str] = {}

    def label(dimension: str, code: Any) -> str:
        key = (dimension, code)
        found = cells.get(key)
        if found is None:
            shown = labels.yes_no(code) if dimension == "yes_no" else labels.of(dimension, code)
            found = cells[key] = f'<c t="inlineStr"><is><t>{_xml(shown)}</t></is></c>' \
                if shown else "<c/>"
        return found

    date_style = {column: f' s="{styles[column]}"' if styles.get(column) else ""
                  for column in "BCD"}

    def moment(column: str, value: datetime | None) -> str:
        if value is None:
            return "<c/>"
        serial = (value - _EXCEL_EPOCH).total_seconds() / 86400
        return f'<c{date_style[column]} t="n"><v>{serial!r}</v></c>'

    chunk: list[str] = []
    number = _TEMPLATE_ROW
    for row in report.cases:
        chunk.append(
            f'<row r="{number}"><c t="inlineStr"><is><t>{_xml(row.reference)}</t></is></c>'
            f'{moment("B", row.received)}{moment("C", row.due)}{moment("D", row.closed)}'
            f'{label("channel", row.channel)}{label("level", row.level)}'
            f'{label("category", row.category)}{label("location", row.location)}'
            f'{label("status", row.status)}{label("yes_no", row.within_deadline)}</row>')
        number += 1
        if len(chunk) == 2000:
            yield "".join(chunk)
            chunk = []
    if report.withheld_sensitive:
        number += 1
        style = f' s="{bold}"' if bold else ""
        chunk.append(f'<row r="{number}"><c{style} t="inlineStr"><is><t>'
                     f"{_xml(withheld_note(report))}</t></is></c></row>")
    yield "".join(chunk)


def _xml(value: str) -> str:
    return _XML_ILLEGAL.sub("", escape(value))


def withheld_note(report: MonthlyReport) -> str:
    return report.labels.gettext(
        "Sensitive cases not listed (counted only): %(count)s") % {
        "count": report.withheld_sensitive}


def _sheet_title(section: Section, labels: Labels) -> str:
    _ = labels.gettext
    return {
        "received_by_channel": _("Channels"), "received_by_level": _("Levels"),
        "received_by_category": _("Categories"), "received_by_location": _("Locations"),
        "received_by_gender": _("Gender"), "received_by_age_group": _("Age groups"),
        "within_deadline_by_level": _("Deadlines by level"), "six_months": _("Six months"),
        "open_by_age": _("Open by age"), "satisfaction": _("Satisfaction"),
        "channels_by_location": _("Channels per location"), "trend_alerts": _("Trend alerts"),
        "programme_kpis": _("Programme KPIs"), "preferred_channels": _("Preferred channels"),
        "lessons_learned": _("Lessons learned"),
    }.get(section.key, section.key)


def _sheet_name(title: str, taken: set[str]) -> str:
    name = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    candidate, number = name, 2
    while candidate.lower() in taken:
        candidate = f"{name[:28]} {number}"
        number += 1
    taken.add(candidate.lower())
    return candidate


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(index)


# --- PDF ---------------------------------------------------------------------------------------

def render_html(report: MonthlyReport) -> str:
    """The PDF's HTML. Its charts are HTML and CSS (bars are sized boxes): WeasyPrint lays out
    HTML text with Pango in full, while its own SVG text drawing loses Arabic diacritics and
    bracket mirroring. The console's dashboard draws the same figures as SVG."""
    labels = report.labels
    _ = labels.gettext
    environment = _environment(report.lang)
    all_sections = [*sections(report.kpis, labels), *programme_sections(report)]
    largest = max([1, *[value for month in report.kpis.six_months
                        for value in (month.received, month.closed)]])
    return environment.get_template("reports/monthly.html").render(
        report=report, title=report_title(report), labels=labels,
        summary=summary_rows(report.kpis, labels), sections=all_sections,
        alerts=alert_section(report.alerts, labels), fmt=format_value, fractions=bar_fractions,
        series=trend_series(labels), largest=largest,
        month_label=labels.month(report.month),
        withheld=withheld_note(report) if report.withheld_sensitive else None,
        direction="rtl" if labels.rtl else "ltr")


def write_pdf(report: MonthlyReport, out: IO[bytes]) -> None:
    from weasyprint import HTML

    # WeasyPrint reports every layout step at INFO; keep the worker's log readable.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.WARNING)
    HTML(string=render_html(report), base_url=str(TEMPLATES)).write_pdf(out)


def bar_fractions(section: Section) -> list[float]:
    """Each row's bar length (0–1) for the section's chart: a share as itself, a count
    against the largest count."""
    if section.chart_metric is None:
        return []
    values = [values[section.chart_metric] or 0 for _code, _name, values in section.rows]
    if section.kinds[section.chart_metric] == "share":
        return [min(float(value), 1.0) for value in values]
    largest = max(values, default=0) or 1
    return [value / largest for value in values]


def trend_series(labels: Labels) -> list[str]:
    """The series of the six-month chart: received, closed, closed within the deadline."""
    _ = labels.gettext
    return [_("Cases received"), _("Cases closed"), _("Closed within the deadline")]


def format_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "share":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.2f}"
    if kind == "count":
        return f"{value:,}"
    return str(value)


@lru_cache(maxsize=4)
def _environment(lang: str) -> Environment:
    environment = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                              autoescape=select_autoescape(["html"]),
                              extensions=["jinja2.ext.i18n"])
    environment.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return environment


# --- CSV (ZIP) --------------------------------------------------------------------------------

def write_csv(report: MonthlyReport, out: IO[bytes]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kpis.csv", _csv(_kpi_rows(report)))
        archive.writestr("cases.csv", _csv(_case_csv_rows(report)))


def _kpi_rows(report: MonthlyReport) -> Iterator[list[Any]]:
    labels = report.labels
    start, end = report.kpis.start.isoformat(), report.kpis.end.isoformat()
    yield ["period_start", "period_end", "section", "key", "label", "metric", "value"]
    for key, label, value, _kind in summary_rows(report.kpis, labels):
        yield [start, end, "summary", key, label, key, _plain(value)]
    for section in report_sections(report):
        for code, name, values in section.rows:
            for metric, value in zip(section.metrics, values, strict=True):
                yield [start, end, section.key, code, name, metric, _plain(value)]
    if report.withheld_sensitive:
        yield [start, end, "cases", "sensitive_withheld", withheld_note(report), "cases",
               report.withheld_sensitive]


def _case_csv_rows(report: MonthlyReport) -> Iterator[list[Any]]:
    labels = report.labels
    yield ["reference", "received_at", "due_at", "closed_at", "timezone", "channel",
           "channel_name", "level", "level_name", "category", "category_name", "location",
           "location_name", "governorate", "status", "status_name", "within_deadline"]
    zone = report.timezone
    for row in report.cases:
        yield [row.reference, _stamp(row.received), _stamp(row.due),
               _stamp(row.closed) if row.closed else "", zone, row.channel,
               labels.of("channel", row.channel), "" if row.level is None else row.level,
               labels.of("level", row.level), row.category or "",
               labels.of("category", row.category), row.location or "",
               labels.of("location", row.location),
               governorate_of(row.location) if row.location else "", row.status,
               labels.of("status", row.status),
               "" if row.within_deadline is None else int(row.within_deadline)]


def _csv(rows: Iterator[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets Excel read Arabic


def _plain(value: Any) -> Any:
    return "" if value is None else value


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# --- files ------------------------------------------------------------------------------------

WRITERS: dict[str, Callable[[MonthlyReport, IO[bytes]], None]] = {
    "xlsx": write_xlsx, "pdf": write_pdf, "csv": write_csv}


def render(report: MonthlyReport, fmt: str) -> bytes:
    buffer = io.BytesIO()
    WRITERS[fmt](report, buffer)
    return buffer.getvalue()


def report_filename(month: date, fmt: str, lang: str) -> str:
    suffix = "zip" if fmt == "csv" else fmt
    extra = "-csv" if fmt == "csv" else ""
    return f"sawti-crm-report-{month:%Y-%m}-{lang}{extra}.{suffix}"


def kept_path(instance_path: Path, month: date, fmt: str, lang: str) -> Path:
    return instance_path / KEPT_FOLDER / report_filename(month_start(month), fmt, lang)


def keep_monthly_report(session: Session, services: Services, month: date) -> list[Path]:
    """Write the month's management report (XLSX, PDF and CSV, in Arabic and English) under
    ``instance/reports/`` for download from the dashboard; returns the files written.
    The scheduler calls it on the first day of each month for the month that just ended."""
    settings = services.settings
    tz = ZoneInfo(settings.sawti_timezone)
    written = []
    for lang in LANGUAGES:
        report = build_report(session, month, org=services.org_data,
                              org_name=settings.org_name_in(lang), tz=tz, lang=lang,
                              configured_channels=programme.configured_channels(settings),
                              due_day=settings.sawti_report_due_day)
        for fmt in FORMATS:
            path = kept_path(settings.sawti_instance_path, month, fmt, lang)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            with partial.open("wb") as handle:
                WRITERS[fmt](report, handle)
            partial.replace(path)  # readers never see half a file
            written.append(path)
    return written


def previous_month(now: datetime, tz: tzinfo = UTC) -> date:
    """The month before the one ``now`` falls in, locally."""
    return month_start(now.astimezone(tz).date(), 1)
