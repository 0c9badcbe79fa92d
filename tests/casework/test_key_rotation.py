"""``flask keys rotate``: every encrypted value moves to the new key, nobody is split in two."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from bot.conversation import handle_inbound
from casework import keys
from casework.intake import Inbound
from casework.models import AuditEvent, Contact, User, utcnow
from casework.privacy import Vault
from config.settings import ConfigError, Settings, load_settings
from extensions import db
from services import services

OLD = "old-data-key-" + "o" * 40
NEW = "new-data-key-" + "n" * 40
PHONES = [f"+9639440{n:05d}" for n in range(7)]
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DP"
CHAT = "5550001"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """The application under test runs mid-rotation: new key, old key still readable."""
    return {"sawti_data_key": NEW, "sawti_data_key_previous": OLD, "sawti_pseudonym_key": OLD}


@pytest.fixture
def old_data(app: Flask, settings: Settings) -> Iterator[None]:
    """What an application on the old key stored: contacts, a staff TOTP and Telegram chat."""
    old = create_app(settings.model_copy(update={
        "sawti_data_key": OLD, "sawti_data_key_previous": None, "sawti_pseudonym_key": None}))
    with old.app_context():
        svc = services()
        for number, phone in enumerate(PHONES):
            handle_inbound(db.session, Inbound(channel="sms", address=phone,
                                               external_id=f"SM{number}", text="شكوى",
                                               received_at=utcnow()), svc.vault, svc.dialogue)
        user = User(email="psea@example.org", role="psea", password_hash="x",
                    totp_secret_encrypted=svc.vault.encrypt(TOTP),
                    telegram_chat_encrypted=svc.vault.encrypt(CHAT))
        db.session.add(user)
        db.session.commit()
        old.extensions["sawti"].close()
        db.session.remove()
        db.engine.dispose()
    yield


def _tokens() -> list[str]:
    db.session.expire_all()
    addresses = list(db.session.scalars(select(Contact.address_encrypted)))
    user = db.session.scalars(select(User)).one()
    return [*addresses, user.totp_secret_encrypted, user.telegram_chat_encrypted]


def test_rotation_moves_everything_to_the_new_key(old_data: None, app_context: None) -> None:
    vault = services().vault
    pseudonyms = list(db.session.scalars(select(Contact.pseudonym).order_by(Contact.id)))
    assert not any(vault.is_current(token) for token in _tokens())

    result = keys.rotate(db.session, vault, utcnow(), batch=3)

    assert result.rotated == {"contacts.address_encrypted": len(PHONES),
                              "users.totp_secret_encrypted": 1,
                              "users.telegram_chat_encrypted": 1}
    tokens = _tokens()
    new_only = Vault(NEW, pseudonym_key=OLD)
    assert [new_only.decrypt(token) for token in tokens] == [*PHONES, TOTP, CHAT]
    with pytest.raises(Exception, match="cannot be decrypted"):
        Vault(OLD).decrypt(tokens[0])
    assert list(db.session.scalars(select(Contact.pseudonym).order_by(Contact.id))) == pseudonyms
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "keys.rotated")).one()
    assert event.details["rotated"]["contacts.address_encrypted"] == len(PHONES)
    assert PHONES[0] not in str(event.details)


def test_the_same_person_stays_one_contact_after_rotation(old_data: None,
                                                          app_context: None) -> None:
    svc = services()
    keys.rotate(db.session, svc.vault, utcnow())
    new_only = Vault(NEW, pseudonym_key=OLD)  # SAWTI_DATA_KEY_PREVIOUS removed afterwards
    handled = handle_inbound(db.session, Inbound(channel="sms", address=PHONES[0],
                                                 external_id="SM-after", text="وين صار طلبي",
                                                 received_at=utcnow()), new_only, svc.dialogue)
    assert not handled.duplicate
    assert len(list(db.session.scalars(select(Contact)))) == len(PHONES)


def test_an_interrupted_rotation_resumes(old_data: None, app_context: None) -> None:
    vault = services().vault

    def stop_after_first_batch(name: str, rotated: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keys.rotate(db.session, vault, utcnow(), batch=3, progress=stop_after_first_batch)
    assert sum(vault.is_current(token) for token in _tokens()) == 3  # the first batch stayed

    result = keys.rotate(db.session, vault, utcnow(), batch=3)
    assert result.rotated["contacts.address_encrypted"] == len(PHONES) - 3
    assert result.current["contacts.address_encrypted"] == 3
    assert all(vault.is_current(token) for token in _tokens())
    again = keys.rotate(db.session, vault, utcnow())
    assert again.total_rotated == 0


def test_a_value_changed_meanwhile_is_left_to_its_writer(old_data: None,
                                                         app_context: None) -> None:
    vault = services().vault
    contact = db.session.scalars(select(Contact)).first()
    stale = contact.address_encrypted
    contact.address_encrypted = None  # erased by retention while the rotation ran
    db.session.commit()
    result = keys.RotationResult(rotated={"c": 0}, current={"c": 0}, unreadable={"c": 0})
    keys._rotate_value(db.session, vault, Contact, Contact.address_encrypted, contact.id, stale,
                       "c", result)
    db.session.expire_all()
    assert result.changed_meanwhile == 1
    assert db.session.get(Contact, contact.id).address_encrypted is None


def test_a_wrong_pseudonym_key_stops_the_rotation(old_data: None, app_context: None) -> None:
    before = _tokens()
    splitting = Vault(NEW, previous=[OLD])  # pseudonyms would be keyed from the new key
    with pytest.raises(keys.PseudonymKeyMismatch, match="7 sampled"):
        keys.rotate(db.session, splitting, utcnow())
    assert _tokens() == before


def test_cli_rotates_and_reports(old_data: None, app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "contacts.address_encrypted: 7 re-encrypted" in result.output
    assert PHONES[0] not in result.output
    again = app.test_cli_runner().invoke(args=["keys", "rotate"])
    assert "contacts.address_encrypted: 0 re-encrypted, 7 already current" in again.output


@pytest.mark.parametrize(("values", "problem"), [
    pytest.param({"sawti_data_key_previous": OLD, "sawti_pseudonym_key": None},
                 "SAWTI_PSEUDONYM_KEY", id="previous-without-pseudonym-key"),
])
def test_settings_refuse_a_rotation_that_would_split_people(
        values: dict[str, object], problem: str, settings: Settings) -> None:
    with pytest.raises(ConfigError, match=problem):
        load_settings(**(settings.model_dump() | values))


def test_previous_keys_list_newest_first(settings: Settings) -> None:
    listed = settings.model_copy(update={"sawti_data_key_previous": f" {OLD} , older-key-x ,"})
    assert listed.previous_data_keys == (OLD, "older-key-x")
