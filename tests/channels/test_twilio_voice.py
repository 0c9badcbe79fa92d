"""The voice call-back line through the real twilio client against the local fake Twilio.

TwiML is checked by parsing it (``xml.etree.ElementTree``), never by comparing strings.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bot.messages import Speaker
from casework import accounts, audit, cases, info, outbox
from casework.models import (
    Attachment,
    AuditEvent,
    Case,
    Contact,
    DeliveryStatus,
    InfoAnswer,
    InfoEntry,
    Message,
    Role,
    User,
    VoiceCall,
    utcnow,
)
from casework.queue import QueueFilters, bulk_assign, find_cases
from casework.references import damm_check_digit
from casework.replies import ReplyAudio, queue_reply
from casework.reports import kpis
from channels.dispatcher import Dispatcher
from channels.twilio_voice import CallingHours, callable_number, spoken_digits
from extensions import db
from services import services
from tests.channels.conftest import ACCOUNT_SID, PUBLIC_URL, SMS_NUMBER, post_twilio
from tests.fakes import FakeTwilio, messaging_form, new_sid, status_form
from tests.fakes.twilio_api import answered_by

VOICE = "/webhooks/twilio/voice"
VOICE_NUMBER = "+15005550007"
PERSON = "+963944000111"
OTHER_PERSON = "+963933000222"
AR = Speaker("ar")
SAY = {"voice": "Polly.Zeina", "language": "arb"}


def _open_hours(now: datetime | None = None) -> str:
    """Calling hours (UTC) that are open now, whatever the time the tests run."""
    now = now or datetime.now(UTC)
    return f"{(now - timedelta(hours=6)):%H:%M}-{(now + timedelta(hours=6)):%H:%M}"


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    base: dict[str, object] = {"sawti_timezone": "UTC", "sawti_call_hours": _open_hours()}
    return base | getattr(request, "param", {})


# --- helpers ------------------------------------------------------------------------------

def _count(model: type, *where: object) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _needs_action(officer: User) -> set[str]:
    """The references in the console's "needs action" view."""
    page = find_cases(db.session, officer, QueueFilters(needs_action=True), per_page=100)
    return {item.case.reference for item in page.items}


def _incoming_form(call_sid: str | None = None, caller: str | None = PERSON) -> dict[str, str]:
    form = {"CallSid": call_sid or new_sid("CA"), "AccountSid": ACCOUNT_SID, "To": VOICE_NUMBER,
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
            "FromCountry": "SY", "ToCountry": "US"}
    if caller is not None:
        form["From"] = caller
    return form


def _ring(client: FlaskClient, caller: str = PERSON, call_sid: str | None = None
          ) -> TestResponse:
    return post_twilio(client, VOICE, _incoming_form(call_sid, caller))


def _xml(response: TestResponse) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 - our own TwiML
    assert root.tag == "Response"
    return root


def _said(element: ET.Element) -> list[str]:
    """Every <Say> text, in document order (nested ones included), checking the voice."""
    texts = []
    for say in element.iter("Say"):
        assert {key: say.get(key) for key in SAY} == SAY
        texts.append(say.text or "")
    return texts


def _verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def _path(url: str) -> str:
    assert url.startswith(PUBLIC_URL), url
    return url.removeprefix(PUBLIC_URL)


def _tries(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("tries", ["-"])[0]


@dataclass
class Call:
    """A call we placed, as the tests drive it: its TwiML base path and the message."""

    base: str
    message: Message
    sid: str
    to: str

    def post(self, client: FlaskClient, step: str, **form: str) -> TestResponse:
        params = {"CallSid": self.sid, "AccountSid": ACCOUNT_SID, "From": VOICE_NUMBER,
                  "To": self.to, "Direction": "outbound-api", "CallStatus": "in-progress",
                  "ApiVersion": "2010-04-01", **form}
        return post_twilio(client, f"{self.base}/{step}", params)

    def status(self, client: FlaskClient, status: str, **form: str) -> TestResponse:
        return self.post(client, "status", CallStatus=status, **form)


def _placed(fake_twilio: FakeTwilio, kind: str = "callback") -> Call:
    placed = fake_twilio.placed_calls()[-1]
    message = db.session.scalars(select(Message).where(Message.kind == kind)
                                 .order_by(Message.id.desc())).first()
    assert message is not None and message.external_id
    base = _path(placed["Url"]).removesuffix("/answer")
    return Call(base, message, message.external_id, placed["To"])


def _called_back(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
                 caller: str = PERSON) -> Call:
    assert _ring(client, caller).status_code == 200
    dispatcher.run_once()
    return _placed(fake_twilio)


def _recording(fake_twilio: FakeTwilio, content: bytes | None = b"RIFF....WAVEfmt voice"
               ) -> dict[str, str]:
    sid = new_sid("RE")
    url = (fake_twilio.add_recording(sid, content) if content is not None else
           f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}")
    return {"RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": "41",
            "RecordingStatus": "completed"}


def _voice_case(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio
                ) -> tuple[Call, Case]:
    call = _called_back(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    call.post(client, "menu", Digits="1")
    _xml(call.post(client, "recorded", **_recording(fake_twilio)))
    return call, db.session.scalars(select(Case)).one()


def _digit_words(reference: str) -> str:
    return spoken_digits(AR, reference)


def _bad_check_digit(reference: str) -> str:
    wrong = (int(reference[-1]) + 1) % 10
    assert damm_check_digit(reference[:-1] + str(wrong)) != 0
    return reference[:-1] + str(wrong)


# --- the hotline webhook ------------------------------------------------------------------

def test_rejection_is_exactly_one_busy_reject(client: FlaskClient, app_context: None) -> None:
    root = _xml(_ring(client))
    assert [(child.tag, child.attrib, list(child)) for child in root] == \
        [("Reject", {"reason": "busy"}, [])]
    assert _count(VoiceCall) == 1
    callback = db.session.scalars(select(Message)).one()
    assert (callback.kind, callback.channel, callback.status) == \
        ("callback", "voice", DeliveryStatus.QUEUED)
    contact = callback.contact
    assert contact.channel == "voice" and PERSON not in (contact.address_encrypted or "")
    assert contact.pseudonym == services().vault.pseudonym("voice", PERSON)
    assert services().vault.decrypt(contact.address_encrypted or "") == PERSON


# (label, caller, CallSid or None for a new one, call-backs and calls stored after it)
MISSED_CALLS = [
    ("first-call", PERSON, "CA" + "1" * 32, 1, 1),
    ("replayed-call-sid", PERSON, "CA" + "1" * 32, 1, 1),
    ("replayed-again", PERSON, "CA" + "1" * 32, 1, 1),
    ("rings-again", PERSON, None, 1, 2),
    ("and-again", PERSON, None, 1, 3),
    ("another-number", OTHER_PERSON, None, 2, 4),
    ("another-number-again", OTHER_PERSON, None, 2, 5),
]


def test_missed_calls_make_one_call_back_per_number(client: FlaskClient,
                                                    app_context: None) -> None:
    for label, caller, call_sid, callbacks, calls in MISSED_CALLS:
        assert _verbs(_xml(_ring(client, caller, call_sid))) == ["Reject"], label
        assert _count(Message, Message.kind == "callback") == callbacks, label
        assert _count(VoiceCall) == calls, label
    assert _count(Contact) == 2


# (label, the earlier call-back's status, how long ago it was queued and sent, whether a new
# one is)
CALLBACK_WINDOW = [
    ("answered-within-window", DeliveryStatus.DELIVERED, 5, False),
    ("answered-after-window", DeliveryStatus.DELIVERED, 20, True),
    ("failed-within-window", DeliveryStatus.FAILED, 5, True),
    ("still-ringing-after-window", DeliveryStatus.SENT, 30, False),
    # Twilio's last report on that call never came (our server was down): not still ringing
    ("placed-hours-ago-never-reported", DeliveryStatus.SENT, 180, True),
    ("waiting-for-calling-hours", DeliveryStatus.QUEUED, 600, False),
]


@pytest.mark.parametrize(("label", "earlier_status", "minutes_ago", "new_callback"),
                         CALLBACK_WINDOW, ids=[row[0] for row in CALLBACK_WINDOW])
def test_call_back_window(client: FlaskClient, app_context: None, label: str,
                          earlier_status: DeliveryStatus, minutes_ago: int,
                          new_callback: bool) -> None:
    """SAWTI_CALLBACK_WINDOW_MINUTES (15): one call-back for the calls within it."""
    _ring(client)
    earlier = db.session.scalars(select(Message)).one()
    earlier.status = earlier_status
    earlier.created_at = earlier.sent_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    _ring(client)
    callbacks = _count(Message, Message.kind == "callback")
    assert callbacks == (2 if new_callback else 1), label


def test_ringing_again_brings_a_waiting_call_back_forward(client: FlaskClient,
                                                          app_context: None) -> None:
    _ring(client)
    callback = db.session.scalars(select(Message)).one()
    callback.next_attempt_at = utcnow() + timedelta(minutes=30)  # a retry was waiting
    db.session.commit()
    _ring(client)
    db.session.refresh(callback)
    assert callback.next_attempt_at <= utcnow()
    assert _count(Message) == 1


WITHHELD = ["anonymous", "+266696687", "Restricted", "+7378742833", "+86282452253",
            "client:alice", "sip:someone@example.org", "12345"]


def test_withheld_caller_id_is_recorded_and_not_called_back(client: FlaskClient,
                                                            app_context: None) -> None:
    for number, caller in enumerate(WITHHELD, start=1):
        call_sid = f"CA{number:032d}"
        for _ in range(2):  # the second is a replay
            assert _verbs(_xml(_ring(client, caller, call_sid))) == ["Reject"], caller
        call = db.session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call_sid)).one()
        assert (call.status, call.contact_id, call.message_id) == ("withheld", None, None)
        assert _count(VoiceCall) == number, caller
    assert _count(Message) == 0 and _count(Contact) == 0
    assert _count(AuditEvent, AuditEvent.action == "voice.caller_withheld") == len(WITHHELD)


INCOMPLETE_CALLS = [
    ("missing-call-sid", {k: v for k, v in _incoming_form().items() if k != "CallSid"}),
    ("missing-from", _incoming_form(caller=None)),
    ("empty-from", _incoming_form(caller="")),
]


def test_incomplete_incoming_call_is_400(client: FlaskClient, app_context: None) -> None:
    for label, form in INCOMPLETE_CALLS:
        assert post_twilio(client, VOICE, form).status_code == 400, label
    assert _count(VoiceCall) == 0 and _count(Message) == 0


