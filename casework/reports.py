"""Key performance indicators, computed once here for the console, the API and report files.

Periods are whole days in the organisation's time zone (``SAWTI_TIMEZONE``), both ends
included: 1–31 March in Damascus runs from 1 March 00:00 local time (28 February 21:00 UTC) to
1 April 00:00 local time. Callers pass that zone as ``tz``.

Definitions:
- **received**: cases created in the period, by channel, level ("untriaged" when none),
  category, location (governorate; districts roll up into it), gender and age group
  ("unknown" when not recorded); ``received_sensitive`` counts the sensitive ones;
- **closed**: cases closed in the period; **within deadline**: of those, closed_at <= due_at —
  overall and per level (the level the case has now);
- **days to close**: closed_at − created_at for cases closed in the period, mean and median;
  None when nothing closed (never 0, never an error);
- **months**: the calendar months the period touches, clipped to the period (their sums equal
  the period's totals): received, closed, within deadline;
- **six months**: the six whole calendar months ending with the month of the period's last
  day (the current month counts as it stands): closed and within deadline, overall and per
  level — the job description's "% closed within 15 days over the last six months";
- **open / overdue** "as of" the end of the period (or now, if the period has not ended):
  cases received before then and not closed by then / of those, past their due time; both by
  age in days (0–2, 3–7, 8–15, 16–30, 31+). A case reopened later counts as open;
- **referrals**: sent in the period; answered in the period; overdue as of the end: not
  answered, past due, on a case still open;
- **replies** (officers' answers, kind "reply") queued in the period by where they stand now:
  delivered (confirmed by the provider), sent (accepted by the provider, no delivery report:
  Telegram's final state), failed, pending (queued, sending or held);
- **satisfaction**: survey answers given in the period (1 satisfied, 2 partly, 3 not
  satisfied) and the share satisfied; surveys sent in the period;
- **channels per location**: the channels through which cases from each governorate were
  received in the period. Configured channels are the same for every place, so they say
  nothing about access in an area; what people actually used does (the job description's
  "number of accessible channels per area"). Manual entries count with how they arrived
  (in person, complaint box, colleague, staffed phone line).
Cases closed as duplicates of another case (``merged_into_id``) are left out of every figure;
``duplicates`` counts those received in the period.

Every figure is computed in SQL (COUNT/SUM with GROUP BY; the breakdowns of cases received in
one GROUPING SETS scan on PostgreSQL; the median with percentile_cont there, from the middle
rows on SQLite); Python only adds up a few thousand grouped rows at most. A year of 220,000
cases takes about seven scans of the table. Only counts and durations leave this module, so
sensitive cases appear as numbers only — whoever reads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from casework.models import (
    Case,
    CaseStatus,
    DeliveryStatus,
    Direction,
    Message,
    Referral,
    utcnow,
)

SECONDS_PER_DAY = 86400
UNTRIAGED = "untriaged"
UNKNOWN = "unknown"
SIX_MONTHS = 6
# (key, lower bound in whole days) — an open case's age falls in the last bucket it reaches.
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("0-2", 0), ("3-7", 3), ("8-15", 8), ("16-30", 16), ("31+", 31))
REPLY_KIND = "reply"
REPLY_STATES: dict[str, str] = {
    DeliveryStatus.DELIVERED: "delivered", DeliveryStatus.READ: "delivered",
    DeliveryStatus.SENT: "sent", DeliveryStatus.FAILED: "failed",
    DeliveryStatus.QUEUED: "pending", DeliveryStatus.SENDING: "pending",
    DeliveryStatus.HELD: "pending", DeliveryStatus.CANCELLED: "cancelled",
}
SATISFACTION_ANSWERS = ("1", "2", "3")
WORK_MEM = "32MB"


@dataclass(frozen=True)
class Period:
    """Whole local days ``start``..``end`` (included) in the zone ``tz``."""

    start: date
    end: date
    tz: tzinfo = UTC

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @property
    def begin(self) -> datetime:
        return local_midnight(self.start, self.tz)

    @property
    def finish(self) -> datetime:
        return local_midnight(self.end + timedelta(days=1), self.tz)


@dataclass(frozen=True)
class DeadlineShare:
    closed: int
    within: int

    @property
    def share(self) -> float | None:
        return share(self.within, self.closed)


@dataclass(frozen=True)
class MonthFigures:
    month: date  # the first day of the month
    received: int
    closed: int
    within: int
    by_level: dict[str, DeadlineShare] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        return share(self.within, self.closed)


@dataclass(frozen=True)
class KpiReport:
    start: date
    end: date
    timezone: str
    as_of: datetime
    received: int
    received_by_channel: dict[str, int]
    received_by_level: dict[str, int]
    received_by_category: dict[str, int]
    received_by_location: dict[str, int]
    received_by_gender: dict[str, int]
    received_by_age_group: dict[str, int]
    received_sensitive: int
    duplicates: int
    closed: int
    closed_within_deadline: int
    closed_within_deadline_share: float | None
    within_deadline_by_level: dict[str, DeadlineShare]
    mean_days_to_close: float | None
    median_days_to_close: float | None
    months: list[MonthFigures]
    six_months: list[MonthFigures]
    six_months_closed: int
    six_months_within: int
    six_months_share: float | None
    open: int
    overdue: int
    open_by_age: dict[str, int]
    overdue_by_age: dict[str, int]
    referrals_sent: int
    referrals_answered: int
    referrals_overdue: int
    replies: int
    replies_delivered: int
    replies_sent: int
    replies_failed: int
    replies_pending: int
    surveys_sent: int
    satisfaction: dict[str, int]
    satisfaction_answers: int
    satisfied_share: float | None
    channels_by_location: dict[str, list[str]]
    # The information line (casework.info): requests, answered at once, satisfied, and the
    # cases that closed without an officer (the officers' time saved, as a count).
    info_requests: int = 0
    info_answered: int = 0
    info_satisfied: int = 0
    info_answered_share: float | None = None
    info_satisfied_share: float | None = None
    closed_automatically: int = 0
    # The triage assistant against officers' grading (casework.triage.quality), for the cases
    # received in the period that were graded; None where there is nothing to divide.
    triage_sensitive_precision: float | None = None
    triage_sensitive_recall: float | None = None
    triage_urgent_precision: float | None = None
    triage_urgent_recall: float | None = None

    @property
    def channels_per_location(self) -> dict[str, int]:
        return {code: len(channels) for code, channels in self.channels_by_location.items()}


def kpis(session: Session, start: date, end: date, *, tz: tzinfo = UTC,
         now: datetime | None = None, location: str | None = None) -> KpiReport:
    """The KPIs of the local days ``start``..``end`` in ``tz``; ``location`` (a governorate or
    district code) narrows every figure to cases of that place."""
    period = Period(start, end, tz)
    as_of = min(period.finish, now or utcnow())
    scope = _scope(location)
    windows = _Windows.of(period)
    if _dialect(session) == "postgresql":
        # PostgreSQL overestimates the groups of GROUPING SETS and would sort on disk with
        # the default 4 MB; the real hash tables take a few MB. Until this transaction ends.
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    received = _received(session, period, windows, scope)
    closed = _closed(session, windows, scope)
    in_period = _level_totals(closed, windows, lambda index: windows.in_period[index])
    closed_count = sum(item.closed for item in in_period.values())
    within_count = sum(item.within for item in in_period.values())
    seconds = sum(total for index, levels in closed.items() if windows.in_period[index]
                  for _count, _within, total in levels.values())
    state = _state(session, period, as_of, scope)
    referrals = _referrals(session, period, as_of, scope)
    replies = _replies(session, period, scope)
    months = _months(windows, received.by_window, closed, clipped=True)
    six = _months(windows, received.by_window, closed, clipped=False)
    six_closed = sum(month.closed for month in six)
    six_within = sum(month.within for month in six)
    answers = state.answers
    answered = sum(answers.values())
    return KpiReport(
        start=start, end=end, timezone=_zone_name(tz), as_of=as_of,
        received=received.total,
        received_by_channel=received.by["channel"], received_by_level=received.by["level"],
        received_by_category=received.by["category"],
        received_by_location=received.by["location"],
        received_by_gender=received.by["gender"], received_by_age_group=received.by["age_group"],
        received_sensitive=received.sensitive, duplicates=received.duplicates,
        closed=closed_count, closed_within_deadline=within_count,
        closed_within_deadline_share=share(within_count, closed_count),
        within_deadline_by_level=in_period,
        mean_days_to_close=round(seconds / closed_count / SECONDS_PER_DAY, 2)
        if closed_count else None,
        median_days_to_close=_median_days(session, period, scope, closed_count),
        months=months, six_months=six, six_months_closed=six_closed,
        six_months_within=six_within, six_months_share=share(six_within, six_closed),
        open=sum(state.open.values()), overdue=sum(state.overdue.values()),
        open_by_age=state.open, overdue_by_age=state.overdue,
        referrals_sent=referrals[0], referrals_answered=referrals[1],
        referrals_overdue=referrals[2],
        replies=sum(replies.values()), replies_delivered=replies["delivered"],
        replies_sent=replies["sent"], replies_failed=replies["failed"],
        replies_pending=replies["pending"],
        surveys_sent=state.surveys, satisfaction=answers, satisfaction_answers=answered,
        satisfied_share=share(answers["1"], answered),
        channels_by_location=received.channels_by_location,
        **_assistants(session, period),
    )


def _assistants(session: Session, period: Period) -> dict[str, Any]:
    """The information line's and the triage assistant's figures (organisation-wide)."""
    from casework import info, triage  # they import this package's models and access rules

    line = info.kpis(session, period.begin, period.finish)
    quality = triage.quality(session, period.begin, period.finish)
    return {
        "info_requests": line.requests, "info_answered": line.answered,
        "info_satisfied": line.satisfied, "info_answered_share": line.answered_share,
        "info_satisfied_share": line.satisfied_share,
        "closed_automatically": line.closed_automatically,
        "triage_sensitive_precision": quality["sensitive"].precision,
        "triage_sensitive_recall": quality["sensitive"].recall,
        "triage_urgent_precision": quality["urgent"].precision,
        "triage_urgent_recall": quality["urgent"].recall,
    }


# --- helpers other modules share -------------------------------------------------------------

def share(part: int, whole: int) -> float | None:
    """part / whole rounded to 4 places; None (no data) rather than 0 when whole is 0."""
    return round(part / whole, 4) if whole else None


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def governorate_of(code: str | None) -> str:
    """The governorate code of a location code (districts are ``GOV-NN``); "unknown" if None."""
    if not code:
        return UNKNOWN
    parts = code.split("-")
    return "-".join(parts[:2]) if len(parts) > 2 else code


def in_location(code: str) -> ColumnElement[bool]:
    """Cases of a governorate or district (a governorate includes its districts)."""
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(Case.location == code, Case.location.like(escaped + "-%", escape="\\"))


def not_duplicate() -> ColumnElement[bool]:
    return Case.merged_into_id.is_(None)


def bucket_of(column: Any, boundaries: Sequence[datetime]) -> Any:
    """Which interval [b_i, b_i+1) of ``boundaries`` a timestamp falls in, as SQL (0-based).
    Select it in a subquery and group the outer query by that column: the expression's bound
    parameters would otherwise differ between SELECT and GROUP BY on PostgreSQL."""
    return case(*[(column < bound, index) for index, bound in enumerate(boundaries[1:])])


def day_seconds(session: Session, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in whole seconds as SQL (SQLite has no interval type)."""
    if _dialect(session) == "sqlite":
        return func.strftime("%s", later) - func.strftime("%s", earlier)
    return func.extract("epoch", later - earlier)


