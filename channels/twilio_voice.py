"""The voice call-back line through Twilio Voice, for people who cannot read or write.

A person rings the hotline; the call is rejected (``<Reject reason="busy"/>``, so it costs them
nothing) and a call-back is queued in the outbox. The dispatcher places the call
(``client.calls.create``) within calling hours; the person hears an Arabic menu: 1 leave a
recorded complaint (it opens a case, whose reference they hear digit by digit, twice), 2 hear
the status of a case by typing its reference, 3 general information, 9 repeat. An officer's
reply on a voice case is a call too: it names the case (its reference, digit by digit), speaks
(or plays) the reply, then offers 1 repeat and 2 leave a further message on the same case.

Every call is placed with answering machine detection: Twilio requests the answer URL once it
knows who picked up (``AnsweredBy``). Voicemail, a network's recorded message or a fax is hung
up on and the call counts as unanswered (retried, then failed on the case); only a person
(``human``, or ``unknown``) makes it delivered. A call-back that fails for good with no open
case opens one for the missed call, so officers see it (a later call-back is made on it);
once a later call-back reaches the person, that case is closed by the system (and linked to
the case their recording opens), unless staff have acted on it: then it stays open, its
timeline says so, and a recording they leave on that call joins it, while it is open.
Someone who hangs up while recording (instead of pressing #) did not hear their reference:
without an SMS number, a short call reads it to them.

Sample provider requests::

    POST /webhooks/twilio/voice                          (the person rings the hotline)
    X-Twilio-Signature: 0Yx1...=
    CallSid=CA0123...&AccountSid=AC...&From=%2B963944000111&To=%2B15005550007
    &CallStatus=ringing&Direction=inbound&ApiVersion=2010-04-01

    POST /webhooks/twilio/voice/call/<token>/menu?tries=0   (a key pressed in the menu)
    CallSid=CA4567...&From=%2B15005550007&To=%2B963944000111&Digits=1&Direction=outbound-api

    POST /webhooks/twilio/voice/call/<token>/recording      (recordingStatusCallback)
    CallSid=CA4567...&RecordingSid=RE89ab...&RecordingStatus=completed&RecordingDuration=41
    &RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC...%2FRecordings%2FRE...

``<token>`` is signed with ``SECRET_KEY`` and names the outbound message (the call-back or the
reply) the call delivers; every route also checks ``X-Twilio-Signature``. The missed call is
not a message for the text dialogue, so this module answers the hotline webhook itself (see
``register_routes``). Nothing here logs a number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Self, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Request, Response, abort, request
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.messages import Speaker
from casework import audit, cases, info, intake, outbox, survey
from casework.models import (
    Attachment,
    AuditEvent,
    Case,
    CaseStatus,
    Contact,
    DeliveryStatus,
    Direction,
    InfoEntry,
    Message,
    VoiceCall,
    utcnow,
)
from casework.privacy import AddressDecryptionError, Vault, normalize_address
from casework.references import REFERENCE_LENGTH, is_valid_reference
from casework.text import ascii_digits
from channels import twilio_http
from channels.base import (
    BadWebhook,
    ChannelAdapter,
    Outbound,
    PermanentSendError,
    SendError,
    SendResult,
    provider_id,
)
from channels.delivery import record_statuses
from channels.twilio_messaging import parse_message_status
from config.settings import ConfigError
from extensions import db

if TYPE_CHECKING:
    from bot.conversation import Handled
    from config.data import Grid
    from config.settings import Settings

log = logging.getLogger(__name__)

VOICE = "voice"
VOICE_LANGUAGE = "ar"  # the menu is Arabic speech (SAWTI_VOICE_NAME / SAWTI_VOICE_LANGUAGE)
BASE_PATH = "/webhooks/twilio/voice"
MESSAGE_STATUS_PATH = f"{BASE_PATH}/message-status"
CALLBACK_KIND = "callback"  # a call-back after a missed call: the menu
REFERENCE_SMS_KIND = "reference_sms"  # the new case's reference, by SMS (not a call)
REPLY_KIND = "reply"  # an officer's answer, spoken or played in a call
# A short call that reads a new case's reference, when the person hung up while recording
# (instead of pressing #) and no SMS number can send it.
REFERENCE_CALL_KIND = "reference_call"
HUNG_UP = "hangup"  # the <Record> action's Digits when the caller hung up
MISSED_CALL_ERROR = "missed call, not reached"  # on the case opened for an unreachable caller
# Every other kind on the voice channel (an officer's "reply") is a call that speaks the body.
TOKEN_MAX_AGE = timedelta(days=7)
AUDIO_TOKEN_MAX_AGE = timedelta(days=1)
MENU_TIMEOUT_SECONDS = 8
INFO_MENU_SIZE = 8  # keys 1-8; 9 goes back
REFERENCE_TIMEOUT_SECONDS = 15
RECORD_SILENCE_SECONDS = 10
# What Twilio puts in From when the caller withheld their number (the digits spell ANONYMOUS,
# RESTRICTED, BLOCKED, UNAVAIL and UNKNOWN on a keypad).
WITHHELD_CALLERS = frozenset({
    "anonymous", "restricted", "blocked", "private", "unknown", "unavailable", "withheld",
    "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253",
})
E164 = re.compile(r"\+[1-9]\d{6,14}")
# Twilio's call statuses, in the order a call goes through them.
CALL_PROGRESS = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3, "answered": 3,
                 "completed": 4, "busy": 4, "no-answer": 4, "failed": 4, "canceled": 4}
ANSWERED = frozenset({"in-progress", "answered", "completed"})
# Answering machine detection, synchronous: Twilio requests the call's Url once it knows who
# picked up, with AnsweredBy. "Enable" answers as soon as it can tell (nothing is left on a
# voicemail, so there is no need to wait for its beep). "unknown" is taken for a person.
MACHINE_DETECTION = "Enable"
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence",
                             "machine_end_other", "fax"})
UNANSWERED = frozenset({"busy", "no-answer", "failed", "canceled"})
WAITING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.HELD)
# A call placed longer ago than this is over, whether or not Twilio's last report on it came
# (a report lost while we were down must not leave the number without call-backs for good).
CALL_OVER_AFTER = timedelta(hours=1)
# Prompts that SAWTI_VOICE_PROMPTS may replace by a recorded audio file (name -> URL).
PROMPT_NAMES = frozenset({
    "greeting", "confidentiality", "menu", "no_input", "invalid", "goodbye", "record",
    "no_recording", "recorded", "reference_again", "keep_reference", "sms_sent", "info",
    "info_menu_end", "info_after",
    "ask_reference", "reference_mistyped", "reference_no_input", "reference_unknown",
    "reply_intro", "reply_reference", "reply_options", "survey", "survey_thanks",
    "survey_reopen",
})
RECORDING_HOSTS = ("api.twilio.com",)
SMALL_NUMBER = re.compile(r"[0-9]{1,3}")
OPEN_CASES_LOOKED_AT = 20  # a caller's open cases searched for a missed call's (a handful)


# --- calling hours ------------------------------------------------------------------------

@dataclass(frozen=True)
class CallingHours:
    """Local hours in which calls may be placed; "20:00-08:00" (overnight) works too."""

    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> CallingHours:
        first, _, last = text.strip().partition("-")
        return cls(time.fromisoformat(first), time.fromisoformat(last), ZoneInfo(zone))

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_opening(self, now: datetime) -> datetime | None:
        """None if calls may be placed now, else when the hours next open (UTC)."""
        if self.is_open(now):
            return None
        day = now.astimezone(self.zone).date()
        for offset in (0, 1):
            opening = datetime.combine(day + timedelta(days=offset), self.start,
                                       tzinfo=self.zone).astimezone(UTC)
            if opening > now:
                return opening
        raise AssertionError("calling hours open at least once a day")


def callable_number(caller: str) -> str | None:
    """The E.164 number to call back, or None (withheld, a SIP or client address...)."""
    number = normalize_address(caller)
    if number.lower() in WITHHELD_CALLERS or not E164.fullmatch(number):
        return None
    return number


@dataclass(frozen=True)
class IncomingCall:
    call_sid: str
    caller: str


# --- the adapter --------------------------------------------------------------------------

class TwilioVoiceAdapter(twilio_http.TwilioAccount, ChannelAdapter):
    name = "twilio_voice"
    webhook_path = BASE_PATH

    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        assert settings.twilio_voice_number and settings.secret_key
        self.account_sid = settings.twilio_account_sid
        self.auth_token = settings.twilio_auth_token
        self.public_url = settings.public_url
        self.api_url = settings.twilio_api_url
        self.number = settings.twilio_voice_number
        self.sms_number = settings.twilio_sms_number
        self.channels = frozenset({VOICE})
        self.org_name = settings.sawti_org_name
        try:
            self.hours = CallingHours.parse(settings.sawti_call_hours, settings.sawti_timezone)
        except (ValueError, ZoneInfoNotFoundError) as error:
            raise ConfigError(f"SAWTI_CALL_HOURS / SAWTI_TIMEZONE: {error}") from error
        self.max_attempts = settings.sawti_call_max_attempts
        self.retry_seconds = settings.sawti_call_retry_minutes * 60
        self.callback_window = timedelta(minutes=settings.sawti_callback_window_minutes)
        self.voice = settings.sawti_voice_name
        self.voice_language = settings.sawti_voice_language
        unknown = set(settings.sawti_voice_prompts) - PROMPT_NAMES
        if unknown:
            raise ConfigError(f"SAWTI_VOICE_PROMPTS: unknown prompt(s) {sorted(unknown)}; "
                              f"known: {sorted(PROMPT_NAMES)}")
        self.prompts = dict(settings.sawti_voice_prompts)
        self.info_text = settings.sawti_voice_info_text
        self.max_recording_seconds = settings.sawti_voice_max_recording_seconds
        self.timeout = settings.sawti_provider_timeout_seconds
        self._calls = URLSafeTimedSerializer(settings.secret_key, salt="sawti.voice.call")
        self._audio = URLSafeTimedSerializer(settings.secret_key, salt="sawti.voice.audio")
        self._info_audio = URLSafeTimedSerializer(settings.secret_key,
                                                  salt="sawti.voice.info-audio")
        self._client = twilio_http.make_client(self.account_sid, self.auth_token, self.api_url,
                                               self.timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        configured = settings.twilio_account_sid and settings.twilio_auth_token
        return cls(settings) if configured and settings.twilio_voice_number else None

    def verify(self, request: Request) -> bool:
        return twilio_http.signature_is_valid(request, self.auth_token, self.public_url)

    def parse(self, request: Request) -> list[intake.Inbound]:
        """A missed call carries no message for the dialogue: see ``parse_call``."""
        return []

    def parse_call(self, request: Request) -> IncomingCall:
        form = request.form
        call_sid, caller = provider_id(form, "CallSid"), form.get("From", "").strip()
        if not call_sid or not caller:
            raise BadWebhook("'CallSid' and 'From' are required")
        return IncomingCall(call_sid, caller)

    def webhook_response(self, handled: Sequence[Handled]) -> Response:
        response = VoiceResponse()
        response.reject(reason="busy")  # the only verb: the call is never answered, so free
        return Response(str(response), mimetype="text/xml")

    def send(self, outbound: Outbound) -> SendResult:
        if outbound.kind == REFERENCE_SMS_KIND:
            return self._send_sms(outbound)
        if not self.public_url:
            raise PermanentSendError("PUBLIC_URL must be set to place calls")
        token = self._calls.dumps(outbound.message_id)
        try:
            call = self._client.calls.create(
                to=outbound.address, from_=self.number, method="POST",
                url=self.url(call_path(token, "answer")),
                status_callback=self.url(call_path(token, "status")),
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                machine_detection=MACHINE_DETECTION,
            )
        except Exception as error:
            raise twilio_http.typed_error(error) from error
        return SendResult(external_id=call.sid)

    def _send_sms(self, outbound: Outbound) -> SendResult:
        if not self.sms_number:
            raise PermanentSendError("no SMS number is configured")
        options: dict[str, object] = {"to": outbound.address, "from_": self.sms_number,
                                      "body": outbound.body}
        if self.public_url:
            options["status_callback"] = self.url(MESSAGE_STATUS_PATH)
        try:
            message = self._client.messages.create(**options)
        except Exception as error:
            raise sms_error(twilio_http.typed_error(error)) from error
        return SendResult(external_id=message.sid)

    def not_before(self, channel: str, kind: str, now: datetime) -> datetime | None:
        return None if kind == REFERENCE_SMS_KIND else self.hours.next_opening(now)

    # -- URLs and tokens -------------------------------------------------------------------

    def url(self, path: str) -> str:
        return (self.public_url or "").rstrip("/") + path

    def message_id(self, token: str) -> int | None:
        return _load(self._calls, token, TOKEN_MAX_AGE)

    def audio_url(self, attachment_id: int) -> str:
        return self.url(f"{BASE_PATH}/audio/{self._audio.dumps(attachment_id)}")

    def attachment_id(self, token: str) -> int | None:
        return _load(self._audio, token, AUDIO_TOKEN_MAX_AGE)

    def info_audio_url(self, entry_id: int) -> str:
        return self.url(f"{BASE_PATH}/info-audio/{self._info_audio.dumps(entry_id)}")

    def info_entry_id(self, token: str) -> int | None:
        return _load(self._info_audio, token, AUDIO_TOKEN_MAX_AGE)


def sms_error(error: SendError) -> SendError:
    """STOP sent to the SMS number (21610) ends SMS only: the person rang us to be called, so
    their calls (the officer's answer) still go out; the reference SMS just fails."""
    if isinstance(error, PermanentSendError) and error.opt_out:
        return PermanentSendError(str(error))
    return error


def call_path(token: str, step: str, tries: int | None = None) -> str:
    path = f"{BASE_PATH}/call/{token}/{step}"
    return path if tries is None else f"{path}?tries={tries}"


def _load(serializer: URLSafeTimedSerializer, token: str, max_age: timedelta) -> int | None:
    try:
        value = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except BadData:
        return None
    return value if isinstance(value, int) else None


# --- missed calls and call-backs ----------------------------------------------------------

def record_missed_call(session: Session, adapter: TwilioVoiceAdapter, vault: Vault,
                       call: IncomingCall, now: datetime) -> VoiceCall:
    """Store the rejected call once (by CallSid) and make sure one call-back is queued."""
    existing = session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call.call_sid)
                               ).first()
    if existing is not None:
        return existing
    number = callable_number(call.caller)
    if number is None:
        missed = VoiceCall(call_sid=call.call_sid, direction=Direction.INBOUND,
                           status="withheld", created_at=now, updated_at=now)
        session.add(missed)
        audit.record(session, "voice.caller_withheld", call_sid=call.call_sid)
        return missed
    contact = _contact_for(session, vault, number)
    contact.last_inbound_at = now
    contact.opted_out = False  # ringing us is asking to be called
    callback = _current_callback(session, contact, adapter.callback_window, now)
    if callback is None:
        callback = outbox.enqueue(session, contact, _case_to_call_back_on(session, contact), "",
                                  kind=CALLBACK_KIND, language=VOICE_LANGUAGE, now=now)
        audit.record(session, "voice.callback_queued", case=callback.case,
                     contact_id=contact.id)
    elif callback.status == DeliveryStatus.QUEUED and callback.next_attempt_at is not None \
            and callback.next_attempt_at > now:
        callback.next_attempt_at = now  # they ring again: they can answer now
    missed = VoiceCall(call_sid=call.call_sid, direction=Direction.INBOUND, status="missed",
                       contact=contact, message=callback, created_at=now, updated_at=now)
    session.add(missed)
    return missed


