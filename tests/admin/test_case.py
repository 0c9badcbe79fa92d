"""The case page: timeline, triage, notes, referrals, replies, closing, reopening, merging.

Tables of actions (what is posted, what must hold after), of refusals (400 with the reason,
nothing changed), and the paths that matter end to end: a sensitive level restricts the case
and notifies PSEA; a focal point's answer lands in the timeline; a reply is delivered on the
simulator channel by the dispatcher. Who may do what is proven in test_access_matrix.py.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework import audit, cases
from casework.models import (
    Attachment,
    AuditEvent,
    CannedResponse,
    Case,
    CaseStatus,
    DeliveryStatus,
    Direction,
    InfoAnswer,
    InfoEntry,
    Message,
    Note,
    Notification,
    Referral,
    TriageSuggestion,
    User,
    utcnow,
)
from channels.dispatcher import Dispatcher
from extensions import db
from services import services

COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"


@pytest.fixture
def officer(signed_in: Callable[..., FlaskClient]) -> FlaskClient:
    client = signed_in("officer")
    client.set_cookie("lang", "en")  # these tests read English labels; ?lang=ar overrides
    return client


@pytest.fixture
def case(new_case: Callable[..., Case], officer: FlaskClient) -> Case:
    return new_case(COMPLAINT, location="SY-ID-01")


def _page(client: FlaskClient, case: Case, query: str = "") -> str:
    # The tests' requests share one app context, where Flask-Babel caches the locale on `g`;
    # forget it so that `?lang=` is honoured as it is in a real (one context per) request.
    g.pop("_flask_babel", None)
    response = client.get(f"/admin/cases/{case.reference}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _actions(case: Case | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if case is not None:
        query = query.where(AuditEvent.case_id == case.id)
    return list(db.session.scalars(query))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _fresh(case: Case) -> Case:
    db.session.expire_all()
    found = db.session.get(Case, case.id)
    assert found is not None
    return found


def _due(days: int = 5) -> str:
    return (utcnow() + timedelta(days=days)).date().isoformat()


def _flashes(page: str) -> list[str]:
    return re.findall(r'<p class="flash info" role="status">(.*?)</p>', page)


# --- each action, done ------------------------------------------------------------------

@dataclass(frozen=True)
class Done:
    label: str
    path: str
    data: Callable[[dict[str, Any]], dict[str, str]]
    check: Callable[[Case, dict[str, Any]], None]
    prepare: Callable[[Case, dict[str, Any]], None] = lambda case, world: None


def _check_triage(case: Case, world: dict[str, Any]) -> None:
    assert (case.level, case.category, case.location, case.project, case.gender,
            case.age_group, case.urgent) == (3, "distribution_food", "SY-ID-02", "شتاء 2025",
                                             "female", "adult", True)
    assert case.status == CaseStatus.OPEN and not case.sensitive
    assert case.due_at == case.created_at + timedelta(hours=360)
    changes = _events("case.triaged")[-1].details["changes"]
    assert changes["level"] == [None, 3] and changes["location"] == ["SY-ID-01", "SY-ID-02"]
    assert changes["status"] == ["new", "open"] and changes["urgent"] == [False, True]


def _check_note(case: Case, world: dict[str, Any]) -> None:
    note = db.session.scalars(select(Note)).one()
    assert (note.case_id, note.author_id, note.body) == (case.id, world["officer"].id,
                                                         "اتصلت بفريق التوزيع")
    event = _events("case.noted")[-1]
    assert event.details == {"note_id": note.id} and event.actor == "officer@example.org"


def _check_referral(case: Case, world: dict[str, Any]) -> None:
    referral = db.session.scalars(select(Referral)).one()
    assert (referral.to_user_id, referral.created_by_id, referral.message) == (
        world["focal"].id, world["officer"].id, "يرجى التحقق من قوائم التوزيع")
    assert referral.due_at > utcnow() + timedelta(days=4)
    assert case.status == CaseStatus.REFERRED
    assert _events("case.referred")[-1].details["to_user_id"] == world["focal"].id


def _check_reply(case: Case, world: dict[str, Any]) -> None:
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    assert (reply.body, reply.channel, reply.status, reply.direction) == (
        "سنتابع طلبك خلال أيام", "simulator", DeliveryStatus.QUEUED, Direction.OUTBOUND)
    assert case.first_response_at is not None and case.status == CaseStatus.OPEN


def _check_close(case: Case, world: dict[str, Any]) -> None:
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert case.resolution == "تم تسليم السلة"
    assert _events("case.closed")[-1].details["within_deadline"] is True


def _check_reopen(case: Case, world: dict[str, Any]) -> None:
    assert case.status == CaseStatus.OPEN and case.closed_at is None
    assert "case.reopened" in _actions(case)


def _check_merge(case: Case, world: dict[str, Any]) -> None:
    into = world["other"]
    assert case.merged_into_id == into.id and case.status == CaseStatus.CLOSED
    assert case.resolution is None and case.closed_at is not None  # no English text stored
    assert _events("case.merged")[-1].details["into_reference"] == into.reference
    assert _fresh(into).status == CaseStatus.NEW  # nothing moves to the case that continues


def _close_first(case: Case, world: dict[str, Any]) -> None:
    case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, utcnow(), "تم"
    db.session.commit()


DONE = [
    Done("triage", "triage", lambda w: {
        "level": "3", "category": "distribution_food", "location": "SY-ID-02",
        "project": " شتاء 2025 ", "gender": "female", "age_group": "adult", "urgent": "y"},
        _check_triage),
    Done("note", "notes", lambda w: {"note": "اتصلت بفريق التوزيع"}, _check_note),
    Done("referral", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": _due(),
        "message": "يرجى التحقق من قوائم التوزيع"}, _check_referral),
    Done("reply", "reply", lambda w: {"reply": "سنتابع طلبك خلال أيام"}, _check_reply),
    Done("close", "close", lambda w: {"resolution": "تم تسليم السلة"}, _check_close),
    Done("reopen", "reopen", lambda w: {}, _check_reopen, _close_first),
    Done("merge", "merge", lambda w: {"into_reference": w["other"].reference}, _check_merge),
    Done("merge-arabic-digits", "merge", lambda w: {
        "into_reference": w["other"].reference.translate(str.maketrans("0123456789",
                                                                       "٠١٢٣٤٥٦٧٨٩"))},
        _check_merge),
]


class World(dict[str, Any]):
    """What a row needs besides its case, made on first use (staff accounts are slow to make:
    their passwords are hashed with Argon2)."""

    def __init__(self, builders: dict[str, Callable[[], Any]]) -> None:
        super().__init__()
        self.builders = builders

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.builders[key]()
        return value


@pytest.fixture
def world(officer: FlaskClient, case: Case, make_user: Callable[..., User],
          new_case: Callable[..., Case]) -> World:
    return World({
        "officer": lambda: officer.user,  # type: ignore[attr-defined]
        "case": lambda: case,
        "focal": lambda: make_user("focal_point", email="focal@example.org"),
        "viewer": lambda: make_user("viewer"),
        "other": lambda: new_case("شكوى أخرى عن السلة", location="SY-ID-02"),
        "third": lambda: new_case("شكوى ثالثة", location="SY-ID-01"),
        "sensitive": lambda: new_case("تحرش من موظف", sensitive=True, location="SY-ID-01"),
    })


@pytest.mark.parametrize("row", DONE, ids=[row.label for row in DONE])
def test_each_action_is_done_and_redirects_back_with_a_flash(
    row: Done, officer: FlaskClient, case: Case, world: World,
) -> None:
    data = row.data(world)
    row.prepare(case, world)
    response = officer.post(f"/admin/cases/{case.reference}/{row.path}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert response.location.startswith(f"/admin/cases/{case.reference}")
    row.check(_fresh(case), world)
    assert len(_flashes(_page(officer, case))) == 1


# --- refusals: 400 with the reason, nothing changed -------------------------------------

@dataclass(frozen=True)
class Refused:
    label: str
    path: str
    data: Callable[[dict[str, Any]], dict[str, str]]
    reason: str
    prepare: Callable[[Case, dict[str, Any]], None] = lambda case, world: None


TRIAGE = {"level": "3", "category": "", "location": "SY-ID-01", "project": "", "gender": "",
          "age_group": ""}


def _by_sms(case: Case, world: dict[str, Any]) -> None:
    case.contact.channel = case.channel = "sms"
    db.session.commit()


def _opt_out(case: Case, world: dict[str, Any]) -> None:
    assert case.contact is not None
    case.contact.opted_out = True
    db.session.commit()


def _merged(case: Case, world: dict[str, Any]) -> None:
    world["other"].merged_into_id = world["third"].id
    db.session.commit()


REFUSED = [
    Refused("level-not-in-grid", "triage", lambda w: {**TRIAGE, "level": "9"},
            "invalid_level"),
    Refused("level-not-a-number", "triage", lambda w: {**TRIAGE, "level": "high"},
            "invalid_level"),
    Refused("unknown-category", "triage", lambda w: {**TRIAGE, "category": "weather"},
            "invalid_category"),
    Refused("unknown-location", "triage", lambda w: {**TRIAGE, "location": "SY-XX-99"},
            "invalid_location"),
    Refused("unknown-gender", "triage", lambda w: {**TRIAGE, "gender": "f"}, "invalid_gender"),
    Refused("unknown-age-group", "triage", lambda w: {**TRIAGE, "age_group": "teen"},
            "invalid_age_group"),
    Refused("project-too-long", "triage", lambda w: {**TRIAGE, "project": "م" * 65},
            "project_too_long"),
    Refused("empty-note", "notes", lambda w: {"note": "  \n "}, "empty"),
    Refused("note-too-long", "notes", lambda w: {"note": "x" * 10_001}, "too_long"),
    Refused("referral-without-recipient", "referrals", lambda w: {
        "to_user": "", "due_date": _due(), "message": "تحقق"}, "invalid_recipient"),
    Refused("referral-to-an-id-beyond-any-row", "referrals", lambda w: {
        "to_user": "9" * 30, "due_date": _due(), "message": "تحقق"}, "invalid_recipient"),
    Refused("referral-to-a-viewer", "referrals", lambda w: {
        "to_user": str(w["viewer"].id), "due_date": _due(), "message": "تحقق"},
        "invalid_recipient"),
    Refused("referral-due-in-the-past", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": _due(-2), "message": "تحقق"},
        "due_in_past"),
    Refused("referral-due-not-a-date", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": "next week", "message": "تحقق"},
        "invalid_due"),
    Refused("referral-without-due-date", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": "", "message": "تحقق"}, "due_required"),
    Refused("referral-without-message", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": _due(), "message": ""}, "empty"),
    Refused("referral-of-a-closed-case", "referrals", lambda w: {
        "to_user": str(w["focal"].id), "due_date": _due(), "message": "تحقق"}, "closed",
        _close_first),
    Refused("empty-reply", "reply", lambda w: {"reply": "   "}, "empty"),
    Refused("reply-too-long", "reply", lambda w: {"reply": "ا" * 4001}, "too_long"),
    Refused("reply-to-someone-who-opted-out", "reply", lambda w: {"reply": "مرحبا"},
            "opted_out", _opt_out),
    Refused("reply-too-long-for-an-sms", "reply", lambda w: {"reply": "ا" * 1601},
            "too_long_for_channel", _by_sms),
    Refused("close-without-resolution", "close", lambda w: {"resolution": "  "},
            "resolution_required"),
    Refused("close-without-resolution-field", "close", lambda w: {}, "resolution_required"),
    Refused("close-a-closed-case", "close", lambda w: {"resolution": "تم"}, "already_closed",
            _close_first),
    Refused("reopen-an-open-case", "reopen", lambda w: {}, "not_closed"),
    Refused("merge-into-itself", "merge", lambda w: {"into_reference": w["case"].reference},
            "same_case"),
    Refused("merge-without-reference", "merge", lambda w: {"into_reference": ""},
            "into_required"),
    Refused("merge-into-a-mistyped-reference", "merge", lambda w: {
        "into_reference": w["other"].reference[:6] + str((int(w["other"].reference[6]) + 1)
                                                         % 10)}, "invalid_reference"),
    Refused("merge-into-a-case-the-officer-cannot-open", "merge", lambda w: {
        "into_reference": w["sensitive"].reference}, "into_not_found"),
    Refused("merge-into-a-merged-case", "merge", lambda w: {
        "into_reference": w["other"].reference}, "into_merged", _merged),
]


def _state(case: Case) -> tuple[Any, ...]:
    fresh = _fresh(case)
    counted = (Note, Referral, Message)
    audit = [action for action in _actions() if action != "case.viewed"]
    return (fresh.status, fresh.level, fresh.category, fresh.location, fresh.project,
            fresh.gender, fresh.age_group, fresh.urgent, fresh.sensitive, fresh.due_at,
            fresh.closed_at, fresh.resolution, fresh.merged_into_id,
            *(_count(model) for model in counted), audit)


@pytest.mark.parametrize("row", REFUSED, ids=[row.label for row in REFUSED])
def test_refused_actions_answer_400_with_the_reason_and_change_nothing(
    row: Refused, officer: FlaskClient, case: Case, world: World,
) -> None:
    data = row.data(world)  # makes what the row needs first: it is not part of the change
    row.prepare(case, world)
    before = _state(case)
    response = officer.post(f"/admin/cases/{case.reference}/{row.path}", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-reason="{row.reason}"' in page, page[:300]
    assert 'class="timeline"' in page  # the whole page again, with what was typed
    assert _state(case) == before


def test_a_post_without_csrf_token_is_refused(app: Flask, officer: FlaskClient, case: Case
                                              ) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = officer.post(f"/admin/cases/{case.reference}/notes", data={"note": "ملاحظة"})
    assert response.status_code == 400
    assert _count(Note) == 0


def test_the_refused_form_keeps_what_was_typed(officer: FlaskClient, case: Case) -> None:
    response = officer.post(f"/admin/cases/{case.reference}/close",
                            data={"resolution": ""})
    assert response.status_code == 400
    response = officer.post(f"/admin/cases/{case.reference}/triage",
                            data={**TRIAGE, "project": "مشروع الشتاء", "level": "9"})
    assert 'value="مشروع الشتاء"' in response.get_data(as_text=True)


# --- sensitive level ------------------------------------------------------------------

def test_a_sensitive_level_restricts_the_case_and_notifies_psea(
    officer: FlaskClient, case: Case, make_user: Callable[..., User],
) -> None:
    psea = make_user("psea")
    away = make_user("psea", email="psea-away@example.org")
    away.active = False
    db.session.commit()
    response = officer.post(f"/admin/cases/{case.reference}/triage",
                            data={**TRIAGE, "level": "5", "category": "fraud_corruption"})
    assert response.status_code == 302
    fresh = _fresh(case)
    assert fresh.sensitive and fresh.level == 5
    assert fresh.due_at == fresh.created_at + timedelta(hours=72)
    restricted, notified = _events("case.restricted"), _events("psea.notified")
    assert [event.actor for event in restricted] == ["officer@example.org"]
    assert [event.details["user_ids"] for event in notified] == [[psea.id]]
    assert _events("case.triaged")[-1].details["changes"]["sensitive"] == [False, True]

    # The officer who triaged it now sees only the restricted summary, and that is audited.
    page = _page(officer, case)
    assert "case-restricted" in page and COMPLAINT not in page
    assert 'class="timeline"' not in page and "fraud_corruption" not in page
    viewed = _events("case.viewed")
    assert [(event.actor, event.details["part"]) for event in viewed] == [
        ("officer@example.org", "summary")]


def test_psea_sees_the_sensitive_case_in_full_and_every_view_is_audited(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
) -> None:
    psea = signed_in("psea")
    case = new_case(COMPLAINT, sensitive=True, location="SY-ID-01")
    assert COMPLAINT in _page(psea, case)
    assert COMPLAINT in _page(psea, case)
    assert [event.details["part"] for event in _events("case.viewed")] == ["page", "page"]
    assert all(event.actor == "psea@example.org" for event in _events("case.viewed"))


def test_lowering_a_sensitive_level_lifts_the_restriction(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
) -> None:
    psea = signed_in("psea")
    case = new_case(COMPLAINT, sensitive=True, location="SY-ID-01")
    response = psea.post(f"/admin/cases/{case.reference}/triage", data={**TRIAGE, "level": "2"})
    # No longer theirs to see: back to the console's home, not to a page that would 404.
    assert response.status_code == 302 and response.location == "/admin/"
    fresh = _fresh(case)
    assert not fresh.sensitive and fresh.due_at == fresh.created_at + timedelta(hours=360)
    assert "case.unrestricted" in _actions(case)


def test_the_assistant_quotes_the_words_as_the_person_wrote_them(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
) -> None:
    psea = signed_in("psea")
    case = new_case("الموظف في نقطة التوزيع طلب مني مالاً مقابل السلة", sensitive=True)
    card = re.search(r'<div class="assistant".*?</div>', _page(psea, case), re.DOTALL)
    assert card is not None and 'data-sensitive="true"' in card.group(0)
    quoted = re.findall(r'<span class="matched" dir="auto">«(.*?)»</span>', card.group(0))
    assert "مالاً" in quoted and "السلة" in quoted
    assert not {"مالا", "السله"} & set(quoted)  # the assistant's keys, never shown
    # Why the case is restricted stands in its timeline too.
    assert "The triage assistant flagged the case as possibly sensitive" in _page(
        psea, case, "?lang=en")


def test_a_flagged_reports_category_outweighs_a_later_question(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case],
    simulate: Callable[..., TestResponse],
) -> None:
    psea = signed_in("psea")
    case = new_case("الموظف في نقطة التوزيع طلب مني مالاً مقابل السلة", sensitive=True)
    simulate("وكمان بدي اعرف متى التوزيع الجاي؟", tab="tab-case-0001")  # the same person
    categories = [item.category for item in db.session.scalars(
        select(TriageSuggestion).where(TriageSuggestion.case_id == case.id)
        .order_by(TriageSuggestion.id))]
    assert categories[0] == "fraud_corruption" and categories[-1] != "fraud_corruption"
    page = _page(psea, case, "?lang=en")
    assert "suggested category: Fraud and corruption" in page


def test_programme_case_views_are_not_audited(officer: FlaskClient, case: Case) -> None:
    _page(officer, case)
    assert _events("case.viewed") == []


# --- referral answered by the focal point ---------------------------------------------

def test_a_referral_answered_by_the_focal_point_lands_in_the_timeline(
    app: Flask, officer: FlaskClient, case: Case, make_user: Callable[..., User],
) -> None:
    focal_user = make_user("focal_point", email="focal@example.org")
    officer.post(f"/admin/cases/{case.reference}/referrals", data={
        "to_user": str(focal_user.id), "due_date": _due(), "message": "هل وصلت القوائم؟"})
    referral = db.session.scalars(select(Referral)).one()
    focal = app.test_client()
    with focal.session_transaction() as session:
        session.update(user_id=focal_user.id, session_version=1, totp_ok=True)
    page = _page(focal, case)
    assert "هل وصلت القوائم؟" in page and COMPLAINT in page
    assert f"/referrals/{referral.id}/answer" in page
    assert 'id="triage"' not in page and 'id="reply"' not in page  # not theirs to do

    answer = "راجعنا القوائم: الاسم موجود والتوزيع الخميس"
    response = focal.post(f"/admin/cases/{case.reference}/referrals/{referral.id}/answer",
                          data={"answer": answer})
    assert response.status_code == 302
    fresh = _fresh(case)
    assert fresh.status == CaseStatus.OPEN and fresh.referrals[0].answered_at is not None
    officer_page = _page(officer, case)
    assert answer in officer_page and "tl-answer" in officer_page
    assert f"/referrals/{referral.id}/answer" not in _page(focal, case)  # answered once

    again = focal.post(f"/admin/cases/{case.reference}/referrals/{referral.id}/answer",
                       data={"answer": "مرة ثانية"})
    assert again.status_code == 400 and 'data-reason="already_answered"' in \
        again.get_data(as_text=True)


@pytest.mark.parametrize(("recipient_role", "self_referral", "alerted"), [
    pytest.param("focal_point", False, True, id="focal-point-alerted-at-once"),
    pytest.param("officer", True, False, id="no-alert-to-oneself"),
])
def test_the_recipient_of_a_referral_is_alerted_at_once(
    app: Flask, officer: FlaskClient, case: Case, make_user: Callable[..., User],
    recipient_role: str, self_referral: bool, alerted: bool,
) -> None:
    recipient = officer.user if self_referral else make_user(  # type: ignore[attr-defined]
        recipient_role, email="focal@example.org")
    response = officer.post(f"/admin/cases/{case.reference}/referrals", data={
        "to_user": str(recipient.id), "due_date": _due(), "message": "هل وصلت القوائم؟"})
    assert response.status_code == 302
    referral = db.session.scalars(select(Referral)).one()
    alerts = db.session.scalars(select(Notification).where(
        Notification.user_id == recipient.id, Notification.kind == "referral_new")).all()
    assert len(alerts) == (1 if alerted else 0)
    if not alerted:
        return
    assert alerts[0].params["reference"] == case.reference
    assert alerts[0].params["due_at"] == referral.due_at.isoformat()
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=recipient.id, session_version=1, totp_ok=True)
    page = client.get("/admin/notifications").get_data(as_text=True)
    assert f"أُحيلت إليك الحالة {case.reference}" in page


def test_a_focal_point_cannot_answer_someone_elses_referral(
    app: Flask, case: Case, make_user: Callable[..., User],
) -> None:
    mine, theirs = (make_user("focal_point", email=f"{name}@example.org")
                    for name in ("mine", "theirs"))
    for user in (mine, theirs):
        db.session.add(Referral(case=case, to_user_id=user.id, message="تحقق",
                                due_at=utcnow() + timedelta(days=2)))
    db.session.commit()
    other = db.session.scalars(select(Referral).where(Referral.to_user_id == theirs.id)).one()
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=mine.id, session_version=1, totp_ok=True)
    response = client.post(f"/admin/cases/{case.reference}/referrals/{other.id}/answer",
                           data={"answer": "ليس لي"})
    assert response.status_code == 403 and other.answer is None
    for missing in ("9999", "9" * 30):
        response = client.post(f"/admin/cases/{case.reference}/referrals/{missing}/answer",
                               data={"answer": "؟"})
        assert response.status_code == 404


# --- replies ------------------------------------------------------------------------------

def test_a_reply_is_queued_then_delivered_on_the_simulator(
    officer: FlaskClient, case: Case, dispatcher: Dispatcher,
) -> None:
    dispatcher.run_once()  # the acknowledgement and the bot's question go first
    response = officer.post(f"/admin/cases/{case.reference}/reply",
                            data={"reply": "وصلتنا شكواك وسنتابعها"})
    assert response.status_code == 302
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    assert reply.status == DeliveryStatus.QUEUED and reply.case_id == case.id
    page = _page(officer, case)
    assert "Reply queued; it will be sent now." in _flashes(page)
    assert f'id="message-{reply.id}"' in page and 'data-status="queued"' in page
    assert "Reply by Officer" in page

    assert dispatcher.run_once() >= 1
    db.session.refresh(reply)
    assert reply.status == DeliveryStatus.DELIVERED and reply.external_id == f"sim-{reply.id}"
    page = _page(officer, case)
    block = page[page.index(f'id="message-{reply.id}"'):]
    assert 'data-status="delivered"' in block[:600]


MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64


def _voice(case: Case) -> Case:
    case.channel = case.contact.channel = "voice"  # as a call-back recording would open it
    db.session.commit()
    return case


def _reply_with(officer: FlaskClient, case: Case, content: bytes, name: str = "answer.mp3",
                text: str = "") -> TestResponse:
    return officer.post(f"/admin/cases/{case.reference}/reply",
                        data={"reply": text, "audio": (io.BytesIO(content), name)},
                        content_type="multipart/form-data")


def test_a_recorded_answer_is_uploaded_and_plays_in_the_timeline(officer: FlaskClient,
                                                                  case: Case) -> None:
    page = _page(officer, _voice(case))
    assert 'enctype="multipart/form-data"' in page and 'id="reply_audio"' in page
    response = _reply_with(officer, case, MP3, "جواب المسؤول.mp3")
    assert response.status_code == 302
    reply = db.session.scalars(select(Message).where(Message.kind == "reply")).one()
    (attachment,) = reply.attachments
    assert (attachment.content_type, attachment.kind) == ("audio/mpeg", "audio")
    page = _page(officer, case)
    block = page[page.index(f'id="message-{reply.id}"'):]
    source = f"/admin/cases/{case.reference}/attachments/{attachment.id}"
    assert f'<audio class="tl-media" controls preload="none" src="{source}">' in block[:1500]
    assert officer.get(source).data == MP3


UNPLAYABLE = [
    ("text-channel", False, MP3, "audio_channel"),
    ("m4a-needs-converting", True, b"\x00\x00\x00\x20ftypM4A " + b"\x00" * 32, "audio_type"),
    ("not-audio", True, b"<html><script>alert(1)</script>", "audio_type"),
]


@pytest.mark.parametrize(("label", "voice", "content", "reason"), UNPLAYABLE,
                         ids=[row[0] for row in UNPLAYABLE])
def test_a_recording_that_cannot_be_played_is_refused_with_the_reason(
    officer: FlaskClient, case: Case, label: str, voice: bool, content: bytes, reason: str,
) -> None:
    if voice:
        _voice(case)
    response = _reply_with(officer, case, content, text="نص الرد")
    assert response.status_code == 400, label
    page = response.get_data(as_text=True)
    assert f'data-reason="{reason}"' in page and "نص الرد" in page, label
    assert db.session.scalars(select(Message).where(Message.kind == "reply")).all() == []
    assert _count(Attachment) == 0


def test_a_text_case_has_no_audio_field(officer: FlaskClient, case: Case) -> None:
    page = _page(officer, case)
    assert 'id="reply_audio"' not in page and 'id="reply_body"' in page


def test_held_and_failed_messages_show_their_status(officer: FlaskClient, case: Case) -> None:
    outbound = db.session.scalars(select(Message).where(
        Message.case_id == case.id, Message.direction == Direction.OUTBOUND)
        .order_by(Message.id)).all()
    outbound[0].status, outbound[0].hold_reason = DeliveryStatus.HELD, "whatsapp_window"
    outbound[1].status, outbound[1].last_error = DeliveryStatus.FAILED, "provider error 63016"
    db.session.commit()
    page = _page(officer, case)
    assert 'data-status="held">Held · until they write again (WhatsApp 24 hours)' in page
    assert 'data-status="failed">Not delivered' in page and "provider error 63016" in page


def test_canned_responses_fill_the_composer_with_the_reference(
    officer: FlaskClient, case: Case,
) -> None:
    talking_point = CannedResponse(title="استلام", body_ar="رقم حالتك %(reference)s، سنتابع.",
                                   body_en="Your case %(reference)s: we follow up.")
    retired = CannedResponse(title="قديم", body_ar="نص قديم %(reference)s", body_en="old",
                             active=False)
    db.session.add_all([talking_point, retired])
    db.session.commit()
    page = _page(officer, case)
    assert re.search(rf'<option value="{talking_point.id}"[^>]*>استلام</option>', page)
    assert "قديم</option>" not in page
    filled = _page(officer, case, f"?canned={talking_point.id}&lang=ar")
    assert f"رقم حالتك {case.reference}، سنتابع.</textarea>" in filled
    english = _page(officer, case, f"?canned={talking_point.id}&lang=en")
    assert f"Your case {case.reference}: we follow up.</textarea>" in english
    assert "نص قديم" not in _page(officer, case, f"?canned={retired.id}")
    for nonsense in ("oops", "9" * 30, "-1"):  # ignored, not an error
        assert "</textarea>" in _page(officer, case, f"?canned={nonsense}")


class _WindowAdapter:
    """A channel with WhatsApp's rule: free text only within 24 hours of their message."""

    def freeform_allowed(self, channel: str, last_inbound_at: datetime | None,
                         now: datetime) -> bool:
        return last_inbound_at is not None and now - last_inbound_at < timedelta(hours=24)


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("label", "channel", "opted_out", "address", "last_inbound", "expected"),
    [
        ("simulator", "simulator", False, "x", NOW, (True, None)),
        ("whatsapp-within-24-hours", "whatsapp", False, "x", NOW - timedelta(hours=23),
         (True, None)),
        ("whatsapp-after-24-hours", "whatsapp", False, "x", NOW - timedelta(hours=25),
         (False, "whatsapp_window")),
        ("opted-out", "simulator", True, "x", NOW, (False, "opted_out")),
        ("address-erased", "simulator", False, None, NOW, (False, "no_contact")),
        ("voice-call-back", "voice", False, "x", NOW, (False, "voice")),
        ("channel-not-configured", "telegram", False, "x", NOW,
         (False, "channel_unavailable")),
    ],
)
def test_deliverability(case: Case, label: str, channel: str, opted_out: bool,
                        address: str | None, last_inbound: datetime,
                        expected: tuple[bool, str | None]) -> None:
    contact = case.contact
    assert contact is not None
    case.channel = contact.channel = channel
    contact.opted_out, contact.address_encrypted = opted_out, address
    contact.last_inbound_at = last_inbound
    adapters = {"simulator": _WindowAdapter(), "whatsapp": _WindowAdapter(),
                "voice": _WindowAdapter()}
    adapters["simulator"].freeform_allowed = lambda *args: True  # type: ignore[method-assign]
    outlook = cases.deliverability(case, NOW, adapters)
    assert (outlook.can_send_now, outlook.reason) == expected, label
    db.session.rollback()


