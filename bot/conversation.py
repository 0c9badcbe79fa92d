"""Handle one inbound message from end to end, in one transaction.

Store it (de-duplicated), choose the reply language, run the dialogue and write the replies
to the outbox. The webhook that calls this returns as soon as it commits; nothing here talks
to a provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.engine import OPT_OUT_WORDS, DialogueSettings, Turn, step
from bot.language import DEFAULT as DEFAULT_LANGUAGE
from bot.language import choose_language
from bot.messages import Speaker
from casework import intake, outbox
from casework.intake import Inbound
from casework.models import Case, Contact, Message, utcnow
from casework.privacy import Vault
from casework.text import normalize_for_matching

FLOOD_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Handled:
    message_id: int
    duplicate: bool
    case_reference: str | None
    replies: tuple[int, ...]  # ids of the outbound messages queued


def handle_inbound(session: Session, inbound: Inbound, vault: Vault,
                   settings: DialogueSettings) -> Handled:
    """Store, answer and commit; a delivery that raced an identical one is handled once."""
    for attempt in range(2):
        try:
            handled = _handle(session, inbound, vault, settings)
            session.commit()
            return handled
        except IntegrityError:
            # The same delivery (or the same person's first message) was committed by another
            # request between our look-up and our write; the retry finds it.
            session.rollback()
            if attempt:
                raise
        except Exception:
            session.rollback()
            raise
    raise AssertionError("unreachable")


def _handle(session: Session, inbound: Inbound, vault: Vault,
            settings: DialogueSettings) -> Handled:
    now = utcnow()
    with session.no_autoflush:  # one flush at the end: every row written once
        received = intake.receive(session, inbound, vault)
        if received.duplicate:
            return _already_handled(received.message)
        outbox.release_held(session, received.contact, now)  # they wrote: the window is open
        if received.edit or _flooding(received.contact, settings, now):
            _keep_quietly(session, received, settings, now)
            queued: list = []
            case = received.message.case
        else:
            turn = _turn(session, received, settings, now)
            queued = [
                outbox.enqueue(session, turn.contact, turn.case, reply.body, kind=reply.kind,
                               language=turn.contact.language, now=now)
                for reply in step(turn)
            ]
            case = turn.case
            if case is not None and inbound.location:
                case.latitude, case.longitude = inbound.location
    session.flush()
    return Handled(received.message.id, False, _reference(case),
                   tuple(message.id for message in queued))


def _flooding(contact: Contact, settings: DialogueSettings, now: datetime) -> bool:
    """Count this message in the sender's one-minute window; True past the limit."""
    start = contact.rate_window_start
    if start is None or now - start >= FLOOD_WINDOW:
        contact.rate_window_start, contact.rate_window_count = now, 0
    contact.rate_window_count = (contact.rate_window_count or 0) + 1
    return contact.rate_window_count > settings.inbound_per_minute


def _keep_quietly(session: Session, received: intake.Received, settings: DialogueSettings,
                  now: datetime) -> None:
    """Store without answering (an edit, or a flood): nothing lost, nothing sent."""
    message = received.message
    if message.case is None:
        message.case = intake.current_case(session, received.contact, now,
                                           settings.attach_window)
    if message.case is not None:
        intake.attach(message.case, message, now)


def _turn(session: Session, received: intake.Received, settings: DialogueSettings,
          now: datetime) -> Turn:
    contact = received.contact
    resumed = contact.opted_out
    contact.opted_out = False  # writing again opts a person back in
    contact.language = reply_language(received.message.body or "", contact.language)
    return Turn(session=session, settings=settings, contact=contact, message=received.message,
                now=now, speaker=Speaker(contact.language), resumed=resumed)


def reply_language(text: str, previous: str | None) -> str:
    """Keywords and commands (STOP, /start) say nothing about the language a person reads."""
    key = normalize_for_matching(text)
    if key in OPT_OUT_WORDS or text.strip().startswith("/"):
        return previous or DEFAULT_LANGUAGE
    return choose_language(text, previous)


def _already_handled(message: Message) -> Handled:
    return Handled(message.id, True, _reference(message.case), ())


def _reference(case: Case | None) -> str | None:
    return case.reference if case else None