def _contact_for(session: Session, vault: Vault, number: str) -> Contact:
    pseudonym = vault.pseudonym(VOICE, number)
    contact = session.scalars(select(Contact).where(Contact.pseudonym == pseudonym)).first()
    if contact is None:
        contact = Contact(channel=VOICE, pseudonym=pseudonym,
                          address_encrypted=vault.encrypt(number), language=VOICE_LANGUAGE,
                          opted_out=False, dialogue_state="idle")
        session.add(contact)
        session.flush()
    return contact


def _current_callback(session: Session, contact: Contact, window: timedelta, now: datetime
                      ) -> Message | None:
    """A call-back still to be made or in progress, or one made within the window (unless it
    failed)."""
    recent = (Message.created_at >= now - window) & Message.status.not_in(
        [DeliveryStatus.FAILED, DeliveryStatus.CANCELLED])
    in_progress = (Message.status == DeliveryStatus.SENT) & (
        Message.sent_at >= now - CALL_OVER_AFTER)
    return session.scalars(
        select(Message).where(Message.contact_id == contact.id,
                              Message.direction == Direction.OUTBOUND,
                              Message.kind == CALLBACK_KIND,
                              or_(Message.status.in_(WAITING), in_progress, recent))
        .order_by(Message.id.desc()).limit(1)
    ).first()