def test_the_composer_says_whether_the_reply_goes_out_now(officer: FlaskClient, case: Case
                                                          ) -> None:
    assert 'data-reason="ok">Will be sent now.' in _page(officer, case)
    assert case.contact is not None
    case.contact.opted_out = True
    db.session.commit()
    assert 'data-reason="opted_out">The person opted out' in _page(officer, case)


# --- the timeline ---------------------------------------------------------------------

def test_the_timeline_has_messages_notes_referrals_and_who_did_what(
    officer: FlaskClient, case: Case, make_user: Callable[..., User],
) -> None:
    focal = make_user("focal_point", email="focal@example.org")
    base = f"/admin/cases/{case.reference}"
    officer.post(f"{base}/triage", data={**TRIAGE, "level": "4",
                                         "category": "registration_and_targeting"})
    officer.post(f"{base}/notes", data={"note": "الشخص غير مسجل في القوائم"})
    officer.post(f"{base}/referrals", data={"to_user": str(focal.id), "due_date": _due(),
                                            "message": "يرجى المراجعة"})
    page = _page(officer, case, "?lang=en")
    timeline = page[page.index('class="timeline"'):]
    order = [timeline.index(text) for text in (
        COMPLAINT, "Triage changed", "Major dissatisfaction", "Registration and targeting",
        "Internal note by Officer", "الشخص غير مسجل في القوائم",
        "Referred by Officer to Focal_Point", "يرجى المراجعة")]
    assert order == sorted(order)
    assert "Case opened from a message on Web simulator" in page
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d</time>", page)
    assert 'dir="auto">' + COMPLAINT in page