def test_callable_number() -> None:
    assert callable_number(" +963 944-000-111 ") == PERSON
    assert callable_number("+266696687") is None and callable_number("963944000111") is None


# --- placing the call ---------------------------------------------------------------------

def test_call_back_is_placed_with_status_callbacks(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _ring(client)
    dispatcher.run_once()
    [placed] = fake_twilio.placed_calls()
    assert (placed["To"], placed["From"], placed["Method"]) == (PERSON, VOICE_NUMBER, "POST")
    token_path = _path(placed["Url"]).removesuffix("/answer")
    assert token_path.startswith(f"{VOICE}/call/") and PERSON.strip("+") not in token_path
    assert _path(placed["StatusCallback"]) == f"{token_path}/status"
    assert placed["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    # synchronous detection: the answer webhook comes once it is known who picked up
    assert placed["MachineDetection"] == "Enable" and "AsyncAmd" not in placed
    callback = db.session.scalars(select(Message)).one()
    assert callback.status == DeliveryStatus.SENT and callback.external_id.startswith("CA")
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert PERSON not in logged and PERSON.strip("+") not in logged


@pytest.mark.parametrize(
    ("label", "now", "hours", "expected"),
    [
        ("open", "2026-03-10T08:00+03:00", "08:00-20:00", None),
        ("just-before-opening", "2026-03-10T07:59+03:00", "08:00-20:00", "2026-03-10T08:00+03:00"),
        ("at-closing", "2026-03-10T20:00+03:00", "08:00-20:00", "2026-03-11T08:00+03:00"),
        ("late-night", "2026-03-10T23:30+03:00", "08:00-20:00", "2026-03-11T08:00+03:00"),
        ("overnight-open", "2026-03-10T02:00+03:00", "20:00-08:00", None),
        ("overnight-closed", "2026-03-10T12:00+03:00", "20:00-08:00", "2026-03-10T20:00+03:00"),
    ],
)
def test_calling_hours(label: str, now: str, hours: str, expected: str | None) -> None:
    opening = CallingHours.parse(hours, "Asia/Baghdad").next_opening(datetime.fromisoformat(now))
    assert opening == (datetime.fromisoformat(expected) if expected else None), label
    assert opening is None or opening.tzinfo is not None


def _closed_hours() -> tuple[str, datetime]:
    now = datetime.now(UTC)
    start, end = now + timedelta(hours=2), now + timedelta(hours=3)
    return f"{start:%H:%M}-{end:%H:%M}", start.replace(second=0, microsecond=0)


CLOSED_HOURS, OPENS_AT = _closed_hours()


@pytest.mark.parametrize("extra_settings", [{"sawti_call_hours": CLOSED_HOURS}], indirect=True)
def test_no_call_outside_calling_hours_it_waits_for_the_opening(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    _ring(client)
    dispatcher.run_once()
    callback = db.session.scalars(select(Message)).one()
    assert fake_twilio.placed_calls() == []
    assert callback.status == DeliveryStatus.QUEUED and callback.attempts == 0
    assert callback.next_attempt_at == OPENS_AT
    dispatcher.run_once()  # not due yet: nothing happens
    assert fake_twilio.placed_calls() == []
    dispatcher.adapters["voice"].hours = CallingHours.parse(_open_hours(), "UTC")  # type: ignore[attr-defined]
    callback.next_attempt_at = utcnow()
    db.session.commit()
    dispatcher.run_once()
    assert len(fake_twilio.placed_calls()) == 1 and callback.attempts == 1


def test_only_calls_wait_for_calling_hours() -> None:
    from channels.twilio_voice import TwilioVoiceAdapter

    adapter = TwilioVoiceAdapter.__new__(TwilioVoiceAdapter)
    adapter.hours = CallingHours.parse(CLOSED_HOURS, "UTC")
    now = utcnow()
    assert adapter.not_before("voice", "reference_sms", now) is None
    assert adapter.not_before("voice", "reply", now) == OPENS_AT
    assert adapter.not_before("voice", "callback", now) == OPENS_AT


def _make_due(message: Message) -> None:
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


@pytest.mark.parametrize(("kind", "outcome"), [("callback", "no-answer"), ("reply", "busy")])
def test_unanswered_call_is_retried_with_back_off_then_given_up(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, kind: str,
    outcome: str,
) -> None:
    if kind == "reply":
        _call, case = _voice_case(client, dispatcher, fake_twilio)
        queue_reply(db.session, case, "تم تحويل طلبك.", actor="officer@example.org", now=utcnow())
    else:
        _ring(client)
    earlier_calls = len(fake_twilio.placed_calls())
    dispatcher.run_once()
    first = _placed(fake_twilio, kind)
    message = first.message
    assert first.status(client, "ringing").status_code == 204
    assert first.status(client, outcome, CallDuration="0").status_code == 204
    db.session.refresh(message)
    assert message.status == DeliveryStatus.QUEUED and message.last_error == f"call {outcome}"
    delay = (message.next_attempt_at - utcnow()).total_seconds()
    assert 0.8 * 300 - 5 <= delay <= 1.2 * 300  # SAWTI_CALL_RETRY_MINUTES (5)
    first.status(client, outcome)  # replayed: changes nothing
    db.session.refresh(message)
    assert message.status == DeliveryStatus.QUEUED and message.attempts == 1
    _make_due(message)
    dispatcher.run_once()
    second = _placed(fake_twilio, kind)
    assert second.sid != first.sid
    first.status(client, "completed")  # a late report about the first attempt
    db.session.refresh(message)
    assert message.status == DeliveryStatus.SENT
    second.status(client, outcome)
    db.session.refresh(message)
    assert message.status == DeliveryStatus.QUEUED
    assert (message.next_attempt_at - utcnow()).total_seconds() >= 0.8 * 600 - 5  # doubled
    _make_due(message)
    dispatcher.run_once()
    _placed(fake_twilio, kind).status(client, outcome)
    db.session.refresh(message)
    assert message.status == DeliveryStatus.FAILED and message.attempts == 3
    assert len(fake_twilio.placed_calls()) - earlier_calls == 3
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "voice.unreachable")
                               ).one()
    assert event.details["contact_id"] == message.contact_id and event.details["attempts"] == 3
    if kind == "reply":
        assert message.case.delivery_failed_at is not None
        assert message.case.delivery_error == f"call {outcome}"


def _never_answered(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio
                    ) -> Message:
    """Ring once; every call-back attempt rings out."""
    _ring(client)
    for _ in range(3):
        dispatcher.run_once()
        call = _placed(fake_twilio)
        call.status(client, "no-answer")
        db.session.refresh(call.message)
        if call.message.status == DeliveryStatus.QUEUED:
            _make_due(call.message)
    assert call.message.status == DeliveryStatus.FAILED
    return call.message


@pytest.mark.parametrize("earlier_case", [False, True], ids=["no-case-yet", "open-case"])
def test_an_unreachable_caller_shows_on_a_case(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, earlier_case: bool,
) -> None:
    """Someone rang and could not be called back: officers see it in "needs action", on a
    case opened for the missed call when the person has no open case."""
    if earlier_case:  # a complaint recorded earlier, its call-back long past
        first, _case = _voice_case(client, dispatcher, fake_twilio)
        first.message.created_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    callback = _never_answered(client, dispatcher, fake_twilio)
    case = db.session.scalars(select(Case)).one()
    assert callback.case_id == case.id and case.status == "new"
    assert case.delivery_failed_at is not None
    expected = "call no-answer" if earlier_case else "missed call, not reached: call no-answer"
    assert case.delivery_error == expected
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "voice.unreachable")).one()
    assert event.case_id == case.id


def _later_call_back(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
                     steps: tuple[str, ...], meanwhile: Callable[[], None] | None = None
                     ) -> Call:
    """The person rings again; the call-back is placed, ``meanwhile`` happens while it rings,
    and ``steps`` happen on it."""
    call = _called_back(client, dispatcher, fake_twilio)
    placed = fake_twilio.placed_calls()[-1]
    if meanwhile is not None:
        meanwhile()
    for step in steps:
        if step in ("person", "voicemail"):
            who = "human" if step == "person" else "machine"
            call.status(client, "in-progress")
            _xml(call.post(client, "answer", **answered_by(placed, who)))
        elif step == "record":
            _xml(call.post(client, "menu", Digits="1"))
            _xml(call.post(client, "recorded", **_recording(fake_twilio)))
        elif step == "record-hang-up":
            _xml(call.post(client, "menu", Digits="1"))
            _xml(call.post(client, "recorded", **_recording(fake_twilio), Digits="hangup"))
        elif step == "information":
            _xml(call.post(client, "menu", Digits="3"))
        elif step == "completed":
            call.status(client, "completed", CallDuration="40")
        else:
            call.status(client, step)  # the call ended unanswered
    return call


# (the case the person had before the later call-back: one opened for their missed call, or
# the complaint they recorded earlier; what happens on the later call-back; whether that case
# is closed by the system; whether it is linked to the case the new recording opened)
LATER_CALL_BACKS = [
    pytest.param("missed-call", ("person", "record", "completed"), True, True,
                 id="missed-call-case-reached-and-recorded"),
    pytest.param("missed-call", ("person", "record-hang-up", "completed"), True, True,
                 id="missed-call-case-reached-hung-up-while-recording"),
    pytest.param("missed-call", ("person", "information", "completed"), True, False,
                 id="missed-call-case-reached-heard-information"),
    pytest.param("missed-call", ("person", "completed"), True, False,
                 id="missed-call-case-reached-hung-up-at-the-menu"),
    pytest.param("missed-call", ("voicemail", "completed"), False, False,
                 id="missed-call-case-voicemail-again"),
    pytest.param("missed-call", ("no-answer",), False, False,
                 id="missed-call-case-not-answered-again"),
    pytest.param("missed-call", ("busy",), False, False, id="missed-call-case-busy-again"),
    pytest.param("complaint", ("person", "record", "completed"), False, False,
                 id="complaint-case-left-to-officers"),
    pytest.param("complaint", ("person", "completed"), False, False,
                 id="complaint-case-reached-left-to-officers"),
]


