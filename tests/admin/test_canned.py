"""Canned responses: administrators list, create, edit and deactivate; only %(reference)s."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from admin.canned import fill, placeholder_error
from casework.models import AuditEvent, CannedResponse
from extensions import db

BODY_AR = "شكراً لتواصلكم. رقم حالتكم %(reference)s وسنرد خلال 15 يوماً."


@pytest.fixture
def admin(signed_in: Callable[..., FlaskClient]) -> FlaskClient:
    client = signed_in("admin")
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def item(app: Flask, app_context: None) -> CannedResponse:
    found = CannedResponse(title="إقرار", body_ar=BODY_AR, body_en="Your case is %(reference)s.",
                           active=True)
    db.session.add(found)
    db.session.commit()
    return found


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- who ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["officer", "psea", "focal_point", "viewer"])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/admin/canned"), ("post", "/admin/canned"), ("get", "/admin/canned/{id}"),
    ("post", "/admin/canned/{id}"), ("post", "/admin/canned/{id}/deactivate"),
], ids=["list", "create", "edit-form", "edit", "deactivate"])
def test_only_admins_manage_canned_responses(signed_in: Callable[..., FlaskClient],
                                             item: CannedResponse, role: str, method: str,
                                             path: str) -> None:
    client = signed_in(role)
    data = {"title": "x", "body_ar": "y"} if method == "post" else None
    response = getattr(client, method)(path.format(id=item.id), data=data)
    assert response.status_code == 403
    assert db.session.scalars(select(CannedResponse)).all() == [item] and item.active


def test_visitor_is_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/canned")
    assert response.status_code == 302 and "/admin/login" in response.location


# --- list, create, edit, deactivate -----------------------------------------------------------

def test_admin_lists_and_creates(admin: FlaskClient) -> None:
    assert "No canned responses yet" in admin.get("/admin/canned").get_data(as_text=True)
    response = admin.post("/admin/canned", data={"title": " متابعة ", "body_ar": BODY_AR,
                                                 "body_en": ""})
    assert response.status_code == 302 and response.location.endswith("/admin/canned")
    created = db.session.scalars(select(CannedResponse)).one()
    assert (created.title, created.body_ar, created.body_en, created.active) == (
        "متابعة", BODY_AR, "", True)
    page = admin.get("/admin/canned").get_data(as_text=True)
    assert "متابعة" in page and f"/admin/canned/{created.id}" in page
    assert "The canned response was added." in page
    event = db.session.scalars(select(AuditEvent)).all()[-1]
    assert event.action == "canned.created" and event.details == {"canned_id": created.id}
    assert event.actor == admin.user.email  # type: ignore[attr-defined]


def test_admin_edits(admin: FlaskClient, item: CannedResponse) -> None:
    form = admin.get(f"/admin/canned/{item.id}").get_data(as_text=True)
    assert "إقرار" in form and 'name="active"' in form and "checked" in form
    response = admin.post(f"/admin/canned/{item.id}", data={
        "title": "إقرار بالاستلام", "body_ar": BODY_AR, "body_en": "Case %(reference)s.",
        "active": "y"})
    assert response.status_code == 302
    assert (item.title, item.body_en, item.active) == ("إقرار بالاستلام", "Case %(reference)s.",
                                                       True)
    event = db.session.scalars(select(AuditEvent)).all()[-1]
    assert event.action == "canned.updated"
    assert event.details == {"canned_id": item.id, "changed": ["body_en", "title"],
                             "active": True}


def test_unticking_active_deactivates_and_ticking_reactivates(admin: FlaskClient,
                                                              item: CannedResponse) -> None:
    data = {"title": item.title, "body_ar": item.body_ar, "body_en": item.body_en}
    assert admin.post(f"/admin/canned/{item.id}", data=data).status_code == 302
    assert item.active is False
    assert admin.post(f"/admin/canned/{item.id}", data={**data, "active": "y"}).status_code == 302
    assert item.active is True


def test_admin_deactivates_from_the_list(admin: FlaskClient, item: CannedResponse) -> None:
    page = admin.get("/admin/canned").get_data(as_text=True)
    assert f'action="/admin/canned/{item.id}/deactivate"' in page
    response = admin.post(f"/admin/canned/{item.id}/deactivate")
    assert response.status_code == 302 and item.active is False
    assert _actions()[-1] == "canned.deactivated"
    page = admin.get("/admin/canned").get_data(as_text=True)
    assert "Inactive" in page and f'action="/admin/canned/{item.id}/deactivate"' not in page
    # Deactivating twice changes nothing more.
    admin.post(f"/admin/canned/{item.id}/deactivate")
    assert _actions().count("canned.deactivated") == 1
    assert db.session.scalars(select(CannedResponse)).all() == [item]  # never deleted


def test_unknown_response_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/canned/999").status_code == 404
    assert admin.post("/admin/canned/999/deactivate").status_code == 404


def test_deactivate_needs_the_csrf_token(app: Flask, admin: FlaskClient,
                                         item: CannedResponse) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin.post(f"/admin/canned/{item.id}/deactivate").status_code == 400
    assert item.active is True


def test_text_is_escaped(admin: FlaskClient) -> None:
    admin.post("/admin/canned", data={"title": "<script>alert(1)</script>",
                                      "body_ar": "<img src=x onerror=alert(1)>"})
    page = admin.get("/admin/canned").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page


# --- placeholders -----------------------------------------------------------------------------

@pytest.mark.parametrize(("label", "text", "error"), [
    ("reference", "حالتكم %(reference)s", None),
    ("reference-twice", "%(reference)s / %(reference)s", None),
    ("no-placeholder", "شكراً لكم", None),
    ("arabic-percent", "خصم ٥٠٪", None),
    ("escaped-percent", "50%% done, case %(reference)s", None),
    ("other-name", "مرحباً %(name)s", "Remove: %(name)s"),
    ("two-other-names", "%(name)s %(phone)s %(reference)s", "Remove: %(name)s %(phone)s"),
    ("positional", "case %s", "exactly as %(reference)s"),
    ("wrong-conversion", "case %(reference)d", "exactly as %(reference)s"),
    ("bare-percent", "50% done", "exactly as %(reference)s"),
    ("trailing-percent", "100%", "exactly as %(reference)s"),
    ("brace-format", "حالتك رقم {reference}", "in place of: {reference}"),
    ("double-braces", "case {{ref}} / {رقم}", "in place of: {{ref}} {رقم}"),
], ids=["reference", "reference-twice", "no-placeholder", "arabic-percent", "escaped-percent",
        "other-name", "two-other-names", "positional", "wrong-conversion", "bare-percent",
        "trailing-percent", "brace-format", "double-braces"])
def test_only_the_reference_placeholder_is_allowed(admin: FlaskClient, label: str, text: str,
                                                   error: str | None) -> None:
    with admin.application.test_request_context("/?lang=en"):
        found = _plain(placeholder_error(text))
        assert (found is None) == (error is None), label
        if error is not None:
            assert error in (found or ""), label
        else:
            assert "%" not in fill(text, "1234567").replace("٪", "").replace("50%", ""), label
    for field in ("body_ar", "body_en"):
        data = {"title": label, "body_ar": "نص", "body_en": "", field: text}
        response = admin.post("/admin/canned", data=data)
        expected = 302 if error is None else 400
        assert response.status_code == expected, (label, field)
        if error is not None:
            assert error in _plain(response.get_data(as_text=True).replace("&#39;", "'")), label
    count = len(db.session.scalars(select(CannedResponse)).all())
    assert count == (2 if error is None else 0)


def _plain(text: str | None) -> str | None:
    """Without the left-to-right isolates that keep a placeholder readable in Arabic."""
    return text.replace("\u2066", "").replace("\u2069", "") if text is not None else None


def test_the_placeholder_reads_left_to_right_in_arabic(admin: FlaskClient) -> None:
    page = admin.get("/admin/canned?lang=ar").get_data(as_text=True)
    assert "\u2066%(reference)s\u2069" in page


def test_fill_puts_the_reference_in(item: CannedResponse) -> None:
    assert fill(item.body_ar, "1234567") == (
        "شكراً لتواصلكم. رقم حالتكم 1234567 وسنرد خلال 15 يوماً.")
    assert fill("50%% — %(reference)s", "7654321") == "50% — 7654321"


@pytest.mark.parametrize(("label", "data", "message"), [
    ("no-title", {"title": "", "body_ar": "نص"}, "This field is required"),
    ("no-arabic", {"title": "x", "body_ar": "  "}, "This field is required"),
    ("title-too-long", {"title": "x" * 121, "body_ar": "نص"}, "120"),
    ("text-too-long", {"title": "x", "body_ar": "ن" * 4001}, "4000"),
], ids=["no-title", "no-arabic", "title-too-long", "text-too-long"])
def test_invalid_responses_are_refused(admin: FlaskClient, label: str, data: dict[str, str],
                                       message: str) -> None:
    response = admin.post("/admin/canned", data=data)
    assert response.status_code == 400 and message in response.get_data(as_text=True), label
    assert db.session.scalars(select(CannedResponse)).all() == []


@pytest.mark.parametrize(("data", "arabic"), [
    pytest.param({"title": "x" * 121, "body_ar": "نص"}, "لا يمكن أن يزيد النص على 120 حرفاً.",
                 id="title-too-long"),
    pytest.param({"title": "x", "body_ar": "ن" * 4001}, "لا يمكن أن يزيد النص على 4,000 حرف.",
                 id="text-too-long"),
])
def test_length_errors_are_in_arabic(admin: FlaskClient, data: dict[str, str],
                                     arabic: str) -> None:
    response = admin.post("/admin/canned?lang=ar", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and arabic in page
    assert "Field cannot be longer" not in page
    assert db.session.scalars(select(CannedResponse)).all() == []


@pytest.mark.parametrize(("body_ar", "shown"), [
    (BODY_AR, 'رقم حالتكم <bdi dir="ltr">%(reference)s</bdi> وسنرد'),
    ("%(reference)s <b>x</b> %(reference)s",
     '<bdi dir="ltr">%(reference)s</bdi> &lt;b&gt;x&lt;/b&gt; <bdi dir="ltr">%(reference)s</bdi>'),
    ("لا رقم هنا", "لا رقم هنا"),
], ids=["placeholder-isolated", "markup-escaped", "no-placeholder"])
def test_the_list_keeps_the_placeholder_left_to_right_in_arabic(
        admin: FlaskClient, item: CannedResponse, body_ar: str, shown: str) -> None:
    item.body_ar = body_ar
    db.session.commit()
    admin.set_cookie("lang", "ar")
    assert shown in admin.get("/admin/canned").get_data(as_text=True)