@pytest.mark.parametrize(("actor", "action", "language", "shown"), [
    ("triage-assistant", "psea.notified", "ar", "مساعد الفرز"),
    ("triage-assistant", "psea.notified", "en", "Triage assistant"),
    ("information-line", "case.closed", "ar", "خط المعلومات"),
    ("information-line", "case.closed", "en", "Information line"),
    ("system", "case.reopened", "ar", "صوتي (تلقائي)"),
    ("system", "case.reopened", "en", "Sawti (automatic)"),
], ids=["assistant-arabic", "assistant-english", "information-line-arabic",
        "information-line-english", "system-arabic", "system-english"])
def test_actors_that_are_not_staff_are_named_in_the_readers_language(
    officer: FlaskClient, case: Case, actor: str, action: str, language: str, shown: str,
) -> None:
    db.session.add(AuditEvent(action=action, actor=actor, case=case, details={}))
    db.session.commit()
    page = _page(officer, case, f"?lang={language}")
    event = re.search(rf'data-action="{re.escape(action)}">.*?</li>', page, re.S)
    assert event is not None
    assert f'<span class="muted">{shown}</span>' in event.group(0)
    assert actor not in event.group(0)


def test_times_are_shown_in_the_organisation_time_zone(officer: FlaskClient, case: Case
                                                       ) -> None:
    case.created_at = datetime(2025, 1, 10, 21, 30, tzinfo=UTC)  # 00:30 next day in Damascus
    db.session.commit()
    page = _page(officer, case)
    assert ">2025-01-11 00:30</time>" in page