def _case_to_call_back_on(session: Session, contact: Contact) -> Case | None:
    """The case a call-back is made on (an unreachable one is flagged there): the open case
    opened for an earlier missed call, which waits for exactly this call, else the contact's
    latest open case. Reaching the person then closes that missed call's case, or, when staff
    work on it, their recording joins it (``case_staff_work_on``)."""
    open_cases = session.scalars(
        select(Case).where(Case.contact_id == contact.id, Case.status != CaseStatus.CLOSED)
        .order_by(Case.last_activity_at.desc(), Case.id.desc()).limit(OPEN_CASES_LOOKED_AT)
    ).all()
    missed = (case for case in open_cases if for_a_missed_call(session, case))
    return next(missed, open_cases[0] if open_cases else None)


# --- calls we placed ----------------------------------------------------------------------

def outbound_call(session: Session, message: Message, call_sid: str, now: datetime
                  ) -> VoiceCall:
    call = session.scalars(select(VoiceCall).where(VoiceCall.call_sid == call_sid)).first()
    if call is None:
        call = VoiceCall(call_sid=call_sid, direction=Direction.OUTBOUND, status="queued",
                         contact=message.contact, message=message, created_at=now,
                         updated_at=now)
        session.add(call)
        session.flush()
    return call


def call_answered(message: Message, call: VoiceCall, now: datetime) -> None:
    """The person picked up: the call-back or reply reached them."""
    call.answered_at = call.answered_at or now
    if CALL_PROGRESS.get(call.status, 0) < CALL_PROGRESS["in-progress"]:
        call.status, call.updated_at = "in-progress", now
    if message.status in (DeliveryStatus.SENDING, DeliveryStatus.SENT):
        message.status, message.delivered_at = DeliveryStatus.DELIVERED, now
        message.last_error = None


def machine_answered(session: Session, message: Message, call: VoiceCall, answered_by: str
                     ) -> None:
    """Voicemail, a network's recorded message or a fax took the call: not delivered. When
    the call ends it is retried like an unanswered one (see ``record_call_status``)."""
    error = f"call answered by {answered_by}"
    if message.status not in (DeliveryStatus.SENDING, DeliveryStatus.SENT) or \
            message.last_error == error:
        return  # delivered by another attempt already, or a replay
    message.last_error = error
    audit.record(session, "voice.machine_answered", case=message.case, message_id=message.id,
                 kind=message.kind, call_sid=call.call_sid, answered_by=answered_by)


def record_call_status(session: Session, adapter: TwilioVoiceAdapter, message: Message,
                       form: dict[str, str], now: datetime) -> None:
    """Apply a call status callback; a call no person heard (unanswered, answered by a
    machine, or hung up before the first words) is tried again, then marked failed.

    Only the answer webhook, once answering machine detection says who picked up, delivers:
    "in-progress" here means picked up, by anyone. Reports only move a call forward, so
    replays and late reports change nothing.
    """
    call_sid, status = provider_id(form, "CallSid"), form.get("CallStatus", "")
    if not call_sid or status not in CALL_PROGRESS:
        raise BadWebhook("'CallSid' and a known 'CallStatus' are required")
    call = outbound_call(session, message, call_sid, now)
    if call.ended_at is not None or CALL_PROGRESS[status] <= CALL_PROGRESS.get(call.status, 0):
        return
    call.status, call.updated_at = status, now
    call.error_code = (form.get("ErrorCode") or form.get("SipResponseCode") or None)
    if status in ANSWERED:
        call.answered_at = call.answered_at or now
    if CALL_PROGRESS[status] < CALL_PROGRESS["completed"]:
        return
    call.ended_at = now
    duration = form.get("CallDuration", "")
    call.duration_seconds = int(duration) if duration.isdigit() else None
    _unanswered(session, adapter, message, call, now)  # unless a person heard it


def _unanswered(session: Session, adapter: TwilioVoiceAdapter, message: Message,
                call: VoiceCall, now: datetime) -> None:
    if message.status != DeliveryStatus.SENT or message.external_id != call.call_sid:
        return  # heard, an earlier attempt's late report, or the message moved on already
    if call.status in UNANSWERED:
        error = f"call {call.status}"
    else:  # answered by a machine (see machine_answered), or hung up before it spoke
        error = message.last_error or "call ended before it was heard"
    if message.attempts < adapter.max_attempts:
        outbox.mark_retry(message, error, now, base_seconds=adapter.retry_seconds,
                          max_seconds=adapter.retry_seconds * 2 ** adapter.max_attempts)
        return
    if message.case is None:  # a missed call from someone with no open case
        _case_for_missed_call(session, message, now)
        error = f"{MISSED_CALL_ERROR}: {error}"
    outbox.mark_failed(session, message, error, now)  # the case now needs action
    audit.record(session, "voice.unreachable", case=message.case, contact_id=message.contact_id,
                 message_id=message.id, kind=message.kind, attempts=message.attempts)
    log.warning("voice call failed after all attempts",
                extra={"message_id": message.id, "kind": message.kind})


