"""The programme records pages: every route × every role, and what the forms store.

Roles: administrators and officers read and write; PSEA staff and viewers read the lists only
(no forms, every POST refused); focal points have no access; a visitor not signed in is sent
to the login page. Numbers and dates are typed with Arabic-Indic digits where it matters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime

import pypdf
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from casework import programme
from casework.models import (
    AwarenessSession,
    AwarenessSurvey,
    Case,
    ChannelAvailability,
    LessonLearned,
    Project,
    ReportSubmission,
    StaffHeadcount,
    Training,
    User,
)
from extensions import db
from services import services

ROLES = ("anonymous", "admin", "officer", "psea", "viewer", "focal_point")
READ = "302 200 200 200 200 403"  # lists and the poster
WRITE_PAGE = "302 200 200 403 403 403"  # the forms (GET)
WRITE = "302 302 302 403 403 403"  # saving (POST)
NOW = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n% strategy\n"
UPLOAD = object()  # a fresh PDF upload in each request

# route label → (method, path with {ids}, form data for a POST, expected per role in ROLES)
ROUTES: dict[str, tuple[str, str, dict[str, object], str]] = {
    "overview": ("GET", "/admin/programme", {}, READ),
    "poster": ("GET", "/admin/programme/poster/SY-ID", {}, READ),
    "projects": ("GET", "/admin/programme/projects", {}, READ),
    "project-new-page": ("GET", "/admin/programme/projects/new", {}, WRITE_PAGE),
    "project-new": ("POST", "/admin/programme/projects/new", {"name": "مشروع المياه"}, WRITE),
    "project-page": ("GET", "/admin/programme/projects/{project}", {}, WRITE_PAGE),
    "project-edit": ("POST", "/admin/programme/projects/{project}",
                     {"name": "WASH", "has_strategy": "y"}, WRITE),
    "strategy-file": ("GET", "/admin/programme/projects/{project}/strategy", {}, READ),
    "strategy-upload": ("POST", "/admin/programme/projects/{project}/strategy",
                        {"file": UPLOAD}, WRITE),
    "trainings": ("GET", "/admin/programme/trainings", {}, READ),
    "training-new-page": ("GET", "/admin/programme/trainings/new", {}, WRITE_PAGE),
    "training-new": ("POST", "/admin/programme/trainings/new", {"held_on": "2026-03-02"},
                     WRITE),
    "training-page": ("GET", "/admin/programme/trainings/{training}", {}, WRITE_PAGE),
    "training-edit": ("POST", "/admin/programme/trainings/{training}",
                      {"held_on": "2026-03-03"}, WRITE),
    "headcount": ("POST", "/admin/programme/headcount",
                  {"location": "SY-ID", "headcount": "12"}, WRITE),
    "sessions": ("GET", "/admin/programme/sessions", {}, READ),
    "session-new-page": ("GET", "/admin/programme/sessions/new", {}, WRITE_PAGE),
    "session-new": ("POST", "/admin/programme/sessions/new",
                    {"held_on": "2026-03-04", "girls": "12"}, WRITE),
    "session-page": ("GET", "/admin/programme/sessions/{session}", {}, WRITE_PAGE),
    "session-edit": ("POST", "/admin/programme/sessions/{session}",
                     {"held_on": "2026-03-05", "women": "4"}, WRITE),
    "surveys": ("GET", "/admin/programme/surveys", {}, READ),
    "survey-new-page": ("GET", "/admin/programme/surveys/new", {}, WRITE_PAGE),
    "survey-new": ("POST", "/admin/programme/surveys/new",
                   {"location": "SY-ID", "period_start": "2026-03-01",
                    "period_end": "2026-03-31", "interviewed": "5"}, WRITE),
    "survey-page": ("GET", "/admin/programme/surveys/{survey}", {}, WRITE_PAGE),
    "survey-edit": ("POST", "/admin/programme/surveys/{survey}",
                    {"location": "SY-ID", "period_start": "2026-02-01",
                     "period_end": "2026-02-28", "interviewed": "10"}, WRITE),
    "channels": ("GET", "/admin/programme/channels", {}, READ),
    "channel-set": ("POST", "/admin/programme/channels",
                    {"location": "SY-ID", "channel": "box", "promoted": "yes", "working": ""},
                    WRITE),
    "reports": ("GET", "/admin/programme/reports", {}, READ),
    "report-submit": ("POST", "/admin/programme/reports", {"month": "2026-02"}, WRITE),
    "report-unsubmit": ("POST", "/admin/programme/reports/2026-01/unsubmit", {}, WRITE),
    "lessons": ("GET", "/admin/programme/lessons", {}, READ),
    "lesson-new-page": ("GET", "/admin/programme/lessons/new", {}, WRITE_PAGE),
    "lesson-new": ("POST", "/admin/programme/lessons/new",
                   {"title": "Explain the call-back", "status": "open"}, WRITE),
    "lesson-page": ("GET", "/admin/programme/lessons/{lesson}", {}, WRITE_PAGE),
    "lesson-edit": ("POST", "/admin/programme/lessons/{lesson}",
                    {"title": "Explain the call-back", "status": "done"}, WRITE),
}

MATRIX = [pytest.param(label, role, expected, id=f"{label}-{role}")
          for label, (_method, _path, _data, row) in ROUTES.items()
          for role, expected in zip(ROLES, row.split(), strict=True)]


@pytest.fixture
def records(app_context: None) -> dict[str, int]:
    """One record of each kind, and January's report submitted."""
    project = programme.save_project(db.session, None, None, {"name": "Cash"}, NOW)
    programme.set_strategy_document(db.session, None, project, filename="old.pdf",
                                    content_type="application/pdf",
                                    storage_key=services().attachment_store.save(PDF), now=NOW)
    training = programme.save_training(db.session, None, None, {"held_on": "2026-03-01"}, NOW)
    session = programme.save_awareness_session(db.session, None, None,
                                               {"held_on": "2026-03-01", "women": 9}, NOW)
    survey = programme.save_survey(db.session, None, None, {
        "location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-10",
        "interviewed": 20}, NOW)
    lesson = programme.save_lesson(db.session, None, None, {"title": "Lesson"}, NOW)
    programme.mark_submitted(db.session, None, date(2026, 1, 1), NOW)
    return {"project": project.id, "training": training.id, "session": session.id,
            "survey": survey.id, "lesson": lesson.id}