@pytest.mark.parametrize(("earlier", "steps", "closed", "linked"), LATER_CALL_BACKS)
def test_a_missed_call_case_is_closed_once_the_person_is_reached(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, earlier: str,
    steps: tuple[str, ...], closed: bool, linked: bool,
) -> None:
    """The case opened because someone could not be called back needs no action once a later
    call-back reaches them: the system closes it, saying so, and links it to the case their
    recording opened; a case with the person's own message is left to officers."""
    if earlier == "missed-call":
        _never_answered(client, dispatcher, fake_twilio)
    else:
        first, _complaint = _voice_case(client, dispatcher, fake_twilio)
        first.message.created_at = utcnow() - timedelta(hours=2)  # its call-back long past
        db.session.commit()
    case = db.session.scalars(select(Case)).one()
    status, messages = case.status, {message.id for message in case.messages}
    failure = (case.delivery_failed_at, case.delivery_error)
    assert (failure[0] is not None) == (earlier == "missed-call")
    officer, _focal = _staff()
    call = _later_call_back(client, dispatcher, fake_twilio, steps)
    assert call.message.case_id == case.id  # the call-back was made on that case
    db.session.expire_all()
    # reached, the missed call is no longer a failure (were the case reopened, it would not
    # come back to "needs action" for it); not reached, it still is
    assert (case.delivery_failed_at, case.delivery_error) == ((None, None) if closed else failure)
    assert (case.reference in _needs_action(officer)) == (not closed)
    later = db.session.scalars(select(Case).where(Case.id != case.id)).all()
    recorded = any(step.startswith("record") for step in steps)
    assert len(later) == (1 if recorded else 0)  # a recording after a call-back opens a case
    assert messages | {call.message.id} == {message.id for message in case.messages}
    closings = db.session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.closed")).all()
    if not closed:
        assert (case.status, case.closed_at, case.merged_into_id) == (status, None, None)
        assert closings == [] and cases.resolution(db.session, case) is None
        return
    assert case.status == "closed" and case.closed_at is not None and case.resolution is None
    [closing] = closings
    assert closing.actor == "system" and closing.details["caller_reached"] is True
    assert closing.details["message_id"] == call.message.id
    assert closing.details["status"] == [status, "closed"]
    assert call.message.status == DeliveryStatus.DELIVERED
    if not linked:
        assert case.merged_into_id is None
        assert cases.resolution(db.session, case) == cases.Resolution(None, caller_reached=True)
        return
    [new_case] = later
    assert case.merged_into_id == new_case.id
    assert cases.resolution(db.session, case) == cases.Resolution(None, new_case)
    assert [message.kind for message in new_case.messages if message.direction == "in"] == \
        ["voice"]
    merged = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["case.merged", "case.merge_received"]))
        .order_by(AuditEvent.id)).all()
    assert [(event.action, event.case_id, event.actor) for event in merged] == [
        ("case.merged", case.id, "system"), ("case.merge_received", new_case.id, "system")]
    assert merged[0].details["into_reference"] == new_case.reference
    assert merged[1].details["from_reference"] == case.reference


def _staff() -> tuple[User, User]:
    officer = accounts.create_user(db.session, "officer@example.org", "a long enough password 1",
                                   Role.OFFICER, name="Officer")
    focal = accounts.create_user(db.session, "focal@example.org", "a long enough password 1",
                                 Role.FOCAL_POINT, name="Focal point")
    return officer, focal


def _assign(case: Case, officer: User, focal: User) -> None:
    assert bulk_assign(db.session, officer, [case.id], officer).done == 1


def _refer(case: Case, officer: User, focal: User) -> None:
    cases.refer(db.session, officer, case, focal, utcnow() + timedelta(days=3),
                "يرجى التواصل مع المتصل", utcnow())


def _note(case: Case, officer: User, focal: User) -> None:
    cases.add_note(db.session, officer, case, "حاولت الاتصال به من هاتف المكتب", utcnow())


def _reply(case: Case, officer: User, focal: User) -> None:
    queue_reply(db.session, case, "سنعاود الاتصال بك غداً.", actor=officer.email, now=utcnow())


def _grade(case: Case, officer: User, focal: User) -> None:
    cases.triage(db.session, officer, case, {"level": 2}, utcnow(),
                 org_data=services().org_data)


def _close(case: Case, officer: User, focal: User) -> None:
    cases.close(db.session, officer, case, "اتصلنا به من هاتف المكتب", utcnow())


def _view(case: Case, officer: User, focal: User) -> None:
    audit.record(db.session, "case.viewed", case=case, actor=officer.email)
    db.session.commit()


def _reply_undelivered(case: Case, officer: User, focal: User) -> None:
    """An officer's reply call that no one answered, attempts exhausted."""
    reply = queue_reply(db.session, case, "سنعاود الاتصال بك غداً.", actor=officer.email,
                        now=utcnow())
    outbox.mark_failed(db.session, reply, "call busy", utcnow())
    db.session.commit()


# What staff do to the case opened for a missed call while a later call-back rings; whether
# that counts as acting on it; the case's status and delivery error afterwards; whether it is
# then in "needs action" (new cases always are).
STAFF_MEANWHILE = [
    pytest.param(_assign, True, "new", None, True, id="assigned"),
    pytest.param(_refer, True, "referred", None, False, id="referred"),
    pytest.param(_note, True, "new", None, True, id="note-written"),
    pytest.param(_reply, True, "open", None, False, id="replied"),
    pytest.param(_reply_undelivered, True, "open", "call busy", True, id="reply-undelivered"),
    pytest.param(_grade, True, "open", None, False, id="level-given"),
    pytest.param(_close, True, "closed", None, False, id="closed-by-an-officer"),
    pytest.param(_view, False, "closed", None, False, id="only-viewed"),
]


@pytest.mark.parametrize("recorded", [False, True], ids=["menu-only", "left-a-message"])
@pytest.mark.parametrize(("act", "touched", "status", "error", "needs_action"), STAFF_MEANWHILE)
def test_a_missed_call_case_staff_acted_on_is_left_to_them(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
    act: Callable[[Case, User, User], None], touched: bool, status: str, error: str | None,
    needs_action: bool, recorded: bool,
) -> None:
    """Once staff have acted on the case opened for a missed call, a later call-back that
    reaches the person does not close or merge it behind their back: it stays as they left
    it, and its timeline says the person was reached (a message they leave joins it, see
    test_a_recording_on_the_call_back_joins_the_case_staff_work_on; once an officer closed it,
    the timeline names the case their message opened). The missed call is no longer a failure
    on it; an undelivered reply still is."""
    _never_answered(client, dispatcher, fake_twilio)
    case = db.session.scalars(select(Case)).one()
    officer, focal = _staff()
    steps = ("person", "record", "completed") if recorded else ("person", "completed")
    call = _later_call_back(client, dispatcher, fake_twilio, steps,
                            meanwhile=lambda: act(case, officer, focal))
    call.post(client, "answer", **answered_by(fake_twilio.placed_calls()[-1], "human"))  # again
    db.session.expire_all()
    assert call.message.case_id == case.id and call.message.status == DeliveryStatus.DELIVERED
    assert case.status == status
    assert (case.delivery_error, case.delivery_failed_at is not None) == (error, error is not None)
    assert (case.reference in _needs_action(officer)) == needs_action
    by_system = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.case_id == case.id, AuditEvent.actor == "system",
        AuditEvent.action.in_(["case.closed", "case.merged"])).order_by(AuditEvent.id)).all()
    told = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "voice.caller_reached").order_by(AuditEvent.id)).all()
    later = db.session.scalars(select(Case).where(Case.id != case.id)).all()
    if not touched:  # as for any missed call's case: closed, and linked to the new case
        assert by_system == (["case.closed", "case.merged"] if recorded else ["case.closed"])
        assert told == []
        return
    assert (by_system, case.merged_into_id) == ([], None)
    expected = [{"message_id": call.message.id}]  # said once, though the answer came twice
    if recorded and status == "closed":  # closed by an officer: their message opened a case
        [new_case] = later
        expected.append({"message_id": call.message.id, "opened_reference": new_case.reference})
    elif recorded:  # it joined this case
        assert later == []
        assert [message.kind for message in case.messages if message.direction == "in"] == \
            ["voice"]
    assert [(event.case_id, event.actor, event.details) for event in told] == \
        [(case.id, "system", details) for details in expected]
    timeline = [entry.item for entry in cases.timeline(db.session, case)
                if entry.kind == "event"]
    assert told[0] in timeline


@dataclass(frozen=True)
class LeftOnACallBack:
    """How a recording left on the call-back for a missed call's case came about."""

    act: str | None  # what staff did to the missed call's case while the call-back rang
    # the person's earlier complaint, closed by an officer before they rang again: "closed",
    # or "reopened" (then open, and more recently active than the missed call's case)
    earlier: str | None = None
    webhooks: tuple[str, ...] = ("recorded", "recording")  # how the recording came, in order
    hung_up: bool = False  # they hung up instead of pressing #, and there is no SMS number
    joins: str = "missed-call"  # the case the recording is on: "missed-call", "earlier", "new"


def _merge_into_earlier(missed: Case, earlier: Case | None, officer: User) -> None:
    assert earlier is not None
    cases.merge(db.session, officer, missed, earlier.reference, utcnow())


STAFF_ACTS: dict[str, Callable[[Case, User, User], None]] = {
    "assigned": _assign, "referred": _refer, "noted": _note, "replied": _reply,
    "level-given": _grade, "closed": _close,
}

LEFT_ON_A_CALL_BACK = [
    pytest.param(LeftOnACallBack(None, joins="new"), id="untouched-closed-and-linked-as-before"),
    pytest.param(LeftOnACallBack("assigned"), id="assigned-joins"),
    pytest.param(LeftOnACallBack("referred"), id="referred-joins"),
    pytest.param(LeftOnACallBack("noted"), id="noted-joins"),
    pytest.param(LeftOnACallBack("replied"), id="replied-joins"),
    pytest.param(LeftOnACallBack("level-given"), id="level-given-joins"),
    pytest.param(LeftOnACallBack("closed", joins="new"), id="closed-by-an-officer-new-case"),
    pytest.param(LeftOnACallBack("assigned", webhooks=("recording", "recorded", "recording")),
                 id="status-callback-first-joins-once"),
    pytest.param(LeftOnACallBack("assigned", webhooks=("recorded", "recorded", "recording",
                                                       "recording")),
                 id="every-webhook-replayed-joins-once"),
    pytest.param(LeftOnACallBack("assigned", hung_up=True, webhooks=("recorded", "recorded")),
                 id="hung-up-without-sms-the-call-reads-the-joined-case"),
    pytest.param(LeftOnACallBack("assigned", earlier="reopened"),
                 id="another-open-case-the-missed-call-case-joins"),
    pytest.param(LeftOnACallBack(None, earlier="reopened", joins="new"),
                 id="another-open-case-untouched-closed-and-linked"),
    pytest.param(LeftOnACallBack("merged-into-earlier", earlier="reopened", joins="earlier"),
                 id="merged-into-an-open-case-joins-that-case"),
    pytest.param(LeftOnACallBack("merged-into-earlier", earlier="closed", joins="new"),
                 id="merged-into-a-closed-case-new-case"),
]