def test_beneficiary_text_is_escaped(officer: FlaskClient, new_case: Callable[..., Case]
                                     ) -> None:
    case = new_case("<script>alert(1)</script>", location="SY-ID-01")
    officer.post(f"/admin/cases/{case.reference}/notes",
                 data={"note": '<img src=x onerror="alert(2)">'})
    page = _page(officer, case)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "<script" not in page  # no inline script at all (the CSP forbids it)
    assert ' style="' not in page


def test_reference_with_arabic_indic_digits_and_unknown_reference(
    officer: FlaskClient, case: Case,
) -> None:
    arabic = case.reference.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert officer.get(f"/admin/cases/{arabic}").status_code == 200
    assert officer.get("/admin/cases/0000000").status_code == 404
    assert officer.get("/admin/cases/not-a-case").status_code == 404


def test_a_merged_case_links_to_the_case_that_continues(
    officer: FlaskClient, case: Case, new_case: Callable[..., Case],
) -> None:
    other = new_case("شكوى مكررة", location="SY-ID-01")
    officer.post(f"/admin/cases/{case.reference}/merge",
                 data={"into_reference": other.reference})
    page = _page(officer, case)
    assert f'href="/admin/cases/{other.reference}"' in page and 'id="merge"' not in page
    assert f"Case {case.reference} was merged into this case" in _page(officer, other)
    reopened = officer.post(f"/admin/cases/{case.reference}/reopen")
    assert reopened.status_code == 302 and _fresh(case).merged_into_id is None


