"""Dialogue sessions in a private Redis: kept with their expiry, read while they agree with the
contact's row, and never able to put a conversation out of step with it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.engine import DialogueSettings, state_lifetime
from bot.sessions import KEY_PREFIX, DialogueSession
from bot.states import State
from casework import retention
from casework.models import utcnow
from extensions import db
from services import services
from tests.bot.conftest import Person
from tests.channels.conftest import wait_until
from tests.conftest import PrivateRedis

COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"
ATTACH_WINDOW = timedelta(hours=72)  # SAWTI_CASE_ATTACH_HOURS' default
QUESTION_TIMEOUT = timedelta(minutes=60)  # SAWTI_DIALOGUE_TIMEOUT_MINUTES' default


@pytest.fixture
def settings_overrides(private_redis: PrivateRedis) -> dict[str, object]:
    return {"redis_url": private_redis.url}


def _key(person: Person) -> str:
    return KEY_PREFIX + person.contact.pseudonym


def _stored(private_redis: PrivateRedis, person: Person) -> dict | None:
    raw = private_redis.client.get(_key(person))
    return json.loads(raw) if raw is not None else None


def _ttl(private_redis: PrivateRedis, person: Person) -> timedelta:
    return timedelta(milliseconds=private_redis.client.pttl(_key(person)))


# What the person writes, in turn; the state Redis then holds, and for how long.
CONVERSATIONS = [
    pytest.param([COMPLAINT], State.AWAITING_LOCATION, ATTACH_WINDOW,
                 id="complaint-waits-for-location-as-long-as-a-late-answer-may-come"),
    pytest.param([COMPLAINT, "1"], State.AWAITING_CONSENT, ATTACH_WINDOW,
                 id="location-given-waits-for-consent"),
    pytest.param([COMPLAINT, "1", "1"], None, None, id="questions-answered-no-session"),
    pytest.param(["مرحبا"], None, None, id="greeting-no-session"),
]


@pytest.mark.parametrize(("messages", "state", "lifetime"), CONVERSATIONS)
def test_a_session_is_kept_in_redis_while_its_question_can_be_answered(
        person: Callable[[str], Person], private_redis: PrivateRedis, messages: list[str],
        state: State | None, lifetime: timedelta | None) -> None:
    someone = person("tab-session-1")
    for text in messages:
        someone.says(text)
    stored = _stored(private_redis, someone)
    if state is None:
        assert stored is None
        return
    contact = someone.contact
    # Only the dialogue's own values: no address, no text, no provider id.
    assert stored == {"state": state.value, "case": contact.dialogue_case_id,
                      "at": contact.dialogue_updated_at.isoformat()}
    assert lifetime - timedelta(minutes=1) < _ttl(private_redis, someone) <= lifetime


def _plant(private_redis: PrivateRedis, person: Person, state: State, stamp_shift: timedelta
           ) -> None:
    """Write a session to Redis as if a web process had, with the row's stamp moved."""
    contact = person.contact
    planted = DialogueSession(state, contact.dialogue_case_id,
                              contact.dialogue_updated_at + stamp_shift)
    private_redis.client.set(_key(person), planted.to_json())


def test_the_turn_reads_the_session_redis_holds(person: Callable[[str], Person],
                                                private_redis: PrivateRedis) -> None:
    """Redis says the consent question waits (same stamp as the row): «1» answers it."""
    someone = person("tab-session-2")
    someone.says(COMPLAINT)
    _plant(private_redis, someone, State.AWAITING_CONSENT, timedelta(0))
    someone.says("1")
    case = someone.cases[-1]
    assert (case.location, case.consent_to_contact) == (None, True)


OUT_OF_STEP = [
    pytest.param(lambda redis, someone: _plant(redis, someone, State.AWAITING_CONSENT,
                                               -timedelta(seconds=1)),
                 id="older-stamp-crash-before-redis-was-written"),
    pytest.param(lambda redis, someone: _plant(redis, someone, State.AWAITING_CONSENT,
                                               timedelta(seconds=1)),
                 id="newer-stamp-never-committed"),
    pytest.param(lambda redis, someone: redis.client.flushall(), id="redis-restarted-empty"),
    pytest.param(lambda redis, someone: redis.client.set(_key(someone), "not a session"),
                 id="not-a-session"),
    pytest.param(lambda redis, someone: redis.client.set(
        _key(someone), '{"state": "nonsense", "case": null, "at": null}'), id="unknown-state"),
]


@pytest.mark.parametrize("disturb", OUT_OF_STEP)
def test_a_session_out_of_step_with_the_row_is_not_used(
        person: Callable[[str], Person], private_redis: PrivateRedis,
        disturb: Callable[[PrivateRedis, Person], object]) -> None:
    """The row says the location question waits: «1» answers it, whatever Redis holds."""
    someone = person("tab-session-3")
    someone.says(COMPLAINT)
    disturb(private_redis, someone)
    replies = someone.says("1")
    case = someone.cases[-1]
    assert (case.location, case.consent_to_contact) == ("SY-ID", None)
    assert [reply.kind for reply in replies] == ["question"]  # the consent question
    assert _stored(private_redis, someone)["state"] == State.AWAITING_CONSENT.value


