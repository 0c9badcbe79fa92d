"""The console in a real browser, once in Arabic and once in English: an officer signs in with
password and authenticator code, finds a Telegram case in the queue, triages it, replies (the
dispatcher sends the reply to the fake Telegram Bot API), and closes it; the case page also
has to fit a phone's width.

Labels may not be translated yet, so the tests assert on structure, ids, ``dir``/``lang``,
references and the reply text; the few translated words checked (the status badge) are looked
up in the application's own catalogue for the page's language.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask_babel import gettext
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, expect
from sqlalchemy import select

from casework import accounts
from casework.models import Case, DeliveryStatus, Message, Role, utcnow
from extensions import db
from services import services
from tests.fakes import FakeTelegram, text_update

pytestmark = pytest.mark.browser

BOT_TOKEN = "123456:console-browser-token"
WEBHOOK_SECRET = "console-browser-webhook-secret-0123"
PUBLIC_URL = "https://crm.example.org/sawti"
PASSWORD = "correct horse battery"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
OFFICER_EMAIL = "officer@example.org"
COMPLAINT = "لم أستلم السلة الغذائية هذا الشهر"
TRIAGE_LEVEL = 2
TRIAGE_CATEGORY = "assistance_request"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SEND_TIMEOUT_SECONDS = 10.0
DIRECTIONS = {"ar": "rtl", "en": "ltr"}


@dataclass(frozen=True)
class Language:
    code: str
    chat_id: int
    reply: str
    resolution: str


LANGUAGES = [
    Language("ar", 5550101, "مرحباً، سيتواصل معك فريق التوزيع خلال يومين بخصوص السلة الغذائية.",
             "تم التواصل مع فريق التوزيع وتسليم السلة."),
    Language("en", 5550102, "Hello, the distribution team will contact you within two days "
             "about your food basket.", "The distribution team delivered the basket."),
]


@dataclass(frozen=True)
class Seeded:
    reference: str
    case_id: int
    chat_id: int


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake_telegram_server() -> Iterator[FakeTelegram]:
    with FakeTelegram(BOT_TOKEN) as server:
        yield server


@pytest.fixture
def fake_telegram(fake_telegram_server: FakeTelegram) -> FakeTelegram:
    fake_telegram_server.reset()
    return fake_telegram_server


@pytest.fixture
def settings_overrides(fake_telegram: FakeTelegram) -> dict[str, object]:
    return {
        "public_url": PUBLIC_URL,
        "telegram_bot_token": BOT_TOKEN,
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "telegram_api_url": fake_telegram.url,
        "sawti_provider_timeout_seconds": 2.0,
    }


@pytest.fixture(params=LANGUAGES, ids=[language.code for language in LANGUAGES])
def language(request: pytest.FixtureRequest) -> Language:
    return request.param


@pytest.fixture
def seeded(app: Flask, language: Language) -> Seeded:
    """A case opened by a Telegram message, and an officer enrolled with a known secret."""
    update = text_update(900 + language.chat_id % 100, language.chat_id, COMPLAINT)
    response = app.test_client().post("/webhooks/telegram", json=update,
                                      headers={"X-Telegram-Bot-Api-Secret-Token":
                                               WEBHOOK_SECRET})
    assert response.status_code == 200, response.get_data(as_text=True)
    with app.app_context():
        try:
            case = db.session.scalars(select(Case)).one()
            assert case.channel == "telegram"
            user = accounts.create_user(db.session, OFFICER_EMAIL, PASSWORD, Role.OFFICER,
                                        name="Officer")
            user.totp_secret_encrypted = services().vault.encrypt(TOTP_SECRET)
            user.totp_confirmed_at = utcnow()
            db.session.commit()
            return Seeded(case.reference, case.id, language.chat_id)
        finally:
            db.session.remove()


@pytest.fixture(autouse=True)
def no_browser_errors(context: BrowserContext) -> Iterator[None]:
    """Script errors, console errors (a CSP violation is one) and 5xx answers fail the test."""
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(f"script error: {error.error}"))

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not is_missing_favicon(message):
            errors.append(f"console error: {message.text} at {message.location}")

    def on_response(response: Response) -> None:
        if response.status >= 500:
            errors.append(f"HTTP {response.status} for {response.request.method} "
                          f"{response.url}")

    context.on("console", on_console)
    context.on("response", on_response)
    yield
    assert not errors, f"the browser saw errors: {errors}"


@pytest.fixture
def phone_contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts the test opens for phone-sized checks; closed at the end."""
    opened: list[BrowserContext] = []
    yield opened
    for phone_context in opened:
        phone_context.close()


