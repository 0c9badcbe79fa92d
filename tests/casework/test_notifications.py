"""Staff notifications: the PSEA alert, the daily digest, referral reminders, delivery by
e-mail (fake SMTP server) and Telegram (fake Bot API), and the Telegram linking codes.

Every job runs with a frozen ``now``; what it did is read back from the database and from
the fake servers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.messages import Speaker
from casework import accounts, cases, notifications, scheduler
from casework.models import (
    AuditEvent,
    Case,
    CaseStatus,
    Notification,
    Referral,
    Role,
    User,
)
from casework.references import new_reference
from extensions import db
from services import services
from tests.fakes import FakeTelegram
from tests.fakes.smtp import FakeSMTP

# 07:30 in Damascus (UTC+3), a Tuesday.
NOW = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
BOT_TOKEN = "123456:notifications-test-token"
CHAT_ID = 5550123
SMTP_USER, SMTP_PASSWORD = "sawti-mailer", "mail-password"
CASE_PARAMS = {"reference", "level", "due_at"}


@pytest.fixture
def staff(app_context: None) -> Callable[..., User]:
    def make(role: str, email: str | None = None, locations: list[str] | None = None,
             language: str = "en") -> User:
        user = accounts.create_user(db.session, email or f"{role}@example.org",
                                    "correct horse battery", role, locations=locations)
        user.language = language
        db.session.commit()
        return user
    return make


def make_case(*, due_at: datetime, level: int | None = 2, sensitive: bool = False,
              location: str | None = None, status: str = CaseStatus.OPEN,
              category: str | None = None, created_at: datetime | None = None) -> Case:
    created = created_at or due_at - 15 * DAY
    reference = new_reference()
    while db.session.scalar(select(Case.id).where(Case.reference == reference)) is not None:
        reference = new_reference()  # random references may collide; intake retries too
    case = Case(reference=reference, channel="simulator", status=status, level=level,
                sensitive=sensitive, location=location, category=category, created_at=created,
                due_at=due_at, last_activity_at=created,
                closed_at=created + HOUR if status == CaseStatus.CLOSED else None)
    db.session.add(case)
    db.session.commit()
    return case


def run(job: Callable[..., Any], now: datetime) -> Any:
    return job(db.session, services(), now)


def notes_of(user: User, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query.order_by(Notification.id)))


# --- the immediate PSEA alert -----------------------------------------------------------------


def test_a_case_made_sensitive_alerts_every_active_psea_user(
        staff: Callable[..., User]) -> None:
    officer = staff(Role.OFFICER)
    psea_a, psea_b = staff(Role.PSEA, "psea-a@example.org"), staff(Role.PSEA, "psea-b@example.org")
    retired = staff(Role.PSEA, "psea-old@example.org")
    retired.active = False
    db.session.commit()
    case = make_case(due_at=NOW + 10 * DAY, level=3)

    cases.triage(db.session, officer, case, {"level": 5}, NOW, org_data=services().org_data)

    for user in (psea_a, psea_b):
        [alert] = notes_of(user)
        assert alert.kind == notifications.SENSITIVE and alert.case_id == case.id
        assert set(alert.params) == CASE_PARAMS and alert.params["level"] == 5
        assert alert.email_status == alert.telegram_status == notifications.PENDING
    assert notes_of(retired) == [] and notes_of(officer) == []
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "psea.notified")).one()
    assert event.details["user_ids"] == [psea_a.id, psea_b.id]
    assert sorted(event.details["notification_ids"]) == sorted(
        n.id for n in notes_of(psea_a) + notes_of(psea_b))


def test_the_psea_user_who_made_it_sensitive_is_not_alerted(staff: Callable[..., User]) -> None:
    psea_a, psea_b = staff(Role.PSEA, "psea-a@example.org"), staff(Role.PSEA, "psea-b@example.org")
    case = make_case(due_at=NOW + 10 * DAY, level=None)
    cases.triage(db.session, psea_a, case, {"level": 5}, NOW, org_data=services().org_data)
    assert notes_of(psea_a) == [] and len(notes_of(psea_b)) == 1


def test_each_time_a_case_becomes_sensitive_is_a_new_alert(staff: Callable[..., User]) -> None:
    officer, psea = staff(Role.OFFICER), staff(Role.PSEA)
    case = make_case(due_at=NOW + 10 * DAY, level=None)
    org = services().org_data
    for level in (5, 2, 5, 5):
        cases.triage(db.session, officer, case, {"level": level}, NOW, org_data=org)
    assert len(notes_of(psea, notifications.SENSITIVE)) == 2


def test_a_refused_triage_alerts_nobody(staff: Callable[..., User]) -> None:
    officer, psea = staff(Role.OFFICER), staff(Role.PSEA)
    case = make_case(due_at=NOW + 10 * DAY, level=None)
    with pytest.raises(cases.CaseActionRefused):
        cases.triage(db.session, officer, case, {"level": 5, "category": "no-such-thing"}, NOW,
                     org_data=services().org_data)
    assert notes_of(psea) == []


# --- the daily digest -------------------------------------------------------------------------


@pytest.fixture
def digest_world(staff: Callable[..., User]) -> dict[str, Any]:
    """Two officers of different governorates, a PSEA focal point, and cases around them."""
    world: dict[str, Any] = {
        "idlib": staff(Role.OFFICER, "idlib@example.org", ["SY-ID"]),
        "aleppo": staff(Role.OFFICER, "aleppo@example.org", ["SY-HL"]),
        "psea": staff(Role.PSEA),
        "focal": staff(Role.FOCAL_POINT),
    }
    world["overdue"] = make_case(due_at=NOW - DAY, location="SY-ID-01")
    world["soon"] = make_case(due_at=NOW + 2 * DAY, location="SY-ID")
    # The window ends at local midnight after the third day: 5 Dec 00:00 Damascus.
    world["last_in"] = make_case(due_at=datetime(2026, 12, 4, 20, 59, tzinfo=UTC),
                                 location="SY-ID")
    world["first_out"] = make_case(due_at=datetime(2026, 12, 4, 21, 0, tzinfo=UTC),
                                   location="SY-ID")
    world["closed"] = make_case(due_at=NOW - DAY, location="SY-ID", status=CaseStatus.CLOSED)
    world["aleppo_case"] = make_case(due_at=NOW + DAY, location="SY-HL")
    world["untriaged_place"] = make_case(due_at=NOW + DAY, location=None)
    world["sensitive"] = make_case(due_at=NOW - HOUR, level=5, sensitive=True, location="SY-ID")
    return world


def _references(items: list[dict[str, Any]]) -> list[str]:
    return [item["reference"] for item in items]


def test_each_officer_gets_only_cases_they_may_open(digest_world: dict[str, Any]) -> None:
    w = digest_world
    assert run(scheduler.daily_digest, NOW) == 3

    [idlib] = notes_of(w["idlib"], notifications.DIGEST)
    assert _references(idlib.params["overdue"]) == [w["overdue"].reference]
    assert _references(idlib.params["due_soon"]) == [
        w["untriaged_place"].reference, w["soon"].reference, w["last_in"].reference]
    assert idlib.params["date"] == "2026-12-01" and idlib.case_id is None
    [aleppo] = notes_of(w["aleppo"], notifications.DIGEST)
    assert _references(aleppo.params["due_soon"]) == [w["aleppo_case"].reference,
                                                      w["untriaged_place"].reference]
    assert aleppo.params["overdue"] == []
    [psea] = notes_of(w["psea"], notifications.DIGEST)
    assert _references(psea.params["overdue"]) == [w["sensitive"].reference]
    assert psea.params["due_soon"] == []
    assert notes_of(w["focal"]) == []  # focal points get reminders, not digests
    for item in idlib.params["overdue"] + idlib.params["due_soon"]:
        assert set(item) == CASE_PARAMS  # references, levels and dates only


def test_the_digest_is_sent_once_a_day(digest_world: dict[str, Any]) -> None:
    w = digest_world
    assert run(scheduler.daily_digest, NOW) == 3
    assert run(scheduler.daily_digest, NOW + 5 * 60 * timedelta(seconds=1)) == 0
    assert run(scheduler.daily_digest, NOW + 12 * HOUR) == 0  # still 1 December locally
    assert run(scheduler.daily_digest, NOW + DAY) == 3
    assert [n.params["date"] for n in notes_of(w["idlib"])] == ["2026-12-01", "2026-12-02"]


def test_no_digest_before_the_local_morning(digest_world: dict[str, Any]) -> None:
    assert run(scheduler.daily_digest, NOW - HOUR) == 0  # 06:30 in Damascus
    assert db.session.scalars(select(Notification)).all() == []


@pytest.mark.parametrize("settings_overrides", [{"sawti_timezone": "UTC"}], ids=["utc"])
def test_the_morning_is_the_organisations_morning(digest_world: dict[str, Any]) -> None:
    assert run(scheduler.daily_digest, NOW) == 0  # 04:30 UTC
    assert run(scheduler.daily_digest, NOW + 3 * HOUR) == 3


def test_nothing_due_means_no_digest(staff: Callable[..., User]) -> None:
    officer = staff(Role.OFFICER)
    make_case(due_at=NOW + 10 * DAY)
    assert run(scheduler.daily_digest, NOW) == 0 and notes_of(officer) == []


def test_a_rising_category_is_in_the_digest(staff: Callable[..., User]) -> None:
    officer = staff(Role.OFFICER)
    for hours in range(6):  # six cases this week, none in the eight weeks before
        make_case(due_at=NOW + 14 * DAY, category="assistance_request",
                  created_at=NOW - (hours + 1) * HOUR)
    assert run(scheduler.daily_digest, NOW) == 1
    [digest] = notes_of(officer)
    [trend] = digest.params["trends"]
    assert trend["dimension"] == "category" and trend["code"] == "assistance_request"
    assert trend["count"] == 6 and trend["label_en"] == "Request for assistance"
    text = notifications.describe(digest, Speaker("en"), "Asia/Damascus").text()
    assert "Request for assistance: 6 cases this week" in text


# --- referral reminders -----------------------------------------------------------------------


@pytest.fixture
def referral(staff: Callable[..., User]) -> Referral:
    officer, focal = staff(Role.OFFICER), staff(Role.FOCAL_POINT)
    case = make_case(due_at=NOW + 10 * DAY, level=3)
    # Due on 3 December at 14:00 Damascus time.
    item = Referral(case=case, to_user_id=focal.id, created_by_id=officer.id, message="x",
                    due_at=datetime(2026, 12, 3, 11, 0, tzinfo=UTC), created_at=NOW - DAY)
    db.session.add(item)
    db.session.commit()
    return item


@pytest.mark.parametrize(("moments", "kinds"), [
    pytest.param([NOW], ["referral_due_soon"], id="two-days-before"),
    pytest.param([NOW, NOW + HOUR, NOW + DAY], ["referral_due_soon"], id="before-only-once"),
    pytest.param([NOW, NOW + 2 * DAY, NOW + 2 * DAY + HOUR],
                 ["referral_due_soon", "referral_due"], id="then-on-the-due-day-once"),
    pytest.param([NOW + 2 * DAY + 10 * HOUR], ["referral_due"],
                 id="due-day-evening-after-the-due-time"),
    pytest.param([NOW - DAY], [], id="three-days-before-is-too-early"),
    pytest.param([NOW - 2 * HOUR], [], id="before-the-local-morning"),
    pytest.param([NOW + 3 * DAY], [], id="the-day-after-no-late-reminder"),
])
def test_the_focal_point_is_reminded_before_and_on_the_due_day(
        referral: Referral, moments: list[datetime], kinds: list[str]) -> None:
    for moment in moments:
        run(scheduler.referral_reminders, moment)
    sent = notes_of(referral.to_user)
    assert [n.kind for n in sent] == kinds
    for note in sent:
        assert note.params["reference"] == referral.case.reference
        assert note.params["due_at"] == referral.due_at.isoformat()


def test_an_answered_referral_needs_no_reminder(referral: Referral) -> None:
    referral.answer, referral.answered_at = "done", NOW - HOUR
    db.session.commit()
    assert run(scheduler.referral_reminders, NOW) == 0


def test_two_workers_recording_the_same_reminder_make_one(referral: Referral) -> None:
    user = referral.to_user
    key = f"referral:{referral.id}:soon"
    first = notifications.create(db.session, user, "referral_due_soon", params={}, now=NOW,
                                 dedupe_key=key)
    db.session.commit()
    assert first is not None
    # A second worker that checked before the first committed still cannot add it.
    second = Notification(user_id=user.id, kind="referral_due_soon", params={},
                          dedupe_key=key, created_at=NOW)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(second)
    db.session.rollback()
    assert run(scheduler.referral_reminders, NOW) == 0
    assert len(notes_of(user)) == 1


# --- words ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "params", "fragments"), [
    pytest.param("case_sensitive", {"reference": "1234567", "level": 5,
                                    "due_at": "2026-12-04T04:30:00+00:00"},
                 ["Case 1234567 is sensitive (level 5)", "2026-12-04 07:30"], id="sensitive"),
    pytest.param("referral_new", {"reference": "1234567", "level": 3,
                                  "due_at": "2026-12-03T11:00:00+00:00"},
                 ["Case 1234567 was referred to you.", "answer it by 2026-12-03 14:00"],
                 id="referral-new"),
    pytest.param("case_urgent", {"reference": "1234567", "level": None,
                                 "due_at": "2026-12-03T11:00:00+00:00"},
                 ["Case 1234567 may be urgent.", "danger to life"], id="urgent"),
    pytest.param("referral_due_soon", {"reference": "1234567", "level": None,
                                       "due_at": "2026-12-03T11:00:00+00:00"},
                 ["due soon: case 1234567", "2026-12-03 14:00"], id="referral-soon"),
    pytest.param("referral_due", {"reference": "1234567", "level": 2,
                                  "due_at": "2026-12-03T11:00:00+00:00"},
                 ["due today: case 1234567"], id="referral-today"),
    pytest.param("digest", {"date": "2026-12-01", "overdue_total": 3, "due_soon_total": 0,
                            "overdue": [{"reference": "1234567", "level": None,
                                         "due_at": "2026-11-30T04:30:00+00:00"}],
                            "due_soon": [], "trends": []},
                 ["Your cases on 2026-12-01", "Overdue: 3", "case 1234567, level not graded",
                  "and 2 more"], id="digest"),
])
def test_notifications_are_worded_in_the_readers_language_and_zone(
        app_context: None, kind: str, params: dict[str, Any], fragments: list[str]) -> None:
    text = notifications.describe(Notification(kind=kind, params=params), Speaker("en"),
                                  "Asia/Damascus").text()
    for fragment in fragments:
        assert fragment in text


# --- delivery ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[FakeSMTP]:
    with FakeSMTP(user=SMTP_USER, password=SMTP_PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram(BOT_TOKEN) as server:
        yield server


@pytest.fixture
def smtp(smtp_server: FakeSMTP) -> FakeSMTP:
    smtp_server.reset()
    return smtp_server


@pytest.fixture
def telegram(telegram_server: FakeTelegram) -> FakeTelegram:
    telegram_server.reset()
    return telegram_server


@pytest.fixture
def extra() -> dict[str, object]:
    return {}


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, extra: dict[str, object]
                       ) -> dict[str, object]:
    if "transports" not in request.fixturenames:
        return {}
    smtp_server = request.getfixturevalue("smtp")
    telegram_server = request.getfixturevalue("telegram")
    return {
        "sawti_smtp_host": smtp_server.host, "sawti_smtp_port": smtp_server.port,
        "sawti_smtp_user": SMTP_USER, "sawti_smtp_password": SMTP_PASSWORD,
        "sawti_smtp_from": "alerts@example.org", "sawti_smtp_starttls": False,
        "telegram_bot_token": BOT_TOKEN, "telegram_webhook_secret": "secret-" + "s" * 20,
        "telegram_api_url": telegram_server.url, "sawti_provider_timeout_seconds": 2.0,
        "public_url": "https://crm.example.org/sawti",
    } | extra


@pytest.fixture
def transports(smtp: FakeSMTP, telegram: FakeTelegram, app_context: None) -> None:
    """The app is configured with the fake mail server and the fake Telegram Bot API."""


@pytest.fixture
def alert(staff: Callable[..., User]) -> Notification:
    psea = staff(Role.PSEA, "amal@example.org")
    case = make_case(due_at=NOW + 3 * DAY, level=5, sensitive=True)
    created = notifications.create(db.session, psea, notifications.SENSITIVE,
                                   params=notifications.case_params(case), now=NOW, case=case)
    db.session.commit()
    assert created is not None
    return created


def link(user: User, chat_id: int = CHAT_ID) -> None:
    user.telegram_chat_encrypted = services().vault.encrypt(str(chat_id))
    db.session.commit()


def refreshed(notification: Notification) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification.id)


def test_an_alert_reaches_the_mail_server_and_telegram(
        transports: None, alert: Notification, smtp: FakeSMTP, telegram: FakeTelegram) -> None:
    link(alert.user)
    assert run(scheduler.deliver_notifications, NOW) == 2

    [mail] = smtp.messages()
    reference = alert.case.reference
    assert mail["To"] == "amal@example.org" and mail["From"] == "alerts@example.org"
    assert f"Case {reference} is sensitive" in mail["Subject"]
    assert f"https://crm.example.org/sawti/admin/cases/{reference}" in mail.get_content()
    assert smtp.logins == [SMTP_USER]
    [sent] = telegram.sent_messages()
    assert sent["chat_id"] == CHAT_ID and f"Case {reference} is sensitive" in sent["text"]
    row = refreshed(alert)
    assert (row.email_status, row.telegram_status) == ("sent", "sent")
    assert row.email_sent_at == NOW and row.email_attempts == 1 and row.email_error is None
    assert run(scheduler.deliver_notifications, NOW + HOUR) == 0  # nothing sent twice
    assert len(smtp.messages()) == 1 and len(telegram.sent_messages()) == 1


def test_without_a_link_or_a_mail_server_the_transport_is_skipped_with_the_reason(
        staff: Callable[..., User]) -> None:
    user = staff(Role.PSEA)
    note = notifications.create(db.session, user, notifications.SENSITIVE,
                                params={"reference": "1"}, now=NOW)
    db.session.commit()
    assert run(scheduler.deliver_notifications, NOW) == 0
    row = refreshed(note)
    assert (row.email_status, row.email_error) == ("skipped", "email is not configured")
    assert (row.telegram_status, row.telegram_error) == ("skipped", "telegram is not configured")
    assert row.read_at is None  # still in the console's list


def test_an_unlinked_user_gets_email_only(transports: None, alert: Notification,
                                          smtp: FakeSMTP, telegram: FakeTelegram) -> None:
    run(scheduler.deliver_notifications, NOW)
    row = refreshed(alert)
    assert (row.email_status, row.telegram_status) == ("sent", "skipped")
    assert row.telegram_error == "telegram is not linked" and telegram.sent_messages() == []


def test_a_mail_server_that_says_try_later_is_retried_with_back_off(
        transports: None, alert: Notification, smtp: FakeSMTP,
        caplog: pytest.LogCaptureFixture) -> None:
    smtp.fail_next(1, 451)
    caplog.set_level(logging.INFO)
    run(scheduler.deliver_notifications, NOW)
    row = refreshed(alert)
    assert (row.email_status, row.email_attempts) == ("pending", 1)
    assert row.email_error == "smtp SMTPDataError: 451"
    assert row.email_next_at is not None and row.email_next_at > NOW
    assert run(scheduler.deliver_notifications, NOW) == 0  # not due yet
    run(scheduler.deliver_notifications, row.email_next_at)
    row = refreshed(alert)
    assert (row.email_status, row.email_attempts, row.email_error) == ("sent", 2, None)
    assert len(smtp.messages()) == 1
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "will retry" in logged and "amal@example.org" not in logged


@pytest.mark.parametrize("extra", [{"sawti_send_max_attempts": 2}], ids=["two-attempts"])
def test_after_the_last_attempt_the_failure_is_kept_on_the_row(
        transports: None, alert: Notification, smtp: FakeSMTP,
        caplog: pytest.LogCaptureFixture) -> None:
    smtp.fail_next(5, 451)
    run(scheduler.deliver_notifications, NOW)
    run(scheduler.deliver_notifications, NOW + DAY)
    run(scheduler.deliver_notifications, NOW + 2 * DAY)
    row = refreshed(alert)
    assert (row.email_status, row.email_attempts) == ("failed", 2)
    assert row.email_error == "smtp SMTPDataError: 451" and smtp.messages() == []
    assert any("giving up" in r.getMessage() for r in caplog.records)


def test_a_refused_recipient_fails_at_once(transports: None, alert: Notification,
                                           smtp: FakeSMTP) -> None:
    smtp.fail_next(1, 550, "mailbox unavailable")
    run(scheduler.deliver_notifications, NOW)
    row = refreshed(alert)
    assert (row.email_status, row.email_attempts) == ("failed", 1)


@pytest.mark.parametrize("extra", [{"sawti_smtp_port": 1}], ids=["closed-port"])
def test_an_unreachable_mail_server_is_retried(transports: None, alert: Notification) -> None:
    run(scheduler.deliver_notifications, NOW)
    row = refreshed(alert)
    assert row.email_status == "pending" and row.email_error == "smtp ConnectionRefusedError"


@pytest.mark.parametrize(("inject", "status", "error"), [
    pytest.param("block", "failed", "telegram 403: bot blocked or chat unavailable",
                 id="blocked-is-final"),
    pytest.param("rate_limit", "pending", "telegram 429: flood control", id="429-retried"),
    pytest.param("error", "pending", "telegram network error: NetworkError",
                 id="500-retried"),
])
def test_telegram_failures(transports: None, alert: Notification, telegram: FakeTelegram,
                           inject: str, status: str, error: str) -> None:
    link(alert.user)
    {"block": telegram.block_next, "rate_limit": telegram.rate_limit_next,
     "error": telegram.error_next}[inject]()
    run(scheduler.deliver_notifications, NOW)
    row = refreshed(alert)
    assert (row.telegram_status, row.telegram_error) == (status, error)
    assert row.email_status == "sent"


def test_a_deactivated_user_is_not_sent_anything(transports: None, alert: Notification,
                                                 smtp: FakeSMTP) -> None:
    alert.user.active = False
    db.session.commit()
    run(scheduler.deliver_notifications, NOW)
    assert refreshed(alert).email_status == "skipped" and smtp.messages() == []


def test_the_mail_is_in_the_users_language(transports: None, staff: Callable[..., User],
                                           smtp: FakeSMTP) -> None:
    user = staff(Role.FOCAL_POINT, language="ar")
    notifications.create(db.session, user, notifications.REFERRAL_DUE,
                         params={"reference": "1234567", "level": 2,
                                 "due_at": NOW.isoformat()}, now=NOW)
    db.session.commit()
    run(scheduler.deliver_notifications, NOW)
    [mail] = smtp.messages()
    expected = Speaker("ar")._("A referral to you is due today: case %(reference)s.",
                               reference="1234567")
    assert expected in mail["Subject"] and "1234567" in mail.get_content()


# --- Telegram linking codes -------------------------------------------------------------------


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(("typed", "later", "linked"), [
    pytest.param(lambda code: code, timedelta(minutes=9), True, id="within-ten-minutes"),
    pytest.param(lambda code: code.translate(ARABIC_INDIC), timedelta(0), True,
                 id="arabic-indic-digits"),
    pytest.param(lambda code: f"{code[:4]} {code[4:]}", timedelta(0), True, id="with-a-space"),
    pytest.param(lambda code: code, timedelta(minutes=10), False, id="expired"),
    pytest.param(lambda code: str((int(code) + 1) % 10 ** 8).zfill(8), timedelta(0), False,
                 id="wrong-code"),
    pytest.param(lambda code: code[:7], timedelta(0), False, id="too-short"),
    pytest.param(lambda code: "", timedelta(0), False, id="no-code"),
])
def test_a_link_code_links_the_chat_once_and_only_in_time(
        staff: Callable[..., User], typed: Callable[[str], str], later: timedelta,
        linked: bool) -> None:
    user = staff(Role.OFFICER)
    code = notifications.start_telegram_link(db.session, user, NOW)
    assert len(code) == 8 and code.isdigit()
    chat = services().vault.encrypt(str(CHAT_ID))
    found = notifications.link_telegram(db.session, typed(code), chat, NOW + later)
    db.session.commit()
    assert (found is not None) is linked
    db.session.expire_all()
    if linked:
        assert services().vault.decrypt(user.telegram_chat_encrypted) == str(CHAT_ID)
        assert user.telegram_linked_at == NOW + later and user.telegram_link_code_hash is None
    else:
        assert user.telegram_chat_encrypted is None
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == ("user.telegram_linked" if linked else "user.telegram_link_refused")


def test_a_code_works_once_and_a_new_code_replaces_the_old(staff: Callable[..., User]) -> None:
    user = staff(Role.OFFICER)
    chat = services().vault.encrypt(str(CHAT_ID))
    old = notifications.start_telegram_link(db.session, user, NOW)
    new = notifications.start_telegram_link(db.session, user, NOW)
    assert notifications.link_telegram(db.session, old, chat, NOW) is None or old == new
    assert notifications.link_telegram(db.session, new, chat, NOW) is user
    assert notifications.link_telegram(db.session, new, chat, NOW) is None  # spent
    db.session.commit()
    notifications.unlink_telegram(db.session, user, NOW)
    assert user.telegram_chat_encrypted is None
    assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())
                              ).first() == "user.telegram_unlinked"