def _case_for_missed_call(session: Session, callback: Message, now: datetime) -> Case:
    """Open a case for someone who rang and could not be called back, so that officers see
    it (new, and its delivery failed): the failed call-back is its only message."""
    from services import services  # the services module imports this package

    return intake.open_case(session, callback.contact, callback, services().org_data.grid, now)


def caller_reached(session: Session, callback: Message, now: datetime, *,
                   left_message_on: Case | None = None) -> None:
    """A person picked up a call-back made on the case opened for their missed call: that
    case needs no more action. It is closed by the system (its page and timeline say the
    person was reached; nothing is deleted, and an officer may reopen it); when they leave a
    message in the call, it is linked, as merged, to the case that message opened.

    A case staff have acted on is theirs: it is left as it is, and its timeline says the
    person was reached (and which case their message opened, when it did not join this one:
    see ``case_staff_work_on``). Either way the missed call's
    delivery failure is cleared, so the case leaves "needs action" unless something else
    keeps it there."""
    case = callback.case
    if callback.kind != CALLBACK_KIND or case is None or not for_a_missed_call(session, case):
        return
    _clear_missed_call_failure(session, case, callback)
    if cases.touched_by_staff(session, case):
        _tell_staff_caller_reached(session, case, callback, left_message_on)
        return
    if case.status != CaseStatus.CLOSED:
        old_status = case.status
        case.status, case.closed_at, case.resolution = CaseStatus.CLOSED, now, None
        case.last_activity_at = now
        audit.record(session, "case.closed", case=case, caller_reached=True,
                     message_id=callback.id, status=[old_status, CaseStatus.CLOSED.value],
                     within_deadline=now <= case.due_at)
    into = left_message_on
    if into is not None and into.id != case.id and into.merged_into_id is None:
        case.merged_into_id = into.id
        audit.record(session, "case.merged", case=case, caller_reached=True,
                     into_case_id=into.id, into_reference=into.reference,
                     status=[CaseStatus.CLOSED.value, CaseStatus.CLOSED.value])
        audit.record(session, "case.merge_received", case=into, caller_reached=True,
                     from_case_id=case.id, from_reference=case.reference)


def _clear_missed_call_failure(session: Session, case: Case, callback: Message) -> None:
    """When the failure the case shows is that of a call-back made before this one (or of
    this one), it is no longer true: the person is reached. It is cleared as a reply sent
    after a failure clears it (``outbox.mark_sent``). A failed reply, or a later call-back's
    failure, is still true and stays."""
    if case.delivery_failed_at is None:
        return
    last_failure = session.scalars(
        select(AuditEvent.details).where(AuditEvent.case_id == case.id,
                                         AuditEvent.action == "message.failed")
        .order_by(AuditEvent.id.desc()).limit(1)).first() or {}
    failed_call_back = last_failure.get("kind") == CALLBACK_KIND
    if failed_call_back and last_failure.get("message_id", 0) <= callback.id:
        case.delivery_failed_at = case.delivery_error = None


def _tell_staff_caller_reached(session: Session, case: Case, callback: Message,
                               left_message_on: Case | None) -> None:
    """Once per call-back (and per case their message opened): a replayed webhook adds
    nothing."""
    details: dict[str, object] = {"message_id": callback.id}
    if left_message_on is not None and left_message_on.id != case.id:
        details["opened_reference"] = left_message_on.reference
    told = session.scalars(select(AuditEvent.details).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "voice.caller_reached")).all()
    if details not in told:
        audit.record(session, "voice.caller_reached", case=case, **details)


def for_a_missed_call(session: Session, case: Case) -> bool:
    """The case was opened for a caller who could not be called back (its first message is
    that call-back), nothing from them is on it, and it is not merged into another."""
    return case.merged_into_id is None and _opened_for_a_missed_call(session, case)


def case_staff_work_on(session: Session, callback: Message) -> Case | None:
    """The case the recording left on this call-back joins instead of opening one: the case
    opened for the missed call the call-back was made on, when staff have acted on it, or the
    case they merged it into, whichever continues, while it is open. None otherwise: no one
    acted on it (it is closed on reaching the person, see ``caller_reached``), the call-back
    was made on another case, or staff closed it (a closing is their decision, counted in the
    reports with its resolution: what the person says now opens a new case, as any message
    after a closing does)."""
    case = callback.case
    if callback.kind != CALLBACK_KIND or case is None or case.id is None or \
            not _opened_for_a_missed_call(session, case) or \
            not cases.touched_by_staff(session, case):
        return None
    continuing = _continuing_case(session, case)
    # An officer closing it at this moment: wait, then see it closed (as ``cases.close`` and
    # the text line's intake do), rather than add the recording to a case no one looks at.
    session.refresh(continuing, with_for_update={"key_share": True})
    return None if continuing.status == CaseStatus.CLOSED else continuing


def _opened_for_a_missed_call(session: Session, case: Case) -> bool:
    """The case's first message is a call-back, and no message from the person is on it."""
    if case.id is None:
        return False
    first = session.scalars(select(Message).where(Message.case_id == case.id)
                            .order_by(Message.id).limit(1)).first()
    if first is None or first.kind != CALLBACK_KIND or first.direction != Direction.OUTBOUND:
        return False
    heard_from = session.scalars(select(Message.id).where(
        Message.case_id == case.id, Message.direction == Direction.INBOUND).limit(1)).first()
    return heard_from is None


# --- recordings -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    message: Message
    case: Case
    new: bool


def store_recording(session: Session, adapter: TwilioVoiceAdapter, grid: Grid,
                    call_message: Message, form: dict[str, str], now: datetime) -> Stored | None:
    """The recording as an inbound voice message, once per RecordingSid.

    After a call-back it opens a new case, or joins the missed call's case staff are working
    on (``case_staff_work_on``); either way its reference is sent by SMS when an SMS number is
    configured. After a reply it joins the reply's case. The audio is fetched by the worker,
    with retries; if it never comes, the case says so and is kept.
    """
    sid, url = provider_id(form, "RecordingSid"), form.get("RecordingUrl", "").strip()
    if not sid or not url or form.get("RecordingDuration", "").strip() == "0":
        return None
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in RECORDING_HOSTS:
        raise BadWebhook("'RecordingUrl' is not a Twilio recording")
    existing = session.scalars(
        select(Message).where(Message.channel == VOICE, Message.direction == Direction.INBOUND,
                              Message.external_id == sid)).first()
    if existing is not None:
        assert existing.case is not None
        return Stored(existing, existing.case, new=False)
    contact = call_message.contact
    message = Message(
        contact=contact, direction=Direction.INBOUND, channel=VOICE, external_id=sid,
        kind="voice", body="", language=VOICE_LANGUAGE, status=DeliveryStatus.RECEIVED,
        received_at=now, created_at=now,
        attachments=[Attachment(kind="voice", external_id=url, fetch_status="pending",
                                fetch_attempts=0, next_fetch_at=now, created_at=now)],
    )
    session.add(message)
    contact.last_inbound_at = now
    joins = case_staff_work_on(session, call_message)
    opens = joins is None and (call_message.kind == CALLBACK_KIND or call_message.case is None)
    if joins is not None:
        # before the message is on it: then it would no longer be the missed call's case
        caller_reached(session, call_message, now, left_message_on=joins)
        case = joins
        intake.attach(case, message, now)
    elif opens:
        case = intake.open_case(session, contact, message, grid, now)
    else:
        assert call_message.case is not None
        case = _live_case(session, call_message.case)
        intake.attach(case, message, now)
    if joins is not None or opens:  # the reference they hear in the call, read as well
        _send_reference(session, adapter, contact, case, now)
    session.flush()
    if joins is not None:
        _tell_staff_recording_joined(session, case, message, call_message)
    elif call_message.kind == CALLBACK_KIND:
        caller_reached(session, call_message, now, left_message_on=case)
    return Stored(message, case, new=True)