@pytest.mark.parametrize("row", LEFT_ON_A_CALL_BACK)
def test_a_recording_on_the_call_back_joins_the_case_staff_work_on(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, row: LeftOnACallBack,
) -> None:
    """A missed call's case staff have acted on is where the person's recording, left on the
    call-back made for it, goes while it is open: no second case, an audit event on it, and
    the person hears (and reads) its reference. Untouched, or closed by an officer, it opens
    a new case as before."""
    officer, focal = _staff()
    earlier = None
    if row.earlier:  # a complaint recorded long ago, closed by an officer
        first, earlier = _voice_case(client, dispatcher, fake_twilio)
        first.message.created_at = utcnow() - timedelta(hours=2)
        cases.close(db.session, officer, earlier, "تم تسليم السلة", utcnow())
    missed = _never_answered(client, dispatcher, fake_twilio).case
    assert missed is not None and missed.id != (earlier.id if earlier else None)
    if row.earlier == "reopened":
        cases.reopen(db.session, officer, earlier, utcnow())
    if row.hung_up:
        dispatcher.adapters["voice"].sms_number = None  # type: ignore[attr-defined]
    dispatcher.run_once()  # the earlier case's reference SMS and audio: out of the way
    sms_before = len(fake_twilio.sent_messages())
    notices_before = _count(Message, Message.kind == "reference_sms")
    earlier_messages = {message.id for message in earlier.messages} if earlier else set()

    def meanwhile() -> None:
        if row.act == "merged-into-earlier":
            _merge_into_earlier(missed, earlier, officer)
        elif row.act is not None:
            STAFF_ACTS[row.act](missed, officer, focal)

    call = _later_call_back(client, dispatcher, fake_twilio, ("person",), meanwhile)
    assert call.message.case_id == missed.id  # made on the missed call's case, even so
    missed_status = db.session.get_one(Case, missed.id).status
    _xml(call.post(client, "menu", Digits="1"))
    recording = _recording(fake_twilio)
    for webhook in row.webhooks:
        if webhook == "recorded":
            root = _xml(call.post(client, "recorded", Digits="hangup" if row.hung_up else "#",
                                  **recording))
        else:
            assert call.post(client, "recording", **recording).status_code == 204
    call.status(client, "completed", CallDuration="60")
    dispatcher.run_once()  # fetches the audio; sends the reference SMS or places the call

    db.session.expire_all()
    [inbound] = db.session.scalars(select(Message).where(
        Message.external_id == recording["RecordingSid"])).all()
    new_cases = db.session.scalars(select(Case).where(
        Case.id.not_in([missed.id] + ([earlier.id] if earlier else [])))).all()
    if row.joins == "new":
        [joined] = new_cases
    else:
        assert new_cases == []
        joined = {"missed-call": missed, "earlier": earlier}[row.joins]
    assert joined is not None and inbound.case_id == joined.id
    [attachment] = inbound.attachments
    assert (attachment.kind, attachment.fetch_status) == ("voice", "stored")
    # what the person heard, and what reached them through the provider: the joined case's
    # reference, as they would have been told a new case's
    digits = _digit_words(joined.reference)
    if row.hung_up:
        assert len(fake_twilio.sent_messages()) == sms_before
        reference_call = _placed(fake_twilio, "reference_call")
        assert (reference_call.to, reference_call.message.case_id) == (PERSON, joined.id)
        assert _count(Message, Message.kind == "reference_call") == 1
        heard = _xml(reference_call.post(client, "answer", **answered_by(
            fake_twilio.placed_calls()[-1], "human")))
        assert _said(heard).count(digits) == 2
        db.session.expire_all()
    else:
        assert _said(root).count(digits) == 2
        [sms] = fake_twilio.sent_messages()[sms_before:]
        assert sms["To"] == PERSON and joined.reference in sms["Body"]
        notices = db.session.scalars(select(Message.case_id).where(
            Message.kind == "reference_sms").order_by(Message.id)).all()
        assert notices[notices_before:] == [joined.id]
    assert joined.acknowledged_at is not None
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "voice.recording_joined")).all()
    if row.joins == "new":
        assert events == []
    else:
        expected = {"message_id": inbound.id, "callback_id": call.message.id}
        if joined.id != missed.id:
            expected["from_reference"] = missed.reference
        assert [(event.case_id, event.actor, event.details) for event in events] == \
            [(joined.id, "system", expected)]
        timeline = [entry.item for entry in cases.timeline(db.session, joined)
                    if entry.kind == "event"]
        assert events[0] in timeline
    # the missed call's case: closed and linked by the system only when no one acted on it;
    # otherwise as staff left it (an officer's closing is not undone)
    missed = db.session.get_one(Case, missed.id)
    if row.act is None:
        assert (missed.status, missed.merged_into_id) == ("closed", joined.id)
    else:
        assert missed.status == missed_status
        assert missed.merged_into_id == (earlier.id if row.act == "merged-into-earlier" and
                                         earlier else None)
    reopened = db.session.scalars(select(AuditEvent.case_id).where(
        AuditEvent.action == "case.reopened", AuditEvent.actor == "system")).all()
    assert reopened == []
    if earlier is not None and joined.id != earlier.id:  # their other case: nothing joined it
        db.session.refresh(earlier)
        assert {message.id for message in earlier.messages} == earlier_messages
        assert earlier.status == ("open" if row.earlier == "reopened" else "closed")


# What happens on a missed call's case (after that first failure), in order; the delivery
# error it then shows. Staff act on it first, so a call-back reaching the person leaves it
# open and in "needs action" (new, or with an error) for them.
FAILURES_AND_REACHING = [
    pytest.param(("assigned", "reached"), None, id="reached"),
    pytest.param(("assigned", "reached", "answer-replayed"), None, id="reached-answer-replayed"),
    pytest.param(("reply-undelivered", "reached"), "call busy", id="reply-undelivered-reached"),
    pytest.param(("assigned", "reached", "later-call-back-failed"), "call no-answer",
                 id="reached-later-call-back-failed"),
    pytest.param(("assigned", "reached", "later-call-back-failed", "answer-replayed"),
                 "call no-answer", id="reached-later-call-back-failed-old-answer-replayed"),
]


@pytest.mark.parametrize(("steps", "error"), FAILURES_AND_REACHING)
def test_reaching_the_caller_clears_only_an_earlier_call_back_failure(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
    steps: tuple[str, ...], error: str | None,
) -> None:
    _never_answered(client, dispatcher, fake_twilio)
    case = db.session.scalars(select(Case)).one()
    officer, focal = _staff()
    for step in steps:
        if step == "assigned":
            _assign(case, officer, focal)
        elif step == "reply-undelivered":
            _reply_undelivered(case, officer, focal)
        elif step == "reached":
            call = _later_call_back(client, dispatcher, fake_twilio, ("person", "completed"))
            placed = fake_twilio.placed_calls()[-1]
        elif step == "answer-replayed":
            _xml(call.post(client, "answer", **answered_by(placed, "human")))
        else:  # they ring again once the call-back window has passed, and are not reached
            call.message.created_at = utcnow() - timedelta(hours=2)
            db.session.commit()
            assert _never_answered(client, dispatcher, fake_twilio).case_id == case.id
    db.session.expire_all()
    assert case.status in ("new", "open") and case.closed_at is None
    assert (case.delivery_error, case.delivery_failed_at is not None) == (error, error is not None)
    assert case.reference in _needs_action(officer)


def test_answered_call_is_delivered(client: FlaskClient, dispatcher: Dispatcher,
                                    fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    for status in ("initiated", "ringing", "in-progress"):
        assert call.status(client, status).status_code == 204
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.SENT  # picked up, but by whom?
    placed = fake_twilio.placed_calls()[-1]
    _xml(call.post(client, "answer", **answered_by(placed, "human")))
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.DELIVERED
    call.status(client, "completed", CallDuration="95")
    row = db.session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call.sid)).one()
    assert (row.status, row.duration_seconds, row.message_id) == ("completed", 95, call.message.id)
    assert call.message.status == DeliveryStatus.DELIVERED


# (AnsweredBy on the answer webhook: None when Twilio sent none, "" when the answer webhook
# never came; whether a person heard the call; the error kept for the retry)
ANSWERED_BY = [
    pytest.param("human", True, None, id="human"),
    pytest.param("unknown", True, None, id="unknown-is-taken-for-a-person"),
    pytest.param(None, True, None, id="no-detection-result"),
    pytest.param("machine_start", False, "call answered by machine_start", id="machine-start"),
    pytest.param("machine_end_beep", False, "call answered by machine_end_beep",
                 id="machine-end-beep"),
    pytest.param("machine_end_silence", False, "call answered by machine_end_silence",
                 id="machine-end-silence"),
    pytest.param("machine_end_other", False, "call answered by machine_end_other",
                 id="machine-end-other"),
    pytest.param("fax", False, "call answered by fax", id="fax"),
    pytest.param("", False, "call ended before it was heard", id="hung-up-during-detection"),
]


@pytest.mark.parametrize("kind", ["callback", "reply"])
@pytest.mark.parametrize(("answered", "heard", "error"), ANSWERED_BY)
def test_a_call_answered_by_a_machine_is_not_delivered_but_retried(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, kind: str,
    answered: str | None, heard: bool, error: str | None,
) -> None:
    """Voicemail or a network's recorded message is no one: hang up, try again later."""
    if kind == "reply":
        call, _case = _reply_call(client, dispatcher, fake_twilio)
    else:
        call = _called_back(client, dispatcher, fake_twilio)
    call.status(client, "in-progress")
    if answered != "":
        root = _xml(call.post(client, "answer",
                              **({"AnsweredBy": answered} if answered is not None else {})))
        assert _verbs(root) == (["Gather", "Redirect"] if heard else ["Hangup"])
    call.status(client, "completed", CallDuration="9")
    db.session.refresh(call.message)
    if heard:
        assert call.message.status == DeliveryStatus.DELIVERED
        return
    assert (call.message.status, call.message.last_error) == (DeliveryStatus.QUEUED, error)
    assert call.message.delivered_at is None and call.message.attempts == 1
    assert call.message.next_attempt_at > utcnow()  # the usual back-off


