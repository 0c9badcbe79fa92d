"""The least Sawti's webhook could cost: its own rows, hand-written SQL, no ORM, no dialogue code.

A bench-only endpoint for ``bench/intake.py --floor`` (never part of the application). For each
simulator message it does what the webhook must do and nothing it merely happens to do:

- before the transaction, the computations every message needs: the pseudonym (HMAC), the
  cleaned and search-normalised text, the reply language, the triage assessment (the same
  cached call the webhook makes);
- in one transaction (SQLite's write lock, as the webhook), the fewest statements that keep
  the same rows: find the person and their conversation's case with one joined SELECT; a new
  person gets a contact (address encrypted), a case with a fresh reference and its audit event;
  the message is stored de-duplicated by the unique key (``ON CONFLICT DO NOTHING``, so no
  look-up first); the contact's and case's state are updated; the reply is queued from the real
  catalogue sentence.

It writes to its own database with Sawti's schema (the search index included): a SQLite file
beside Sawti's, or the database ``SAWTI_BENCH_FLOOR_URL`` names (``bench/scale.py`` on
PostgreSQL), so the webhook's database check is untouched. What it leaves out (the FAQ match,
flood limit, held replies, status queries, alerts, triage suggestions and flags) the webhook
also does for this traffic; the gap between the two is what an implementation could still
save, and this endpoint's ratio is what no implementation of the same rows could beat.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Response
    from sqlalchemy.engine import Connection, Engine

DATABASE_NAME = "sawti_floor.db"
URL_VARIABLE = "SAWTI_BENCH_FLOOR_URL"  # another database (PostgreSQL); unset: a SQLite file
CHANNEL = "simulator"
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()

FIND = """
SELECT contacts.id, contacts.dialogue_state, contacts.language, cases.id, cases.reference,
       cases.last_followup_ack_at
FROM contacts LEFT JOIN cases ON cases.id = contacts.dialogue_case_id
WHERE contacts.pseudonym = :pseudonym
"""
LOCK = " FOR NO KEY UPDATE OF contacts"  # PostgreSQL: as the webhook, one person at a time
NEW_CONTACT = """
INSERT INTO contacts (channel, pseudonym, address_encrypted, language, opted_out,
                      dialogue_state, created_at, last_inbound_at, rate_window_count)
VALUES (:channel, :pseudonym, :address, :language, false, 'idle', :now, :now, 1) RETURNING id
"""
NEW_CASE = """
INSERT INTO cases (reference, contact_id, channel, status, sensitive, urgent, language,
                   created_at, due_at, last_activity_at)
VALUES (:reference, :contact_id, :channel, 'new', false, false, :language, :now, :due_at, :now)
RETURNING id
"""
AUDIT = """
INSERT INTO audit_events (at, actor, action, case_id, details)
VALUES (:now, 'system', 'case.created', :case_id, :details)
"""
STORE = """
INSERT INTO messages (contact_id, case_id, direction, channel, external_id, kind, body,
                      search_text, status, attempts, created_at, received_at)
VALUES (:contact_id, :case_id, 'in', :channel, :external_id, 'text', :body, :search_text,
        'received', 0, :now, :now)
ON CONFLICT (channel, direction, external_id) DO NOTHING RETURNING id
"""
QUEUE = """
INSERT INTO messages (contact_id, case_id, direction, channel, kind, body, language, status,
                      attempts, next_attempt_at, created_at)
VALUES (:contact_id, :case_id, 'out', :channel, :kind, :body, :language, 'queued', 0, :now,
        :now)
"""
UPDATE_CONTACT = """
UPDATE contacts SET dialogue_state = :state, dialogue_case_id = :case_id, language = :language,
       dialogue_updated_at = :now, last_inbound_at = :now WHERE id = :contact_id