def _client(role: str, client: FlaskClient, signed_in: Callable[..., FlaskClient]
            ) -> FlaskClient:
    return client if role == "anonymous" else signed_in(role)


def test_the_matrix_covers_every_programme_route(app: object) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules()  # type: ignore[attr-defined]
             if rule.endpoint.startswith("admin.programme")}
    covered = {path.replace("{project}", "<int:project_id>")
               .replace("{training}", "<int:training_id>").replace("{session}", "<int:record_id>")
               .replace("{survey}", "<int:survey_id>").replace("{lesson}", "<int:lesson_id>")
               .replace("SY-ID", "<code>").replace("2026-01", "<month>")
               for _method, path, _data, _row in ROUTES.values()}
    assert rules == covered


@pytest.mark.parametrize(("label", "role", "expected"), MATRIX)
def test_programme_routes_enforce_roles(
    label: str, role: str, expected: str, records: dict[str, int], client: FlaskClient,
    signed_in: Callable[..., FlaskClient],
) -> None:
    method, path, data, _row = ROUTES[label]
    user_client = _client(role, client, signed_in)
    before = _counts()
    data = {name: (io.BytesIO(PDF), "strategy.pdf") if value is UPLOAD else value
            for name, value in data.items()}
    response = user_client.open(path.format(**records), method=method, data=data)
    assert str(response.status_code) == expected, response.get_data(as_text=True)[:500]
    if role == "anonymous":
        assert "/admin/login" in response.headers["Location"]
    if method == "POST" and expected != "302":
        assert _counts() == before


def _counts() -> tuple[object, ...]:
    models = (Project, Training, AwarenessSession, AwarenessSurvey, LessonLearned,
              StaffHeadcount, ChannelAvailability)
    counts = [db.session.scalar(select(func.count()).select_from(model)) for model in models]
    submitted = db.session.scalars(select(ReportSubmission.submitted_at)
                                   .order_by(ReportSubmission.month)).all()
    titles = db.session.execute(select(Project.name, Project.strategy_filename)
                                .order_by(Project.id)).all()
    return (*counts, tuple(submitted), tuple(titles))