@pytest.mark.parametrize("stamps_it", [True, False], ids=["stamp-set", "stamp-forgotten"])
def test_a_change_made_elsewhere_disowns_the_session_in_redis(
        person: Callable[[str], Person], private_redis: PrivateRedis, stamps_it: bool) -> None:
    """The survey job, an erasure or an officer's tool writes the row, not Redis; a writer
    that forgets the stamp has it moved when the change is flushed (casework.models)."""
    someone = person("tab-session-4")
    someone.says(COMPLAINT)
    contact = someone.contact
    asked_at = contact.dialogue_updated_at
    contact.dialogue_state = State.AWAITING_CONSENT.value
    if stamps_it:
        contact.dialogue_updated_at = utcnow()
    db.session.commit()
    assert someone.contact.dialogue_updated_at > asked_at
    someone.says("1")
    assert someone.cases[-1].consent_to_contact is True


def test_an_erased_persons_session_is_not_used_when_they_write_again(
        person: Callable[[str], Person], private_redis: PrivateRedis) -> None:
    """Erasure gives the old contact a random pseudonym; writing again makes a new contact,
    whose key in Redis still holds the old session (location asked): it must not answer it."""
    someone = person("tab-session-6")
    someone.says(COMPLAINT)
    old_case = someone.cases[-1]
    key = _key(someone)
    svc = services()
    retention.erase_person(db.session, svc.attachment_store, svc.vault, old_case,
                           actor="admin@example.org", reason="person_request", now=utcnow())
    assert json.loads(private_redis.client.get(key))["state"] == State.AWAITING_LOCATION.value

    someone.seen = 0
    replies = someone.says("1")
    db.session.refresh(old_case)
    assert old_case.location is None
    assert someone.cases == []  # a bare «1» opens no case: they are asked for their message
    assert [reply.kind for reply in replies] == ["prompt"]


def test_messages_are_answered_while_redis_is_down_and_after_it_returns_stale(
        person: Callable[[str], Person], private_redis: PrivateRedis) -> None:
    """Redis stops with the location question's session saved to disk, and comes back with it
    after the person answered that question on the database path."""
    someone = person("tab-session-5")
    someone.says(COMPLAINT)
    private_redis.client.save()  # the session written before the outage survives the restart
    private_redis.stop()

    assert [reply.kind for reply in someone.says("1")] == ["question"]  # consent, from the row
    assert someone.cases[-1].location == "SY-ID"

    private_redis.start()
    assert _stored(private_redis, someone)["state"] == State.AWAITING_LOCATION.value  # stale
    sessions = services().dialogue.sessions
    assert sessions is not None
    wait_until(lambda: sessions.link.available, timeout=10)
    assert [reply.kind for reply in someone.says("1")] == ["confirmation"]
    case = someone.cases[-1]
    assert (case.location, case.consent_to_contact) == ("SY-ID", True)
    assert _stored(private_redis, someone) is None  # nothing waits: the session is gone


def _dialogue_settings(**timeouts: timedelta) -> DialogueSettings:
    return DialogueSettings(org_name="صوتي", org_data=services().org_data,
                            followup_ack_interval=timedelta(minutes=10), **timeouts)


LIFETIMES = [
    pytest.param(State.IDLE, timedelta(0), id="idle-nothing-waits"),
    pytest.param(State.AWAITING_LOCATION, ATTACH_WINDOW, id="location-late-answers"),
    pytest.param(State.AWAITING_CONSENT, ATTACH_WINDOW, id="consent-late-answers"),
    pytest.param(State.AWAITING_INFO_FEEDBACK, ATTACH_WINDOW, id="info-feedback-late-answers"),
    pytest.param(State.AWAITING_SURVEY, timedelta(days=3), id="survey-three-days"),
    pytest.param(State.AWAITING_REOPEN, timedelta(days=3), id="reopen-three-days"),
]


@pytest.mark.parametrize(("state", "lifetime"), LIFETIMES)
def test_state_lifetime(app_context: None, state: State, lifetime: timedelta) -> None:
    settings = _dialogue_settings(attach_window=ATTACH_WINDOW, question_timeout=QUESTION_TIMEOUT)
    assert state_lifetime(state, settings) == lifetime


def test_a_question_timeout_longer_than_the_attach_window_sets_the_lifetime(
        app_context: None) -> None:
    settings = _dialogue_settings(attach_window=timedelta(hours=1),
                                  question_timeout=timedelta(hours=5))
    assert state_lifetime(State.AWAITING_LOCATION, settings) == timedelta(hours=5)