def _merge(officer: FlaskClient, case: Case, other: Case) -> None:
    officer.post(f"/admin/cases/{case.reference}/merge", data={"into_reference": other.reference})


def _merge_after_closing(officer: FlaskClient, case: Case, other: Case) -> None:
    officer.post(f"/admin/cases/{case.reference}/close", data={"resolution": "تم تسليم السلة"})
    _merge(officer, case, other)


def _stored_before(text: str) -> Callable[[FlaskClient, Case, Case], None]:
    """A case merged before Sawti stopped storing an English resolution for it."""
    def setup(officer: FlaskClient, case: Case, other: Case) -> None:
        case.status, case.closed_at, case.merged_into_id = CaseStatus.CLOSED, utcnow(), other.id
        case.resolution = text.format(reference=other.reference)
        db.session.commit()
    return setup


def _answered_by_the_line(stored: str | None) -> Callable[[FlaskClient, Case, Case], None]:
    def setup(officer: FlaskClient, case: Case, other: Case) -> None:
        entry = InfoEntry(code="next_distribution", question_ar="متى التوزيع القادم؟",
                          question_en="When is the next distribution?", answer_ar="قريباً")
        db.session.add(InfoAnswer(case=case, entry=entry, channel="simulator", satisfied=True))
        case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, utcnow(), stored
        db.session.commit()
    return setup


