"""Rotation of ``SAWTI_DATA_KEY``: re-encrypt every stored secret with the current key.

What the data key encrypts: contact addresses (``contacts.address_encrypted``), staff TOTP
secrets (``users.totp_secret_encrypted``) and staff Telegram chats
(``users.telegram_chat_encrypted``), plus the inbound spool (``channels.spool``), which is
short-lived and read with every configured key. Pseudonyms are keyed by the stable
``SAWTI_PSEUDONYM_KEY`` and are never re-keyed — see ``casework.privacy`` for why.

Without downtime:

1. set ``SAWTI_PSEUDONYM_KEY`` to the key that keyed pseudonyms so far (the old
   ``SAWTI_DATA_KEY`` if it was never set), ``SAWTI_DATA_KEY`` to the new key and
   ``SAWTI_DATA_KEY_PREVIOUS`` to the old one; restart web and worker — they now read both
   keys and write with the new one;
2. ``flask keys rotate``: batched (one short transaction per batch), resumable (a value
   already under the current key is skipped, so an interrupted run is simply run again),
   compare-and-set (a value changed meanwhile — an erasure, a new sign-in secret — is left to
   its writer), audited with counts;
3. once it reports nothing left under an old key, remove ``SAWTI_DATA_KEY_PREVIOUS``.

Before changing anything the rotation checks that the configured pseudonym key reproduces
the stored pseudonyms; if it does not, it stops (people would be split into new contacts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, select, update
from sqlalchemy.orm import Session

from casework import audit
from casework.models import Contact, User
from casework.privacy import AddressDecryptionError, Vault

BATCH = 500
PSEUDONYM_SAMPLE = 50
# (table's model, encrypted column) — every value the data key encrypts in the database.
ENCRYPTED_COLUMNS: tuple[tuple[type, Column], ...] = (
    (Contact, Contact.address_encrypted),  # type: ignore[arg-type]
    (User, User.totp_secret_encrypted),  # type: ignore[arg-type]
    (User, User.telegram_chat_encrypted),  # type: ignore[arg-type]
)


class PseudonymKeyMismatch(RuntimeError):
    """The configured pseudonym key does not reproduce the stored pseudonyms."""


@dataclass
class RotationResult:
    rotated: dict[str, int] = field(default_factory=dict)
    current: dict[str, int] = field(default_factory=dict)  # already under the current key
    unreadable: dict[str, int] = field(default_factory=dict)  # under no configured key
    changed_meanwhile: int = 0

    @property
    def total_rotated(self) -> int:
        return sum(self.rotated.values())

    @property
    def total_unreadable(self) -> int:
        return sum(self.unreadable.values())


def check_pseudonyms(session: Session, vault: Vault, sample: int = PSEUDONYM_SAMPLE
                     ) -> tuple[int, int]:
    """(matching, checked) over the oldest and newest contacts that still have an address."""
    with_address = select(Contact).where(Contact.address_encrypted.is_not(None))
    contacts = {contact.id: contact for order in (Contact.id.asc(), Contact.id.desc())
                for contact in session.scalars(with_address.order_by(order).limit(sample))}
    matching = checked = 0
    for contact in contacts.values():
        try:
            address = vault.decrypt(contact.address_encrypted or "")
        except AddressDecryptionError:
            continue
        checked += 1
        matching += vault.pseudonym(contact.channel, address) == contact.pseudonym
    return matching, checked


def rotate(session: Session, vault: Vault, now: datetime, *, batch: int = BATCH,
           actor: str = "system", progress: Callable[[str, int], None] | None = None
           ) -> RotationResult:
    """Re-encrypt every value under an older key with the current key (see module doc)."""
    matching, checked = check_pseudonyms(session, vault)
    if matching != checked:
        raise PseudonymKeyMismatch(
            f"the pseudonym key reproduces {matching} of {checked} sampled pseudonyms: set "
            "SAWTI_PSEUDONYM_KEY to the key that keyed them (the SAWTI_DATA_KEY in use before "
            "the first rotation)")
    result = RotationResult()
    for model, column in ENCRYPTED_COLUMNS:
        _rotate_column(session, vault, model, column, result, batch, progress)
    audit.record(session, "keys.rotated", actor=actor, rotated=dict(result.rotated),
                 unreadable=dict(result.unreadable), changed_meanwhile=result.changed_meanwhile,
                 pseudonyms_checked=checked)
    session.commit()
    return result


def _rotate_column(session: Session, vault: Vault, model: type, column: Column,
                   result: RotationResult, batch: int,
                   progress: Callable[[str, int], None] | None) -> None:
    name = f"{model.__tablename__}.{column.key}"
    result.rotated[name] = result.current[name] = result.unreadable[name] = 0
    last_id = 0
    while rows := session.execute(
            select(model.id, column).where(model.id > last_id, column.is_not(None))
            .order_by(model.id).limit(batch)).all():
        last_id = rows[-1][0]
        for row_id, token in rows:
            _rotate_value(session, vault, model, column, row_id, token, name, result)
        session.commit()  # one short transaction per batch: an interruption loses nothing
        if progress is not None:
            progress(name, result.rotated[name])


def _rotate_value(session: Session, vault: Vault, model: type, column: Column, row_id: int,
                  token: str, name: str, result: RotationResult) -> None:
    if vault.is_current(token):
        result.current[name] += 1
        return
    try:
        fresh = vault.rotate(token)
    except AddressDecryptionError:
        result.unreadable[name] += 1
        return
    changed = session.execute(update(model).where(model.id == row_id, column == token)
                              .values({column.key: fresh})
                              .execution_options(synchronize_session=False)).rowcount
    if changed:
        result.rotated[name] += 1
    else:
        result.changed_meanwhile += 1