# --- time windows ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Windows:
    """The intervals between every month start and the period's edges, over the period and the
    six months ending with it: each lies in one calendar month and wholly inside or outside
    the period, so one grouped query serves the period, its months and the six months."""

    bounds: list[datetime]
    months: list[date]  # the calendar month of each interval
    in_period: list[bool]
    period_months: list[date]
    six_months: list[date]

    @classmethod
    def of(cls, period: Period) -> _Windows:
        six = [month_start(period.end, back) for back in range(SIX_MONTHS - 1, -1, -1)]
        first = min(month_start(period.start), six[0])
        firsts = _months_between(first, period.end)
        points = {local_midnight(day, period.tz)
                  for day in [*firsts, month_start(period.end, -1)]}
        bounds = sorted(points | {period.begin, period.finish})
        lows = bounds[:-1]
        return cls(
            bounds=bounds,
            months=[month_start(low.astimezone(period.tz).date()) for low in lows],
            in_period=[period.begin <= low < period.finish for low in lows],
            period_months=_months_between(period.start, period.end), six_months=six)


# --- the figures ------------------------------------------------------------------------------

@dataclass
class _Received:
    total: int
    by: dict[str, dict[str, int]]
    sensitive: int
    duplicates: int
    channels_by_location: dict[str, list[str]]
    by_window: dict[int, int]  # interval → cases received (duplicates left out)


