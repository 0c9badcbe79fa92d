"""The programme KPIs (casework.programme_kpis) on a hand-built dataset whose expected values
are worked out by hand in the comments; empty denominators give None ("no data")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from casework import programme
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    ReportSubmission,
    Role,
    User,
)
from casework.programme_kpis import ProgrammeKpis, Ratio, programme_kpis
from casework.reports import kpis
from extensions import db

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NOW = datetime(2026, 4, 20, tzinfo=UTC)  # March has ended: "as of" is 1 April 00:00
DAMASCUS = ZoneInfo("Asia/Damascus")


def _utc(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _case(reference: str, created: datetime, *, closed: datetime | None = None,
          channel: str = "sms", location: str = "SY-ID") -> Case:
    return Case(reference=reference, channel=channel, location=location, level=2,
                created_at=created, due_at=created + timedelta(days=15),
                closed_at=closed, last_activity_at=closed or created,
                status=CaseStatus.CLOSED if closed else CaseStatus.OPEN)


def _user(email: str, role: Role, *, enrolled: bool, active: bool = True) -> User:
    return User(email=email, role=role, password_hash="x", active=active,
                totp_confirmed_at=_utc(2026, 1, 1) if enrolled else None)


def _figures(tz: tzinfo = UTC, due_day: int = 10) -> ProgrammeKpis:
    report = kpis(db.session, *MARCH, tz=tz, now=NOW)
    return programme_kpis(db.session, report, tz=tz, configured=["sms", "whatsapp"],
                          locations=["SY-ID", "SY-HL"], due_day=due_day, now=NOW)


@pytest.fixture
def dataset(app_context: None) -> None:
    session, now = db.session, _utc(2026, 3, 1)
    cases = [
        _case("0000001", _utc(2026, 3, 1), closed=_utc(2026, 3, 5)),  # 4 days, in time
        _case("0000002", _utc(2026, 1, 10), closed=_utc(2026, 2, 10)),  # 31 days, late
        _case("0000003", _utc(2025, 9, 1), closed=_utc(2025, 9, 5)),  # before the six months
        _case("0000004", _utc(2026, 3, 10), channel="box", location="SY-ID-02"),  # open
    ]
    session.add_all(cases)
    session.add_all([
        _user("officer@example.org", Role.OFFICER, enrolled=True),
        _user("psea@example.org", Role.PSEA, enrolled=True),
        _user("focal@example.org", Role.FOCAL_POINT, enrolled=False),
        _user("gone@example.org", Role.OFFICER, enrolled=False, active=False),  # left out
        _user("admin@example.org", Role.ADMIN, enrolled=False),  # no case access
    ])
    session.add(AuditEvent(action="case.note", case=cases[3], at=_utc(2026, 3, 28)))
    session.commit()
    for place, headcount in (("SY-ID", 20), ("SY-HL", 10), ("IQ-NI", 0)):
        programme.set_headcount(session, None, place, headcount, now)
    trainings = [  # held on, location, own staff, partners
        ("2026-03-05", "SY-ID-01", 8, 5),
        ("2025-06-01", "SY-ID", 15, 0),
        ("2025-03-31", "SY-HL", 4, 0),  # exactly 365 days before 31 March: left out
        ("2026-04-02", "SY-HL", 3, 0),  # after the period
        ("2026-01-10", "SY-HL", 2, 10),
        ("2026-02-01", None, 5, 0),  # no location: cannot be placed
    ]
    for held_on, location, own, partners in trainings:  # recorded once all had happened
        programme.save_training(session, None, None, {"held_on": held_on, "location": location},
                                NOW, participants=[
                                    {"organisation": "Us", "own_staff": True, "count": own},
                                    {"organisation": "Partner", "count": partners}])
    projects = [  # name, start, end, strategy
        ("Running with strategy", "2026-01-01", "2026-12-31", True),
        ("Running without", None, None, False),
        ("Ended in February", "2025-01-01", "2026-02-28", True),
        ("Starts in April", "2026-04-01", None, True),
    ]
    for name, start, end, strategy in projects:
        programme.save_project(session, None, None, {"name": name, "start_date": start,
                                                     "end_date": end,
                                                     "has_strategy": strategy}, now)
    surveys = [  # location, period end, interviewed, aware, know how, preferred
        ("SY-ID", "2026-03-10", 40, 30, 20, {"voice": 10, "whatsapp": 5}),
        ("SY-HL-01", "2025-10-01", 10, 5, 2, {"voice": 3}),
        ("SY-ID", "2025-09-30", 100, 100, 100, {}),  # before the six months
        ("SY-ID", "2026-04-05", 100, 0, 0, {}),  # after the period
    ]
    for location, end, interviewed, aware, know_how, preferred in surveys:
        programme.save_survey(session, None, None, {
            "location": location, "period_start": "2025-09-01", "period_end": end,
            "interviewed": interviewed, "aware": aware, "know_how": know_how,
            "preferred_channels": preferred}, NOW)
    programme.set_channel_availability(session, None, "SY-HL", "sms", promoted=True,
                                       working=False, note="no network", now=now)
    submissions = [  # month, submitted at (UTC)
        (date(2025, 12, 1), _utc(2026, 1, 5)),  # on time
        (date(2026, 1, 1), datetime(2026, 2, 10, 22, 30, tzinfo=UTC)),  # the 10th in UTC
        (date(2026, 2, 1), _utc(2026, 3, 11)),  # a day late
        (date(2026, 3, 1), _utc(2026, 4, 2)),  # not due yet on 1 April
    ]
    for month, submitted in submissions:
        session.add(ReportSubmission(month=month, submitted_at=submitted))
    session.commit()


def test_staff_trained(dataset: None) -> None:
    figures = _figures()
    # SY-ID: 8 (March) + 15 (June 2025) = 23 own staff, capped at the headcount 20.
    # SY-HL: 2 (January); 4 on 31 March 2025 and 3 in April are outside the 365 days.
    # IQ-NI has no staff (headcount 0): nothing to divide by, not listed.
    assert figures.trained_by_location == {"SY-HL": Ratio(2, 10), "SY-ID": Ratio(20, 20)}
    assert figures.trained == Ratio(22, 30)
    assert figures.trained.share == 0.7333  # 22 / 30


def test_channels_per_location(dataset: None) -> None:
    figures = _figures()
    # SY-ID: SMS and WhatsApp configured, the complaint box used on 10 March: 3 of 3 working.
    # SY-HL: SMS corrected to not working: only WhatsApp, 1 of 2.
    assert figures.channels_by_location == {"SY-ID": Ratio(3, 3), "SY-HL": Ratio(1, 2)}
    assert figures.working_channels == {"SY-ID": ["whatsapp", "sms", "box"],
                                        "SY-HL": ["whatsapp"]}


def test_closed_within_six_months_and_days_to_close(dataset: None) -> None:
    figures = _figures()
    # October–March: 0000001 (4 days, in time) and 0000002 (31 days, late); 0000003 closed
    # in September → 1 / 2.
    assert figures.closed_within_six_months == Ratio(1, 2)
    # Closed in March: only 0000001, 4 days → mean 4 / 1, median 4.
    assert figures.days_to_close == Ratio(4.0, 1)
    assert (figures.mean_days_to_close, figures.median_days_to_close) == (4.0, 4.0)


def test_projects_with_strategy(dataset: None) -> None:
    # running in March: "Running with strategy" and "Running without" → 1 / 2
    assert _figures().projects_with_strategy == Ratio(1, 2)


def test_awareness(dataset: None) -> None:
    figures = _figures()
    # surveys ending October–March: SY-ID (40, 30 aware, 20 know how) and SY-HL-01 → SY-HL
    # (10, 5, 2): aware 35 / 50 = 0.7, know how 22 / 50 = 0.44.
    assert (figures.aware, figures.know_how) == (Ratio(35, 50), Ratio(22, 50))
    assert (figures.aware.share, figures.know_how.share) == (0.7, 0.44)
    assert figures.aware_by_location == {"SY-HL": Ratio(5, 10), "SY-ID": Ratio(30, 40)}
    assert figures.know_how_by_location == {"SY-HL": Ratio(2, 10), "SY-ID": Ratio(20, 40)}
    assert figures.preferred_channels == {"voice": 13, "whatsapp": 5}


def test_case_database(dataset: None) -> None:
    database = _figures().case_database
    # active users of case roles: officer and PSEA enrolled, the focal point not → 2 / 3
    assert database.two_factor == Ratio(2, 3)
    # last case action 28 March, four days before 1 April: up to date; one case open
    assert database.last_case_update == _utc(2026, 3, 28)
    assert (database.open_cases, database.up_to_date, database.met) == (1, True, False)


def test_reports_on_time(dataset: None) -> None:
    figures = _figures()
    # Sawti's first case is from September 2025. Due by 1 April (the 10th of the next month):
    # September to February, 6 months; March is due on 10 April. On time: December (5 Jan)
    # and January (10 Feb); February came on 11 March; the others were never marked.
    assert [month.month for month in figures.report_months] == [
        date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1),
        date(2026, 1, 1), date(2026, 2, 1)]
    assert figures.reports_on_time == Ratio(2, 6)


@pytest.mark.parametrize(("tz", "due_day", "on_time"), [
    # 22:30 UTC on 10 February is 01:30 on the 11th in Damascus: January becomes late
    pytest.param(DAMASCUS, 10, 1, id="damascus-local-date"),
    # due on the 11th: February (11 March) is on time too
    pytest.param(UTC, 11, 3, id="due-day-11"),
])
def test_reports_on_time_follow_zone_and_due_day(dataset: None, tz: tzinfo, due_day: int,
                                                 on_time: int) -> None:
    assert _figures(tz, due_day).reports_on_time == Ratio(on_time, 6)


@pytest.mark.parametrize(("enrol_focal", "last_action", "close_open_case", "met", "fresh"), [
    pytest.param(True, _utc(2026, 3, 28), False, True, True, id="met"),
    # 20 March is 12 days before 1 April, and a case is open: not up to date
    pytest.param(True, _utc(2026, 3, 20), False, False, False, id="stale"),
    # stale, but nothing is open: nothing to keep up to date
    pytest.param(True, _utc(2026, 3, 20), True, True, True, id="stale-nothing-open"),
])
def test_case_database_variants(dataset: None, enrol_focal: bool, last_action: datetime,
                                close_open_case: bool, met: bool, fresh: bool) -> None:
    focal = db.session.query(User).filter_by(email="focal@example.org").one()
    focal.totp_confirmed_at = _utc(2026, 1, 1) if enrol_focal else None
    db.session.query(AuditEvent).filter(AuditEvent.case_id.is_not(None)).update(
        {"at": last_action})
    if close_open_case:
        case = db.session.query(Case).filter_by(reference="0000004").one()
        case.status, case.closed_at = CaseStatus.CLOSED, _utc(2026, 3, 30)
    db.session.commit()
    database = _figures().case_database
    assert (database.up_to_date, database.met) == (fresh, met)


def test_empty_denominators_are_no_data(app_context: None) -> None:
    figures = _figures()
    ratios = [figures.trained, figures.closed_within_six_months,
              figures.projects_with_strategy, figures.aware, figures.know_how,
              figures.case_database.two_factor, figures.reports_on_time,
              figures.days_to_close]
    assert all(ratio.denominator == 0 and ratio.share is None for ratio in ratios)
    assert figures.trained_by_location == {} and figures.report_months == []
    # the configured channels are promoted and working everywhere: 2 of 2
    assert figures.channels_by_location == {"SY-ID": Ratio(2, 2), "SY-HL": Ratio(2, 2)}
    assert figures.case_database.met is None  # nobody has a case role
    assert figures.mean_days_to_close is None and figures.median_days_to_close is None