def _send_reference(session: Session, adapter: TwilioVoiceAdapter, contact: Contact,
                    case: Case, now: datetime) -> None:
    """The case's reference by SMS too, when an SMS number is configured."""
    if not adapter.sms_number:
        return
    speaker = Speaker(VOICE_LANGUAGE)
    body = speaker._("Thank you for calling %(org)s. Your case number is %(reference)s. "
                     "Keep this number to ask about your case.",
                     org=adapter.org_name, reference=case.reference)
    outbox.enqueue(session, contact, case, body, kind=REFERENCE_SMS_KIND,
                   language=VOICE_LANGUAGE, now=now)


def _tell_staff_recording_joined(session: Session, case: Case, message: Message,
                                 callback: Message) -> None:
    """On the case the recording joined: it came on the call-back for the missed call staff
    are working on (and from which case, when they merged that one into this)."""
    details: dict[str, object] = {"message_id": message.id, "callback_id": callback.id}
    missed = callback.case
    if missed is not None and missed.id != case.id:
        details["from_reference"] = missed.reference
    audit.record(session, "voice.recording_joined", case=case, **details)


def _live_case(session: Session, case: Case) -> Case:
    """The case a further message joins: the one it was merged into; reopened if closed."""
    case = _continuing_case(session, case)
    if case.status == CaseStatus.CLOSED:
        case.status, case.closed_at = CaseStatus.OPEN, None
        audit.record(session, "case.reopened", case=case, reason="voice_message",
                     status=[CaseStatus.CLOSED.value, CaseStatus.OPEN.value])
    return case


def _continuing_case(session: Session, case: Case) -> Case:
    """The case itself, or the one it was merged into (followed, when that was merged too)."""
    for _ in range(10):
        if case.merged_into_id is None:
            break
        target = session.get(Case, case.merged_into_id)
        if target is None:
            break
        case = target
    return case


def recording_unavailable(session: Session, form: dict[str, str]) -> None:
    """Twilio reports the recording failed or is absent: say so on the case, if there is one."""
    sid = provider_id(form, "RecordingSid")
    message = session.scalars(
        select(Message).where(Message.channel == VOICE, Message.direction == Direction.INBOUND,
                              Message.external_id == sid)).first() if sid else None
    if message is None:
        return
    for attachment in message.attachments:
        if attachment.fetch_status == "pending":
            attachment.fetch_status = "failed"
            attachment.fetch_error = f"recording {form.get('RecordingStatus', 'failed')}"
            audit.record(session, "attachment.fetch_failed", case=message.case,
                         attachment_id=attachment.id, error=attachment.fetch_error)


# --- what the person hears --------------------------------------------------------------

