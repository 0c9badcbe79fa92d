"""Accessibility (WCAG 2.1 A and AA) of the simulator and the console, checked with axe-core.

One application serves the whole module: the demo data (staff of every role, information
entries, cases spread over weeks), plus a case with a note and a referral, and a programme
project. Each test opens one page in Arabic or English, as the role that uses it — some then
send its form so that it is refused, and check the page shown with the errors — and fails on
any violation axe rates "serious" or "critical" under the WCAG 2.0/2.1 A and AA rules, listing
each one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from app import create_app
from casework import cases, demo, programme
from casework.models import Case, CaseStatus, InfoEntry, Role, User, utcnow
from config.settings import load_settings
from extensions import db
from services import services
from tests.browser.conftest import EXPECT_TIMEOUT_MS, serving

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "correct horse battery"
# Demo users who sign in with a wrong code (the names before the @): one with the
# authenticator app set up, one who still has to set it up. Two wrong codes, one per language,
# do not lock an account; the focal point's session cookie does not depend on the app.
ENROLLED, NOT_ENROLLED = "psea", "focal"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"
COMPLAINT = {"ar": "لم أستلم السلة الغذائية هذا الشهر",
             "en": "I did not receive my food basket this month"}
REFERENCE = re.compile(r"\b\d{7}\b")
WEB_PAGE = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 64
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64

axe = Axe()


@dataclass(frozen=True)
class Site:
    base: str
    reference: str  # a case with messages, a note and a referral
    project: int  # a programme project, without a strategy document
    entry: int  # an information entry
    cookies: dict[str, dict[str, Any]]  # a signed-in session cookie per role


# --- refused forms: each sends the page's form so that it is refused, and waits for the page
# that says why -------------------------------------------------------------------------------

def _wrong_password(page: Page) -> None:
    page.locator("#email").fill("nobody@example.org")
    page.locator("#password").fill("not the password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main p.flash.error")).to_have_count(1)
    expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).not_to_be_empty()


def _wrong_code(name: str) -> Callable[[Page], None]:
    """Sign in as the demo user ``name`` with the right password and a wrong code."""
    def refuse(page: Page) -> None:
        page.locator("#email").fill(f"{name}@{demo.DEMO_DOMAIN}")
        page.locator("#password").fill(PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.locator("#code").fill("000000")
        page.locator("main form button[type=submit]").click()
        expect(page.locator("#code")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#code-error")).not_to_be_empty()
    return refuse


def _wrong_current_password(page: Page) -> None:
    """One wrong guess per language: the officer's account is not locked by them."""
    page.locator("#current").fill("not the password")
    page.locator("#new").fill("a long new passphrase")
    page.locator("#repeated").fill("a long new passphrase")
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("main p.flash.error")).to_have_count(1)
    expect(page.locator("#current")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#current-error")).not_to_be_empty()


def _empty_reply(page: Page) -> None:
    page.locator("#reply_body").fill("   ")  # passes the browser's check, not the server's
    page.locator("#reply button[type=submit]").click()
    expect(page.locator("#reply_body")).to_have_attribute("aria-invalid", "true")


def _refused_file(field: str, name: str, content: bytes) -> Callable[[Page], None]:
    """Choose a file the form refuses and send it; the field comes back marked."""
    def refuse(page: Page) -> None:
        control = page.locator(f"#{field}")
        control.set_input_files({"name": name, "mimeType": "application/octet-stream",
                                 "buffer": content})
        control.locator("xpath=ancestor::form").locator("button[type=submit]").click()
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field}-error")).not_to_be_empty()
    return refuse