# (what the call asked for, who picks up, the AnsweredBy Twilio sends to the answer URL)
FAKE_DETECTION = [
    pytest.param({"MachineDetection": "Enable"}, "machine", "machine_start", id="enable"),
    pytest.param({"MachineDetection": "DetectMessageEnd"}, "machine", "machine_end_beep",
                 id="detect-message-end"),
    pytest.param({"MachineDetection": "Enable"}, "unknown", "unknown", id="could-not-tell"),
    pytest.param({"MachineDetection": "Enable", "AsyncAmd": "true"}, "machine", None,
                 id="async-goes-elsewhere"),
    pytest.param({}, "machine", None, id="not-asked"),
]


@pytest.mark.parametrize(("placed", "who", "expected"), FAKE_DETECTION)
def test_the_fake_says_who_answered_only_when_asked(placed: dict[str, str], who: str,
                                                     expected: str | None) -> None:
    assert answered_by(placed, who).get("AnsweredBy") == expected


def test_a_reply_only_voicemail_takes_fails_on_the_case(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    """Every attempt reaches voicemail: the officer sees the reply failed, not delivered."""
    _call, case = _voice_case(client, dispatcher, fake_twilio)
    queue_reply(db.session, case, REPLY, actor="officer@example.org", now=utcnow())
    for attempt in range(1, 4):
        dispatcher.run_once()
        call = _placed(fake_twilio, "reply")
        placed = fake_twilio.placed_calls()[-1]
        assert _verbs(_xml(call.post(client, "answer", **answered_by(placed, "machine")))) == \
            ["Hangup"]
        call.status(client, "completed", CallDuration="4")
        db.session.refresh(call.message)
        assert call.message.attempts == attempt
        if attempt < 3:
            _make_due(call.message)
    assert call.message.status == DeliveryStatus.FAILED
    db.session.refresh(case)
    assert case.delivery_failed_at is not None
    assert case.delivery_error == "call answered by machine_start"
    assert _count(AuditEvent, AuditEvent.action == "voice.machine_answered") == 3


# --- the menu -----------------------------------------------------------------------------

def test_answer_greets_and_offers_the_menu(client: FlaskClient, dispatcher: Dispatcher,
                                          fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "answer"))
    assert _verbs(root) == ["Gather", "Redirect"]
    gather, redirect = root
    assert (gather.get("input"), gather.get("numDigits"), gather.get("method")) == \
        ("dtmf", "1", "POST")
    assert _path(gather.get("action") or "") == f"{call.base}/menu?tries=0"
    assert _path(redirect.text or "") == f"{call.base}/menu?tries=0"
    greeting, confidentiality, options = _said(gather)
    assert "صوتي" in greeting
    assert confidentiality == AR._("What you share is confidential: we never share your name "
                                   "or number without your permission.")
    assert all(word in options for word in ("واحد", "اثنين", "ثلاثة", "تسعة"))
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.DELIVERED


# (label, keys pressed, tries so far, verbs of the answer, tries of the next menu, hangs up)
MENU = [
    ("1-record", "1", "0", ["Say", "Record", "Say", "Gather", "Redirect"], "1", False),
    ("2-status", "2", "0", ["Gather", "Redirect"], "0", False),
    ("3-information", "3", "0", ["Say", "Gather", "Redirect"], "0", False),
    ("9-repeat", "9", "0", ["Gather", "Redirect"], "0", False),
    ("9-repeat-keeps-tries", "9", "1", ["Gather", "Redirect"], "1", False),
    ("invalid-digit", "7", "0", ["Say", "Gather", "Redirect"], "1", False),
    ("non-numeric", "*", "0", ["Say", "Gather", "Redirect"], "1", False),
    ("hash", "#", "0", ["Say", "Gather", "Redirect"], "1", False),
    ("two-digits", "12", "0", ["Say", "Gather", "Redirect"], "1", False),
    ("no-input", "", "0", ["Say", "Gather", "Redirect"], "1", False),
    ("invalid-twice-ends-politely", "7", "1", ["Say", "Say", "Hangup"], None, True),
    ("no-input-twice-ends-politely", "", "1", ["Say", "Say", "Hangup"], None, True),
    ("tampered-tries", "", "x", ["Say", "Gather", "Redirect"], "1", False),
]


def test_menu_choices(client: FlaskClient, dispatcher: Dispatcher,
                      fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    for row in MENU:
        _check_menu_choice(client, call, *row)


def _check_menu_choice(client: FlaskClient, call: Call, label: str, digits: str, tries: str,
                       verbs: list[str], next_tries: str | None, hangs_up: bool) -> None:
    form = {"Digits": digits} if digits else {}
    root = _xml(call.post(client, f"menu?tries={tries}", **form))
    assert _verbs(root) == verbs, label
    gathers = root.findall("Gather")
    if next_tries is not None:
        assert _tries(gathers[-1].get("action") or "") == next_tries, label
        assert _tries(root.find("Redirect").text or "") == next_tries, label  # type: ignore[union-attr]
    if hangs_up:
        assert _said(root)[-1] == AR._("Thank you. You can call us again at any time, and we "
                                       "will call you back. Goodbye.")
    if digits == "1":
        record = root.find("Record")
        assert record is not None
        assert (record.get("maxLength"), record.get("finishOnKey"), record.get("playBeep")) == \
            ("180", "#", "true")
        assert _path(record.get("action") or "") == f"{call.base}/recorded"
        assert _path(record.get("recordingStatusCallback") or "") == f"{call.base}/recording"
    if digits == "2":
        gather = gathers[0]
        assert (gather.get("numDigits"), gather.get("finishOnKey")) == ("7", "#")
        assert _path(gather.get("action") or "") == f"{call.base}/reference?tries=0"
    if digits == "3":
        assert "صوتي" in _said(root)[0]
    if digits in ("7", "*", "#", "12"):
        assert _said(root)[0] == AR._("Sorry, that is not one of the choices."), label
    if not digits:
        assert _said(root)[0] == AR._("We did not hear a choice."), label


# (label, the key pressed in the main menu before, or None for the call's first document)
ONE_KEY_DOCUMENTS = [
    pytest.param(None, id="greeting"),
    pytest.param("9", id="menu-again"),
    pytest.param("5", id="after-a-wrong-key"),
]


@pytest.mark.parametrize("key", ONE_KEY_DOCUMENTS)
def test_hash_and_star_are_keys_like_any_other(client: FlaskClient, dispatcher: Dispatcher,
                                               fake_twilio: FakeTwilio, key: str | None) -> None:
    """A one-key <Gather> finishes on "#" by default, as if nothing were pressed ("We did not
    hear a choice"): with finishOnKey="" "#" reaches us and is told as a wrong key."""
    call = _called_back(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "answer") if key is None else
                call.post(client, "menu?tries=0", Digits=key))
    [gather] = root.findall("Gather")
    assert (gather.get("numDigits"), gather.get("finishOnKey")) == ("1", "")


