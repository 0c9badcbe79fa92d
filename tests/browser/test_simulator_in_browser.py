"""The web simulator in a real browser: the page posts to the webhook, the bot answers through
the outbox, the dispatcher "sends" the reply and the page's polling shows it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import func, select

from casework.models import Case, Contact, Direction
from extensions import db

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"\b\d{7}\b")
ARABIC_COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"
ENGLISH_COMPLAINT = "I did not receive my food basket this month"
EXPECT_TIMEOUT_MS = 10_000


@pytest.fixture(autouse=True)
def no_page_errors(context: BrowserContext) -> Iterator[None]:
    """Any uncaught script error on any page of the test fails it."""
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    yield
    assert not errors, f"the page raised script errors: {errors}"


def send(page: Page, text: str) -> None:
    page.locator("#text").fill(text)
    page.locator("#composer button[type=submit]").click()
    expect(page.locator("li.mine").last).to_have_text(text)
    expect(page.locator("#text")).to_have_value("")


def wait_for_ack(page: Page, phrase: str) -> str:
    """Wait for the one reply that holds ``phrase`` and a reference; return the reference."""
    reply = page.locator("li.theirs").filter(has_text=REFERENCE).filter(has_text=phrase)
    expect(reply).to_have_count(1, timeout=EXPECT_TIMEOUT_MS)
    match = REFERENCE.search(reply.inner_text())
    assert match is not None
    expect(page.locator("li.error")).to_have_count(0)
    return match.group()


def cases(app: Flask) -> list[tuple[str, str | None, str | None]]:
    """(reference, first message's direction, first message's body) of every case."""
    with app.app_context():
        try:
            found = db.session.scalars(select(Case).order_by(Case.id)).all()
            return [(case.reference,
                     case.messages[0].direction if case.messages else None,
                     case.messages[0].body if case.messages else None) for case in found]
        finally:
            db.session.remove()


def contact_count(app: Flask) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Contact)) or 0
        finally:
            db.session.remove()


def test_arabic_complaint_gets_a_reference(live_server: str, page: Page, app: Flask,
                                           screenshots: Path) -> None:
    page.goto(f"{live_server}/simulator")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page.locator("#composer button[type=submit]")).to_have_text("إرسال")

    send(page, ARABIC_COMPLAINT)
    reference = wait_for_ack(page, "شكراً لتواصلك")
    page.screenshot(path=str(screenshots / "simulator-ar.png"), full_page=True)

    assert cases(app) == [(reference, Direction.INBOUND, ARABIC_COMPLAINT)]


def test_english_page_and_reply(live_server: str, page: Page, app: Flask,
                                screenshots: Path) -> None:
    page.goto(f"{live_server}/simulator?lang=en")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "ltr")
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("#composer button[type=submit]")).to_have_text("Send")

    send(page, ENGLISH_COMPLAINT)
    reference = wait_for_ack(page, "Thank you for contacting")
    page.screenshot(path=str(screenshots / "simulator-en.png"), full_page=True)

    assert cases(app) == [(reference, Direction.INBOUND, ENGLISH_COMPLAINT)]


def test_each_tab_is_a_separate_person(live_server: str, context: BrowserContext,
                                       app: Flask) -> None:
    first, second = context.new_page(), context.new_page()
    for tab in (first, second):
        tab.goto(f"{live_server}/simulator")
    tab_ids = [tab.evaluate("sessionStorage.getItem('sawti-tab')") for tab in (first, second)]
    assert all(tab_ids) and tab_ids[0] != tab_ids[1]

    send(first, ARABIC_COMPLAINT)
    send(second, "المساعدة النقدية تأخرت شهرين")
    first_reference = wait_for_ack(first, "شكراً لتواصلك")
    second_reference = wait_for_ack(second, "شكراً لتواصلك")

    assert first_reference != second_reference
    # Each tab shows only its own conversation.
    expect(first.locator("li.mine")).to_have_count(1)
    expect(second.locator("li.mine")).to_have_count(1)
    expect(first.locator("li.theirs", has_text=second_reference)).to_have_count(0)
    expect(second.locator("li.theirs", has_text=first_reference)).to_have_count(0)

    assert contact_count(app) == 2
    assert sorted(reference for reference, _, _ in cases(app)) == sorted(
        [first_reference, second_reference])