"""
UPDATE_CASE = """
UPDATE cases SET last_activity_at = :now, last_followup_ack_at = :acked WHERE id = :case_id
"""
# idle -> awaiting_location -> awaiting_consent -> idle (then follow-ups add to the case)
NEXT_STATE = {"awaiting_location": "awaiting_consent", "awaiting_consent": "idle"}


def database_path(instance: Path) -> Path:
    return instance / DATABASE_NAME


def database_url(instance: Path) -> str:
    return os.environ.get(URL_VARIABLE) or f"sqlite:///{database_path(instance)}"


def create_database(url: str) -> None:
    """Sawti's schema in an empty database of its own (``create_all`` adds the search index
    and its triggers)."""
    from sqlalchemy import create_engine

    from casework.models import Base

    engine = create_engine(url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def sawti_minimum() -> Response:
    from flask import Response, request

    from bot.conversation import LanguageSignal
    from casework.models import utcnow
    from casework.text import clean_text, normalize_for_matching
    from services import services

    payload = json.loads(request.get_data())
    svc = services()
    tab, text = payload["tab"], payload["text"]
    body = clean_text(text)
    message = {
        "pseudonym": svc.vault.pseudonym(CHANNEL, tab), "channel": CHANNEL, "now": utcnow(),
        "external_id": f"{tab}:{payload['id']}", "body": body,
        "search_text": normalize_for_matching(text) or None,
    }
    language = LanguageSignal.of(body).reply_language(None)
    if svc.dialogue.triage is not None:
        svc.dialogue.triage.assess(body)
    with _engine().connect() as connection:
        stored = _store_and_answer(connection, message, language, tab)
        (connection.commit if stored else connection.rollback)()  # a replay stores nothing
    return Response(json.dumps({"accepted": [{"duplicate": not stored}]}), status=200,
                    mimetype="application/json")


def _store_and_answer(connection: Connection, message: dict, language: str, tab: str) -> bool:
    from sqlalchemy import text

    from bot.messages import Speaker

    speaker = Speaker(language)
    lock = LOCK if connection.dialect.name == "postgresql" else ""
    found = connection.execute(text(FIND + lock), message).first()
    if found is None:
        ids, state, replies = _open(connection, message, language, tab, speaker)
        acked = None
    else:
        contact_id, state, _language, case_id, reference, acked = found
        ids = {"contact_id": contact_id, "case_id": case_id}
        replies, state, acked = _answer(state, reference, acked, message, speaker)
    if connection.execute(text(STORE), {**message, **ids}).first() is None:
        return False
    for kind, reply in replies:
        connection.execute(text(QUEUE), {**message, **ids, "kind": kind, "body": reply,
                                         "language": language})
    connection.execute(text(UPDATE_CONTACT), {**message, **ids, "state": state,
                                              "language": language})
    if found is not None:
        connection.execute(text(UPDATE_CASE), {**message, **ids, "acked": acked})
    return True


def _open(connection: Connection, message: dict, language: str, tab: str, speaker
          ) -> tuple[dict, str, list[tuple[str, str]]]:
    from sqlalchemy import text

    from casework.references import new_reference
    from services import services

    svc = services()
    contact_id = connection.execute(text(NEW_CONTACT), {
        **message, "address": svc.vault.encrypt(tab), "language": language}).scalar_one()
    reference = new_reference()
    due_at = message["now"] + svc.dialogue.org_data.grid.deadline_for(None)
    case_id = connection.execute(text(NEW_CASE), {
        **message, "reference": reference, "contact_id": contact_id, "language": language,
        "due_at": due_at}).scalar_one()
    connection.execute(text(AUDIT), {**message, "case_id": case_id,
                                     "details": json.dumps({"channel": CHANNEL})})
    ack = "\n".join((
        speaker._("Thank you for contacting %(org)s. We received your message and opened "
                  "case number %(reference)s. Keep this number to ask about your case.",
                  org=svc.dialogue.org_name_in(language), reference=reference),
        speaker.deadline(due_at - message["now"]),
        speaker._("What you share is confidential: we never share your name or number "
                  "without your permission."),
    ))
    question = speaker._("Which governorate are you in? Reply with its number:")
    return ({"contact_id": contact_id, "case_id": case_id}, "awaiting_location",
            [("ack", ack), ("question", question)])


def _answer(state: str, reference: str, acked, message: dict, speaker
            ) -> tuple[list[tuple[str, str]], str, object]:
    if state in NEXT_STATE:
        question = speaker._("May someone from our team contact you about your case if "
                             "needed? Reply 1 for yes or 2 for no.")
        return [("question", question)], NEXT_STATE[state], acked
    if acked is not None:  # one "added to your case" a while, as the webhook does
        return [], state, acked
    added = speaker._("Thank you. We added your message to case %(reference)s.",
                      reference=reference)
    return [("added", added)], state, message["now"]


def _engine() -> Engine:
    """One engine per worker process, made on its first request (never at import)."""
    from sqlalchemy import create_engine

    url = database_url(Path(os.environ["SAWTI_INSTANCE_PATH"]))
    with _engines_lock:
        if url not in _engines:
            options = {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}
            _engines[url] = create_engine(url, **options)
        return _engines[url]

