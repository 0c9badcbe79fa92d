from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from casework import accounts, info
from casework.models import Case, Contact, Direction, InfoEntry, Message, Role, utcnow
from extensions import db
from services import services


class Person:
    """One beneficiary writing through the simulator; reads back what the bot queued."""

    def __init__(self, simulate: Callable[..., TestResponse], tab: str) -> None:
        self.simulate = simulate
        self.tab = tab
        self.seen = 0

    def says(self, text: str) -> list[Message]:
        response = self.simulate(text, tab=self.tab)
        assert response.status_code == 200, response.get_data(as_text=True)
        return self.new_replies()

    def new_replies(self) -> list[Message]:
        contact = self.contact
        replies = list(db.session.scalars(
            select(Message).where(Message.contact_id == contact.id,
                                  Message.direction == Direction.OUTBOUND,
                                  Message.id > self.seen).order_by(Message.id)))
        if replies:
            self.seen = replies[-1].id
        return replies

    @property
    def contact(self) -> Contact:
        pseudonym = services().vault.pseudonym("simulator", self.tab)
        db.session.expire_all()
        return db.session.scalars(select(Contact).where(Contact.pseudonym == pseudonym)).one()

    @property
    def cases(self) -> list[Case]:
        return list(db.session.scalars(
            select(Case).where(Case.contact_id == self.contact.id).order_by(Case.id)))


@pytest.fixture
def person(app_context: None, simulate: Callable[..., TestResponse]) -> Callable[[str], Person]:
    return lambda tab="tab-person-a": Person(simulate, tab)


@pytest.fixture
def distribution_entry(app_context: None) -> None:
    """An approved information entry answering when the next distribution is."""
    officer = accounts.create_user(db.session, "officer@example.org",
                                   "a long enough password 1", Role.OFFICER, name="O")
    entry = info.save_entry(db.session, officer, None, {
        "code": "next_distribution", "answer_ar": "توزَّع السلال بين اليوم الأول والعاشر.",
        "answer_en": "Baskets are handed out between the 1st and the 10th.",
        "keywords": ["توزيع*", "سله*", "distribution"], "asks": ["when"]}, utcnow())
    info.approve(db.session, officer, entry, utcnow())


@pytest.fixture
def approved_entry(app_context: None) -> Callable[..., InfoEntry]:
    """Makes an approved information entry of the given fields, as an officer writes one."""
    def make(**fields: Any) -> InfoEntry:
        officer = accounts.find_user(db.session, "officer@example.org") or accounts.create_user(
            db.session, "officer@example.org", "a long enough password 1", Role.OFFICER,
            name="O")
        entry = info.save_entry(db.session, officer, None, fields, utcnow())
        info.approve(db.session, officer, entry, utcnow())
        return entry
    return make
