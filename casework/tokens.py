"""API tokens: random, shown once, stored only as a SHA-256 hash; they act as their user."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework import audit
from casework.models import ApiToken, User

PREFIX = "sawti_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> str:
    """A new token for the user; the plain value is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user=user, token_hash=hash_token(token), name=name[:120])
    session.add(record)
    session.flush()
    audit.record(session, "token.created", actor=user.email, token_id=record.id)
    session.commit()
    return token


def authenticate(session: Session, token: str, now: datetime) -> ApiToken | None:
    """The live token with this value, whose user is active; marks it used."""
    if not token.startswith(PREFIX):
        return None
    record = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))
                             ).first()
    if record is None or record.revoked_at is not None or not record.user.active:
        return None
    record.last_used_at = now
    return record


def revoke(session: Session, record: ApiToken, actor: str, now: datetime) -> None:
    record.revoked_at = now
    audit.record(session, "token.revoked", actor=actor, token_id=record.id)
    session.commit()