def _caller_reached(then_merged: bool) -> Callable[[FlaskClient, Case, Case], None]:
    """Closed as the voice line closes a missed call's case once a later call-back reached the
    person (channels.twilio_voice.caller_reached), then linked to the case their recording
    opened, or not."""
    def setup(officer: FlaskClient, case: Case, other: Case) -> None:
        case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, utcnow(), None
        audit.record(db.session, "case.closed", case=case, caller_reached=True,
                     status=["new", "closed"], within_deadline=True)
        if then_merged:
            case.merged_into_id = other.id
            audit.record(db.session, "case.merged", case=case, caller_reached=True,
                         into_case_id=other.id, into_reference=other.reference)
        db.session.commit()
    return setup


MERGED_AR = "هذه الحالة مكررة، ودُمجت في:"
MERGED_EN = "This case is a duplicate, merged into:"
REACHED_AR = "أُغلقت تلقائياً: وصلنا إلى الشخص الذي اتصل في معاودة اتصال لاحقة."
REACHED_EN = "Closed automatically: the person who called was reached on a later call-back."


@pytest.mark.parametrize(("setup", "language", "shown", "hidden"), [
    (_merge, "ar", [MERGED_AR], ["Merged into", "نتيجة المعالجة"]),
    (_merge, "en", [MERGED_EN], ["Merged into", "Resolution"]),
    (_stored_before("Merged into {reference}"), "ar", [MERGED_AR],
     ["Merged into", "نتيجة المعالجة"]),
    (_stored_before("Duplicate of {reference}"), "en", [MERGED_EN],
     ["Duplicate of", "Resolution"]),
    (_merge_after_closing, "ar", [MERGED_AR, "نتيجة المعالجة", "تم تسليم السلة"],
     ["Merged into"]),
    (_answered_by_the_line(None), "ar",
     ["نتيجة المعالجة", "أجاب عنها خط المعلومات تلقائياً: متى التوزيع القادم؟"],
     ["Answered automatically", MERGED_AR]),
    (_answered_by_the_line(None), "en",
     ["Answered automatically by the information line: When is the next distribution?"], []),
    (_answered_by_the_line("Answered automatically by the information line (next_distribution)"),
     "ar", ["أجاب عنها خط المعلومات تلقائياً: متى التوزيع القادم؟"],
     ["Answered automatically", "next_distribution"]),
    (_caller_reached(then_merged=False), "ar", ["نتيجة المعالجة", REACHED_AR],
     [REACHED_EN, MERGED_AR]),
    (_caller_reached(then_merged=False), "en", ["Resolution", REACHED_EN], [MERGED_EN]),
    (_caller_reached(then_merged=True), "ar", [MERGED_AR], [REACHED_AR, "نتيجة المعالجة"]),
], ids=["merged-arabic", "merged-english", "stored-merge-arabic", "stored-duplicate-english",
        "merged-after-closing-keeps-the-resolution", "information-line-arabic",
        "information-line-english", "stored-information-line-arabic",
        "caller-reached-arabic", "caller-reached-english", "caller-reached-then-merged"])