# --- helpers --------------------------------------------------------------------------------

def is_missing_favicon(message: ConsoleMessage) -> bool:
    """Chromium asks for /favicon.ico on its own; the console has none, which is harmless."""
    return message.location.get("url", "").endswith("/favicon.ico")


def expect_language(page: Page, lang: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("dir", DIRECTIONS[lang])
    expect(html).to_have_attribute("lang", lang)


def translated(app: Flask, lang: str, text: str) -> str:
    """``text`` as the application's catalogue gives it in ``lang`` (translated or not)."""
    with app.test_request_context(f"/?lang={lang}"):
        return str(gettext(text))


def level_label(app: Flask, lang: str, level: int) -> str:
    with app.app_context():
        found = services().org_data.grid.get(level)
        assert found is not None
        return f"{found.level} — {found.name(lang)}"


def sent_to(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [sent for sent in fake.sent_messages()
            if sent["method"].lower() == "sendmessage" and str(sent["chat_id"]) == str(chat_id)]


def wait_until_sent(fake: FakeTelegram, chat_id: int, text: str) -> list[dict[str, Any]]:
    """Poll the fake until a sendMessage with exactly ``text`` reached the chat."""
    deadline = time.monotonic() + SEND_TIMEOUT_SECONDS
    while True:
        matching = [sent for sent in sent_to(fake, chat_id) if sent["text"] == text]
        if matching or time.monotonic() > deadline:
            return matching
        time.sleep(0.1)


def reply_status(app: Flask, case_id: int, text: str) -> str | None:
    with app.app_context():
        try:
            return db.session.scalar(select(Message.status).where(
                Message.case_id == case_id, Message.direction == "out", Message.body == text))
        finally:
            db.session.remove()


def wait_for_status(app: Flask, case_id: int, text: str, wanted: str) -> str | None:
    deadline = time.monotonic() + SEND_TIMEOUT_SECONDS
    while True:
        status = reply_status(app, case_id, text)
        if status == wanted or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def case_state(app: Flask, case_id: int) -> tuple[str, int | None, str | None, str | None]:
    with app.app_context():
        try:
            case = db.session.get(Case, case_id)
            assert case is not None
            return case.status, case.level, case.category, case.resolution
        finally:
            db.session.remove()


def sign_in(page: Page, base: str, lang: str) -> None:
    page.goto(f"{base}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?"))
    expect_language(page, "ar")  # the console opens in Arabic
    if lang != "ar":
        page.locator("nav.langs a[hreflang=en]").click()
        # The page's own query (where to go after signing in) is kept; only the language changes.
        expect(page).to_have_url(re.compile(r"/admin/login\?next=%2Fadmin%2F%3F&lang=en$"))
        expect_language(page, lang)
    page.locator("#email").fill(OFFICER_EMAIL)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/admin/login/code$"))
    expect_language(page, lang)
    page.locator("#code").fill(pyotp.TOTP(TOTP_SECRET).now())
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/admin/queue$"))
    expect_language(page, lang)


def fits_the_width(page: Page) -> dict[str, int]:
    return page.evaluate("""() => ({
        scrollWidth: document.documentElement.scrollWidth,
        bodyScrollWidth: document.body.scrollWidth,
        innerWidth: window.innerWidth,
    })""")


# --- the test -------------------------------------------------------------------------------

def test_officer_signs_in_triages_replies_and_closes(
    language: Language, seeded: Seeded, live_server: str, app: Flask, browser: Browser,
    context: BrowserContext, page: Page, fake_telegram: FakeTelegram, screenshots: Path,
    phone_contexts: list[BrowserContext],
) -> None:
    lang, reference = language.code, seeded.reference
    page.set_viewport_size(DESKTOP)

    # Sign in: password, then the authenticator code; the queue lists the Telegram case.
    sign_in(page, live_server, lang)
    row = page.locator("table.queue tbody tr", has=page.locator("td.ref", has_text=reference))
    expect(row).to_have_count(1)
    link = row.locator("td.ref a")
    expect(link).to_have_text(reference)
    expect(link).to_have_attribute("href", f"/admin/cases/{reference}")
    page.screenshot(path=str(screenshots / f"console-queue-{lang}.png"), full_page=True)

    # Open the case and triage it.
    link.click()
    expect(page).to_have_url(re.compile(rf"/admin/cases/{reference}$"))
    expect_language(page, lang)
    header = page.locator("section.case-header")
    expect(header.locator("h1")).to_contain_text(reference)
    expect(header.locator("h1 .badge.status-new")).to_have_count(1)
    expect(page.locator("li.tl-in .bubble", has_text=COMPLAINT)).to_have_count(1)

    triage = page.locator("section#triage form")
    triage.locator("select#level").select_option(str(TRIAGE_LEVEL))
    triage.locator("select#category").select_option(TRIAGE_CATEGORY)
    triage.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/admin/cases/{reference}#triage$"))
    expect(page.locator("p.flash.info")).to_have_count(1)
    facts = header.locator("dl.case-facts dd")
    expect(facts.first).to_have_text(level_label(app, lang, TRIAGE_LEVEL))
    expect(header.locator("h1 .badge.status-open")).to_have_count(1)
    expect(page.locator("section#triage select#level")).to_have_value(str(TRIAGE_LEVEL))
    expect(page.locator("section#triage select#category")).to_have_value(TRIAGE_CATEGORY)
    expect(page.locator('li.tl-event[data-action="case.triaged"]')).to_have_count(1)
    assert case_state(app, seeded.case_id)[1:3] == (TRIAGE_LEVEL, TRIAGE_CATEGORY)

    # Reply: the dispatcher sends it to the person's Telegram chat.
    expect(page.locator("section#reply p.deliverability")).to_have_attribute("data-reason", "ok")
    page.locator("textarea#reply_body").fill(language.reply)
    page.locator("section#reply form[method=post] button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/admin/cases/{reference}#reply$"))
    expect(page.locator("p.flash.info")).to_have_count(1)
    expect(page.locator("textarea#reply_body")).to_have_value("")

    delivered = wait_until_sent(fake_telegram, seeded.chat_id, language.reply)
    assert len(delivered) == 1, ("the reply did not reach Telegram; sent to the chat: "
                                 f"{sent_to(fake_telegram, seeded.chat_id)}")
    assert wait_for_status(app, seeded.case_id, language.reply,
                           DeliveryStatus.SENT) == DeliveryStatus.SENT

    page.reload()
    expect_language(page, lang)
    reply_item = page.locator("li.tl-out").filter(
        has=page.locator(".bubble", has_text=language.reply))
    expect(reply_item).to_have_count(1)
    expect(reply_item.locator(".bubble")).to_have_text(language.reply)
    expect(reply_item.locator(".badge.delivery")).to_have_attribute("data-status",
                                                                     DeliveryStatus.SENT)
    page.screenshot(path=str(screenshots / f"console-case-{lang}.png"), full_page=True)

    # Close the case with a resolution.
    close = page.locator("section#close form")
    close.locator("textarea#resolution").fill(language.resolution)
    close.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"/admin/cases/{reference}#close$"))
    expect(page.locator("p.flash.info")).to_have_count(1)
    status = header.locator("h1 .badge.status-closed")
    expect(status).to_have_text(translated(app, lang, "Closed"))
    expect(header.locator(".case-resolution .bubble")).to_have_text(language.resolution)
    expect(page.locator("section#close")).to_have_count(0)
    expect(page.locator("section#reopen")).to_have_count(1)
    assert case_state(app, seeded.case_id) == ("closed", TRIAGE_LEVEL, TRIAGE_CATEGORY,
                                               language.resolution)

    # The same case page on a phone: nothing wider than the screen.
    phone = browser.new_context(storage_state=context.storage_state(), viewport=PHONE,
                                is_mobile=True, has_touch=True, device_scale_factor=2)
    phone_contexts.append(phone)
    phone_errors: list[str] = []
    phone.on("weberror", lambda error: phone_errors.append(str(error.error)))
    phone.on("console", lambda message: phone_errors.append(message.text)
             if message.type == "error" and not is_missing_favicon(message) else None)
    phone_page = phone.new_page()
    phone_page.goto(f"{live_server}/admin/cases/{reference}")
    expect(phone_page).to_have_url(re.compile(rf"/admin/cases/{reference}$"))
    expect_language(phone_page, lang)
    expect(phone_page.locator("section.case-header h1 .badge.status-closed")).to_have_count(1)
    widths = fits_the_width(phone_page)
    assert widths["innerWidth"] == PHONE["width"], widths  # not zoomed out to fit
    assert widths["scrollWidth"] <= widths["innerWidth"] + 1, widths
    assert widths["bodyScrollWidth"] <= widths["innerWidth"] + 1, widths
    phone_page.screenshot(path=str(screenshots / f"console-case-phone-{lang}.png"),
                          full_page=True)
    assert not phone_errors, f"the phone page saw errors: {phone_errors}"

    # Telegram got the acknowledgement and the reply, and nothing was sent twice.
    texts = [sent["text"] for sent in sent_to(fake_telegram, seeded.chat_id)]
    assert texts.count(language.reply) == 1
    assert any(reference in text for text in texts), texts