# --- what the forms store ----------------------------------------------------------------------

def test_project_is_saved_with_arabic_digits(signed_in: Callable[..., FlaskClient],
                                             make_user: Callable[..., User]) -> None:
    focal = make_user("focal_point", email="fp@example.org")
    officer = signed_in("officer")
    response = officer.post("/admin/programme/projects/new", data={
        "name": "مشروع المياه", "donor": "ECHO", "locations": ["SY-ID", "SY-ID-01"],
        "start_date": "٢٠٢٦-٠١-٠١", "end_date": "۲۰۲۶-۱۲-۳۱", "team": "فريق إدلب",
        "has_strategy": "y", "focal_point_id": str(focal.id)})
    assert response.status_code == 302
    project = db.session.scalars(select(Project)).one()
    assert (project.name, project.donor, project.locations) == \
        ("مشروع المياه", "ECHO", ["SY-ID", "SY-ID-01"])
    assert (project.start_date, project.end_date) == (date(2026, 1, 1), date(2026, 12, 31))
    assert project.has_strategy and project.focal_point_id == focal.id
    listing = officer.get("/admin/programme/projects").get_data(as_text=True)
    assert "مشروع المياه" in listing and "ECHO" in listing


def test_training_with_participants_and_headcount(signed_in: Callable[..., FlaskClient]
                                                  ) -> None:
    officer = signed_in("officer")
    response = officer.post("/admin/programme/trainings/new", data={
        "held_on": "2026-03-02", "location": "SY-ID", "title": "CRM basics",
        "topics": "Code of conduct\nReferral pathways\n",
        "participants-0-organisation": "Sawti", "participants-0-count": "١٢",
        "participants-0-own_staff": "y",
        "participants-1-organisation": "Partner NGO", "participants-1-count": "5"})
    assert response.status_code == 302
    training = db.session.scalars(select(Training)).one()
    assert training.topics == ["Code of conduct", "Referral pathways"]
    assert sorted((row.organisation, row.count, row.own_staff)
                  for row in training.participants) == \
        [("Partner NGO", 5, False), ("Sawti", 12, True)]
    assert officer.post("/admin/programme/headcount",
                        data={"location": "SY-ID", "headcount": "٤٠"}).status_code == 302
    assert programme.headcounts(db.session) == {"SY-ID": 40}


