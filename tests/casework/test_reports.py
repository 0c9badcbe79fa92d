"""KPIs on a hand-built set of cases whose answers are worked out by hand below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.models import (
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    InfoAnswer,
    InfoEntry,
    Message,
    Referral,
    Role,
    User,
    utcnow,
)
from casework.reports import kpis
from extensions import db


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def cases(app_context: None) -> None:
    rows = [
        # reference, channel, level, created, closed, due
        ("0000001", "sms", 1, _at(1), _at(3), _at(1) + timedelta(days=15)),    # 2 days, in time
        ("0000002", "telegram", 2, _at(2), _at(6), _at(2) + timedelta(days=15)),  # 4 days
        ("0000003", "telegram", 5, _at(4), _at(10), _at(4) + timedelta(hours=72)),  # 6 d, late
        ("0000004", "whatsapp", None, _at(5), None, _at(5) + timedelta(days=15)),  # open
        ("0000005", "sms", 3, _at(20), None, _at(20) - timedelta(days=1)),  # open, overdue
        ("0000006", "sms", 1, datetime(2026, 2, 27, tzinfo=UTC), _at(2),
         datetime(2026, 3, 14, tzinfo=UTC)),  # created before the period, closed in it: 3.5 d
    ]
    for reference, channel, level, created, closed, due in rows:
        db.session.add(Case(reference=reference, channel=channel, level=level,
                            status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
                            created_at=created, closed_at=closed, due_at=due,
                            last_activity_at=created))
    db.session.commit()


def test_march_by_hand(cases: None) -> None:
    report = kpis(db.session, date(2026, 3, 1), date(2026, 3, 31))
    assert report.received == 5  # 0000006 was received in February
    assert report.received_by_channel == {"sms": 2, "telegram": 2, "whatsapp": 1}
    assert report.received_by_level == {"1": 1, "2": 1, "5": 1, "untriaged": 1, "3": 1}
    assert report.closed == 4
    assert report.closed_within_deadline == 3  # 0000003 took 6 days against 72 hours
    assert report.closed_within_deadline_share == 0.75
    # days to close: 2, 4, 6 and 3.5 → mean 3.875, median (3.5 + 4) / 2 = 3.75
    assert report.mean_days_to_close == 3.88 and report.median_days_to_close == 3.75
    # both open cases were past due when March ended (0000004 was due on the 20th)
    assert report.open == 2 and report.overdue == 2


@pytest.mark.parametrize(
    ("start", "end", "received", "closed"),
    [
        pytest.param(date(2026, 3, 3), date(2026, 3, 3), 0, 1, id="one-day-edge"),
        pytest.param(date(2026, 3, 20), date(2026, 3, 20), 1, 0, id="created-on-last-day"),
        pytest.param(date(2026, 2, 1), date(2026, 2, 28), 1, 0, id="february"),
    ],
)
def test_period_edges(cases: None, start: date, end: date, received: int, closed: int) -> None:
    report = kpis(db.session, start, end)
    assert (report.received, report.closed) == (received, closed)


def test_nothing_closed_gives_no_data_not_zero(cases: None) -> None:
    report = kpis(db.session, date(2026, 1, 1), date(2026, 1, 31))
    assert report.closed == 0
    assert report.closed_within_deadline_share is None
    assert report.mean_days_to_close is None and report.median_days_to_close is None


def test_period_ending_before_it_starts_is_an_error(app_context: None) -> None:
    with pytest.raises(ValueError, match="ends before"):
        kpis(db.session, date(2026, 3, 2), date(2026, 3, 1))


# --- a richer month, in the organisation's time zone -----------------------------------------
# Asia/Damascus is UTC+3 all year (since 2022): local midnight is 21:00 UTC the day before.

DAMASCUS = ZoneInfo("Asia/Damascus")
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
LATER = datetime(2026, 5, 1, tzinfo=UTC)  # "now": March is over


def _local(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=DAMASCUS)


@dataclass
class Row:
    reference: str
    channel: str
    created: datetime
    closed: datetime | None = None
    level: int | None = 1
    due: timedelta = timedelta(days=15)
    category: str | None = "information_request"
    location: str | None = None
    gender: str | None = None
    age_group: str | None = None
    satisfaction: tuple[int, datetime] | None = None
    survey_sent: datetime | None = None
    merged_into: str | None = None


ROWS = [
    # A: received 1 March 00:30 local (28 Feb in UTC); closed in 2 days, within its deadline
    Row("1000001", "telegram", _local(3, 1, 0, 30), _local(3, 3, 0, 30), level=1,
        location="SY-ID-01", gender="female", age_group="adult",
        satisfaction=(1, _local(3, 4)), survey_sent=_local(3, 3, 1)),
    # B: 5 days, within
    Row("1000002", "sms", _local(3, 10), _local(3, 15), level=2, category="suggestion",
        location="SY-ID", gender="male", age_group="child",
        satisfaction=(3, _local(3, 16)), survey_sent=_local(3, 15, 13)),
    # C: sensitive, 7 days against 72 hours: late
    Row("1000003", "telegram", _local(3, 5), _local(3, 12), level=5, due=timedelta(hours=72),
        category="sexual_exploitation_abuse", location="SY-HL-01"),
    # D: open, untriaged, nowhere yet, due 4 April: open but not overdue when March ends
    Row("1000004", "whatsapp", _local(3, 20), level=None, category=None),
    # E: open and overdue (due 17 March); 29.5 days old on 1 April 00:00
    Row("1000005", "sms", _local(3, 2), level=3, location="IQ-NI-01"),
    # F: received in February, closed 1 April 00:30 local: still open when March ended
    Row("1000006", "box", _local(2, 20), _local(4, 1, 0, 30)),
    # H: a duplicate of A — left out of every figure
    Row("1000008", "telegram", _local(3, 6), _local(3, 6, 13), merged_into="1000001"),
    # I: received and closed on 28 February late in the evening (local and UTC);
    #    its survey answer came on 1 March 00:10 local
    Row("1000009", "sms", _local(2, 28, 23, 30), _local(2, 28, 23, 45),
        satisfaction=(2, _local(3, 1, 0, 10)), survey_sent=_local(2, 28, 23, 50)),
    # J: received 1 April 01:00 local (31 March 22:00 UTC)
    Row("1000010", "voice", _local(4, 1, 1)),
    # K: closed at the first instant of October (local): the first month of the six
    Row("1000011", "sms", _local(9, 20, year=2025), _local(10, 1, 0, 0, year=2025),
        satisfaction=(1, _local(10, 2, year=2025))),
    # L: closed one minute earlier: September, outside the six months
    Row("1000012", "sms", _local(9, 15, year=2025), _local(9, 30, 23, 59, year=2025)),
]


@pytest.fixture
def month(app_context: None) -> dict[str, Case]:
    staff = User(email="fp@example.org", role=Role.FOCAL_POINT, password_hash="x")
    contact = Contact(channel="sms", pseudonym="p-1")
    db.session.add_all([staff, contact])
    cases: dict[str, Case] = {}
    for row in ROWS:
        case = Case(
            reference=row.reference, channel=row.channel, level=row.level,
            sensitive=row.level == 5, category=row.category, location=row.location,
            gender=row.gender, age_group=row.age_group, contact=contact,
            status=CaseStatus.CLOSED if row.closed else CaseStatus.OPEN,
            created_at=row.created, closed_at=row.closed, due_at=row.created + row.due,
            last_activity_at=row.created, survey_sent_at=row.survey_sent,
            satisfaction=row.satisfaction[0] if row.satisfaction else None,
            satisfaction_at=row.satisfaction[1] if row.satisfaction else None)
        db.session.add(case)
        cases[row.reference] = case
    db.session.flush()
    for row in ROWS:
        if row.merged_into:
            cases[row.reference].merged_into_id = cases[row.merged_into].id
    referrals = [  # case, sent, due, answered
        ("1000002", _local(3, 11), _local(3, 14), _local(3, 13)),  # sent and answered
        ("1000005", _local(3, 3), _local(3, 10), None),  # overdue: E is still open
        ("1000001", _local(2, 27), _local(3, 2), None),  # late, but A is closed: not overdue
        ("1000004", _local(3, 25), _local(4, 5), _local(4, 2)),  # sent; due after March
    ]
    for reference, sent, due, answered in referrals:
        db.session.add(Referral(case=cases[reference], to_user_id=staff.id, created_at=sent,
                                due_at=due, answered_at=answered))
    replies = [  # case, kind, queued, status
        ("1000001", "reply", _local(3, 2), DeliveryStatus.DELIVERED),
        ("1000002", "reply", _local(3, 12), DeliveryStatus.READ),
        ("1000005", "reply", _local(3, 4), DeliveryStatus.FAILED),
        ("1000004", "reply", _local(3, 21), DeliveryStatus.SENT),
        ("1000004", "reply", _local(3, 30), DeliveryStatus.QUEUED),
        ("1000001", "reply", _local(2, 27), DeliveryStatus.DELIVERED),  # February
        ("1000003", "ack", _local(3, 5), DeliveryStatus.DELIVERED),  # not an officer's reply
    ]
    for reference, kind, queued, status in replies:
        db.session.add(Message(contact=contact, case=cases[reference], direction="out",
                               channel="sms", kind=kind, body="", status=status,
                               created_at=queued))
    db.session.commit()
    return cases


def test_march_in_damascus_by_hand(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    assert report.timezone == "Asia/Damascus"
    # received: A B C D E (F, I in February; J in April; H is a duplicate)
    assert report.received == 5 and report.duplicates == 1
    assert report.received_by_channel == {"telegram": 2, "sms": 2, "whatsapp": 1}
    assert report.received_by_level == {"1": 1, "2": 1, "3": 1, "5": 1, "untriaged": 1}
    assert report.received_by_category == {
        "information_request": 2, "suggestion": 1, "sexual_exploitation_abuse": 1,
        "unknown": 1}
    # A (SY-ID-01) and B (SY-ID) roll up into SY-ID
    assert report.received_by_location == {"SY-ID": 2, "SY-HL": 1, "IQ-NI": 1, "unknown": 1}
    assert report.received_by_gender == {"female": 1, "male": 1, "unknown": 3}
    assert report.received_by_age_group == {"adult": 1, "child": 1, "unknown": 3}
    assert report.received_sensitive == 1
    assert report.channels_by_location == {
        "SY-ID": ["sms", "telegram"], "SY-HL": ["telegram"], "IQ-NI": ["sms"],
        "unknown": ["whatsapp"]}
    assert report.channels_per_location == {"SY-ID": 2, "SY-HL": 1, "IQ-NI": 1, "unknown": 1}


def test_closures_and_days_by_hand(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    # closed in March: A (2 days, in time), B (5, in time), C (7, late); F closed in April
    assert (report.closed, report.closed_within_deadline) == (3, 2)
    assert report.closed_within_deadline_share == 0.6667
    assert report.mean_days_to_close == 4.67  # (2 + 5 + 7) / 3
    assert report.median_days_to_close == 5.0
    assert {key: (item.closed, item.within, item.share)
            for key, item in report.within_deadline_by_level.items()} == {
        "1": (1, 1, 1.0), "2": (1, 1, 1.0), "5": (1, 0, 0.0)}
    assert [(m.month, m.received, m.closed, m.within) for m in report.months] == [
        (date(2026, 3, 1), 5, 3, 2)]


def test_six_month_window_edges(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    # K closed at 1 October 00:00 local: in; L at 30 September 23:59: out;
    # I closed in February, within its deadline; F closed in April: out
    assert [(m.month.strftime("%Y-%m"), m.closed, m.within) for m in report.six_months] == [
        ("2025-10", 1, 1), ("2025-11", 0, 0), ("2025-12", 0, 0), ("2026-01", 0, 0),
        ("2026-02", 1, 1), ("2026-03", 3, 2)]
    assert [m.received for m in report.six_months] == [0, 0, 0, 0, 2, 5]  # F, I in February
    assert (report.six_months_closed, report.six_months_within) == (5, 4)
    assert report.six_months_share == 0.8
    march = report.six_months[-1]
    assert {key: (item.closed, item.within) for key, item in march.by_level.items()} == {
        "1": (1, 1), "2": (1, 1), "5": (1, 0)}


def test_open_and_overdue_by_age_when_march_ends(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    # on 1 April 00:00 local: D (11.5 days, due 4 April), E (29.5 days, overdue),
    # F (39.5 days, overdue; it closed half an hour later). J did not exist yet.
    assert (report.open, report.overdue) == (3, 2)
    assert report.open_by_age == {"0-2": 0, "3-7": 0, "8-15": 1, "16-30": 1, "31+": 1}
    assert report.overdue_by_age == {"0-2": 0, "3-7": 0, "8-15": 0, "16-30": 1, "31+": 1}


def test_referrals_replies_and_satisfaction_by_hand(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    assert (report.referrals_sent, report.referrals_answered, report.referrals_overdue) == \
        (3, 1, 1)
    assert (report.replies, report.replies_delivered, report.replies_sent,
            report.replies_failed, report.replies_pending) == (5, 2, 1, 1, 1)
    # answers given in March: A 1, B 3, and I's 2 (I closed in February)
    assert report.satisfaction == {"1": 1, "2": 1, "3": 1}
    assert report.satisfaction_answers == 3 and report.satisfied_share == 0.3333
    assert report.surveys_sent == 2  # I's survey went out in February


def test_days_are_cut_at_local_midnight_not_utc(month: dict[str, Case]) -> None:
    local = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER)
    utc = kpis(db.session, *MARCH, tz=UTC, now=LATER)
    # A (1 March 00:30 local = 28 February UTC) is March only locally;
    # J (1 April 01:00 local = 31 March UTC) is March only in UTC
    assert local.received_by_channel == {"telegram": 2, "sms": 2, "whatsapp": 1}
    assert utc.received_by_channel == {"sms": 2, "telegram": 1, "voice": 1, "whatsapp": 1}


def test_a_location_narrows_every_figure(month: dict[str, Case]) -> None:
    report = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER, location="SY-ID")
    assert report.received == 2 and report.received_by_location == {"SY-ID": 2}
    assert (report.closed, report.closed_within_deadline) == (2, 2)  # A and B
    assert report.replies == 2 and report.referrals_sent == 1
    district = kpis(db.session, *MARCH, tz=DAMASCUS, now=LATER, location="SY-ID-01")
    assert district.received == 1  # A only: a district does not include its governorate


@pytest.mark.parametrize(
    ("days", "mean", "median"),
    [
        pytest.param([2.0], 2.0, 2.0, id="one"),
        pytest.param([1.0, 2.0, 10.0], 4.33, 2.0, id="odd"),
        pytest.param([1.0, 2.0, 4.0, 10.0], 4.25, 3.0, id="even"),
        pytest.param([0.5, 0.25], 0.38, 0.38, id="hours"),
    ],
)
def test_mean_and_median_days(app_context: None, days: list[float], mean: float,
                              median: float) -> None:
    opened = datetime(2026, 3, 1, tzinfo=UTC)
    for number, length in enumerate(days):
        closed = opened + timedelta(days=length)
        db.session.add(Case(reference=f"20000{number:02d}", channel="sms",
                            status=CaseStatus.CLOSED, created_at=opened, closed_at=closed,
                            due_at=opened + timedelta(days=15), last_activity_at=opened))
    db.session.commit()
    report = kpis(db.session, date(2026, 3, 1), date(2026, 3, 31))
    assert (report.mean_days_to_close, report.median_days_to_close) == (mean, median)


def test_the_information_line_and_the_triage_assistant_are_in_the_kpis(
    app_context: None, simulate: Callable[..., TestResponse],
) -> None:
    simulate("قال ادفع ٢٠ دولار وبحطك بالقائمة", tab="tab-kpi-bribe")  # flagged sensitive
    simulate("لم أستلم السلة", tab="tab-kpi-basket")  # not flagged
    flagged, plain = db.session.scalars(select(Case).order_by(Case.id)).all()
    flagged.level = 5  # the officer agrees
    plain.level, plain.sensitive = 5, True  # the officer raises it: a miss
    entry = InfoEntry(code="next", answer_ar="جواب", keywords=["توزيع*"])
    db.session.add(entry)
    for satisfied in (True, False):
        db.session.add(InfoAnswer(case=plain, entry=entry, channel="simulator",
                                  satisfied=satisfied, created_at=utcnow()))
    db.session.add(InfoAnswer(case=plain, entry=None, channel="simulator", created_at=utcnow()))
    db.session.commit()
    today = utcnow().date()
    report = kpis(db.session, today, today)
    assert (report.info_requests, report.info_answered, report.info_satisfied) == (3, 2, 1)
    assert (report.info_answered_share, report.info_satisfied_share) == (round(2 / 3, 4), 0.5)
    assert report.closed_automatically == 1
    assert (report.triage_sensitive_precision, report.triage_sensitive_recall) == (1.0, 0.5)
    assert report.triage_urgent_recall is None  # no urgent case: no data, not 0%
