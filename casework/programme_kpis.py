"""The seed KPIs of an accountability officer (the job description's list), each with its
numerator and denominator, for the dashboard, the API and the monthly report files.

Every figure is a ``Ratio``: ``share`` is numerator / denominator, or None ("no data") when the
denominator is 0 — never 0 %, never an error. The period is the report's (local days
``start``..``end`` in ``tz``); "as of" is the end of the period, or now if it has not ended.
Where the job description is silent, the definitions are what an M&E officer would expect:

- **staff trained** (per governorate and overall): our own staff who took part in trainings on
  accountability and the CRM held in the 365 days ending with the period's last day (the
  participant rows marked ``own_staff``), over the staff headcount of the governorate. A
  training's location is rolled up to its governorate. Participant counts stand in for
  distinct people (nobody keeps names), so a person trained twice counts twice: the
  numerator is capped at the headcount. Overall: the sum of the capped numerators over the
  sum of the headcounts; places without a headcount are left out (nothing to divide by).
- **channels per location**: the channels working in each governorate
  (``casework.programme.channel_availability`` as of the period's end: configured or used in
  the 90 days before it, with officers' corrections) over the channels listed there
  (configured, used or corrected). The KPI is the numerator; the denominator shows what it is
  out of.
- **closed within the deadline over the last six months**: ``KpiReport.six_months_within`` /
  ``six_months_closed`` (casework.reports: the six calendar months ending with the period's
  last month). The deadline is the case's level's (15 days in the seed grid for
  non-sensitive cases, shorter for sensitive ones).
- **projects with a CRM information strategy**: projects running on some day of the period
  (no start date: began before; no end date: still running) that have a strategy, over those
  running.
- **beneficiaries aware of the CRM / who know how to use it**: over the awareness surveys whose
  period ends in the six calendar months ending with the period's last month, the sum of
  ``aware`` (``know_how``) over the sum of ``interviewed``; per governorate too, and the
  channels people said they prefer, summed.
- **one consistent, protected, up-to-date case database**: met when (a) every active user of a
  case role (officer, PSEA, focal point — the roles that open cases) has confirmed
  two-factor sign-in: numerator enrolled, denominator all of them (sign-in itself is always
  required); and (b) the case record is kept up to date: the last recorded action on any case
  (the audit trail) is at most 7 days before "as of", or there is no open case then. None
  (no data) when no active user has a case role.
- **monthly reports submitted on time**: the last 12 months whose report was due by "as of"
  (due: ``SAWTI_REPORT_DUE_DAY`` of the following month, local date), counting only months
  from the month Sawti's first case or first report log entry is from (months before the
  service existed are not "late"); on time: marked submitted on or before the due day (local
  date of ``submitted_at``).
- **days to close**: ``KpiReport`` mean and median (closed_at − created_at of cases closed in
  the period); the numerator is the total days (mean × cases closed, from the mean rounded
  to 0.01 day), the denominator the cases closed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casework import programme
from casework.access import CONTENT_ROLES
from casework.models import (
    AuditEvent,
    AwarenessSurvey,
    Case,
    CaseStatus,
    ReportSubmission,
    StaffHeadcount,
    Training,
    TrainingParticipant,
    User,
    utcnow,
)
from casework.reports import (
    SIX_MONTHS,
    KpiReport,
    governorate_of,
    local_midnight,
    month_start,
    share,
)

TRAINING_DAYS = 365
DATABASE_FRESH_DAYS = 7
REPORT_MONTHS = 12
CASE_ROLES = sorted(CONTENT_ROLES)  # the roles that open cases (and must use 2FA)


@dataclass(frozen=True)
class Ratio:
    numerator: float
    denominator: int

    @property
    def share(self) -> float | None:
        return share(self.numerator, self.denominator)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReportMonth:
    month: date
    due: date
    submitted_on: date | None  # local date

    @property
    def on_time(self) -> bool:
        return self.submitted_on is not None and self.submitted_on <= self.due


@dataclass(frozen=True)
class CaseDatabase:
    two_factor: Ratio  # active users of case roles with 2FA confirmed / all of them
    last_case_update: datetime | None
    open_cases: int
    up_to_date: bool

    @property
    def met(self) -> bool | None:
        if not self.two_factor.denominator:
            return None
        return self.two_factor.numerator == self.two_factor.denominator and self.up_to_date


@dataclass(frozen=True)
class ProgrammeKpis:
    start: date
    end: date
    as_of: datetime
    trained: Ratio
    trained_by_location: dict[str, Ratio]
    channels_by_location: dict[str, Ratio]
    working_channels: dict[str, list[str]]
    closed_within_six_months: Ratio
    projects_with_strategy: Ratio
    aware: Ratio
    know_how: Ratio
    aware_by_location: dict[str, Ratio]
    know_how_by_location: dict[str, Ratio]
    preferred_channels: dict[str, int]
    case_database: CaseDatabase
    reports_on_time: Ratio
    report_months: list[ReportMonth]
    days_to_close: Ratio  # total days / cases closed
    mean_days_to_close: float | None
    median_days_to_close: float | None
    due_day: int = 10
    notes: list[str] = field(default_factory=list)


def programme_kpis(session: Session, report: KpiReport, *, tz: tzinfo = UTC,
                   configured: Collection[str] = (), locations: Sequence[str] = (),
                   due_day: int = 10, now: datetime | None = None) -> ProgrammeKpis:
    """The programme KPIs of the period of ``report`` (``casework.reports.kpis``)."""
    finish = local_midnight(report.end + timedelta(days=1), tz)
    as_of = min(finish, now or utcnow())
    trained_by = _trained(session, report.end)
    channels = programme.channel_availability(session, configured=configured,
                                              locations=locations, now=as_of)
    aware_by, know_by, preferred, aware, know = _awareness(session, report.end)
    months = _report_months(session, as_of, tz, due_day)
    closed = report.closed
    mean = report.mean_days_to_close
    return ProgrammeKpis(
        start=report.start, end=report.end, as_of=as_of,
        trained=Ratio(sum(int(item.numerator) for item in trained_by.values()),
                      sum(item.denominator for item in trained_by.values())),
        trained_by_location=trained_by,
        channels_by_location={place: Ratio(sum(state.working for state in states), len(states))
                              for place, states in channels.items()},
        working_channels={place: [state.channel for state in states if state.working]
                          for place, states in channels.items()},
        closed_within_six_months=Ratio(report.six_months_within, report.six_months_closed),
        projects_with_strategy=_strategy(session, report.start, report.end),
        aware=aware, know_how=know, aware_by_location=aware_by, know_how_by_location=know_by,
        preferred_channels=preferred,
        case_database=_case_database(session, as_of),
        reports_on_time=Ratio(sum(month.on_time for month in months), len(months)),
        report_months=months,
        days_to_close=Ratio(round(mean * closed, 2) if mean is not None else 0, closed),
        mean_days_to_close=mean, median_days_to_close=report.median_days_to_close,
        due_day=due_day)


# --- staff trained --------------------------------------------------------------------------

def _trained(session: Session, end: date) -> dict[str, Ratio]:
    """Governorate → own staff trained (capped at the headcount) / headcount."""
    rows = session.execute(
        select(Training.location, func.sum(TrainingParticipant.count))
        .join(TrainingParticipant, TrainingParticipant.training_id == Training.id)
        .where(TrainingParticipant.own_staff.is_(True),
               Training.held_on > end - timedelta(days=TRAINING_DAYS), Training.held_on <= end,
               Training.location.is_not(None))
        .group_by(Training.location))
    trained: dict[str, int] = {}
    for location, count in rows:
        place = governorate_of(location)
        trained[place] = trained.get(place, 0) + int(count or 0)
    return {row.location: Ratio(min(trained.get(row.location, 0), row.headcount), row.headcount)
            for row in session.scalars(select(StaffHeadcount).order_by(StaffHeadcount.location))
            if row.headcount > 0}


# --- projects -----------------------------------------------------------------------------------

def _strategy(session: Session, start: date, end: date) -> Ratio:
    projects = programme.list_projects(session, active_from=start, active_to=end)
    return Ratio(sum(project.has_strategy for project in projects), len(projects))


# --- awareness surveys ------------------------------------------------------------------------

def _awareness(session: Session, end: date
               ) -> tuple[dict[str, Ratio], dict[str, Ratio], dict[str, int], Ratio, Ratio]:
    """Per governorate and overall: aware / interviewed and know how / interviewed, over the
    surveys whose period ends in the six months ending with ``end``'s month."""
    surveys = session.scalars(select(AwarenessSurvey).where(
        AwarenessSurvey.period_end >= month_start(end, SIX_MONTHS - 1),
        AwarenessSurvey.period_end <= end))
    totals: dict[str, list[int]] = {}
    preferred: dict[str, int] = {}
    for survey in surveys:
        total = totals.setdefault(governorate_of(survey.location), [0, 0, 0])
        total[0] += survey.aware
        total[1] += survey.know_how
        total[2] += survey.interviewed
        for channel, count in (survey.preferred_channels or {}).items():
            preferred[channel] = preferred.get(channel, 0) + int(count)
    places = sorted(totals)
    aware = {place: Ratio(totals[place][0], totals[place][2]) for place in places}
    know = {place: Ratio(totals[place][1], totals[place][2]) for place in places}
    interviewed = sum(total[2] for total in totals.values())
    return (aware, know, dict(sorted(preferred.items(), key=lambda item: (-item[1], item[0]))),
            Ratio(sum(total[0] for total in totals.values()), interviewed),
            Ratio(sum(total[1] for total in totals.values()), interviewed))


