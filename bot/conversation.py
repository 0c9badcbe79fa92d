"""Handle one inbound message from end to end, in one transaction.

Store it (de-duplicated), choose the reply language, run the dialogue and write the replies
to the outbox. The webhook that calls this returns as soon as it commits; nothing here talks
to a provider. What needs no database (pseudonym, clean text, the language the text shows) is
worked out before the transaction, which on SQLite holds the database's write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.engine import (
    OPT_OUT_WORDS,
    START_WORDS,
    DialogueSettings,
    Turn,
    is_answer_word,
    step,
)
from bot.language import SUPPORTED, detect_language, reply_in
from bot.messages import Speaker
from bot.sessions import DialogueSession, agreeing
from casework import audit, intake, outbox, triage
from casework.intake import Inbound
from casework.models import Case, Contact, Message, utcnow
from casework.privacy import Vault
from casework.text import normalize_for_matching
from config.places import PlaceNames

log = logging.getLogger(__name__)
FLOOD_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Handled:
    message_id: int
    duplicate: bool
    case_reference: str | None
    replies: tuple[int, ...]  # ids of the outbound messages queued


@dataclass(frozen=True)
class LanguageSignal:
    """What a text says about the language to answer in, whoever sent it."""

    detected: str | None  # "ar", "en", "ckb" or None: no clear signal
    keyword: bool = False  # a command or an opt-out word: says nothing
    # A one-word answer ("yes", "ok", "STATUS 1234567"): people who read Arabic type these
    # in Latin letters too, so it keeps the language of the conversation so far. So does a
    # place's name alone: a Sorani reader answers «هەولێر», which Arabic speakers write too.
    answer: bool = False

    @classmethod
    def of(cls, text: str, places: PlaceNames | None = None) -> LanguageSignal:
        key = normalize_for_matching(text)
        if key in OPT_OUT_WORDS or text.strip().startswith("/") \
                or text.strip().lower() in START_WORDS:
            return cls(None, keyword=True)
        named = places is not None and places.exactly(key) is not None
        return cls(detect_language(text), answer=is_answer_word(key) or named)

    def reply_language(self, previous: str | None,
                       languages: Collection[str] = SUPPORTED) -> str:
        """The language to answer in, of ``languages`` (those replies are on for; Arabic
        for any other)."""
        keeps_previous = self.keyword or self.detected is None or (
            self.answer and previous in SUPPORTED and previous in languages)
        return reply_in(previous if keeps_previous else self.detected, languages)


def handle_inbound(session: Session, inbound: Inbound, vault: Vault,
                   settings: DialogueSettings) -> Handled:
    """Store, answer and commit; a delivery that raced an identical one is handled once."""
    prepared = intake.prepare(inbound, vault)
    language = LanguageSignal.of(prepared.body, settings.org_data.place_names)
    if settings.triage is not None and prepared.body:
        settings.triage.assess(prepared.body)  # cached: read inside the transaction for free
    sessions = settings.sessions
    stored = sessions.fetch(prepared.pseudonym) if sessions is not None else None
    for attempt in range(2):
        try:
            handled, dialogue = _handle(session, prepared, language, vault, settings, stored)
            session.commit()
            if dialogue is not None and sessions is not None:
                sessions.save(prepared.pseudonym, dialogue, settings, utcnow())
            return handled
        except IntegrityError:
            # The same delivery (or the same person's first message) was committed by another
            # request between our look-up and our write; the retry finds it.
            session.rollback()
            if attempt:
                raise
        except SQLAlchemyError:
            session.rollback()
            raise  # the database's trouble: the webhook spools the request or the provider retries
        except Exception:
            session.rollback()
            # A bug in the dialogue must not cost the person their message.
            log.exception("dialogue failed; the message is kept without a reply",
                          extra={"channel": inbound.channel})
            return _keep_after_failure(session, prepared, vault, settings)
    raise AssertionError("unreachable")


def _keep_after_failure(session: Session, prepared: intake.Prepared, vault: Vault,
                        settings: DialogueSettings) -> Handled:
    """Store the message on the person's current case (or a new one) with no reply, audited
    so that officers see it; in a transaction of its own, after the failed one rolled back."""
    now = utcnow()
    try:
        received = intake.receive(session, prepared, vault)
        if received.duplicate:
            session.commit()
            return _already_handled(received.message)
        case = intake.current_case(session, received.contact, now, settings.attach_window)
        if case is None:
            case = intake.open_case(session, received.contact, received.message,
                                    settings.org_data.grid, now)
        else:
            intake.attach(case, received.message, now)
        session.flush()
        audit.record(session, "message.kept_after_error", case=case,
                     message_id=received.message.id)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return Handled(received.message.id, False, case.reference, ())


def _handle(session: Session, prepared: intake.Prepared, language: LanguageSignal,
            vault: Vault, settings: DialogueSettings, stored: DialogueSession | None
            ) -> tuple[Handled, DialogueSession | None]:
    """Store and answer, uncommitted; and the person's dialogue session as it now stands."""
    now = utcnow()
    with session.no_autoflush:  # one flush at the end: every row written once
        received = intake.receive(session, prepared, vault)
        if received.duplicate:
            return _already_handled(received.message), None
        outbox.release_held(session, received.contact, now)  # they wrote: the window is open
        if received.edit or _flooding(received.contact, settings, now):
            _keep_quietly(session, received, settings, now)
            replies: list[tuple[str, str]] = []
            case = received.message.case
        else:
            turn = _turn(session, received, language, settings, now)
            turn.dialogue = agreeing(stored, received.contact)
            replies = [(reply.body, reply.kind) for reply in step(turn)]
            case = turn.case
            if case is not None and prepared.inbound.location:
                case.latitude, case.longitude = prepared.inbound.location
        case = case or received.message.case
        if case is not None and settings.triage is not None and received.message.body:
            # Flooded and edited messages too: a report buried in a burst must still be seen.
            triage.flag_inbound(session, case, received.message, settings.triage,
                                settings.org_data, now)
    # One flush writes every row (the ORM's unit of work costs about as much as the rest of
    # the message): the replies below need the contact's and case's ids.
    session.flush()
    queued = outbox.enqueue_all(session, received.contact, case, replies,
                                language=received.contact.language, now=now)
    return (Handled(received.message.id, False, _reference(case), tuple(queued)),
            DialogueSession.of(received.contact))


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
    case = received.message.case or intake.current_case(session, received.contact, now,
                                                        settings.attach_window)
    if case is not None:
        intake.attach(case, received.message, now)


def _turn(session: Session, received: intake.Received, language: LanguageSignal,
          settings: DialogueSettings, now: datetime) -> Turn:
    contact = received.contact
    resumed = contact.opted_out
    contact.opted_out = False  # writing again opts a person back in
    contact.language = language.reply_language(contact.language, settings.reply_languages)
    return Turn(session=session, settings=settings, contact=contact, message=received.message,
                now=now, speaker=Speaker(contact.language), resumed=resumed)


def reply_language(text: str, previous: str | None,
                   languages: Collection[str] = SUPPORTED) -> str:
    """Keywords and commands (STOP, /start) say nothing about the language a person reads."""
    return LanguageSignal.of(text).reply_language(previous, languages)


def _already_handled(message: Message) -> Handled:
    return Handled(message.id, True, _reference(message.case), ())


def _reference(case: Case | None) -> str | None:
    return case.reference if case else None