def test_the_resolution_is_in_the_readers_language(
    officer: FlaskClient, case: Case, new_case: Callable[..., Case],
    setup: Callable[[FlaskClient, Case, Case], None], language: str, shown: list[str],
    hidden: list[str],
) -> None:
    other = new_case("شكوى مكررة", location="SY-ID-01")
    setup(officer, case, other)
    page = _page(officer, case, f"?lang={language}")
    # As read: the question of an information entry is an element of its own (its language).
    header = re.sub(r"<[^>]+>", "", page[:page.index('class="timeline"')])
    assert [text for text in shown if text not in header] == []
    assert [text for text in hidden if text in header] == []


def _reached_on_a_case_staff_acted_on(opened: bool) -> Callable[[FlaskClient, Case, Case], None]:
    """Left open, as the voice line leaves a missed call's case staff have acted on, once a
    later call-back reached the person; ``opened``: they left a message, which opened
    ``other``."""
    def setup(officer: FlaskClient, case: Case, other: Case) -> None:
        details = {"opened_reference": other.reference} if opened else {}
        audit.record(db.session, "voice.caller_reached", case=case, message_id=1, **details)
        db.session.commit()
    return setup


def _recording_joined(merged: bool) -> Callable[[FlaskClient, Case, Case], None]:
    """The person's recording, left on the call-back for a missed call's case staff acted on,
    joined that case (channels.twilio_voice.store_recording); ``merged``: staff had merged
    that case, ``other``, into this one."""
    def setup(officer: FlaskClient, case: Case, other: Case) -> None:
        details = {"from_reference": other.reference} if merged else {}
        audit.record(db.session, "voice.recording_joined", case=case, message_id=1,
                     callback_id=2, **details)
        db.session.commit()
    return setup


@pytest.mark.parametrize(("setup", "language", "label"), [
    (_caller_reached(then_merged=False), "ar",
     "أُغلقت: وصلنا إلى الشخص الذي اتصل في معاودة اتصال لاحقة"),
    (_caller_reached(then_merged=False), "en",
     "Closed: the person who called was reached on a later call-back"),
    (_reached_on_a_case_staff_acted_on(opened=False), "ar",
     "وصلنا إلى الشخص الذي اتصل في معاودة اتصال لاحقة. تبقى هذه الحالة مفتوحة."),
    (_reached_on_a_case_staff_acted_on(opened=False), "en",
     "The person who called was reached on a later call-back. This case stays open."),
    (_reached_on_a_case_staff_acted_on(opened=True), "ar",
     "وصلنا إلى الشخص الذي اتصل في معاودة اتصال لاحقة وترك رسالة فُتحت لها الحالة {other}. "
     "تبقى هذه الحالة مفتوحة."),
    (_reached_on_a_case_staff_acted_on(opened=True), "en",
     "The person who called was reached on a later call-back and left a message: it opened "
     "case {other}. This case stays open."),
    (_recording_joined(merged=False), "en",
     "The person who called was reached on a later call-back and left a recording: it was "
     "added to this case instead of opening a new one."),
    (_recording_joined(merged=True), "en",
     "The person who called about case {other}, merged into this one, was reached on a "
     "later call-back and left a recording: it was added to this case."),
], ids=["closed-arabic", "closed-english", "left-open-arabic", "left-open-english",
        "left-open-message-arabic", "left-open-message-english", "recording-joined-english",
        "recording-joined-merged-english"])
def test_the_timeline_says_the_caller_was_reached(
    officer: FlaskClient, case: Case, new_case: Callable[..., Case],
    setup: Callable[[FlaskClient, Case, Case], None], language: str, label: str,
) -> None:
    other = new_case("شكوى", location="SY-ID-01")
    setup(officer, case, other)
    page = _page(officer, case, f"?lang={language}")
    assert label.format(other=other.reference) in page[page.index('class="timeline"'):]


# --- inline media and the attachment route ------------------------------------------------

def _attach(case: Case, content: bytes, kind: str, content_type: str | None) -> Attachment:
    message = db.session.scalars(select(Message).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND)).first()
    assert message is not None
    attachment = Attachment(message=message, kind=kind, content_type=content_type,
                            storage_key=services().attachment_store.save(content),
                            size_bytes=len(content), fetch_status="stored")
    db.session.add(attachment)
    db.session.commit()
    return attachment