# --- the case database --------------------------------------------------------------------------

def _case_database(session: Session, as_of: datetime) -> CaseDatabase:
    users = session.execute(
        select(func.count(), func.count(User.totp_confirmed_at))
        .where(User.active.is_(True), User.role.in_([str(role) for role in CASE_ROLES]))).one()
    last = session.scalar(select(func.max(AuditEvent.at))
                          .where(AuditEvent.case_id.is_not(None), AuditEvent.at < as_of))
    open_cases = session.scalar(select(func.count()).select_from(Case).where(
        Case.created_at < as_of, Case.merged_into_id.is_(None),
        or_(Case.status != CaseStatus.CLOSED, Case.closed_at >= as_of,
            Case.closed_at.is_(None)))) or 0
    fresh = last is not None and as_of - last <= timedelta(days=DATABASE_FRESH_DAYS)
    return CaseDatabase(two_factor=Ratio(int(users[1] or 0), int(users[0] or 0)),
                        last_case_update=last, open_cases=open_cases,
                        up_to_date=fresh or open_cases == 0)


# --- reports submitted on time ------------------------------------------------------------------

def _report_months(session: Session, as_of: datetime, tz: tzinfo, due_day: int
                   ) -> list[ReportMonth]:
    """The last 12 months whose report was due by ``as_of``, from Sawti's first month."""
    today = as_of.astimezone(tz).date()
    first = _first_month(session, tz)
    if first is None:
        return []
    months = [month for back in range(REPORT_MONTHS + 1)
              if (month := month_start(today, back)) >= first
              and local_midnight(programme.due_date(month, due_day) + timedelta(days=1), tz)
              <= as_of]
    months = sorted(months)[-REPORT_MONTHS:]
    submitted = {row.month: row.submitted_at for row in session.scalars(
        select(ReportSubmission).where(ReportSubmission.month.in_(months)))} if months else {}
    return [ReportMonth(month, programme.due_date(month, due_day),
                        submitted[month].astimezone(tz).date()
                        if submitted.get(month) is not None else None)
            for month in months]


def _first_month(session: Session, tz: tzinfo) -> date | None:
    first_case = session.scalar(select(func.min(Case.created_at)))
    first_log = session.scalar(select(func.min(ReportSubmission.month)))
    candidates = [month_start(first_case.astimezone(tz).date())] if first_case else []
    candidates += [first_log] if first_log else []
    return min(candidates, default=None)