class Script:
    """One TwiML document in Arabic; a prompt is played from its recording when one is
    configured (SAWTI_VOICE_PROMPTS), else spoken with SAWTI_VOICE_NAME."""

    def __init__(self, adapter: TwilioVoiceAdapter, token: str) -> None:
        self.adapter = adapter
        self.token = token
        self.speaker = Speaker(VOICE_LANGUAGE)
        self.response = VoiceResponse()

    def prompt(self, name: str, text: str, into: VoiceResponse | Gather | None = None) -> None:
        target = self.response if into is None else into
        url = self.adapter.prompts.get(name)
        if url:
            target.play(url)
        else:
            self.say(text, into=target)

    def say(self, text: str, into: VoiceResponse | Gather | None = None) -> None:
        target = self.response if into is None else into
        target.say(text, voice=self.adapter.voice, language=self.adapter.voice_language)

    def gather(self, step: str, tries: int, digits: int = 1) -> Gather:
        """Keys pressed go to ``step``; with none, the document goes on (to a redirect).

        A one-key choice has no finishing key, so "#" or "*" reach us as a wrong choice
        (Twilio's default "#" would end the <Gather> as if nothing had been pressed).
        """
        return self.response.gather(
            input="dtmf", method="POST", num_digits=digits,
            action=self.adapter.url(call_path(self.token, step, tries)),
            timeout=MENU_TIMEOUT_SECONDS if digits == 1 else REFERENCE_TIMEOUT_SECONDS,
            finish_on_key="" if digits == 1 else "#",
        )

    def redirect(self, step: str, tries: int) -> None:
        self.response.redirect(self.adapter.url(call_path(self.token, step, tries)),
                               method="POST")

    def xml(self) -> Response:
        return Response(str(self.response), mimetype="text/xml")

    # -- the main menu ---------------------------------------------------------------------

    def menu(self, tries: int, greet: bool = False) -> None:
        _ = self.speaker._
        gather = self.gather("menu", tries)
        if greet:
            self.prompt("greeting", _("Hello, this is %(org)s calling you back, free of charge.",
                                      org=self.adapter.org_name), gather)
            self.prompt("confidentiality", _("What you share is confidential: we never share "
                                             "your name or number without your permission."),
                        gather)
        self.prompt("menu", _("To leave a complaint or feedback, press 1. To hear the status of "
                              "a case, press 2. To hear general information, press 3. To hear "
                              "these options again, press 9."), gather)
        self.redirect("menu", tries)

    def not_understood(self, digits: str, tries: int) -> bool:
        """Say why the choice was not taken; True if the call should end (second time)."""
        _ = self.speaker._
        if digits:
            self.prompt("invalid", _("Sorry, that is not one of the choices."))
        else:
            self.prompt("no_input", _("We did not hear a choice."))
        if tries >= 1:
            self.goodbye()
            return True
        return False

    def goodbye(self) -> None:
        self.prompt("goodbye", self.speaker._("Thank you. You can call us again at any time, "
                                              "and we will call you back. Goodbye."))
        self.response.hangup()

    def record(self, after_reply: bool) -> None:
        _ = self.speaker._
        self.prompt("record", _("Please speak after the tone. When you finish, press the hash "
                                "key."))
        self.response.record(
            action=self.adapter.url(call_path(self.token, "recorded")), method="POST",
            max_length=self.adapter.max_recording_seconds, finish_on_key="#", play_beep=True,
            timeout=RECORD_SILENCE_SECONDS, trim="trim-silence",
            recording_status_callback=self.adapter.url(call_path(self.token, "recording")),
            recording_status_callback_method="POST",
            recording_status_callback_event="completed absent",
        )
        self.no_recording(after_reply)

    def no_recording(self, after_reply: bool) -> None:
        self.prompt("no_recording", self.speaker._("We did not receive a recording."))
        if after_reply:
            self.reply_options(tries=1)
        else:
            self.menu(tries=1)

    def info_menu(self, entries: list[InfoEntry], tries: int) -> None:
        """The information entries for the caller's place, one key each (9: main menu)."""
        _ = self.speaker._
        gather = self.gather("info", tries)
        for number, entry in enumerate(entries, start=1):
            self.say(_("To hear: %(question)s, press %(digit)s.",
                       question=entry.question_ar or entry.question_en,
                       digit=spoken_digits(self.speaker, str(number))), into=gather)
        self.prompt("info_menu_end", _("To go back to the main menu, press 9."), gather)
        self.redirect("info", tries)

    def info_answer(self, entry: InfoEntry) -> None:
        _ = self.speaker._
        gather = self.gather("info_after", 0)
        if entry.audio_storage_key:
            gather.play(self.adapter.info_audio_url(entry.id))
        else:
            self.say(entry.answer_ar or entry.answer_en, into=gather)
        self.prompt("info_after", _("To leave a message, press 1. To hear the list again, "
                                    "press 2. To go back to the main menu, press 9."), gather)
        self.redirect("info_after", 0)

    def info(self) -> None:
        text = self.adapter.info_text or self.speaker._(
            "%(org)s listens to complaints, questions and feedback about its assistance. "
            "Complaining never affects the assistance you receive, and what you tell us is "
            "confidential.",
            org=self.adapter.org_name)
        self.prompt("info", text)
        self.menu(tries=0)

    def ask_reference(self, tries: int) -> None:
        gather = self.gather("reference", tries, digits=REFERENCE_LENGTH)
        self.prompt("ask_reference", self.speaker._(
            "Please type the seven digits of your case number, then press the hash key."),
            gather)
        self.redirect("reference", tries)

    def reference_not_taken(self, digits: str, tries: int) -> None:
        """Mistyped: once more, then the main menu (they may still leave a complaint);
        nothing typed twice: they are gone, goodbye."""
        _ = self.speaker._
        if digits:
            self.prompt("reference_mistyped", _("This number seems to be mistyped."))
        else:
            self.prompt("reference_no_input", _("We did not hear a case number."))
        if tries < 1:
            self.ask_reference(tries + 1)
        elif digits:
            self.menu(tries=1)
        else:
            self.goodbye()

    def status(self, reference: str, case: Case | None) -> None:
        _ = self.speaker._
        if case is None:
            self.prompt("reference_unknown", _("We could not find a case with this number for "
                                               "you."))
        else:
            self.say(_("Your case %(reference)s is %(status)s.",
                       reference=spoken_digits(self.speaker, reference),
                       status=self.speaker.status_name(case.status)))
        self.menu(tries=0)

    def reference_call(self, case: Case) -> None:
        """A call only to read the reference of the case they recorded, then goodbye."""
        self.prompt("greeting", self.speaker._(
            "Hello, this is %(org)s calling you back, free of charge.",
            org=self.adapter.org_name))
        self.reference_heard(case, sms=False)

    def reference_heard(self, case: Case, sms: bool) -> None:
        _ = self.speaker._
        digits = spoken_digits(self.speaker, case.reference)
        self.prompt("recorded", _("Thank you. We received your message. Your case number is:"))
        self.say(digits)
        self.prompt("reference_again", _("Once more, your case number is:"))
        self.say(digits)
        if sms:
            self.prompt("sms_sent", _("We are also sending you this number by SMS."))
        self.prompt("keep_reference", _("Keep this number to ask about your case. We will "
                                        "call you back with our answer. Goodbye."))
        self.response.hangup()

    # -- a reply call ------------------------------------------------------------------------

    def reply(self, message: Message, tries: int, intro: bool) -> None:
        surveyed = asks_survey(message)
        gather = self.gather("survey" if surveyed else "reply", tries)
        if intro:
            self.prompt("reply_intro", self.speaker._(
                "Hello, this is %(org)s, with an answer about your case.",
                org=self.adapter.org_name), gather)
            self._case_named_into(message.case, gather)
        audio = [item for item in message.attachments
                 if item.storage_key and (item.content_type or "").startswith("audio/")]
        for item in audio:
            gather.play(self.adapter.audio_url(item.id))
        if not audio and message.body:
            self.say(message.body, into=gather)
        if surveyed:
            self._survey_question_into(gather)
            self.redirect("survey", tries)
        else:
            self._reply_options_into(gather)
            self.redirect("reply", tries)

    def _case_named_into(self, case: Case | None, gather: Gather) -> None:
        """Which case the answer is about: its reference, digit by digit."""
        if case is None:
            return
        self.prompt("reply_reference", self.speaker._("This answer is about your case number:"),
                    gather)
        self.say(spoken_digits(self.speaker, case.reference), into=gather)

    def reply_options(self, tries: int) -> None:
        self._reply_options_into(self.gather("reply", tries))
        self.redirect("reply", tries)

    def _reply_options_into(self, gather: Gather) -> None:
        self.prompt("reply_options", self.speaker._(
            "To hear the answer again, press 1. To leave a further message, press 2."), gather)

    # -- the satisfaction survey, when the reply closed the case ----------------------------

    def survey_question(self, tries: int) -> None:
        self._survey_question_into(self.gather("survey", tries))
        self.redirect("survey", tries)

    def _survey_question_into(self, gather: Gather) -> None:
        self.prompt("survey", self.speaker._(
            "Your case is now closed. How satisfied are you with how it was handled? Press 1 if "
            "satisfied, 2 if partly satisfied, 3 if not satisfied. To hear the answer again, "
            "press 9."), gather)

    def survey_thanks(self) -> None:
        self.prompt("survey_thanks", self.speaker._("Thank you for your answer."))
        self.goodbye()

    def offer_reopen(self, tries: int) -> None:
        gather = self.gather("survey_reopen", tries)
        self.prompt("survey_reopen", self.speaker._(
            "We are sorry. To reopen your case and tell us what is still wrong, press 1. "
            "Otherwise, you can hang up."), gather)
        self.redirect("survey_reopen", tries)

    def added(self, case: Case) -> None:
        self.say(self.speaker._("Thank you. We added your message to case %(reference)s.",
                                reference=spoken_digits(self.speaker, case.reference)))
        self.goodbye()


def asks_survey(message: Message) -> bool:
    """A reply call whose case is closed asks the satisfaction survey after the answer."""
    return (message.kind == REPLY_KIND and message.case is not None
            and survey.unanswered_since_closure(message.case))


def spoken_digits(speaker: Speaker, reference: str) -> str:
    """The reference digit by digit, in words (Arabic: «ثلاثة، صفر، ...»)."""
    _ = speaker._
    words = (_("zero"), _("one"), _("two"), _("three"), _("four"), _("five"), _("six"),
             _("seven"), _("eight"), _("nine"))
    separator = "، " if speaker.language == "ar" else ", "
    return separator.join(words[int(digit)] for digit in reference if digit.isdigit())


# --- routes -----------------------------------------------------------------------------

T = TypeVar("T")


def register_routes(bp: Blueprint) -> None:
    """The TwiML and callback routes of a call, and the hotline webhook itself."""
    steps: dict[str, Callable[[str], ResponseReturnValue]] = {
        "answer": on_answer, "menu": on_menu, "reference": on_reference,
        "recorded": on_recorded, "recording": on_recording, "status": on_call_status,
        "reply": on_reply, "info": on_info, "info_after": on_info_after,
        "survey": on_survey, "survey_reopen": on_survey_reopen,
    }
    for step, view in steps.items():
        bp.add_url_rule(f"{BASE_PATH}/call/<token>/{step}", endpoint=f"voice_{step}",
                        view_func=view, methods=["POST"])
    bp.add_url_rule(MESSAGE_STATUS_PATH, endpoint="voice_message_status",
                    view_func=on_message_status, methods=["POST"])
    bp.add_url_rule(f"{BASE_PATH}/audio/<token>", endpoint="voice_audio", view_func=serve_audio,
                    methods=["GET"])
    bp.add_url_rule(f"{BASE_PATH}/info-audio/<token>", endpoint="voice_info_audio",
                    view_func=serve_info_audio, methods=["GET"])
    bp.record(_answer_the_hotline_here)