# Few sets of low-cardinality columns (a few thousand groups at most): each set is one hash
# table per row scanned, and Python adds up the margins.
RECEIVED_SETS: dict[str, tuple[str, ...]] = {
    "place": ("channel", "location", "level"),
    "person": ("category", "gender", "age_group"),
    "window": ("window",),
}


def _received(session: Session, period: Period, windows: _Windows,
              scope: list[ColumnElement[bool]]) -> _Received:
    """Every breakdown of the cases received, from one scan (GROUPING SETS on PostgreSQL)."""
    in_period = _between(Case.created_at, period.begin, period.finish)
    original = Case.merged_into_id.is_(None)
    rows = select(
        Case.channel.label("channel"), Case.location.label("location"),
        Case.level.label("level"), Case.category.label("category"),
        Case.gender.label("gender"), Case.age_group.label("age_group"),
        bucket_of(Case.created_at, windows.bounds).label("window"),
        case((and_(in_period, original), 1), else_=0).label("counted"),
        case((original, 1), else_=0).label("original"),
        case((and_(in_period, original, Case.sensitive.is_(True)), 1), else_=0)
        .label("sensitive"),
        case((and_(in_period, ~original), 1), else_=0).label("duplicate"),
    ).where(_between(Case.created_at, windows.bounds[0], windows.bounds[-1]),
            *scope).subquery()
    # measures: received in the period; originals (any window); sensitive; duplicates
    groups = grouped(session, rows, RECEIVED_SETS, [
        func.sum(rows.c.counted), func.sum(rows.c.original), func.sum(rows.c.sensitive),
        func.sum(rows.c.duplicate)])
    margins: dict[str, Counter[str]] = {name: Counter() for name in (
        "channel", "location", "level", "category", "gender", "age_group")}
    channels: dict[str, set[str]] = {}
    for (channel, location, level), (counted, *_others) in groups["place"]:
        if not counted:
            continue
        governorate = governorate_of(location)
        margins["channel"][channel] += int(counted)
        margins["location"][governorate] += int(counted)
        margins["level"][_level_key(level)] += int(counted)
        channels.setdefault(governorate, set()).add(channel)
    for (category, gender, age_group), (counted, *_others) in groups["person"]:
        if not counted:
            continue
        margins["category"][category or UNKNOWN] += int(counted)
        margins["gender"][gender or UNKNOWN] += int(counted)
        margins["age_group"][age_group or UNKNOWN] += int(counted)
    by = {name: _sorted(counts) for name, counts in margins.items()}
    by_window: dict[int, int] = {}
    sensitive = duplicates = 0
    for (index,), (_counted, originals, sensitive_count, duplicate_count) in groups["window"]:
        sensitive += int(sensitive_count or 0)
        duplicates += int(duplicate_count or 0)
        if index is not None:
            by_window[int(index)] = int(originals or 0)
    return _Received(
        total=sum(margins["channel"].values()), by=by, sensitive=sensitive, duplicates=duplicates,
        channels_by_location={code: sorted(channels[code]) for code in by["location"]},
        by_window=by_window)


