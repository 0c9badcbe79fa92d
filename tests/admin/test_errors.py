"""Console errors: a page in the reader's language for a browser, JSON for anything else."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from casework.models import User

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(user_id=user.id, session_version=user.session_version, totp_ok=True)
    return client


# (id, role, method, path, status, Arabic title, English title)
PAGES = [
    ("unknown-case", "officer", "GET", "/admin/cases/1234567", 404,
     "هذه الصفحة غير موجودة", "This page does not exist, or is not yours to see."),
    ("role-not-allowed", "viewer", "GET", "/admin/cases/new", 403,
     "لا تملك صلاحية", "You do not have access to this page."),
    ("expired-form", "officer", "POST", "/admin/cases/new", 400,
     "انتهت صلاحية هذا النموذج", "This form has expired."),
]


@pytest.mark.parametrize(("role", "method", "path", "status", "arabic", "english"),
                         [pytest.param(*row[1:], id=row[0]) for row in PAGES])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_a_browser_gets_a_page_in_its_language(
    app: Flask, make_user: Callable[..., User], role: str, method: str, path: str,
    status: int, arabic: str, english: str, lang: str,
) -> None:
    client = _client(app, make_user(role))  # CSRF stays on: the form below sends no token
    response = client.open(f"{path}?lang={lang}", method=method, headers=BROWSER,
                           data={"text": "نص"} if method == "POST" else None)
    page = response.get_data(as_text=True)
    assert response.status_code == status and response.mimetype == "text/html"
    assert f'data-status="{status}"' in page
    assert (arabic if lang == "ar" else english) in page
    assert ('dir="rtl"' in page) is (lang == "ar")
    assert "CSRF" not in page and '"detail"' not in page


@pytest.mark.parametrize("accept", [None, "application/json"], ids=["no-accept", "json"])
def test_anything_but_a_browser_still_gets_json(app: Flask, make_user: Callable[..., User],
                                                 accept: str | None) -> None:
    client = _client(app, make_user("officer"))
    headers = {"Accept": accept} if accept else {}
    response = client.get("/admin/cases/1234567", headers=headers)
    assert response.status_code == 404 and response.is_json
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize(("path", "accept", "page"), [
    pytest.param("/admin/no-such-page?lang=ar", BROWSER, True, id="console-address-browser"),
    pytest.param("/admin/no-such-page", {}, False, id="console-address-script"),
    pytest.param("/webhooks/no-such-hook", BROWSER, False, id="not-the-console"),
    pytest.param("/api/v1/no-such-route", BROWSER, False, id="api"),
])
def test_an_unknown_address(app: Flask, make_user: Callable[..., User], path: str,
                            accept: dict[str, str], page: bool) -> None:
    client = _client(app, make_user("officer"))
    response = client.get(path, headers=accept)
    assert response.status_code == 404
    assert response.is_json is not page
    if page:
        html = response.get_data(as_text=True)
        assert "هذه الصفحة غير موجودة" in html and 'dir="rtl"' in html
        assert 'href="/admin/">' in html  # signed in: back to the console, not to sign-in
