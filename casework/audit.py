"""The audit trail: one row per action that matters, written in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from casework.models import AuditEvent, Case

ACTOR_LENGTH = 64  # the column's size; e-mail addresses can be longer


def record(
    session: Session, action: str, *, case: Case | None = None, actor: str = "system",
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(action=action, actor=actor[:ACTOR_LENGTH], case=case, details=details)
    session.add(event)
    return event
