"""Dialogue sessions in Redis (``REDIS_URL``), with the expiry of the question they wait on.

A person's dialogue session is the state of their conversation: the question that waits for
their answer, the case the conversation opened and when it was asked. With ``REDIS_URL`` set
the webhook keeps it in Redis under ``sawti:dialogue:<pseudonym>`` (the contact's keyed hash,
as in the database: no address), set to expire when the question can no longer be answered
(``bot.engine.state_lifetime``: the dialogue timeout, the attach window for a late «1» or
«حلب», the survey's three days), and reads it from there — before the message's transaction
begins, so that on SQLite the wait for Redis is not spent holding the write lock.

The contact's row keeps the copy the message's transaction wrote, so nothing here can put a
conversation out of step with what was stored and sent:

- the session is written to Redis only after that transaction has committed;
- a session in Redis is used only while its stamp (``dialogue_updated_at``: any change to the
  dialogue's columns moves it, by a flush hook in ``casework.models`` if the writer did not)
  equals the row's, read under the message's lock: a crash between the commit and the write
  to Redis, a Redis restart, a spell on the database path while Redis was down, or a change
  made elsewhere (the survey job, an erasure) sends the turn to the row, and the next commit
  writes Redis again (after an erasure the row's stamp moves and the person, writing again, is
  a new contact with no stamp, so the old session is never used; it expires);
- Redis unavailable: the row is read and written as without ``REDIS_URL``, and messages are
  accepted as ever (``channels.redis_link`` logs the outage once).

Sample entry::

    sawti:dialogue:3f9a…c2 = {"state": "awaiting_location", "case": 90311,
                              "at": "2026-11-30T08:12:44.120311+00:00"}   (TTL 259190 s)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engine import DialogueSettings, state_lifetime
from bot.states import State
from casework.models import Contact
from channels.redis_link import RedisLink, RedisUnavailable

KEY_PREFIX = "sawti:dialogue:"


@dataclass(frozen=True)
class DialogueSession:
    """Where one person's conversation stands."""

    state: State
    case_id: int | None
    updated_at: datetime | None  # the stamp: when the dialogue's columns last changed

    @classmethod
    def of(cls, contact: Contact) -> DialogueSession:
        """The session as the contact's row holds it."""
        return cls(State(contact.dialogue_state), contact.dialogue_case_id,
                   contact.dialogue_updated_at)

    def to_json(self) -> str:
        stamp = self.updated_at.isoformat() if self.updated_at else None
        return json.dumps({"state": self.state.value, "case": self.case_id, "at": stamp})

    @classmethod
    def from_json(cls, text: str | bytes) -> DialogueSession | None:
        """None for anything that is not a session of ours."""
        try:
            record = json.loads(text)
            stamp = datetime.fromisoformat(record["at"]) if record["at"] else None
            case = record["case"]
            return cls(State(record["state"]), int(case) if case is not None else None, stamp)
        except (ValueError, KeyError, TypeError):
            return None


def key(pseudonym: str) -> str:
    return f"{KEY_PREFIX}{pseudonym}"


def agreeing(stored: DialogueSession | None, contact: Contact) -> DialogueSession | None:
    """The session from Redis if its stamp is the row's; None: read the row."""
    if stored is not None and stored.updated_at == contact.dialogue_updated_at:
        return stored
    return None


class RedisSessions:
    """Dialogue sessions kept in Redis, each expiring with the question it waits on."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link

    def fetch(self, pseudonym: str) -> DialogueSession | None:
        """The session Redis holds for the person; check it with ``agreeing`` before use."""
        try:
            with self.link.connection() as client:
                stored = client.get(key(pseudonym))
        except RedisUnavailable:
            return None
        return DialogueSession.from_json(stored) if stored is not None else None

    def save(self, pseudonym: str, session: DialogueSession, settings: DialogueSettings,
             now: datetime) -> None:
        """Call only once the transaction that wrote ``session`` to the row has committed."""
        left = _time_left(session, settings, now)
        try:
            with self.link.connection() as client:
                if left is None:
                    client.delete(key(pseudonym))
                else:
                    client.set(key(pseudonym), session.to_json(),
                               px=max(1, int(left.total_seconds() * 1000)))
        except RedisUnavailable:
            pass  # the next message reads the row

    def close(self) -> None:
        self.link.close()


def _time_left(session: DialogueSession, settings: DialogueSettings, now: datetime
               ) -> timedelta | None:
    """How long the session can still matter; None when it already cannot (or is idle)."""
    if session.state is State.IDLE or session.updated_at is None:
        return None
    left = session.updated_at + state_lifetime(session.state, settings) - now
    return left if left > timedelta(0) else None


def redis_sessions(redis_url: str | None) -> RedisSessions | None:
    if not redis_url:
        return None
    return RedisSessions(RedisLink(redis_url, degraded="dialogue sessions are read from the "
                                                      "database"))