def test_voice_and_images_are_inline_and_served_with_safe_headers(
    officer: FlaskClient, case: Case,
) -> None:
    voice = _attach(case, b"OggS\x00voice-note", "voice", "audio/ogg")
    image = _attach(case, b"\xff\xd8\xff\xe0jpeg", "image", "image/jpeg")
    pending = Attachment(message=voice.message, kind="voice", content_type="audio/ogg",
                         fetch_status="pending")
    db.session.add(pending)
    db.session.commit()
    base = f"/admin/cases/{case.reference}/attachments"
    page = _page(officer, case)
    assert f'<audio class="tl-media" controls preload="none" src="{base}/{voice.id}">' in page
    assert f'<img class="tl-media" src="{base}/{image.id}"' in page
    assert "An attachment is being downloaded." in page

    served = officer.get(f"{base}/{voice.id}")
    assert served.status_code == 200 and served.data == b"OggS\x00voice-note"
    assert served.mimetype == "audio/ogg"
    assert served.headers["Content-Disposition"] == "inline"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert officer.get(f"{base}/{image.id}").mimetype == "image/jpeg"
    assert officer.get(f"{base}/{pending.id}").status_code == 404
    assert officer.get(f"{base}/99999").status_code == 404
    assert officer.get(f"{base}/{'9' * 30}").status_code == 404


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", None])
def test_an_attachment_that_could_run_as_a_page_is_only_downloaded(
    officer: FlaskClient, case: Case, content_type: str | None,
) -> None:
    document = _attach(case, b"<script>alert(1)</script>", "document", content_type)
    served = officer.get(f"/admin/cases/{case.reference}/attachments/{document.id}")
    assert served.status_code == 200 and served.mimetype == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("label", "role", "kwargs", "sensitive", "expected"),
    [
        ("officer", "officer", {}, False, 200),
        ("officer-other-location", "officer", {"locations": ["SY-HL"]}, False, 404),
        ("officer-sensitive", "officer", {}, True, 403),
        ("psea-sensitive", "psea", {}, True, 200),
        ("psea-programme-case", "psea", {}, False, 404),
        ("focal-point-not-referred", "focal_point", {}, False, 404),
        ("admin", "admin", {}, False, 404),
        ("viewer", "viewer", {}, False, 404),
    ],
)
def test_attachments_are_served_only_to_who_may_open_the_case(
    signed_in: Callable[..., FlaskClient], new_case: Callable[..., Case], label: str,
    role: str, kwargs: dict[str, Any], sensitive: bool, expected: int,
) -> None:
    client = signed_in(role, **kwargs)
    case = new_case(COMPLAINT, sensitive=sensitive, location="SY-ID-01")
    voice = _attach(case, b"OggS\x00secret", "voice", "audio/ogg")
    response = client.get(f"/admin/cases/{case.reference}/attachments/{voice.id}")
    assert response.status_code == expected, label
    assert (b"secret" in response.data) == (expected == 200)
    if sensitive and expected == 200:
        assert [event.details.get("attachment_id") for event in _events("case.viewed")] == [
            voice.id]


def test_an_attachment_of_another_case_is_not_served_through_this_one(
    officer: FlaskClient, case: Case, new_case: Callable[..., Case],
) -> None:
    other = new_case("أخرى", location="SY-ID-01")
    voice = _attach(other, b"OggS", "voice", "audio/ogg")
    assert officer.get(f"/admin/cases/{case.reference}/attachments/{voice.id}"
                       ).status_code == 404


# --- the services on their own (what the JSON API will call too) ----------------------------

@pytest.mark.parametrize(
    ("label", "values", "expected"),
    [
        ("only-urgent", {"urgent": True}, {"urgent": [False, True], "status": ["new", "open"]}),
        ("level-as-arabic-digit", {"level": "٢"},
         {"level": [None, 2], "status": ["new", "open"]}),
        ("blank-project-is-none", {"project": "   "}, {"status": ["new", "open"]}),
    ],
)
def test_triage_changes_only_the_fields_given(case: Case, officer: FlaskClient, label: str,
                                              values: dict[str, Any],
                                              expected: dict[str, Any]) -> None:
    actor = officer.user  # type: ignore[attr-defined]
    changes = cases.triage(db.session, actor, case, values, utcnow(),
                           org_data=services().org_data)
    assert changes == expected, label
    assert _fresh(case).location == "SY-ID-01"


@pytest.mark.parametrize(("values", "reason"), [
    ({"colour": "red"}, "unknown_field"),
    ({"urgent": "yes"}, "invalid_urgent"),
    ({"level": True}, "invalid_level"),
    ({"category": 5}, "invalid_value"),
])
def test_triage_refuses_values_of_the_wrong_kind(case: Case, officer: FlaskClient,
                                                 values: dict[str, Any], reason: str) -> None:
    with pytest.raises(cases.CaseActionRefused) as refused:
        cases.triage(db.session, officer.user, case, values, utcnow(),  # type: ignore[attr-defined]
                     org_data=services().org_data)
    assert refused.value.reason == reason


def test_the_case_stays_referred_until_every_referral_is_answered(
    case: Case, officer: FlaskClient, make_user: Callable[..., User],
) -> None:
    first, second = (make_user("focal_point", email=f"fp{n}@example.org") for n in (1, 2))
    actor = officer.user  # type: ignore[attr-defined]
    due = utcnow() + timedelta(days=3)
    referrals = [cases.refer(db.session, actor, case, user, due, "تحقق", utcnow())
                 for user in (first, second)]
    cases.answer_referral(db.session, first, case, referrals[0], "تم", utcnow())
    assert case.status == CaseStatus.REFERRED
    with pytest.raises(cases.CaseActionRefused) as refused:
        cases.answer_referral(db.session, first, case, referrals[1], "ليس لي", utcnow())
    assert refused.value.reason == "not_recipient"
    cases.answer_referral(db.session, second, case, referrals[1], "تم أيضاً", utcnow())
    assert case.status == CaseStatus.OPEN


# --- the person writes while the officer is closing -------------------------------------

def _seen_message(page: str) -> str:
    found = re.search(r'name="seen_message" type="hidden" value="(\d+)"', page)
    assert found, "the close form carries the latest message on the page"
    return found.group(1)


@pytest.mark.parametrize("person_writes_again", [False, True], ids=["nothing-new", "new-message"])
def test_closing_is_refused_when_the_person_wrote_after_the_page_was_opened(
        officer: FlaskClient, case: Case, simulate: Callable[..., TestResponse],
        person_writes_again: bool) -> None:
    seen = _seen_message(_page(officer, case))
    if person_writes_again:
        simulate("وكمان ما وصلنا الطحين", tab="tab-case-0001")
    response = officer.post(f"/admin/cases/{case.reference}/close",
                            data={"resolution": "تم التوزيع", "seen_message": seen})
    if not person_writes_again:
        assert response.status_code == 302 and _fresh(case).status == CaseStatus.CLOSED
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-reason="unread_message"' in page and "وكمان ما وصلنا الطحين" in page
    assert "تم التوزيع" in page  # what the officer typed is kept
    assert _fresh(case).status != CaseStatus.CLOSED
    response = officer.post(f"/admin/cases/{case.reference}/close",
                            data={"resolution": "تم التوزيع", "seen_message": _seen_message(page)})
    assert response.status_code == 302 and _fresh(case).status == CaseStatus.CLOSED
