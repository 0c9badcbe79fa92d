from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework.models import AuditEvent, Case, CaseStatus, DeliveryStatus, Message, utcnow
from casework.replies import ReplyRefused, queue_reply
from extensions import db


@pytest.fixture
def case(simulate: Callable[..., TestResponse], app_context: None) -> Case:
    simulate("لم أستلم السلة")
    return db.session.scalars(select(Case)).one()


def test_reply_is_queued_on_the_case_channel_and_opens_the_case(case: Case) -> None:
    message = queue_reply(db.session, case, "  سنتابع طلبك  ", actor="officer@x", now=utcnow())
    assert (message.kind, message.channel, message.status) == ("reply", "simulator",
                                                               DeliveryStatus.QUEUED)
    assert message.body == "سنتابع طلبك"
    assert case.status == CaseStatus.OPEN and case.first_response_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.replied")
                               ).one()
    assert event.actor == "officer@x" and event.details == {"message_id": message.id}


@pytest.mark.parametrize(
    ("label", "prepare", "body", "reason"),
    [
        ("empty", lambda case: None, "   ", "empty"),
        ("control-characters-only", lambda case: None, "\x00\x07", "empty"),
        ("too-long", lambda case: None, "ا" * 4001, "too_long"),
        ("opted-out", lambda case: setattr(case.contact, "opted_out", True), "ردّ", "opted_out"),
        ("address-erased", lambda case: setattr(case.contact, "address_encrypted", None), "ردّ",
         "no_contact"),
    ],
)
def test_refused_replies_say_why_and_store_nothing(case: Case, label: str, prepare: object,
                                                   body: str, reason: str) -> None:
    prepare(case)  # type: ignore[operator]
    db.session.commit()
    with pytest.raises(ReplyRefused) as refused:
        queue_reply(db.session, case, body, actor="officer", now=utcnow())
    assert refused.value.reason == reason, label
    assert db.session.scalars(select(Message).where(Message.kind == "reply")).all() == []