@pytest.mark.parametrize(
    "extra_settings",
    [{"sawti_voice_prompts": {"greeting": "https://cdn.example.org/ar/greeting.mp3"},
      "sawti_voice_info_text": "نوزّع السلال الغذائية كل شهر في مراكز التوزيع.",
      "sawti_voice_name": "Google.ar-XA-Standard-B", "sawti_voice_language": "ar-XA"}],
    indirect=True,
)
def test_prompts_can_be_recordings_and_the_voice_is_configurable(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    gather = _xml(call.post(client, "answer"))[0]
    assert [child.tag for child in gather] == ["Play", "Say", "Say"]
    assert gather[0].text == "https://cdn.example.org/ar/greeting.mp3"
    assert {(say.get("voice"), say.get("language")) for say in gather.iter("Say")} == \
        {("Google.ar-XA-Standard-B", "ar-XA")}
    info = _xml(call.post(client, "menu?tries=0", Digits="3"))
    assert info[0].text == "نوزّع السلال الغذائية كل شهر في مراكز التوزيع."


def test_unknown_prompt_name_is_a_configuration_error(settings: object) -> None:
    from channels.twilio_voice import TwilioVoiceAdapter
    from config.settings import ConfigError

    bad = settings.model_copy(update={  # type: ignore[attr-defined]
        "twilio_account_sid": ACCOUNT_SID, "twilio_auth_token": "x",
        "twilio_voice_number": VOICE_NUMBER, "sawti_voice_prompts": {"greting": "https://x"}})
    with pytest.raises(ConfigError, match="greting"):
        TwilioVoiceAdapter.from_settings(bad)


# --- leaving a complaint --------------------------------------------------------------------

@pytest.mark.parametrize("callback_first", [False, True], ids=["action-first", "callback-first"])
def test_recording_opens_one_case_and_the_reference_is_heard_twice(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, callback_first: bool,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    call.post(client, "menu?tries=0", Digits="1")
    recording = _recording(fake_twilio, b"RIFF....WAVE-the-complaint")
    if callback_first:
        assert call.post(client, "recording", **recording).status_code == 204
    root = _xml(call.post(client, "recorded", Digits="#", **recording))
    for _ in range(2):  # Twilio replays the recording status callback
        assert call.post(client, "recording", **recording).status_code == 204
    case = db.session.scalars(select(Case)).one()
    inbound = db.session.scalars(select(Message).where(Message.direction == "in")).one()
    assert (case.channel, inbound.case_id, inbound.kind, inbound.external_id) == \
        ("voice", case.id, "voice", recording["RecordingSid"])
    assert case.acknowledged_at is not None
    digits = _digit_words(case.reference)
    said = _said(root)
    assert said.count(digits) == 2 and len(digits.split("، ")) == 7
    assert AR._("We are also sending you this number by SMS.") in said
    # and what happens next: the answer comes as a call
    assert said[-1] == AR._("Keep this number to ask about your case. We will call you back "
                            "with our answer. Goodbye.")
    assert _verbs(root)[-1] == "Hangup"
    dispatcher.run_once()  # fetches the audio and sends the reference by SMS
    attachment = db.session.scalars(select(Attachment)).one()
    assert (attachment.kind, attachment.fetch_status, attachment.content_type) == \
        ("voice", "stored", "audio/wav")
    assert services().attachment_store.read(attachment.storage_key or "") == \
        b"RIFF....WAVE-the-complaint"
    download = fake_twilio.requests_to(f"/Recordings/{recording['RecordingSid']}", "GET")
    assert download and download[-1].auth == (ACCOUNT_SID, "twilio-auth-token-test")
    [sms] = fake_twilio.sent_messages()
    assert (sms["To"], sms["From"]) == (PERSON, SMS_NUMBER) and case.reference in sms["Body"]
    assert _path(sms["StatusCallback"]) == f"{VOICE}/message-status"
    notice = db.session.scalars(select(Message).where(Message.kind == "reference_sms")).one()
    response = post_twilio(client, f"{VOICE}/message-status",
                           status_form(notice.external_id or "", "delivered"))
    assert response.status_code == 204
    db.session.refresh(notice)
    assert notice.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("when", ["refused-when-sent", "reported-later"])
def test_stop_to_the_sms_number_does_not_stop_the_reply_call(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, when: str,
) -> None:
    """The person once replied STOP to the SMS number: the reference SMS fails (21610), but
    the officer's answer is a call, which they asked for by ringing: it is still placed."""
    _call, case = _voice_case(client, dispatcher, fake_twilio)
    if when == "refused-when-sent":
        fake_twilio.unsubscribed_next()
    dispatcher.run_once()  # sends the reference by SMS
    notice = db.session.scalars(select(Message).where(Message.kind == "reference_sms")).one()
    if when == "reported-later":
        response = post_twilio(client, f"{VOICE}/message-status",
                               status_form(notice.external_id or "", "undelivered", 21610))
        assert response.status_code == 204
    db.session.refresh(notice)
    assert notice.status == DeliveryStatus.FAILED
    assert case.contact.opted_out is False
    queue_reply(db.session, case, REPLY, actor="officer@example.org", now=utcnow())
    dispatcher.run_once()
    assert _placed(fake_twilio, "reply").to == PERSON


@pytest.mark.parametrize("extra_settings", [{"twilio_sms_number": None}], indirect=True)
def test_without_an_sms_number_the_reference_is_only_spoken(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call, _case = _voice_case(client, dispatcher, fake_twilio)
    assert _count(Message, Message.kind == "reference_sms") == 0
    root = _xml(call.post(client, "recorded", **_recording(fake_twilio)))
    assert AR._("We are also sending you this number by SMS.") not in _said(root)


# (the key that ended the recording, or "hangup"; an SMS number; whether a short call-back
# reads the reference)
HUNG_UP = [
    pytest.param("hangup", None, True, id="hung-up-without-sms"),
    pytest.param("hangup", SMS_NUMBER, False, id="hung-up-the-sms-tells-it"),
    pytest.param("#", None, False, id="pressed-hash-heard-it"),
    pytest.param("", None, False, id="silence-ended-it-heard-it"),
]


@pytest.mark.parametrize(("digits", "sms_number", "called_back"), HUNG_UP)
def test_hanging_up_mid_recording_without_sms_gets_a_call_with_the_reference(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, digits: str,
    sms_number: str | None, called_back: bool,
) -> None:
    """The person hung up instead of pressing #: they never heard their case number."""
    dispatcher.adapters["voice"].sms_number = sms_number  # type: ignore[attr-defined]
    call = _called_back(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    call.post(client, "menu?tries=0", Digits="1")
    recording = _recording(fake_twilio)
    for _ in range(2):  # a replayed action request queues nothing more
        call.post(client, "recorded", Digits=digits, **recording)
    case = db.session.scalars(select(Case)).one()
    assert _count(Message, Message.kind == "reference_call") == (1 if called_back else 0)
    assert _count(Message, Message.kind == "reference_sms") == (1 if sms_number else 0)
    if not called_back:
        return
    assert case.acknowledged_at is None  # not until they hear it
    dispatcher.run_once()
    again = _placed(fake_twilio, "reference_call")
    assert again.to == PERSON and again.message.case_id == case.id
    root = _xml(again.post(client, "answer",
                           **answered_by(fake_twilio.placed_calls()[-1], "human")))
    said = _said(root)
    assert "صوتي" in said[0] and said.count(_digit_words(case.reference)) == 2
    assert _verbs(root)[-1] == "Hangup" and root.find("Gather") is None
    db.session.refresh(case)
    assert case.acknowledged_at is not None
    assert again.message.status == DeliveryStatus.DELIVERED


NO_RECORDING = [
    ("no-recording-sid", {"RecordingUrl": "https://api.twilio.com/x", "RecordingDuration": "3"}),
    ("empty-recording", {"RecordingSid": "RE" + "0" * 32, "RecordingDuration": "0",
                         "RecordingUrl": "https://api.twilio.com/2010-04-01/x"}),
]


def test_no_recording_goes_back_to_the_menu(client: FlaskClient, dispatcher: Dispatcher,
                                            fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    for label, form in NO_RECORDING:
        root = _xml(call.post(client, "recorded", **form))
        assert _said(root)[0] == AR._("We did not receive a recording."), label
        assert _verbs(root) == ["Say", "Gather", "Redirect"], label
        assert _tries(root[1].get("action") or "") == "1", label
    assert _count(Case) == 0


def test_recording_url_elsewhere_than_twilio_is_refused(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    response = call.post(client, "recording", RecordingSid="RE" + "1" * 32,
                         RecordingUrl="https://evil.example.com/steal", RecordingDuration="9")
    assert response.status_code == 400 and _count(Case) == 0


@pytest.mark.parametrize("extra_settings", [{"sawti_attachment_fetch_attempts": 2}],
                         indirect=True)
def test_recording_that_404s_is_retried_then_the_case_says_so(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    recording = _recording(fake_twilio, content=None)  # Twilio answers 404
    _xml(call.post(client, "recorded", **recording))
    dispatcher.run_once()
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "pending" and attachment.fetch_attempts == 1
    assert "404" in (attachment.fetch_error or "")
    attachment.next_fetch_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    dispatcher.run_once()
    assert attachment.fetch_status == "failed" and attachment.fetch_attempts == 2
    case = db.session.scalars(select(Case)).one()
    assert attachment.message.case_id == case.id
    assert _count(AuditEvent, AuditEvent.action == "attachment.fetch_failed",
                  AuditEvent.case_id == case.id) == 1


def test_recording_reported_absent_is_recorded_on_the_case(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    recording = _recording(fake_twilio)
    _xml(call.post(client, "recorded", **recording))
    response = call.post(client, "recording", **(recording | {"RecordingStatus": "absent"}))
    assert response.status_code == 204
    attachment = db.session.scalars(select(Attachment)).one()
    assert attachment.fetch_status == "failed" and attachment.fetch_error == "recording absent"
    assert _count(Case) == 1


# --- status by phone ------------------------------------------------------------------------

def test_status_by_reference_from_the_same_number(client: FlaskClient, dispatcher: Dispatcher,
                                                  fake_twilio: FakeTwilio) -> None:
    call, case = _voice_case(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "reference?tries=0", Digits=case.reference))
    expected = AR._("Your case %(reference)s is %(status)s.",
                    reference=_digit_words(case.reference), status=AR.status_name("new"))
    assert _said(root)[0] == expected
    assert _verbs(root) == ["Say", "Gather", "Redirect"]  # and back to the menu


def test_status_of_a_case_opened_by_sms_from_the_same_number(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    post_twilio(client, "/webhooks/twilio/messaging", messaging_form(Body="لم أستلم السلة"))
    case = db.session.scalars(select(Case)).one()
    call = _called_back(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "reference?tries=0", Digits=case.reference))
    assert _digit_words(case.reference) in _said(root)[0]


def test_status_from_another_number_is_told_as_unknown(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    _call, case = _voice_case(client, dispatcher, fake_twilio)
    stranger = _called_back(client, dispatcher, fake_twilio, caller=OTHER_PERSON)
    assert stranger.to == OTHER_PERSON
    root = _xml(stranger.post(client, "reference?tries=0", Digits=case.reference))
    said = _said(root)
    assert said[0] == AR._("We could not find a case with this number for you.")
    assert all(_digit_words(case.reference) not in text for text in said)
    assert AR.status_name("new") not in " ".join(said)


# (label, keys typed, tries so far, what is said first, what comes next: the question again,
# the main menu, or the end of the call)
MISTYPED = [
    ("wrong-check-digit", "bad", "0", "This number seems to be mistyped.", "again"),
    ("too-short", "12345", "0", "This number seems to be mistyped.", "again"),
    ("too-long", "123456789", "0", "This number seems to be mistyped.", "again"),
    ("non-numeric", "12*4567", "0", "This number seems to be mistyped.", "again"),
    ("no-input", "", "0", "We did not hear a case number.", "again"),
    # they are there but have no right number: they may still leave a complaint (key 1)
    ("wrong-again-back-to-the-menu", "bad", "1", "This number seems to be mistyped.", "menu"),
    ("no-input-again-ends-politely", "", "1", "We did not hear a case number.", "hangup"),
]


@pytest.mark.parametrize(("label", "typed", "tries", "first_said", "then"), MISTYPED,
                         ids=[row[0] for row in MISTYPED])
def test_mistyped_reference_gets_one_retry(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, label: str,
    typed: str, tries: str, first_said: str, then: str,
) -> None:
    call, case = _voice_case(client, dispatcher, fake_twilio)
    digits = _bad_check_digit(case.reference) if typed == "bad" else typed
    form = {"Digits": digits} if digits else {}
    root = _xml(call.post(client, f"reference?tries={tries}", **form))
    said = _said(root)
    assert said[0] == AR._(first_said), label
    assert all(AR.status_name("new") not in text for text in said), label
    if then == "hangup":
        assert _verbs(root)[-1] == "Hangup", label
        return
    gather = root.find("Gather")
    assert gather is not None, label
    step, size = ("reference", "7") if then == "again" else ("menu", "1")
    assert gather.get("numDigits") == size, label
    assert _path(gather.get("action") or "") == f"{call.base}/{step}?tries=1", label


# --- an officer's reply -------------------------------------------------------------------

REPLY = "تم تحويل طلبك إلى فريق التوزيع، وسيتواصلون معك هذا الأسبوع."


def _reply_call(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
                audio: bytes | None = None) -> tuple[Call, Case]:
    _call, case = _voice_case(client, dispatcher, fake_twilio)
    dispatcher.run_once()
    recording = ReplyAudio(audio, "answer.mp3") if audio is not None else None
    reply = queue_reply(db.session, case, REPLY, actor="officer@example.org", now=utcnow(),
                        audio=recording, store=services().attachment_store)
    dispatcher.run_once()
    call = _placed(fake_twilio, "reply")
    assert call.to == PERSON and call.message.id == reply.id
    return call, case


def test_reply_call_speaks_the_reply_then_offers_repeat_and_message(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call, case = _reply_call(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "answer"))
    assert _verbs(root) == ["Gather", "Redirect"]
    intro, about, reference, reply, options = _said(root[0])
    assert "صوتي" in intro and reply == REPLY
    assert (about, reference) == (AR._(REPLY_ABOUT), _digit_words(case.reference))
    assert options == AR._("To hear the answer again, press 1. To leave a further message, "
                           "press 2.")
    assert _path(root[0].get("action") or "") == f"{call.base}/reply?tries=0"
    assert root[0].get("finishOnKey") == ""  # "#" is a wrong key, not silence
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.DELIVERED  # visible on the case
    again = _xml(call.post(client, "reply?tries=0", Digits="1"))
    assert _said(again)[0] == REPLY
    record = _xml(call.post(client, "reply?tries=0", Digits="2"))
    assert record.find("Record") is not None
    recording = _recording(fake_twilio)
    added = _xml(call.post(client, "recorded", **recording))
    assert _said(added)[0] == AR._("Thank you. We added your message to case %(reference)s.",
                                   reference=_digit_words(case.reference))
    assert _count(Case) == 1
    further = db.session.scalars(select(Message).where(
        Message.external_id == recording["RecordingSid"])).one()
    assert further.case_id == case.id and further.attachments[0].kind == "voice"
    assert _count(Message, Message.kind == "reference_sms") == 1  # only for the new case


REPLY_ABOUT = "This answer is about your case number:"


@pytest.mark.parametrize("audio", [None, b"ID3\x04\x00recorded"], ids=["spoken", "recorded"])
def test_reply_call_names_its_case_digit_by_digit(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, audio: bytes | None,
) -> None:
    """The person may have several cases: the greeting says which one the answer is about."""
    call, case = _reply_call(client, dispatcher, fake_twilio, audio=audio)
    said = _said(_xml(call.post(client, "answer"))[0])
    assert said[1:3] == [AR._(REPLY_ABOUT), _digit_words(case.reference)]
    assert not any(char.isdigit() for char in " ".join(said))
    again = _said(_xml(call.post(client, "reply?tries=0", Digits="1")))
    assert _digit_words(case.reference) not in again  # "hear it again" is the answer only


REPLY_INPUT = [
    ("invalid", "5", "0", ["Say", "Gather", "Redirect"]),
    ("non-numeric", "#", "0", ["Say", "Gather", "Redirect"]),
    ("no-input", "", "0", ["Say", "Gather", "Redirect"]),
    ("invalid-twice", "5", "1", ["Say", "Say", "Hangup"]),
    ("no-input-twice", "", "1", ["Say", "Say", "Hangup"]),
]


def test_reply_call_invalid_input(client: FlaskClient, dispatcher: Dispatcher,
                                  fake_twilio: FakeTwilio) -> None:
    call, _case = _reply_call(client, dispatcher, fake_twilio)
    for label, digits, tries, verbs in REPLY_INPUT:
        form = {"Digits": digits} if digits else {}
        assert _verbs(_xml(call.post(client, f"reply?tries={tries}", **form))) == verbs, label


def test_further_message_reopens_a_closed_case(client: FlaskClient, dispatcher: Dispatcher,
                                               fake_twilio: FakeTwilio) -> None:
    call, case = _reply_call(client, dispatcher, fake_twilio)
    case.status, case.closed_at = "closed", utcnow()
    db.session.commit()
    _xml(call.post(client, "recorded", **_recording(fake_twilio)))
    db.session.refresh(case)
    assert case.status == "open" and case.closed_at is None
    assert _count(AuditEvent, AuditEvent.action == "case.reopened") == 1


# --- the satisfaction survey on a reply call that closed the case -------------------------

SURVEY_QUESTION = ("Your case is now closed. How satisfied are you with how it was handled? "
                   "Press 1 if satisfied, 2 if partly satisfied, 3 if not satisfied. To hear "
                   "the answer again, press 9.")
THANKS = "Thank you for your answer."
REOPEN_OFFER = ("We are sorry. To reopen your case and tell us what is still wrong, press 1. "
                "Otherwise, you can hang up.")


def _closing_reply_call(client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio
                        ) -> tuple[Call, Case]:
    """An officer answered and closed the case before the reply call was answered."""
    call, case = _reply_call(client, dispatcher, fake_twilio)
    case.status, case.closed_at = "closed", utcnow()
    db.session.commit()
    return call, case


def test_reply_call_on_a_closed_case_asks_the_survey(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call, case = _closing_reply_call(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "answer"))
    assert _verbs(root) == ["Gather", "Redirect"]
    _intro, _about, _reference, reply, question = _said(root[0])
    assert reply == REPLY and question == AR._(SURVEY_QUESTION)
    assert _path(root[0].get("action") or "") == f"{call.base}/survey?tries=0"
    assert _path(root[1].text or "") == f"{call.base}/survey?tries=0"
    db.session.refresh(case)
    assert case.survey_sent_at is not None and case.satisfaction is None
    _xml(call.post(client, "answer"))  # Twilio may fetch the first document again
    assert _count(AuditEvent, AuditEvent.action == "survey.sent") == 1


# (label, keys pressed at the survey, then at the reopen offer, satisfaction, status, ends)
SURVEY_KEYS = [
    pytest.param("1", None, 1, "closed", [THANKS], id="satisfied"),
    pytest.param("١", None, 1, "closed", [THANKS], id="satisfied-arabic-indic-digit"),
    pytest.param("2", None, 2, "closed", [THANKS], id="partly"),
    pytest.param("3", "1", 3, "open", [REOPEN_OFFER], id="not-satisfied-reopens"),
    pytest.param("3", "5", 3, "closed", [REOPEN_OFFER], id="not-satisfied-declines"),
]


@pytest.mark.parametrize(("survey_key", "reopen_key", "satisfaction", "status", "first_said"),
                         SURVEY_KEYS)
def test_survey_answered_by_keypad(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, survey_key: str,
    reopen_key: str | None, satisfaction: int, status: str, first_said: list[str],
) -> None:
    call, case = _closing_reply_call(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    answered = _xml(call.post(client, "survey?tries=0", Digits=survey_key))
    assert _said(answered)[:1] == [AR._(text) for text in first_said]
    db.session.refresh(case)
    assert case.satisfaction == satisfaction and case.satisfaction_at is not None
    if reopen_key is None:
        assert _verbs(answered)[-1] == "Hangup"
    else:
        gather = answered.find("Gather")
        assert gather is not None
        assert _path(gather.get("action") or "") == f"{call.base}/survey_reopen?tries=0"
        after = _xml(call.post(client, "survey_reopen?tries=0", Digits=reopen_key))
        ends_with = "Redirect" if reopen_key == "1" else "Hangup"  # recording, or goodbye
        assert _verbs(after)[-1] == ends_with
        assert (after.find("Record") is not None) == (reopen_key == "1")
    db.session.refresh(case)
    assert case.status == status
    reopened = _count(AuditEvent, AuditEvent.action == "case.reopened")
    assert reopened == (1 if status == "open" else 0)
    answers = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "case.satisfaction")).all()
    assert [event.actor for event in answers] == ["contact"]


# (label, how the document is reached: the reply call's answer, then keys at survey steps)
SPOKEN_KEYS = [
    pytest.param([], id="survey-question"),
    pytest.param([("survey?tries=0", "3")], id="reopen-offer"),
]


@pytest.mark.parametrize("steps", SPOKEN_KEYS)
def test_survey_keys_are_said_in_words(client: FlaskClient, dispatcher: Dispatcher,
                                       fake_twilio: FakeTwilio,
                                       steps: list[tuple[str, str]]) -> None:
    """Keys are said in words, as the main menu says them («اضغط واحد»): a voice reading
    «اضغط 1، و2» may say it oddly, and a digit is not what the person hears on the keypad."""
    call, _case = _closing_reply_call(client, dispatcher, fake_twilio)
    root = _xml(call.post(client, "answer"))
    for step, key in steps:
        root = _xml(call.post(client, step, Digits=key))
    said = " ".join(_said(root))
    assert not any(char.isdigit() for char in said), said


def test_survey_answer_feeds_the_kpis(client: FlaskClient, dispatcher: Dispatcher,
                                      fake_twilio: FakeTwilio) -> None:
    call, _case = _closing_reply_call(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    call.post(client, "survey?tries=0", Digits="2")
    today = utcnow().date()
    report = kpis(db.session, today - timedelta(days=1), today + timedelta(days=1))
    assert report.surveys_sent == 1 and report.satisfaction_answers == 1
    assert report.satisfaction["2"] == 1 and report.satisfaction["1"] == 0


SURVEY_INPUT = [
    pytest.param("9", "0", ["Gather", "Redirect"], REPLY, id="repeat-the-answer"),
    pytest.param("7", "0", ["Say", "Gather", "Redirect"], "Sorry, that is not one of the "
                 "choices.", id="invalid"),
    pytest.param("", "0", ["Say", "Gather", "Redirect"], "We did not hear a choice.",
                 id="no-input"),
    pytest.param("7", "1", ["Say", "Say", "Hangup"], "Sorry, that is not one of the choices.",
                 id="invalid-twice"),
]


@pytest.mark.parametrize(("digits", "tries", "verbs", "first_said"), SURVEY_INPUT)
def test_survey_repeats_and_bad_input(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio, digits: str,
    tries: str, verbs: list[str], first_said: str,
) -> None:
    call, case = _closing_reply_call(client, dispatcher, fake_twilio)
    call.post(client, "answer")
    form = {"Digits": digits} if digits else {}
    root = _xml(call.post(client, f"survey?tries={tries}", **form))
    assert _verbs(root) == verbs
    said = _said(root)
    assert said[0] == (first_said if first_said == REPLY else AR._(first_said))
    if verbs[-1] == "Redirect":
        assert said[-1] == AR._(SURVEY_QUESTION)
    db.session.refresh(case)
    assert case.satisfaction is None


@pytest.mark.parametrize("why", ["open-case", "answered-already"])
def test_no_survey_when_not_due(client: FlaskClient, dispatcher: Dispatcher,
                                fake_twilio: FakeTwilio, why: str) -> None:
    call, case = _reply_call(client, dispatcher, fake_twilio)
    if why == "answered-already":
        case.status, case.closed_at = "closed", utcnow() - timedelta(minutes=5)
        case.satisfaction, case.satisfaction_at = 1, utcnow()
        db.session.commit()
    root = _xml(call.post(client, "answer"))
    assert _said(root[0])[-1] == AR._("To hear the answer again, press 1. To leave a further "
                                      "message, press 2.")
    late = _xml(call.post(client, "survey?tries=0", Digits="3"))  # a stale document's key
    assert _verbs(late)[-1] == "Hangup"
    db.session.refresh(case)
    assert case.satisfaction == (1 if why == "answered-already" else None)
    assert case.survey_sent_at is None


OFFICER_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00officer-answer"


def test_audio_reply_is_played(client: FlaskClient, dispatcher: Dispatcher,
                               fake_twilio: FakeTwilio) -> None:
    call, _case = _reply_call(client, dispatcher, fake_twilio, audio=OFFICER_MP3)
    gather = _xml(call.post(client, "answer"))[0]
    assert [child.tag for child in gather] == ["Say", "Say", "Say", "Play", "Say"]
    audio_path = _path(gather[3].text or "")
    assert audio_path.startswith(f"{VOICE}/audio/")
    served = client.get(audio_path)
    assert served.status_code == 200 and served.data == OFFICER_MP3
    assert served.mimetype == "audio/mpeg"
    assert client.get(audio_path[:-3] + "abc").status_code == 404  # tampered


# --- verification and bad input ---------------------------------------------------------

STEPS = ["answer", "menu?tries=0", "reference?tries=0", "recorded", "recording", "status",
         "reply?tries=0"]


FORGERIES: list[tuple[str, dict[str, object]]] = [
    ("no-signature", {"signature": ""}),
    ("forged-signature", {"signature": "bm90IGEgc2lnbmF0dXJl"}),
    ("another-token", {"token": "someone-elses-token"}),
    ("another-url", {"sign_url": "https://evil.example.com/webhooks/twilio/voice"}),
]


def test_bad_signature_is_403_on_every_route(client: FlaskClient, dispatcher: Dispatcher,
                                             fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    form = {"CallSid": call.sid, "From": PERSON, "Digits": "1", "CallStatus": "busy",
            "MessageSid": new_sid("SM"), "MessageStatus": "delivered", **_recording(fake_twilio)}
    messages, calls = _count(Message), _count(VoiceCall)
    paths = [VOICE, f"{VOICE}/message-status", *(f"{call.base}/{step}" for step in STEPS)]
    for path in paths:
        for label, options in FORGERIES:
            response = post_twilio(client, path, form, **options)  # type: ignore[arg-type]
            assert response.status_code == 403, (path, label)
    assert (_count(Message), _count(VoiceCall), _count(Case)) == (messages, calls, 0)
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.SENT


def test_unknown_or_tampered_token_is_404(client: FlaskClient, dispatcher: Dispatcher,
                                         fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    for base in (call.base[:-4] + "AAAA", f"{VOICE}/call/not-a-token"):
        for step in STEPS:
            response = post_twilio(client, f"{base}/{step}", {"CallSid": call.sid})
            assert response.status_code == 404, step


BAD_CALLBACKS = [
    ("unknown-call-status", "status", {"CallSid": "CA" + "3" * 32, "CallStatus": "teleported"}),
    ("status-without-call-sid", "status", {"CallStatus": "busy"}),
    ("answer-without-call-sid", "answer", {}),
    ("sms-status-unknown", "message-status", {"MessageSid": "SM1", "MessageStatus": "lost"}),
    # PostgreSQL refuses a NUL byte in text: an id with one was a 500 there (found by fuzzing)
    ("status-call-sid-with-nul", "status", {"CallSid": "CA\x00", "CallStatus": "busy"}),
    ("answer-call-sid-with-nul", "answer", {"CallSid": "CA\x001"}),
    ("recording-sid-with-nul", "recorded", {
        "CallSid": "CA" + "3" * 32, "RecordingSid": "R\x18W\x82\x00", "RecordingDuration": "4",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"}),
    ("recording-status-sid-with-nul", "recording", {
        "RecordingSid": "RE\x00", "RecordingStatus": "failed"}),
    ("message-sid-too-long", "message-status", {"MessageSid": "SM" + "1" * 200,
                                                 "MessageStatus": "delivered"}),
    ("call-sid-longer-than-its-column", "answer", {"CallSid": "CA" + "1" * 63}),
]


def test_bad_callbacks_are_400(client: FlaskClient, dispatcher: Dispatcher,
                               fake_twilio: FakeTwilio) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    for label, step, form in BAD_CALLBACKS:
        path = f"{VOICE}/{step}" if step == "message-status" else f"{call.base}/{step}"
        assert post_twilio(client, path, form).status_code == 400, label
    db.session.refresh(call.message)
    assert call.message.status == DeliveryStatus.SENT


# (label, step with its query, Digits): isdigit() is true of "²" and "𝟙", which int() refuses
# or reads; 5000 digits is past int()'s limit. Signed, so only Twilio (or a fuzzer) sends them.
ODD_KEYS = [
    pytest.param("menu?tries=%C2%B2", "5", id="superscript-tries"),
    pytest.param("menu?tries=" + "9" * 5000, "", id="tries-past-int-limit"),
    pytest.param("info?tries=0", "²", id="superscript-info-key"),
    pytest.param("info?tries=0", "1" * 5000, id="info-key-past-int-limit"),
    pytest.param("reply?tries=%F0%9D%9F%99", "", id="math-digit-tries"),
]


@pytest.mark.parametrize(("step", "digits"), ODD_KEYS)
def test_odd_keys_and_tries_are_never_a_500(client: FlaskClient, dispatcher: Dispatcher,
                                            fake_twilio: FakeTwilio, step: str,
                                            digits: str) -> None:
    _info_entries()
    call = _called_back(client, dispatcher, fake_twilio)
    form = {"Digits": digits} if digits else {}
    verbs = _verbs(_xml(call.post(client, step, **form)))
    assert verbs in (["Say", "Gather", "Redirect"], ["Say", "Say", "Hangup"])


def test_voice_is_off_without_a_voice_number(app_context: None) -> None:
    from channels.twilio_voice import TwilioVoiceAdapter

    settings = services().settings.model_copy(update={"twilio_voice_number": None})
    assert TwilioVoiceAdapter.from_settings(settings) is None


# --- the information menu (option 3) --------------------------------------------------------

def _info_entries() -> list[InfoEntry]:
    """Two approved entries, the second with a recorded answer, and one for another place."""
    officer = accounts.create_user(db.session, "officer@example.org", "a long enough password 1",
                                   Role.OFFICER, name="Officer")
    made = []
    for code, question, locations in (("next_distribution", "متى التوزيع القادم؟", []),
                                      ("clinic_hours", "متى تعمل العيادة؟", []),
                                      ("iraq_only", "سؤال لنينوى", ["IQ-NI"])):
        entry = info.save_entry(db.session, officer, None, {
            "code": code, "question_ar": question, "answer_ar": f"جواب {code}",
            "keywords": ["توزيع*"], "locations": locations}, utcnow())
        info.approve(db.session, officer, entry, utcnow())
        made.append(entry)
    info.set_audio(db.session, officer, made[1], services().attachment_store.save(OFFICER_MP3),
                   "audio/mpeg", utcnow())
    return made


def test_option_3_lists_the_entries_and_answers_the_one_chosen(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    first, second, _elsewhere = _info_entries()
    call = _called_back(client, dispatcher, fake_twilio)
    call.message.contact.location = "SY-ID-01"
    db.session.commit()
    listing = _xml(call.post(client, "menu?tries=0", Digits="3"))
    assert _verbs(listing) == ["Gather", "Redirect"]
    said = _said(listing[0])
    assert said[:2] == [
        AR._("To hear: %(question)s, press %(digit)s.", question=first.question_ar,
             digit=_digit_words("1")),
        AR._("To hear: %(question)s, press %(digit)s.", question=second.question_ar,
             digit=_digit_words("2"))]
    assert len(said) == 3  # the Nineveh entry is not offered in Idlib
    assert _path(listing[0].get("action") or "") == f"{call.base}/info?tries=0"

    spoken = _xml(call.post(client, "info?tries=0", Digits="1"))
    assert _said(spoken[0])[0] == "جواب next_distribution"
    assert _path(spoken[0].get("action") or "") == f"{call.base}/info_after?tries=0"
    played = _xml(call.post(client, "info?tries=0", Digits="2"))
    audio_path = _path(played[0].find("Play").text or "")  # type: ignore[union-attr]
    assert client.get(audio_path).data == OFFICER_MP3
    used = db.session.scalars(select(InfoAnswer).order_by(InfoAnswer.id)).all()
    assert [(row.entry_id, row.channel, row.case_id) for row in used] == [
        (first.id, "voice", None), (second.id, "voice", None)]

    assert _xml(call.post(client, "info_after?tries=0", Digits="1")).find("Record") is not None
    again = _xml(call.post(client, "info_after?tries=0", Digits="2"))
    assert _path(again[0].get("action") or "") == f"{call.base}/info?tries=0"
    for document in (listing, spoken):  # keys in words, as in the main menu
        assert not any(char.isdigit() for char in " ".join(_said(document)))
    back = _xml(call.post(client, "info?tries=0", Digits="9"))
    assert _path(back[0].get("action") or "") == f"{call.base}/menu?tries=0"


INFO_INPUT = [
    ("not-an-entry", "7", "0", ["Say", "Gather", "Redirect"]),
    ("no-input", "", "0", ["Say", "Gather", "Redirect"]),
    ("not-an-entry-twice", "7", "1", ["Say", "Say", "Hangup"]),
]


def test_information_menu_bad_input(client: FlaskClient, dispatcher: Dispatcher,
                                    fake_twilio: FakeTwilio) -> None:
    _info_entries()
    call = _called_back(client, dispatcher, fake_twilio)
    for label, digits, tries, verbs in INFO_INPUT:
        form = {"Digits": digits} if digits else {}
        assert _verbs(_xml(call.post(client, f"info?tries={tries}", **form))) == verbs, label


def test_without_entries_option_3_is_the_general_information(
    client: FlaskClient, dispatcher: Dispatcher, fake_twilio: FakeTwilio,
) -> None:
    call = _called_back(client, dispatcher, fake_twilio)
    assert "صوتي" in _said(_xml(call.post(client, "menu?tries=0", Digits="3")))[0]