def _closed(session: Session, windows: _Windows, scope: list[ColumnElement[bool]]
            ) -> dict[int, dict[str, tuple[int, int, float]]]:
    """Cases closed in each interval, by level: (count, within deadline, seconds to close)."""
    rows = select(
        bucket_of(Case.closed_at, windows.bounds).label("window"), Case.level.label("level"),
        _within().label("within"),
        day_seconds(session, Case.closed_at, Case.created_at).label("seconds"),
    ).where(*_closed_between(windows.bounds[0], windows.bounds[-1]), *scope).subquery()
    query = (select(rows.c.window, rows.c.level, func.count(), func.sum(rows.c.within),
                    func.sum(rows.c.seconds))
             .group_by(rows.c.window, rows.c.level))
    result: dict[int, dict[str, tuple[int, int, float]]] = {}
    for index, level, count, within, seconds in session.execute(query):
        if index is not None:
            result.setdefault(int(index), {})[_level_key(level)] = (
                count, int(within or 0), float(seconds or 0))
    return result


def _level_totals(closed: dict[int, dict[str, tuple[int, int, float]]], windows: _Windows,
                  chosen: Callable[[int], bool]) -> dict[str, DeadlineShare]:
    totals: dict[str, list[int]] = {}
    for index, levels in closed.items():
        if not chosen(index):
            continue
        for key, (count, within, _seconds) in levels.items():
            total = totals.setdefault(key, [0, 0])
            total[0] += count
            total[1] += within
    return {key: DeadlineShare(*totals[key]) for key in sorted(totals, key=_level_rank)}


