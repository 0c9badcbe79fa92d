"""The dialogue engine under arbitrary conversations: a few people, any texts, any order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.conversation import handle_inbound
from bot.language import SUPPORTED
from casework.intake import Inbound
from casework.models import Case, Direction, Message, utcnow
from casework.references import is_valid_reference
from extensions import db
from services import services
from tests.fuzz.fuzz_helpers import FUZZ_SETTINGS, consistent, example, wipe
from tests.fuzz.fuzz_strategies import texts

PEOPLE = [("telegram", "5550001"), ("sms", "+963944000111"), ("whatsapp", "+963944000111"),
          ("simulator", "tab-00000001"), ("voice", "+963955000222")]
turns = st.lists(st.tuples(st.sampled_from(PEOPLE), texts), min_size=1, max_size=12)


@FUZZ_SETTINGS
@given(conversation=turns)
def test_any_conversation_is_stored_once_and_answered_sanely(
        fuzz_client: object, conversation: list[tuple[tuple[str, str], str]]) -> None:
    example()
    wipe()
    svc = services()
    for number, ((channel, address), text) in enumerate(conversation):
        handled = handle_inbound(db.session, Inbound(
            channel=channel, address=address, external_id=f"x{number}", text=text,
            received_at=utcnow()), svc.vault, svc.dialogue)
        assert not handled.duplicate
        if handled.case_reference is not None:
            assert is_valid_reference(handled.case_reference)
    db.session.rollback()
    inbound = db.session.scalar(select(func.count(Message.id)).where(
        Message.direction == Direction.INBOUND))
    assert inbound == len(conversation)
    replies = list(db.session.scalars(select(Message).where(
        Message.direction == Direction.OUTBOUND)))
    assert all(reply.body and reply.body.strip() and reply.kind for reply in replies)
    assert all(reply.language in SUPPORTED for reply in replies)
    for case in db.session.scalars(select(Case)):
        assert case.due_at > case.created_at
    consistent()