@pytest.mark.parametrize(("path", "data", "message"), [
    pytest.param("/admin/programme/surveys/new",
                 {"location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-31",
                  "interviewed": "10", "aware": "11"},
                 "cannot be more than the people interviewed", id="aware-above-interviewed"),
    pytest.param("/admin/programme/surveys/new",
                 {"location": "SY-ID", "period_start": "2026-03-31", "period_end": "2026-03-01",
                  "interviewed": "10"},
                 "The end cannot be before the start", id="period-backwards"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "2026-02-30"},
                 "Check the fields marked below", id="impossible-date"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "2026-03-01", "women": "many"},
                 "Check the fields marked below", id="count-not-a-number"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "2026-03-01", "men": "-3"},
                 "Check the fields marked below", id="negative-count"),
    pytest.param("/admin/programme/projects/new", {"name": ""},
                 "Check the fields marked below", id="project-without-name"),
    pytest.param("/admin/programme/projects/new", {"name": "X", "locations": ["XX-00"]},
                 "Check the fields marked below", id="unknown-location"),
    pytest.param("/admin/programme/lessons/new",
                 {"title": "T", "status": "open", "case_reference": "1234567"},
                 "No case you can open has this reference", id="unknown-case"),
    pytest.param("/admin/programme/reports", {"month": "March"},
                 "Write the month as YYYY-MM", id="bad-month"),
    pytest.param("/admin/programme/reports", {"month": "2099-01"},
                 "not in the future", id="future-month"),
    pytest.param("/admin/programme/headcount", {"location": "SY-ID", "headcount": "x"},
                 "Enter a whole number.", id="bad-headcount"),
])
def test_bad_input_shows_the_form_again(signed_in: Callable[..., FlaskClient], path: str,
                                        data: dict[str, object], message: str) -> None:
    before = _counts()
    response = signed_in("officer").post(path, data=data, query_string={"lang": "en"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _counts() == before


# What WTForms' own Arabic catalogue leaves in English (most plural forms: "Field cannot be
# longer than…"), gets wrong ("invalid real-number value" for an integer) or a plain
# wtforms.Form never translates ("Number must be between…" in a training's participant rows).
UNTRANSLATED = ("Field cannot be", "Number must be", "Not a valid", "not a valid choice",
                "العدد الحقيقي")
TRAINING = {"held_on": "2026-03-02", "participants-0-organisation": "Sawti"}


@pytest.mark.parametrize(("path", "data", "arabic"), [
    pytest.param("/admin/programme/projects/new", {"name": "م" * 201},
                 "لا يمكن أن يزيد النص على 200 حرف.", id="project-name-too-long"),
    pytest.param("/admin/programme/projects/new", {"name": "X", "locations": ["XX-00"]},
                 "اختر من القائمة فقط.", id="project-unknown-location"),
    pytest.param("/admin/programme/trainings/new", {**TRAINING, "notes": "x" * 5001},
                 "لا يمكن أن يزيد النص على 5,000 حرف.", id="training-notes-too-long"),
    pytest.param("/admin/programme/trainings/new",
                 {**TRAINING, "participants-0-count": "2000000"},
                 "يجب أن يكون الرقم عدداً صحيحاً من 0 إلى 1,000,000.",
                 id="participants-above-range"),
    pytest.param("/admin/programme/trainings/new", {**TRAINING, "participants-0-count": "1.5"},
                 "أدخل عدداً صحيحاً.", id="participants-not-whole"),
    pytest.param("/admin/programme/trainings/new",
                 {**TRAINING, "participants-0-organisation": "م" * 201},
                 "لا يمكن أن يزيد النص على 200 حرف.", id="participant-organisation-too-long"),
    pytest.param("/admin/programme/headcount", {"location": "SY-ID", "headcount": "x"},
                 "أدخل عدداً صحيحاً.", id="headcount-not-a-number"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "2026-03-01", "men": "-3"},
                 "يجب أن يكون الرقم عدداً صحيحاً من 0 إلى 1,000,000.", id="session-negative"),
    pytest.param("/admin/programme/sessions/new",
                 {"held_on": "2026-03-01", "channels_promoted": ["pigeon"]},
                 "اختر من القائمة فقط.", id="session-unknown-channel"),
    pytest.param("/admin/programme/surveys/new",
                 {"location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-31",
                  "interviewed": "عشرة"}, "أدخل عدداً صحيحاً.", id="survey-words-for-number"),
    pytest.param("/admin/programme/surveys/new",
                 {"location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-31",
                  "interviewed": "٠"}, "يحتاج الاستبيان إلى شخص واحد على الأقل تمت مقابلته.",
                 id="survey-nobody-interviewed"),
    pytest.param("/admin/programme/surveys/new",
                 {"location": "SY-ID", "period_start": "2026-03-01", "period_end": "2026-03-31"},
                 "يحتاج الاستبيان إلى شخص واحد على الأقل تمت مقابلته.",
                 id="survey-interviewed-left-empty"),
    pytest.param("/admin/programme/lessons/new",
                 {"title": "T", "status": "open", "case_reference": "1" * 21},
                 "لا يمكن أن يزيد النص على 20 حرفاً.", id="lesson-reference-too-long"),
    pytest.param("/admin/programme/reports", {"month": "2026-01", "note": "x" * 501},
                 "لا يمكن أن يزيد النص على 500 حرف.", id="report-note-too-long"),
])
def test_field_errors_are_in_arabic(signed_in: Callable[..., FlaskClient], path: str,
                                    data: dict[str, object], arabic: str) -> None:
    before = _counts()
    response = signed_in("officer").post(path, data=data, query_string={"lang": "ar"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'<span class="error">{arabic}</span>' in page
    assert not [text for text in UNTRANSLATED if text in page]
    assert _counts() == before


# 22:30 UTC on 15 March is already 16 March in Damascus, where the organisation works.
LATE_EVENING_UTC = datetime(2026, 3, 15, 22, 30, tzinfo=UTC)
FUTURE = "لا يمكن أن يكون التاريخ في المستقبل."
NOBODY = ("تحتاج الجلسة إلى مشارك واحد على الأقل: أدخل عدد النساء أو الرجال أو الفتيات أو "
          "الفتيان.")
SURVEY = {"location": "SY-ID", "period_start": "2026-03-01", "interviewed": "10"}


@pytest.mark.parametrize(("path", "data", "field", "arabic"), [
    pytest.param("/admin/programme/trainings/new", {**TRAINING, "held_on": "2031-03-02"},
                 "held_on", FUTURE, id="training-in-2031"),
    pytest.param("/admin/programme/trainings/new", {**TRAINING, "held_on": "2026-03-17"},
                 "held_on", FUTURE, id="training-tomorrow-in-damascus"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "٢٠٣١-٠١-٠١", "women": "5"},
                 "held_on", FUTURE, id="session-in-2031-arabic-digits"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "2026-03-01"},
                 "women", NOBODY, id="session-without-counts"),
    pytest.param("/admin/programme/sessions/new",
                 {"held_on": "2026-03-01", "women": "0", "men": "٠", "girls": "", "boys": "0"},
                 "women", NOBODY, id="session-of-zeros"),
    pytest.param("/admin/programme/surveys/new", {**SURVEY, "period_end": "2031-03-31"},
                 "period_end", FUTURE, id="survey-ending-in-2031"),
    pytest.param("/admin/programme/surveys/new",
                 {**SURVEY, "period_start": "2026-03-17", "period_end": "2026-03-20"},
                 "period_start", FUTURE, id="survey-starting-tomorrow"),
])
def test_impossible_records_are_refused(
    signed_in: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch, path: str,
    data: dict[str, object], field: str, arabic: str,
) -> None:
    monkeypatch.setattr("admin.forms.utcnow", lambda: LATE_EVENING_UTC)
    before = _counts()
    response = signed_in("officer").post(path, data=data, query_string={"lang": "ar"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    control = re.search(rf'<input[^>]*id="{field}"[^>]*>', page)
    assert control is not None and f'aria-describedby="{field}-error"' in control.group()
    assert re.search(rf'id="{field}"[^>]*>\s*<span id="{field}-error" class="field-errors">'
                     rf'<span class="error">'
                     rf'{re.escape(arabic)}</span>', page), page[-3000:]
    assert _counts() == before


@pytest.mark.parametrize(("path", "data", "model"), [
    pytest.param("/admin/programme/trainings/new", {**TRAINING, "held_on": "2026-03-16"},
                 Training, id="training-today-in-damascus"),
    pytest.param("/admin/programme/sessions/new", {"held_on": "٢٠٢٦-٠٣-١٦", "boys": "١"},
                 AwarenessSession, id="session-today-of-one-boy"),
    pytest.param("/admin/programme/surveys/new", {**SURVEY, "period_end": "2026-03-16"},
                 AwarenessSurvey, id="survey-ending-today"),
])
def test_records_of_today_are_saved(
    signed_in: Callable[..., FlaskClient], monkeypatch: pytest.MonkeyPatch, path: str,
    data: dict[str, object], model: type[object],
) -> None:
    monkeypatch.setattr("admin.forms.utcnow", lambda: LATE_EVENING_UTC)
    assert signed_in("officer").post(path, data=data).status_code == 302
    record = db.session.scalars(select(model)).one()
    assert date(2026, 3, 16) in (getattr(record, name, None)
                                 for name in ("held_on", "period_end"))


def test_participant_rows_need_no_csrf_token_of_their_own(
    app: object, make_user: Callable[..., User],
) -> None:
    """The training form's token covers its participant rows (they are FlaskForms too)."""
    user = make_user("officer")
    client = app.test_client()  # type: ignore[attr-defined]
    with client.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    page = client.get("/admin/programme/trainings/new").get_data(as_text=True)
    assert "participants-0-csrf_token" not in page
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {**TRAINING, "participants-0-count": "٧"}
    assert client.post("/admin/programme/trainings/new", data=data).status_code == 400
    assert client.post("/admin/programme/trainings/new",
                       data={**data, "csrf_token": token.group(1)}).status_code == 302
    training = db.session.scalars(select(Training)).one()
    assert [(row.organisation, row.count) for row in training.participants] == [("Sawti", 7)]


def test_survey_results_and_preferred_channels(signed_in: Callable[..., FlaskClient]) -> None:
    officer = signed_in("officer")
    response = officer.post("/admin/programme/surveys/new", data={
        "location": "SY-ID-01", "period_start": "٢٠٢٦-٠٣-٠١", "period_end": "2026-03-31",
        "interviewed": "٥٠", "aware": "30", "know_how": "20", "prefer_whatsapp": "12",
        "prefer_voice": "8"})
    assert response.status_code == 302
    survey = db.session.scalars(select(AwarenessSurvey)).one()
    assert (survey.interviewed, survey.aware, survey.know_how) == (50, 30, 20)
    assert survey.preferred_channels == {"whatsapp": 12, "voice": 8}
    listing = officer.get("/admin/programme/surveys?lang=en").get_data(as_text=True)
    assert "30 (60%)" in listing


def test_lesson_links_a_case_and_changes_status(signed_in: Callable[..., FlaskClient],
                                                new_case: Callable[..., Case]) -> None:
    case = new_case(location="SY-ID")
    officer = signed_in("officer")
    reference = case.reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert officer.post("/admin/programme/lessons/new", data={
        "title": "Explain the call-back", "recommendation": "Add it to the poster",
        "status": "open", "case_reference": reference, "category": ""}).status_code == 302
    lesson = db.session.scalars(select(LessonLearned)).one()
    assert (lesson.case_id, lesson.status) == (case.id, "open")
    assert officer.post(f"/admin/programme/lessons/{lesson.id}", data={
        "title": "Explain the call-back", "status": "done",
        "case_reference": case.reference}).status_code == 302
    db.session.refresh(lesson)
    assert lesson.status == "done" and lesson.recommendation == "Add it to the poster"


def test_channel_correction_and_report_submission(signed_in: Callable[..., FlaskClient]
                                                  ) -> None:
    officer = signed_in("officer")
    assert officer.post("/admin/programme/channels", data={
        "location": "SY-HL", "channel": "box", "promoted": "yes", "working": "no",
        "note": "صندوق في المركز"}).status_code == 302
    row = db.session.scalars(select(ChannelAvailability)).one()
    assert (row.location, row.channel, row.promoted, row.working) == \
        ("SY-HL", "box", True, False)
    page = officer.get("/admin/programme/channels?lang=en").get_data(as_text=True)
    assert "صندوق في المركز" in page and "Complaint box" in page
    assert officer.post("/admin/programme/reports", data={
        "month": "٢٠٢٦-٠١", "submitted_on": "2026-02-08"}).status_code == 302
    submission = db.session.scalars(select(ReportSubmission)).one()
    assert submission.month == date(2026, 1, 1)
    assert submission.submitted_at is not None and submission.submitted_at.date() == \
        date(2026, 2, 8)


@pytest.mark.parametrize(("role", "editable"), [
    pytest.param("officer", True, id="officer-edits"),
    pytest.param("viewer", False, id="viewer-reads"),
    pytest.param("psea", False, id="psea-reads"),
])
def test_readers_see_no_forms(records: dict[str, int], signed_in: Callable[..., FlaskClient],
                              role: str, editable: bool) -> None:
    user = signed_in(role)
    for path in ("/admin/programme/projects", "/admin/programme/trainings",
                 "/admin/programme/channels", "/admin/programme/reports",
                 "/admin/programme/lessons"):
        page = user.get(path + "?lang=en").get_data(as_text=True)
        writes = 'method="post" action="/admin/programme' in page or "Edit</a>" in page \
            or re.search(r'"/admin/programme/\w+/new"', page) is not None
        assert writes is editable, path


@pytest.mark.parametrize(("lang", "direction", "heading"), [
    pytest.param("ar", "rtl", "lang=\"ar\"", id="arabic"),
    pytest.param("en", "ltr", "Programme records", id="english"),
])
def test_pages_in_both_languages(signed_in: Callable[..., FlaskClient], lang: str,
                                 direction: str, heading: str) -> None:
    page = signed_in("viewer").get(f"/admin/programme?lang={lang}").get_data(as_text=True)
    assert f'dir="{direction}"' in page and heading in page


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"twilio_account_sid": "AC" + "0" * 32, "twilio_auth_token": "token",
            "twilio_voice_number": "+963944123456", "twilio_sms_number": "+963955000111"}


def test_poster_download_prints_the_location_channels(
    signed_in: Callable[..., FlaskClient],
) -> None:
    viewer = signed_in("viewer")
    response = viewer.get("/admin/programme/poster/SY-ID")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text().replace(" ", "")
    assert "+963944123456" in text and "+963955000111" in text
    officer = signed_in("officer", email="officer2@example.org")
    assert officer.post("/admin/programme/channels", data={
        "location": "SY-ID", "channel": "sms", "promoted": "no", "working": ""}
    ).status_code == 302
    response = viewer.get("/admin/programme/poster/SY-ID-01")
    text = pypdf.PdfReader(io.BytesIO(response.data)).pages[0].extract_text().replace(" ", "")
    assert "+963944123456" in text and "+963955000111" not in text
    assert viewer.get("/admin/programme/poster/XX-00").status_code == 404


# --- linking a case to a project at triage ------------------------------------------------------

TRIAGE = {"level": "3", "category": "distribution_food", "location": "SY-ID-02", "project": "",
          "gender": "", "age_group": ""}


def test_triage_links_and_unlinks_a_project(signed_in: Callable[..., FlaskClient],
                                            new_case: Callable[..., Case]) -> None:
    project = programme.save_project(db.session, None, None, {"name": "مشروع الشتاء"}, NOW)
    case = new_case(location="SY-ID")
    officer = signed_in("officer")
    page = officer.get(f"/admin/cases/{case.reference}").get_data(as_text=True)
    assert f'<option value="{project.id}">مشروع الشتاء</option>' in page
    url = f"/admin/cases/{case.reference}/triage"
    assert officer.post(url, data={**TRIAGE, "project_id": str(project.id)}).status_code == 302
    db.session.refresh(case)
    assert case.project_id == project.id
    refused = officer.post(url, data={**TRIAGE, "project_id": "999"}, query_string={"lang": "en"})
    assert refused.status_code == 400
    assert "Choose a programme project from the list." in refused.get_data(as_text=True)
    db.session.refresh(case)
    assert case.project_id == project.id
    assert officer.post(url, data={**TRIAGE, "project_id": ""}).status_code == 302
    db.session.refresh(case)
    assert case.project_id is None


def test_programme_posts_need_the_csrf_token(app: object, make_user: Callable[..., User]
                                             ) -> None:
    user = make_user("officer")
    client = app.test_client()  # type: ignore[attr-defined]
    with client.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    response = client.post("/admin/programme/projects/new?lang=en", data={"name": "WASH"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Project)) == 0


@pytest.mark.parametrize(("upload", "status", "stored"), [
    pytest.param((PDF, "خطة.pdf"), 302, "application/pdf", id="pdf"),
    pytest.param((b"OggS" + b"\0" * 40, "note.ogg"), 400, None, id="audio-refused"),
    pytest.param((b"<html>", "page.html"), 400, None, id="html-refused"),
    pytest.param(None, 400, None, id="no-file"),
])
def test_strategy_document(signed_in: Callable[..., FlaskClient],
                           upload: tuple[bytes, str] | None, status: int,
                           stored: str | None) -> None:
    project = programme.save_project(db.session, None, None, {"name": "WASH"}, NOW)
    officer = signed_in("officer")
    data = {"file": (io.BytesIO(upload[0]), upload[1])} if upload else {}
    url = f"/admin/programme/projects/{project.id}/strategy"
    assert officer.post(url, data=data).status_code == status
    db.session.refresh(project)
    assert project.strategy_content_type == stored
    assert project.has_strategy is (stored is not None)
    if stored:
        download = signed_in("viewer").get(url)
        assert download.data == PDF and download.mimetype == "application/pdf"
        assert officer.post(url, data={"remove": "1"}).status_code == 302
        db.session.refresh(project)
        assert project.strategy_storage_key is None