def _answer_the_hotline_here(state: BlueprintSetupState) -> None:
    """The generic webhook would hand a missed call to the text dialogue; it is not a message,
    so the route registered for ``webhook_path`` is served by ``on_incoming_call`` instead."""
    endpoints = [rule.endpoint for rule in state.app.url_map.iter_rules()
                 if rule.rule == BASE_PATH and rule.endpoint.startswith(f"{state.name}.")]
    for endpoint in endpoints:
        state.app.view_functions[endpoint] = on_incoming_call
    if not endpoints:  # the generic route was not registered (yet): serve the path anyway
        state.app.add_url_rule(BASE_PATH, endpoint=f"{state.name}.voice_incoming",
                               view_func=on_incoming_call, methods=["POST"])


def on_incoming_call(**_: object) -> ResponseReturnValue:
    """The hotline rings: store the call, queue one call-back, reject (free for the caller)."""
    from services import services  # the services module imports this package

    adapter = _adapter()
    if not adapter.verify(request):
        log.warning("voice webhook rejected: verification failed")
        abort(403, description="request could not be verified")
    try:
        call = adapter.parse_call(request)
    except BadWebhook as error:
        abort(400, description=str(error))
    vault = services().vault
    try:
        _committed(lambda: record_missed_call(db.session, adapter, vault, call, utcnow()))
    except OperationalError:
        raise  # the database is unreachable: channels.spool keeps the call and rejects it
    except SQLAlchemyError as error:  # still reject: an answered error would cost the caller
        log.error("missed call could not be stored: %s", type(error).__name__)
    return adapter.webhook_response(())


def on_answer(token: str) -> ResponseReturnValue:
    adapter, message = _call(token)
    try:
        call_sid = provider_id(request.form, "CallSid")
    except BadWebhook as error:
        abort(400, description=str(error))
    if not call_sid:
        abort(400, description="'CallSid' is required")
    machine = request.form.get("AnsweredBy", "").strip()

    def run() -> Response:
        call = outbound_call(db.session, message, call_sid, utcnow())
        script = Script(adapter, token)
        if machine in MACHINE_ANSWERS:
            machine_answered(db.session, message, call, machine)
            script.response.hangup()  # nothing to leave: the call is tried again later
            return script.xml()
        call_answered(message, call, utcnow())
        if message.kind == CALLBACK_KIND:
            caller_reached(db.session, message, utcnow())
            script.menu(tries=0, greet=True)
        elif message.kind == REFERENCE_CALL_KIND and message.case is not None:
            _acknowledged(db.session, message.case, utcnow())
            script.reference_call(message.case)
        else:
            _note_survey_asked(db.session, message, utcnow())
            script.reply(message, tries=0, intro=True)
        return script.xml()

    return _committed(run)


def on_menu(token: str) -> ResponseReturnValue:
    adapter, _message = _call(token)
    script, digits, tries = Script(adapter, token), _digits(), _tries()
    if digits == "1":
        script.record(after_reply=False)
    elif digits == "2":
        script.ask_reference(tries=0)
    elif digits == "3":
        entries = _info_entries(_message.contact)
        if entries:
            script.info_menu(entries, tries=0)
        else:
            script.info()
    elif digits == "9":
        script.menu(tries)
    elif not script.not_understood(digits, tries):
        script.menu(tries + 1)
    return script.xml()


def on_info(token: str) -> ResponseReturnValue:
    """A key pressed in the information menu: an entry's answer, or back to the main menu."""
    adapter, message = _call(token)
    script, digits, tries = Script(adapter, token), _digits(), _tries()
    entries = _info_entries(message.contact)
    if digits == "9" or not entries:
        script.menu(tries=0)
    elif (choice := _small_number(digits)) is not None and 1 <= choice <= len(entries):
        entry = entries[choice - 1]
        _committed(lambda: info.record(db.session, None, None, entry, utcnow(), channel=VOICE))
        script.info_answer(entry)
    elif not script.not_understood(digits, tries):
        script.info_menu(entries, tries + 1)
    return script.xml()


def on_info_after(token: str) -> ResponseReturnValue:
    adapter, message = _call(token)
    script, digits = Script(adapter, token), _digits()
    if digits == "1":
        script.record(after_reply=False)
    elif digits == "2":
        script.info_menu(_info_entries(message.contact), tries=0)
    else:
        script.menu(tries=0)
    return script.xml()


def _info_entries(contact: Contact) -> list[InfoEntry]:
    """Today's usable entries for where the caller lives (all when it is not known)."""
    now = utcnow()
    rows = info.usable(db.session, now.date())
    return [row for row in rows if info.as_faq_entry(row).applies(contact.location, now.date())
            ][:INFO_MENU_SIZE]


def on_reference(token: str) -> ResponseReturnValue:
    adapter, message = _call(token)
    script, digits, tries = Script(adapter, token), _digits().rstrip("#"), _tries()
    if not (digits.isdigit() and is_valid_reference(digits)):
        script.reference_not_taken(digits, tries)
        return script.xml()
    case = intake.find_case(db.session, digits)
    if case is not None and case.contact_id not in _same_number(message.contact):
        case = None  # told exactly as an unknown number
    script.status(digits, case)
    return script.xml()


def on_recorded(token: str) -> ResponseReturnValue:
    """The <Record> action: the caller is still on the line and hears the outcome."""
    from services import services

    adapter, message = _call(token)
    grid = services().org_data.grid
    form = request.form.to_dict()

    def run() -> Response:
        now, script = utcnow(), Script(adapter, token)
        stored = store_recording(db.session, adapter, grid, message, form, now)
        if stored is None:
            script.no_recording(after_reply=message.kind != CALLBACK_KIND)
        elif message.kind == CALLBACK_KIND:
            if form.get("Digits") == HUNG_UP and not adapter.sms_number:
                _call_back_with_reference(db.session, message.contact, stored.case, now)
            else:
                _acknowledged(db.session, stored.case, now)
            script.reference_heard(stored.case, sms=bool(adapter.sms_number))
        else:
            script.added(stored.case)
        return script.xml()

    return _committed(_bad_webhook_is_400(run))


def _acknowledged(session: Session, case: Case, now: datetime) -> None:
    """The person heard (or will read) that their message is received, and its reference."""
    if case.acknowledged_at is None:
        case.acknowledged_at = now
        audit.record(session, "case.acknowledged", case=case)


def _call_back_with_reference(session: Session, contact: Contact, case: Case, now: datetime
                              ) -> None:
    """They hung up while recording: nothing was heard after it, so call once more (within
    calling hours, retried like any call) just to read the case number."""
    queued = session.scalars(select(Message.id).where(
        Message.case_id == case.id, Message.kind == REFERENCE_CALL_KIND)).first()
    if queued is None:
        outbox.enqueue(session, contact, case, "", kind=REFERENCE_CALL_KIND,
                       language=VOICE_LANGUAGE, now=now)


def on_recording(token: str) -> ResponseReturnValue:
    """recordingStatusCallback: the recording is complete (or will never be)."""
    from services import services

    adapter, message = _call(token)
    grid = services().org_data.grid
    form = request.form.to_dict()

    def run() -> Response:
        now = utcnow()
        if form.get("RecordingStatus", "completed") != "completed":
            recording_unavailable(db.session, form)
            return Response(status=204)
        stored = store_recording(db.session, adapter, grid, message, form, now)
        if stored is not None:
            for attachment in stored.message.attachments:
                if attachment.fetch_status == "pending":
                    attachment.next_fetch_at = now  # complete now: fetch at once
        return Response(status=204)

    return _committed(_bad_webhook_is_400(run))