def _expired_recording(page: Page) -> None:
    """Send the recorded answer's form with a token its session does not match, as a page left
    open past its session does."""
    form = page.locator("#recording form")
    form.locator("input[name=csrf_token]").evaluate("input => { input.value = 'expired'; }")
    page.locator("#entry-audio").set_input_files({"name": "answer.mp3", "mimeType": "audio/mpeg",
                                                  "buffer": MP3})
    form.locator("button[type=submit]").click()
    expect(page.locator("#entry-audio")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#entry-audio-error")).not_to_be_empty()


@dataclass(frozen=True)
class Target:
    """A page to check: its path (``{reference}`` is the seeded case) and who opens it."""

    path: str
    role: str | None = None  # None: signed out
    message: bool = False  # send a message on the simulator and wait for the bot's reply
    invalid: bool = False  # the page shows an error (it may answer 400)
    refuse: Callable[[Page], None] | None = None  # send the page's form so that it is refused


TARGETS = {
    "simulator-empty": Target("/simulator"),
    "simulator-reply": Target("/simulator", message=True),
    "sign-in": Target("/admin/login"),
    "queue": Target("/admin/queue", Role.OFFICER),
    "case": Target("/admin/cases/{reference}", Role.OFFICER),
    "new-case": Target("/admin/cases/new", Role.OFFICER),
    "dashboard": Target("/admin/dashboard", Role.OFFICER),
    "programme": Target("/admin/programme", Role.OFFICER),
    "information-entries": Target("/admin/info", Role.OFFICER),
    "information-entry": Target("/admin/info/new", Role.OFFICER),
    "programme-form": Target("/admin/programme/sessions/new", Role.OFFICER),
    "notifications": Target("/admin/notifications", Role.FOCAL_POINT),
    "audit-log": Target("/admin/audit", Role.ADMIN),
    # Fields with an error: marked aria-invalid and described by the error under them.
    "audit-log-invalid-date": Target("/admin/audit?date_from=2024-99-99", Role.ADMIN,
                                     invalid=True),
    "queue-invalid-filter": Target("/admin/queue?level=99", Role.OFFICER),
    "erasure-unknown-reference": Target("/admin/erasure?reference=1234567", Role.ADMIN),
    "staff-accounts": Target("/admin/users", Role.ADMIN),
    "account-password": Target("/admin/account/password", Role.OFFICER),
    "account-tokens": Target("/admin/tokens", Role.OFFICER),
    # Pages shown again after a refused form, the reason under the field.
    "sign-in-wrong-password": Target("/admin/login", refuse=_wrong_password),
    "sign-in-wrong-code": Target("/admin/login", refuse=_wrong_code(ENROLLED)),
    "sign-in-wrong-code-while-enrolling": Target("/admin/login",
                                                 refuse=_wrong_code(NOT_ENROLLED)),
    "account-password-wrong-current": Target("/admin/account/password", Role.OFFICER,
                                             refuse=_wrong_current_password),
    "case-refused-reply": Target("/admin/cases/{reference}", Role.OFFICER,
                                 refuse=_empty_reply),
    "case-refused-document": Target("/admin/cases/{reference}", Role.OFFICER,
                                    refuse=_refused_file("document-file", "setup.exe",
                                                         PROGRAM)),
    "project-refused-strategy": Target("/admin/programme/projects/{project}", Role.OFFICER,
                                       refuse=_refused_file("strategy-file", "plan.pdf",
                                                            WEB_PAGE)),
    "information-entry-refused-recording": Target("/admin/info/{entry}", Role.OFFICER,
                                                  refuse=_refused_file("entry-audio",
                                                                       "answer.mp3",
                                                                       WEB_PAGE)),
    "information-entry-expired-recording": Target("/admin/info/{entry}", Role.OFFICER,
                                                  refuse=_expired_recording),
}
LANGUAGES = ("ar", "en")
# Pages whose first stops of the Tab key are checked for a visible focus ring, with the number
# of stops: the top bar or header, then the page's own links and fields.
FOCUS_TARGETS = {"simulator-reply": 4, "sign-in": 7, "queue": 24, "case": 30}
MIN_CONTRAST = 3.0  # WCAG 1.4.11: focus rings and the borders of fields
FOCUSED = """() => {
    const element = document.activeElement;
    const background = (node) => {
        for (; node; node = node.parentElement) {
            const colour = getComputedStyle(node).backgroundColor;
            if (!/rgba\\(.*, 0\\)$|transparent/.test(colour)) return colour;
        }
        return "rgb(255, 255, 255)";
    };
    const style = getComputedStyle(element);
    return {
        html: element.outerHTML.slice(0, 80), tag: element.tagName.toLowerCase(),
        type: element.type || "", outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth), outline: style.outlineColor,
        border: style.borderTopColor, around: background(element.parentElement),
        inside: background(element),
    };
}"""


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One application with the demo data for every test of the module."""
    root = tmp_path_factory.mktemp("accessibility")
    settings = load_settings(
        sawti_env="test", sawti_instance_path=root / "instance",
        database_url=f"sqlite:///{root / 'test.db'}", secret_key="test-secret-key-" + "x" * 32,
        sawti_data_key="test-data-key-" + "y" * 32, sawti_org_name="صوتي", redis_url=None,
        sawti_send_backoff_seconds=1.0, sawti_send_rate={})
    app = create_app(settings)
    try:
        with app.app_context():
            db.create_all()
            reference = _seed(app)
            project = programme.save_project(db.session, None, None,
                                             {"name": "سلال الشتاء"}, utcnow()).id
            entry = db.session.scalars(select(InfoEntry.id).order_by(InfoEntry.id)).first()
            assert entry is not None
            cookies = {role: _session_cookie(app, role)
                       for role in (Role.OFFICER, Role.ADMIN, Role.FOCAL_POINT)}
            db.session.remove()
        with serving(app) as base:
            yield Site(base, reference, project, entry, cookies)
    finally:
        app.extensions["sawti"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def a11y_context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP)
    opened.set_default_timeout(EXPECT_TIMEOUT_MS)
    try:
        yield opened
    finally:
        opened.close()


# --- helpers --------------------------------------------------------------------------------

def _seed(app: Flask) -> str:
    """The demo data, a note and a referral on an open case, and the PSEA user's authenticator
    set up; returns that case's reference."""
    svc = services()
    demo.load(db.session, vault=svc.vault, dialogue=svc.dialogue,
              entries_path=svc.settings.sawti_config_dir / "info_entries.yaml", password=PASSWORD)
    officer = _user(Role.OFFICER)
    focal = _user(Role.FOCAL_POINT)
    case = db.session.scalars(select(Case).where(Case.sensitive.is_(False),
                                                 Case.status != CaseStatus.CLOSED)
                              .order_by(Case.id)).first()
    assert case is not None
    now = utcnow()
    cases.add_note(db.session, officer, case, "اتصلت بفريق التوزيع، ينتظرون القائمة.", now)
    cases.refer(db.session, officer, case, focal, now + timedelta(days=3),
                "يرجى التحقق من القائمة وإبلاغنا.", now)
    enrolled = _user(Role.PSEA)
    enrolled.totp_secret_encrypted = svc.vault.encrypt(TOTP_SECRET)
    enrolled.totp_confirmed_at = now
    db.session.commit()
    return case.reference


def _user(role: str) -> User:
    user = db.session.scalars(select(User).where(User.role == role,
                                                 User.email.like(f"%@{demo.DEMO_DOMAIN}"))
                              ).first()
    assert user is not None
    return user


def _session_cookie(app: Flask, role: str) -> dict[str, Any]:
    """A signed-in session for the demo user of ``role``, as a browser cookie."""
    user = _user(role)
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    return {"name": name, "value": cookie.value}


def open_target(context: BrowserContext, site: Site, target: Target, lang: str) -> Page:
    if target.role is not None:
        context.add_cookies([{**site.cookies[target.role], "url": site.base}])
    page = context.new_page()
    path = target.path.format(reference=site.reference, project=site.project, entry=site.entry)
    separator = "&" if "?" in path else "?"
    response = page.goto(f"{site.base}{path}{separator}lang={lang}")
    assert response is not None and (response.ok or target.invalid), \
        (path, response and response.status)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    if target.role is not None:
        expect(page).to_have_url(re.compile(re.escape(path)))  # not sent to the sign-in page
    if target.message:
        page.locator("#text").fill(COMPLAINT[lang])
        page.locator("#composer button[type=submit]").click()
        expect(page.locator("li.theirs").filter(has_text=REFERENCE)).to_have_count(1)
    if target.refuse is not None:
        target.refuse(page)
        expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb()``/``rgba()`` colours (alpha ignored)."""
    def luminance(colour: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"[\d.]+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def describe(violation: dict[str, Any]) -> str:
    targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
    summary = violation["nodes"][0].get("failureSummary", "").replace("\n", " ")
    return (f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])} element(s)): "
            f"{violation['help']}\n    on: {targets}\n    {summary}")


# --- the test -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(TARGETS))
def test_page_has_no_serious_wcag_violation(name: str, lang: str, site: Site,
                                            a11y_context: BrowserContext,
                                            screenshots: Path) -> None:
    page = open_target(a11y_context, site, TARGETS[name], lang)
    results = axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    if failing:
        page.screenshot(path=str(screenshots / f"accessibility-{name}-{lang}.png"),
                        full_page=True)
    assert not failing, (f"{len(failing)} serious or critical WCAG violation(s) on {name} "
                         f"({lang}):\n" + "\n".join(describe(v) for v in failing))
    # A column of buttons still needs a header a screen reader can say (axe rates an empty
    # one a best practice, not a WCAG failure).
    empty_headers = page.locator("th").filter(has_not_text=re.compile(r"\S"))
    expect(empty_headers).to_have_count(0)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", list(FOCUS_TARGETS))
def test_keyboard_focus_is_visible(name: str, lang: str, site: Site,
                                   a11y_context: BrowserContext) -> None:
    """Each Tab stop shows a ring of at least 2 px in a colour that stands out (3:1) from what
    surrounds it, and a text field's border stands out from its background."""
    page = open_target(a11y_context, site, TARGETS[name], lang)
    page.locator("body").click(position={"x": 1, "y": 1})  # start from the top of the page
    page.evaluate("window.scrollTo(0, 0)")
    problems = []
    for _ in range(FOCUS_TARGETS[name]):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        ring = contrast(focused["outline"], focused["around"])
        if focused["outlineStyle"] == "none" or focused["outlineWidth"] < 2 or \
                ring < MIN_CONTRAST:
            problems.append(f"focus ring {focused['outlineStyle']} "
                            f"{focused['outlineWidth']}px, contrast {ring:.2f}: "
                            f"{focused['html']}")
        is_field = focused["tag"] in ("textarea", "select") or (
            focused["tag"] == "input" and focused["type"] not in ("checkbox", "radio", "file"))
        if is_field and contrast(focused["border"], focused["inside"]) < MIN_CONTRAST:
            problems.append(f"field border {focused['border']} on {focused['inside']}: "
                            f"{focused['html']}")
    assert not problems, f"{name} ({lang}):\n" + "\n".join(problems)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_skip_link_leads_past_the_top_bar(lang: str, site: Site,
                                          a11y_context: BrowserContext) -> None:
    """The console's first Tab stop shows a link that moves the keyboard into the page's own
    content, past the dozen links of the top bar."""
    page = open_target(a11y_context, site, TARGETS["queue"], lang)
    page.locator("body").click(position={"x": 1, "y": 1})
    skip = page.locator("a.skip-link")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content$"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
