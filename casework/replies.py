"""Officers' replies to a case: queued in the outbox for the case's own channel and contact.

Whether a reply can go out now is the channel's business (the dispatcher holds a WhatsApp
reply outside the 24-hour window and tells the person a reply is waiting); what is decided
here is whether it can be accepted at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from casework import audit, outbox
from casework.documents import DocumentRefused, check
from casework.models import Attachment, Case, CaseStatus, Message
from casework.storage import AttachmentStore
from casework.text import clean_text

MAX_REPLY_LENGTH = 4000
# What a provider takes in one message, where it is less: Twilio refuses a message body over
# 1,600 characters, SMS or WhatsApp (error 21617), so such a reply could only ever fail after
# it was accepted.
CHANNEL_MAX_LENGTH = {"sms": 1600, "whatsapp": 1600}
MAX_AUDIO_BYTES = 10 * 1024 * 1024
# What Twilio's <Play> can play; phones' m4a and ogg recordings must be converted first.
PLAYABLE_AUDIO_TYPES = frozenset({"audio/mpeg", "audio/wav"})
AUDIO_CHANNELS = frozenset({"voice"})


@dataclass(frozen=True)
class ReplyAudio:
    """A recorded answer an officer uploaded, played to the person instead of read out."""

    content: bytes
    filename: str | None


class ReplyRefused(ValueError):
    """The reply cannot be accepted; ``reason`` is a stable code, the message says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def queue_reply(session: Session, case: Case, body: str, *, actor: str, now: datetime,
                audio: ReplyAudio | None = None, store: AttachmentStore | None = None
                ) -> Message:
    """Queue an officer's reply and commit; raises ReplyRefused with a clear reason.

    With ``audio`` (voice cases only) the recording is what the person hears; the text, if
    any, stays on the case as a written record of what was said.
    """
    text = clean_text(body)
    if not text and audio is None:
        raise ReplyRefused("empty", "The reply is empty.")
    if len(text) > MAX_REPLY_LENGTH:
        raise ReplyRefused("too_long", f"The reply is longer than {MAX_REPLY_LENGTH} characters.")
    content_type = _playable_type(case, audio) if audio is not None else None
    contact = case.contact
    if contact is None or contact.address_encrypted is None:
        raise ReplyRefused("no_contact", "This case has no contact address to reply to.")
    channel_limit = CHANNEL_MAX_LENGTH.get(contact.channel)  # the reply goes where they wrote
    if channel_limit is not None and len(text) > channel_limit:
        raise ReplyRefused("too_long_for_channel", f"A reply by {contact.channel} can be at "
                           f"most {channel_limit} characters; this one has {len(text)}.")
    if contact.opted_out:
        raise ReplyRefused("opted_out", "The person opted out; they get messages again only "
                                        "after writing to us.")
    try:
        message = outbox.enqueue(session, contact, case, text, kind="reply",
                                 language=contact.language, now=now)
        if audio is not None and content_type is not None:
            _attach_audio(session, message, audio, content_type, store)
        case.first_response_at = case.first_response_at or now
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN
        case.last_activity_at = now
        session.flush()
        details = {"message_id": message.id} | ({"audio": True} if audio is not None else {})
        audit.record(session, "case.replied", case=case, actor=actor, **details)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return message


def _playable_type(case: Case, audio: ReplyAudio) -> str:
    if case.channel not in AUDIO_CHANNELS:
        raise ReplyRefused("audio_channel", "A recorded answer can only be sent on the voice "
                                            "line; write the reply instead.")
    try:
        checked = check(audio.content, audio.filename, MAX_AUDIO_BYTES)
    except DocumentRefused as refused:
        reason = "audio_too_large" if refused.reason == "too_large" else "audio_type"
        raise ReplyRefused(reason, "The recording is empty, too large or not audio.") from None
    if checked.content_type not in PLAYABLE_AUDIO_TYPES:
        raise ReplyRefused("audio_type", "The recording must be an MP3 or WAV file.")
    return checked.content_type


def _attach_audio(session: Session, message: Message, audio: ReplyAudio, content_type: str,
                  store: AttachmentStore | None) -> None:
    if store is None:
        raise ValueError("an audio reply needs the attachment store")
    key = store.save(audio.content)
    session.add(Attachment(message=message, kind="audio", content_type=content_type,
                           size_bytes=len(audio.content), storage_key=key,
                           fetch_status="stored", created_at=message.created_at))