def on_call_status(token: str) -> ResponseReturnValue:
    adapter, message = _call(token)
    form = request.form.to_dict()
    return _committed(_bad_webhook_is_400(lambda: _status_recorded(adapter, message, form)))


def _status_recorded(adapter: TwilioVoiceAdapter, message: Message, form: dict[str, str]
                     ) -> Response:
    record_call_status(db.session, adapter, message, form, utcnow())
    return Response(status=204)


def on_reply(token: str) -> ResponseReturnValue:
    adapter, message = _call(token)
    script, digits, tries = Script(adapter, token), _digits(), _tries()
    if digits == "1":
        script.reply(message, tries, intro=False)
    elif digits == "2":
        script.record(after_reply=True)
    elif not script.not_understood(digits, tries):
        script.reply_options(tries + 1)
    return script.xml()


def on_survey(token: str) -> ResponseReturnValue:
    """A key pressed after the answer of a reply call that closed the case."""
    adapter, message = _call(token)
    script, digits, tries = Script(adapter, token), _digits(), _tries()
    case = message.case
    answer = survey.parse_answer(digits) if digits else None
    if case is None or not asks_survey(message):
        script.goodbye()  # answered already (another call, a message): nothing to ask
    elif digits == "9":
        script.reply(message, tries, intro=False)
    elif answer is not None:
        return _committed(lambda: _survey_answered(script, case, answer, utcnow()))
    elif not script.not_understood(digits, tries):
        script.survey_question(tries + 1)
    return script.xml()


def _survey_answered(script: Script, case: Case, answer: int, now: datetime) -> Response:
    survey.record_answer(db.session, case, answer, actor=survey.CONTACT_ACTOR, now=now)
    if answer == survey.NOT_SATISFIED:
        script.offer_reopen(tries=0)
    else:
        script.survey_thanks()
    return script.xml()


def on_survey_reopen(token: str) -> ResponseReturnValue:
    """After "not satisfied": 1 reopens the case and records what is still wrong."""
    adapter, message = _call(token)
    script, digits, tries = Script(adapter, token), _digits(), _tries()
    case = message.case
    if digits == "1" and case is not None:
        def run() -> Response:
            survey.reopen_on_request(db.session, case, utcnow())
            script.record(after_reply=True)
            return script.xml()
        return _committed(run)
    if digits:  # any other key: they chose not to
        script.goodbye()
    elif not script.not_understood(digits, tries):
        script.offer_reopen(tries + 1)
    return script.xml()


def _note_survey_asked(session: Session, message: Message, now: datetime) -> None:
    """The reply call will ask the survey: count it as sent, once per closure."""
    case = message.case
    if case is None or not asks_survey(message):
        return
    assert case.closed_at is not None  # asks_survey checked it
    if case.survey_sent_at is None or case.survey_sent_at < case.closed_at:
        case.survey_sent_at = now
        audit.record(session, "survey.sent", case=case, channel=case.channel)


def on_message_status() -> ResponseReturnValue:
    """Delivery reports of the reference sent by SMS."""
    adapter = _adapter()
    _verified(adapter)
    try:
        update = replace(parse_message_status(request.form), opted_out=False)  # see sms_error
    except BadWebhook as error:
        abort(400, description=str(error))
    record_statuses(db.session, adapter.channels, [update], utcnow())
    return Response(status=204)


def serve_info_audio(token: str) -> ResponseReturnValue:
    """An information entry's recorded answer, fetched by Twilio for <Play> (signed URL)."""
    from services import services

    adapter = _adapter()
    entry_id = adapter.info_entry_id(token)
    entry = db.session.get(InfoEntry, entry_id) if entry_id else None
    if entry is None or not entry.audio_storage_key:
        abort(404, description="no such audio")
    content = services().attachment_store.read(entry.audio_storage_key)
    return Response(content, mimetype=entry.audio_content_type or "audio/mpeg")


def serve_audio(token: str) -> ResponseReturnValue:
    """An officer's recorded reply, fetched by Twilio for <Play>. Twilio does not sign media
    fetches, so the signed, expiring token in the URL is what authorises it."""
    from services import services

    adapter = _adapter()
    attachment_id = adapter.attachment_id(token)
    attachment = db.session.get(Attachment, attachment_id) if attachment_id else None
    message = attachment.message if attachment is not None else None
    if attachment is None or message is None or not attachment.storage_key or \
            message.channel != VOICE or message.direction != Direction.OUTBOUND:
        abort(404, description="no such audio")
    content = services().attachment_store.read(attachment.storage_key)
    return Response(content, mimetype=attachment.content_type or "application/octet-stream")


# -- route helpers -------------------------------------------------------------------------

def _adapter() -> TwilioVoiceAdapter:
    from services import services

    adapter = services().adapters.get(VOICE)
    if not isinstance(adapter, TwilioVoiceAdapter):
        abort(404, description="the voice channel is not configured")
    return adapter


def _verified(adapter: TwilioVoiceAdapter) -> None:
    if not adapter.verify(request):
        log.warning("voice callback rejected: verification failed")
        abort(403, description="request could not be verified")


def _call(token: str) -> tuple[TwilioVoiceAdapter, Message]:
    """The verified request's adapter and the outbound message its token names."""
    adapter = _adapter()
    _verified(adapter)
    message_id = adapter.message_id(token)
    message = db.session.get(Message, message_id) if message_id is not None else None
    if message is None or message.channel != VOICE or \
            message.direction != Direction.OUTBOUND:
        abort(404, description="unknown or expired call")
    return adapter, message


def _digits() -> str:
    return ascii_digits(request.form.get("Digits", "")).strip()


def _tries() -> int:
    value = _small_number(request.args.get("tries", "0"))
    return 0 if value is None else min(value, 1)


def _small_number(text: str) -> int | None:
    """A key or a count in ASCII digits (str.isdigit() also takes "²", which int() refuses,
    and 5000 digits, past int()'s limit), or None."""
    return int(text) if SMALL_NUMBER.fullmatch(text) else None


def _same_number(contact: Contact) -> set[int]:
    """The ids of the contacts with this phone number, on voice, SMS and WhatsApp."""
    from services import services

    ids = {contact.id}
    if contact.address_encrypted is None:
        return ids
    vault = services().vault
    try:
        number = vault.decrypt(contact.address_encrypted)
    except AddressDecryptionError:
        return ids
    pseudonyms = [vault.pseudonym(channel, number) for channel in ("sms", "whatsapp")]
    ids.update(db.session.scalars(select(Contact.id).where(Contact.pseudonym.in_(pseudonyms))))
    return ids


def _bad_webhook_is_400(run: Callable[[], T]) -> Callable[[], T]:
    def guarded() -> T:
        try:
            return run()
        except BadWebhook as error:
            db.session.rollback()
            abort(400, description=str(error))
    return guarded


def _committed(run: Callable[[], T]) -> T:
    """Run and commit; a race with an identical request (unique CallSid or RecordingSid)
    is retried once, and then finds the other request's rows."""
    for attempt in range(2):
        try:
            result = run()
            db.session.commit()
            return result
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")