def _months(windows: _Windows, received: dict[int, int],
            closed: dict[int, dict[str, tuple[int, int, float]]], *, clipped: bool
            ) -> list[MonthFigures]:
    """Figures per calendar month: the period's months clipped to the period, or the six
    whole months."""
    result = []
    for first in (windows.period_months if clipped else windows.six_months):
        def chosen(index: int, first: date = first) -> bool:
            return windows.months[index] == first and (windows.in_period[index] or not clipped)

        levels = _level_totals(closed, windows, chosen)
        result.append(MonthFigures(
            month=first,
            received=sum(count for index, count in received.items() if chosen(index)),
            closed=sum(item.closed for item in levels.values()),
            within=sum(item.within for item in levels.values()),
            by_level={} if clipped else levels))
    return result


def _median_days(session: Session, period: Period, scope: list[ColumnElement[bool]],
                 closed: int) -> float | None:
    """The median in SQL: percentile_cont on PostgreSQL, the middle rows on SQLite."""
    if not closed:
        return None
    seconds = day_seconds(session, Case.closed_at, Case.created_at)
    where = [*_closed_between(period.begin, period.finish), *scope]
    if _dialect(session) == "postgresql":
        middle = [session.scalar(select(func.percentile_cont(0.5).within_group(seconds))
                                 .where(*where))]
    else:
        middle = list(session.scalars(
            select(seconds).where(*where).order_by(seconds)
            .offset((closed - 1) // 2).limit(2 if closed % 2 == 0 else 1)))
    values = [float(value) for value in middle if value is not None]
    return round(sum(values) / len(values) / SECONDS_PER_DAY, 2) if values else None


@dataclass
class _State:
    open: dict[str, int]
    overdue: dict[str, int]
    answers: dict[str, int]
    surveys: int


def _state(session: Session, period: Period, as_of: datetime,
           scope: list[ColumnElement[bool]]) -> _State:
    """Open and overdue cases at ``as_of`` by age, survey answers and surveys sent in the
    period: one scan."""
    still_open = and_(*_still_open(as_of))
    answered = and_(_between(Case.satisfaction_at, period.begin, period.finish),
                    Case.satisfaction.is_not(None))
    surveyed = _between(Case.survey_sent_at, period.begin, period.finish)
    age = case(*[(Case.created_at > as_of - timedelta(days=lower), AGE_BUCKETS[index - 1][0])
                 for index, (_key, lower) in enumerate(AGE_BUCKETS) if index > 0],
               else_=AGE_BUCKETS[-1][0])
    rows = select(
        case((still_open, age), else_=None).label("age"),
        case((and_(still_open, Case.due_at < as_of), 1), else_=0).label("late"),
        case((still_open, 1), else_=0).label("is_open"),
        case((answered, Case.satisfaction), else_=None).label("answer"),
        case((surveyed, 1), else_=0).label("surveyed"),
    ).where(or_(still_open, answered, surveyed), *scope).subquery()
    query = (select(rows.c.age, rows.c.late, rows.c.answer, func.sum(rows.c.is_open),
                    func.sum(rows.c.surveyed), func.count())
             .group_by(rows.c.age, rows.c.late, rows.c.answer))
    state = _State(open=dict.fromkeys((key for key, _ in AGE_BUCKETS), 0),
                   overdue=dict.fromkeys((key for key, _ in AGE_BUCKETS), 0),
                   answers=dict.fromkeys(SATISFACTION_ANSWERS, 0), surveys=0)
    for bucket, late, answer, opened, surveyed_count, count in session.execute(query):
        if bucket is not None:
            state.open[bucket] += int(opened or 0)
            if late:
                state.overdue[bucket] += int(opened or 0)
        if answer is not None and str(answer) in state.answers:
            state.answers[str(answer)] += count
        state.surveys += int(surveyed_count or 0)
    return state


def _referrals(session: Session, period: Period, as_of: datetime,
               scope: list[ColumnElement[bool]]) -> tuple[int, int, int]:
    sent = case((_between(Referral.created_at, period.begin, period.finish), 1), else_=0)
    answered = case((_between(Referral.answered_at, period.begin, period.finish), 1), else_=0)
    query = select(func.sum(sent), func.sum(answered)).select_from(Referral)
    if scope:
        query = query.join(Case, Referral.case_id == Case.id).where(*scope)
    sent_count, answered_count = session.execute(query).one()
    overdue = session.scalar(
        select(func.count()).select_from(Referral).join(Case, Referral.case_id == Case.id)
        .where(Referral.created_at < as_of, Referral.due_at < as_of,
               or_(Referral.answered_at.is_(None), Referral.answered_at >= as_of),
               *_still_open(as_of), *scope)) or 0
    return int(sent_count or 0), int(answered_count or 0), overdue


def _replies(session: Session, period: Period, scope: list[ColumnElement[bool]]
             ) -> dict[str, int]:
    query = (select(Message.status, func.count())
             .where(Message.direction == Direction.OUTBOUND, Message.kind == REPLY_KIND,
                    _between(Message.created_at, period.begin, period.finish))
             .group_by(Message.status))
    if scope:
        query = query.join(Case, Message.case_id == Case.id).where(*scope)
    result = dict.fromkeys(("delivered", "sent", "failed", "pending"), 0)
    for status, number in session.execute(query):
        state = REPLY_STATES.get(status, "pending")
        if state in result:
            result[state] += number
    return result


# --- query pieces ----------------------------------------------------------------------------

def grouped(session: Session, rows: Subquery, sets: dict[str, tuple[str, ...]],
             measures: list[Any]) -> dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]]:
    """Group ``rows`` by each set of columns: one GROUPING SETS query on PostgreSQL (one scan
    for every breakdown), one GROUP BY per set elsewhere. Returns, per set, (key, measures)."""
    result: dict[str, list[tuple[tuple[Any, ...], tuple[Any, ...]]]] = {name: [] for name in sets}
    width = len(measures)
    if _dialect(session) != "postgresql":
        for name, columns in sets.items():
            keys = [rows.c[column] for column in columns]
            for row in session.execute(select(*keys, *measures).group_by(*keys)):
                result[name].append((tuple(row[:len(keys)]), tuple(row[len(keys):])))
        return result
    names = list(dict.fromkeys(column for columns in sets.values() for column in columns))
    keys = [rows.c[column] for column in names]
    masks = {sum(1 << (len(names) - 1 - names.index(column)) for column in names
                 if column not in columns): name for name, columns in sets.items()}
    query = (select(*keys, func.grouping(*keys), *measures)
             .group_by(func.grouping_sets(*[tuple_(*[rows.c[c] for c in columns])
                                            for columns in sets.values()])))
    for row in session.execute(query):
        name = masks[row[len(names)]]
        values = dict(zip(names, row[:len(names)], strict=True))
        result[name].append((tuple(values[column] for column in sets[name]),
                             tuple(row[len(names) + 1:len(names) + 1 + width])))
    return result


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _scope(location: str | None) -> list[ColumnElement[bool]]:
    return [in_location(location)] if location else []


def _between(column: Any, begin: datetime, finish: datetime) -> ColumnElement[bool]:
    return and_(column >= begin, column < finish)


def _closed_between(begin: datetime, finish: datetime) -> list[ColumnElement[bool]]:
    return [Case.status == CaseStatus.CLOSED, _between(Case.closed_at, begin, finish),
            not_duplicate()]


def _still_open(as_of: datetime) -> list[ColumnElement[bool]]:
    """Received before ``as_of`` and not closed by then."""
    return [Case.created_at < as_of, not_duplicate(),
            or_(Case.status != CaseStatus.CLOSED, Case.closed_at >= as_of,
                Case.closed_at.is_(None))]


def _within() -> Any:
    return case((Case.closed_at <= Case.due_at, 1), else_=0)


def _months_between(start: date, end: date) -> list[date]:
    months = [month_start(start)]
    while months[-1] < month_start(end):
        months.append(month_start(months[-1], -1))
    return months


def _sorted(counts: Counter[str] | dict[str, int]) -> dict[str, int]:
    """Largest first, then by key, so charts and files list groups in a stable order."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _level_key(level: int | None) -> str:
    return str(level) if level is not None else UNTRIAGED


def _level_rank(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (10**6, key)


def _zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)
