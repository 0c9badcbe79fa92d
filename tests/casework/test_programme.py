"""Programme records (casework.programme): what each service stores, refuses and audits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from casework import programme
from casework.models import (
    AuditEvent,
    AwarenessSession,
    AwarenessSurvey,
    Case,
    CaseStatus,
    LessonLearned,
    Project,
    ReportSubmission,
    Role,
    Training,
    User,
)
from casework.programme import RecordRefused
from extensions import db

NOW = datetime(2026, 3, 15, 9, tzinfo=UTC)


@pytest.fixture
def officer(app_context: None) -> User:
    user = User(email="officer@example.org", role=Role.OFFICER, password_hash="x")
    db.session.add(user)
    db.session.commit()
    return user


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_project_created_then_changed_with_audit(officer: User) -> None:
    project = programme.save_project(db.session, officer, None, {
        "name": " Winter kits ", "donor": "ECHO", "locations": ["SY-ID", "SY-ID", "SY-HL"],
        "start_date": "2026-01-01", "end_date": "2026-12-31", "focal_point_id": officer.id,
    }, NOW)
    programme.save_project(db.session, officer, project, {"has_strategy": True}, NOW)
    db.session.expire_all()
    stored = db.session.get(Project, project.id)
    assert (stored.name, stored.donor, stored.locations) == ("Winter kits", "ECHO",
                                                             ["SY-ID", "SY-HL"])
    assert stored.has_strategy and stored.focal_point_id == officer.id
    assert _actions() == ["project.created", "project.updated"]
    details = db.session.scalars(select(AuditEvent.details).order_by(AuditEvent.id)).all()
    assert details[1]["fields"] == ["has_strategy"]


@pytest.mark.parametrize(("values", "reason"), [
    pytest.param({"name": ""}, "required", id="no-name"),
    pytest.param({"name": "x" * 201}, "too_long", id="long-name"),
    pytest.param({"name": "P", "start_date": "2026-05-01", "end_date": "2026-04-01"}, "dates",
                 id="ends-before-start"),
    pytest.param({"name": "P", "start_date": "01/05/2026"}, "date", id="bad-date"),
    pytest.param({"name": "P", "focal_point_id": 999}, "link", id="unknown-user"),
])
def test_project_refused(officer: User, values: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordRefused) as refused:
        programme.save_project(db.session, officer, None, values, NOW)
    assert refused.value.reason == reason
    assert db.session.scalar(select(Project.id)) is None and _actions() == []


@pytest.mark.parametrize(("start", "end", "expected"), [
    pytest.param(date(2026, 3, 1), date(2026, 3, 31), ["Open-ended", "Spring"], id="march"),
    pytest.param(date(2026, 7, 1), date(2026, 7, 31), ["Open-ended"], id="july"),
    pytest.param(date(2025, 1, 1), date(2025, 1, 31), ["Old"], id="last-year"),
])
def test_projects_running_in_a_period(officer: User, start: date, end: date,
                                      expected: list[str]) -> None:
    for name, begins, ends in (("Spring", "2026-03-31", "2026-05-31"),
                               ("Open-ended", "2025-06-01", None),
                               ("Old", None, "2025-01-01")):
        programme.save_project(db.session, officer, None,
                               {"name": name, "start_date": begins, "end_date": ends}, NOW)
    found = programme.list_projects(db.session, active_from=start, active_to=end)
    assert [project.name for project in found] == expected


def test_strategy_document_marks_the_strategy_and_case_link(officer: User) -> None:
    project = programme.save_project(db.session, officer, None, {"name": "P"}, NOW)
    programme.set_strategy_document(db.session, officer, project, filename="plan.pdf",
                                    content_type="application/pdf", storage_key="a" * 64,
                                    now=NOW)
    case = Case(reference="0000001", channel="sms", status=CaseStatus.OPEN, due_at=NOW,
                created_at=NOW, last_activity_at=NOW)
    db.session.add(case)
    db.session.commit()
    programme.link_case(db.session, officer, case, project, NOW)
    db.session.expire_all()
    stored = db.session.get(Project, project.id)
    assert stored.has_strategy and stored.strategy_filename == "plan.pdf"
    assert db.session.get(Case, case.id).project_id == project.id
    assert _actions()[-2:] == ["project.strategy_document", "case.project"]


def test_training_participants_are_rows_replaced_on_change(officer: User) -> None:
    training = programme.save_training(
        db.session, officer, None,
        {"held_on": "2026-03-02", "location": "SY-ID-01", "topics": ["PSEA", "CRM", "CRM"]},
        NOW, participants=[{"organisation": "Us", "own_staff": True, "count": 12},
                           {"organisation": "Partner", "own_staff": False, "count": "5"}])
    assert training.participant_count == 17 and training.topics == ["PSEA", "CRM"]
    programme.save_training(db.session, officer, training, {}, NOW,
                            participants=[{"organisation": "Us", "own_staff": True,
                                           "count": 3}])
    db.session.expire_all()
    stored = db.session.get(Training, training.id)
    assert [(row.organisation, row.own_staff, row.count) for row in stored.participants] == [
        ("Us", True, 3)]


@pytest.mark.parametrize(("participants", "reason"), [
    pytest.param([{"organisation": "Us", "count": -1}], "count", id="negative"),
    pytest.param([{"organisation": "Us", "count": "many"}], "count", id="not-a-number"),
    pytest.param([{"organisation": "", "count": 2}], "required", id="no-organisation"),
])
def test_training_refused(officer: User, participants: list[dict[str, Any]],
                          reason: str) -> None:
    with pytest.raises(RecordRefused) as refused:
        programme.save_training(db.session, officer, None, {"held_on": "2026-03-02"}, NOW,
                                participants=participants)
    assert refused.value.reason == reason


def test_headcount_is_one_row_per_location(officer: User) -> None:
    programme.set_headcount(db.session, officer, "SY-ID", 40, NOW)
    programme.set_headcount(db.session, officer, "SY-ID", 42, NOW)
    assert programme.headcounts(db.session) == {"SY-ID": 42}


@pytest.mark.parametrize(("values", "reason"), [
    pytest.param({"interviewed": 10, "aware": 11}, "more_than_interviewed", id="aware"),
    pytest.param({"interviewed": 10, "know_how": 11}, "more_than_interviewed", id="know-how"),
    pytest.param({"interviewed": 10, "preferred_channels": {"sms": 6, "voice": 5}},
                 "more_than_interviewed", id="preferences"),
    pytest.param({"interviewed": 10, "preferred_channels": {"pigeon": 1}}, "channel",
                 id="unknown-channel"),
    pytest.param({"period_end": "2026-02-01", "interviewed": 10}, "dates",
                 id="ends-before-start"),
    pytest.param({"interviewed": 0}, "nobody_interviewed", id="nobody-interviewed"),
    pytest.param({}, "nobody_interviewed", id="interviewed-not-given"),
    pytest.param({"interviewed": 10, "period_end": "2026-03-17"}, "future", id="ends-tomorrow"),
    pytest.param({"interviewed": 10, "period_start": "2026-03-17",
                  "period_end": "2026-03-18"}, "future", id="starts-tomorrow"),
])
def test_survey_refused(officer: User, values: dict[str, Any], reason: str) -> None:
    base = {"location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-10"}
    with pytest.raises(RecordRefused) as refused:
        programme.save_survey(db.session, officer, None, {**base, **values}, NOW)
    assert refused.value.reason == reason
    assert db.session.scalar(select(AwarenessSurvey.id)) is None


@pytest.mark.parametrize(("save", "values", "reason"), [
    pytest.param(programme.save_awareness_session, {"held_on": "2026-03-03"},
                 "nobody_attended", id="session-nobody-counted"),
    pytest.param(programme.save_awareness_session,
                 {"held_on": "2026-03-03", "women": 0, "men": 0}, "nobody_attended",
                 id="session-all-zero"),
    pytest.param(programme.save_awareness_session, {"held_on": "2026-03-17", "women": 5},
                 "future", id="session-tomorrow"),
    pytest.param(programme.save_training, {"held_on": "2026-04-01"}, "future",
                 id="training-next-month"),
])
def test_record_of_what_did_not_happen_refused(officer: User, save: Any,
                                               values: dict[str, Any], reason: str) -> None:
    with pytest.raises(RecordRefused) as refused:
        save(db.session, officer, None, values, NOW)
    assert refused.value.reason == reason
    assert _actions() == []


def test_late_evening_utc_may_record_what_happened_today_east_of_utc(officer: User) -> None:
    # 22:30 UTC on 15 March is 16 March in Damascus and Baghdad: a session held there today
    # is not in the future.
    late = datetime(2026, 3, 15, 22, 30, tzinfo=UTC)
    saved = programme.save_awareness_session(db.session, officer, None,
                                             {"held_on": "2026-03-16", "men": 3}, late)
    assert saved.held_on == date(2026, 3, 16)


def test_session_changed_to_nobody_keeps_what_was_stored(officer: User) -> None:
    record = programme.save_awareness_session(db.session, officer, None,
                                              {"held_on": "2026-03-03", "women": 7}, NOW)
    with pytest.raises(RecordRefused):
        programme.save_awareness_session(db.session, officer, record, {"women": 0}, NOW)
    db.session.expire_all()
    assert db.session.get(AwarenessSession, record.id).women == 7
    assert _actions() == ["awareness_session.created"]


def test_survey_and_awareness_session_stored(officer: User) -> None:
    survey = programme.save_survey(db.session, officer, None, {
        "location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-10",
        "interviewed": 50, "aware": 30, "know_how": 20,
        "preferred_channels": {"voice": 20, "whatsapp": 10, "sms": 0}}, NOW)
    session = programme.save_awareness_session(db.session, officer, None, {
        "held_on": "2026-03-03", "location": "SY-ID-01", "women": 20, "men": 15, "girls": 4,
        "boys": 6, "channels_promoted": ["voice", "box"], "materials": ["poster"]}, NOW)
    db.session.expire_all()
    assert db.session.get(AwarenessSurvey, survey.id).preferred_channels == {
        "voice": 20, "whatsapp": 10}
    assert programme.get_awareness_session(db.session, session.id).participants == 45
    assert [item.id for item in programme.list_surveys(db.session, location="SY-ID")] == [
        survey.id]


def _case(reference: str, channel: str, location: str | None, created: datetime) -> Case:
    return Case(reference=reference, channel=channel, location=location, created_at=created,
                due_at=created + timedelta(days=15), last_activity_at=created,
                status=CaseStatus.OPEN)


def test_channel_availability_derived_then_corrected(officer: User) -> None:
    db.session.add_all([
        _case("0000001", "box", "SY-ID-02", NOW - timedelta(days=10)),  # used: working
        _case("0000002", "whatsapp", "SY-ID", NOW - timedelta(days=30)),
        _case("0000003", "phone", "SY-ID", NOW - timedelta(days=91)),  # too old
        _case("0000004", "simulator", "SY-ID", NOW - timedelta(days=1)),  # not a channel
    ])
    db.session.commit()
    programme.set_channel_availability(db.session, officer, "SY-HL", "sms", promoted=True,
                                       working=False, note="no network", now=NOW)
    view = programme.channel_availability(db.session, configured=["sms", "whatsapp"],
                                          locations=["SY-ID", "SY-HL"], now=NOW)
    idlib = {state.channel: (state.promoted, state.working, state.cases)
             for state in view["SY-ID"]}
    # configured channels are promoted and working everywhere; the box only where it was used
    assert idlib == {"whatsapp": (True, True, 1), "sms": (True, True, 0),
                     "box": (False, True, 1)}
    aleppo = {state.channel: (state.promoted, state.working, state.note)
              for state in view["SY-HL"]}
    assert aleppo == {"whatsapp": (True, True, ""), "sms": (True, False, "no network")}


def test_record_generated_keeps_first_time_and_submission(officer: User) -> None:
    first = programme.record_generated(db.session, date(2026, 2, 14), NOW)
    programme.record_generated(db.session, date(2026, 2, 1), NOW + timedelta(hours=1))
    programme.mark_submitted(db.session, officer, date(2026, 2, 1), NOW + timedelta(hours=2))
    db.session.expire_all()
    rows = db.session.scalars(select(ReportSubmission)).all()
    assert len(rows) == 1 and rows[0].id == first.id and rows[0].month == date(2026, 2, 1)
    assert rows[0].generated_at == NOW and rows[0].last_generated_at == NOW + timedelta(hours=1)
    assert rows[0].submitted_at == NOW + timedelta(hours=2)
    assert rows[0].submitted_by_id == officer.id


@pytest.mark.parametrize("submitted_at", [
    pytest.param(datetime(2026, 1, 31, tzinfo=UTC), id="before-the-month"),
    pytest.param(NOW + timedelta(days=1), id="in-the-future"),
])
def test_submission_refused(officer: User, submitted_at: datetime) -> None:
    with pytest.raises(RecordRefused):
        programme.mark_submitted(db.session, officer, date(2026, 2, 1), NOW,
                                 submitted_at=submitted_at)


@pytest.mark.parametrize(("month", "due_day", "due"), [
    pytest.param(date(2026, 2, 1), 10, date(2026, 3, 10), id="february"),
    pytest.param(date(2026, 12, 1), 5, date(2027, 1, 5), id="december"),
])
def test_due_date(month: date, due_day: int, due: date) -> None:
    assert programme.due_date(month, due_day) == due


def test_lessons_listed_by_month_and_status(officer: User) -> None:
    project = programme.save_project(db.session, officer, None, {"name": "P"}, NOW)
    programme.save_lesson(db.session, officer, None, {"title": "February"},
                          datetime(2026, 2, 20, tzinfo=UTC))
    lesson = programme.save_lesson(db.session, officer, None, {
        "title": "Boxes emptied weekly", "recommendation": "Empty them twice a week",
        "category": "service_quality", "project_id": project.id}, NOW)
    programme.save_lesson(db.session, officer, lesson, {"status": "in_progress"}, NOW)
    march = programme.list_lessons(db.session, begin=datetime(2026, 3, 1, tzinfo=UTC),
                                   finish=datetime(2026, 4, 1, tzinfo=UTC))
    assert [(item.title, item.status) for item in march] == [
        ("Boxes emptied weekly", "in_progress")]
    with pytest.raises(RecordRefused):
        programme.save_lesson(db.session, officer, lesson, {"status": "closed"}, NOW)
    assert db.session.scalar(select(LessonLearned.status).where(
        LessonLearned.id == lesson.id)) == "in_progress"
