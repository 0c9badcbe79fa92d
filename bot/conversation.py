"""Handle one inbound message from end to end, in one transaction.

Store it (de-duplicated), choose the reply language, run the dialogue and write the replies
to the outbox. The webhook that calls this returns as soon as it commits; nothing here talks
to a provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.engine import OPT_OUT_WORDS, DialogueSettings, Turn, step
from bot.language import DEFAULT as DEFAULT_LANGUAGE
from bot.language import choose_language
from bot.messages import Speaker
from casework import intake, outbox
from casework.intake import Inbound
from casework.models import Case, Message, utcnow
from casework.privacy import Vault
from casework.text import normalize_for_matching


@dataclass(frozen=True)
class Handled:
    message_id: int
    duplicate: bool
    case_reference: str | None
    replies: tuple[int, ...]  # ids of the outbound messages queued


def handle_inbound(session: Session, inbound: Inbound, vault: Vault,
                   settings: DialogueSettings) -> Handled:
    try:
        handled = _handle(session, inbound, vault, settings)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return handled


def _handle(session: Session, inbound: Inbound, vault: Vault,
            settings: DialogueSettings) -> Handled:
    now = utcnow()
    received = intake.receive(session, inbound, vault)
    if received.duplicate:
        return _already_handled(received.message)
    contact = received.contact
    resumed = contact.opted_out
    contact.opted_out = False  # writing again opts a person back in
    contact.language = reply_language(received.message.body or "", contact.language)
    turn = Turn(session=session, settings=settings, contact=contact, message=received.message,
                now=now, speaker=Speaker(contact.language), resumed=resumed)
    replies = step(turn)
    queued = [
        outbox.enqueue(session, contact, turn.case, reply.body, kind=reply.kind,
                       language=contact.language, now=now)
        for reply in replies
    ]
    session.flush()
    return Handled(received.message.id, False, _reference(turn.case),
                   tuple(message.id for message in queued))


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
