"""The simulator webhook: verification, parsing, bad input, and the read-back endpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from casework.models import Case, Contact, Message
from channels.dispatcher import Dispatcher
from extensions import db

HEADERS = {"X-Sawti-Simulator": "1"}
GOOD = {"tab": "tab-12345678", "id": "m1", "text": "لم أستلم السلة"}


def _read_back(client: FlaskClient, tab: str, after: int = 0) -> list[dict]:
    response = client.get(f"/simulator/messages?after={after}", headers={"X-Sawti-Tab": tab})
    assert response.status_code == 200
    return response.json["messages"]


def _counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Contact.id))),
            db.session.scalar(select(func.count(Case.id))),
            db.session.scalar(select(func.count(Message.id))))


def test_the_longest_tab_and_id_are_stored(client: FlaskClient, app_context: None) -> None:
    response = client.post("/webhooks/simulator", headers=HEADERS,
                           json={**GOOD, "tab": "t" * 64, "id": "m" * 63})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert _counts()[0] == 1


@pytest.mark.parametrize(
    ("label", "kwargs", "status", "reason"),
    [
        ("no-verification-header", {"json": GOOD}, 403, "verified"),
        ("wrong-verification-header", {"json": GOOD, "headers": {"X-Sawti-Simulator": "yes"}},
         403, "verified"),
        ("invalid-utf8", {"data": b'{"tab": "\xff\xfe"}', "headers": HEADERS,
                          "content_type": "application/json"}, 400, "JSON object"),
        ("not-json", {"data": "text=hello", "headers": HEADERS,
                      "content_type": "application/x-www-form-urlencoded"}, 400, "JSON object"),
        ("json-array", {"json": [GOOD], "headers": HEADERS}, 400, "JSON object"),
        ("missing-tab", {"json": {"id": "m1", "text": "x"}, "headers": HEADERS}, 400, "'tab'"),
        ("short-tab", {"json": {**GOOD, "tab": "abc"}, "headers": HEADERS}, 400, "'tab'"),
        ("tab-with-markup", {"json": {**GOOD, "tab": "<script>alert(1)</script>"},
                             "headers": HEADERS}, 400, "'tab'"),
        ("missing-id", {"json": {"tab": GOOD["tab"], "text": "x"}, "headers": HEADERS},
         400, "'id'"),
        ("id-too-long", {"json": {**GOOD, "tab": "t" * 64, "id": "m" * 64}, "headers": HEADERS},
         400, "'id'"),
        ("text-not-string", {"json": {**GOOD, "text": 42}, "headers": HEADERS}, 400, "'text'"),
        ("text-null", {"json": {**GOOD, "text": None}, "headers": HEADERS}, 400, "'text'"),
        ("body-over-1mb", {"json": {**GOOD, "text": "ا" * 600_000}, "headers": HEADERS},
         413, ""),
    ],
)
def test_rejected_requests_store_nothing(client: FlaskClient, app_context: None, label: str,
                                         kwargs: dict, status: int, reason: str) -> None:
    response = client.post("/webhooks/simulator", **kwargs)
    assert response.status_code == status, label
    assert response.is_json and reason in response.json["detail"]
    assert _counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("label", "payload", "reply_kinds"),
    [
        ("empty-text", {"text": ""}, ["prompt"]),
        ("control-characters-only", {"text": "\x00\x01\x07"}, ["prompt"]),
        ("emoji-only", {"text": "😡😡😡"}, ["prompt"]),
        ("100kb-text", {"text": "ما وصلتني السلة " * 6500}, ["ack", "question"]),
        ("control-characters-inside", {"text": "ما\x00 وصلتني\x1b السلة"}, ["ack", "question"]),
        ("unknown-fields-ignored", {"text": "ما وصلتني السلة", "extra": {"x": 1}, "lang": "fr"},
         ["ack", "question"]),
        ("markup-kept-as-text", {"text": "<script>alert(1)</script>"}, ["ack", "question"]),
    ],
)
def test_odd_but_valid_messages_are_stored_and_answered(
    client: FlaskClient, dispatcher: Dispatcher, label: str, payload: dict,
    reply_kinds: list[str],
) -> None:
    body = {"tab": "tab-odd-input", "id": "m1", **payload}
    response = client.post("/webhooks/simulator", json=body, headers=HEADERS)
    assert response.status_code == 200, label
    dispatcher.run_once()
    replies = _read_back(client, "tab-odd-input")
    assert [reply["kind"] for reply in replies] == reply_kinds
    inbound = db.session.scalars(select(Message).where(Message.direction == "in")).one()
    assert "\x00" not in (inbound.body or "") and "\x1b" not in (inbound.body or "")


def test_replayed_delivery_creates_one_message_and_one_case(
    simulate: Callable[..., TestResponse], app_context: None,
) -> None:
    first = simulate("لم أستلم السلة", message_id="same")
    again = simulate("لم أستلم السلة", message_id="same")
    assert first.json == {"accepted": [{"duplicate": False}]}
    assert again.json == {"accepted": [{"duplicate": True}]}
    contacts, cases, messages = _counts()
    assert (contacts, cases) == (1, 1)
    assert messages == 3  # the inbound, the acknowledgement and the location question


def test_each_tab_is_a_separate_contact(simulate: Callable[..., TestResponse],
                                        app_context: None) -> None:
    simulate("مشكلة أولى", tab="tab-aaaaaaaa")
    simulate("مشكلة ثانية", tab="tab-bbbbbbbb")
    assert _counts()[:2] == (2, 2)


def test_read_back_shows_only_delivered_replies_of_that_tab(
    simulate: Callable[..., TestResponse], client: FlaskClient, dispatcher: Dispatcher,
) -> None:
    simulate("مشكلة", tab="tab-aaaaaaaa")
    assert _read_back(client, "tab-aaaaaaaa") == []
    dispatcher.run_once()
    mine = _read_back(client, "tab-aaaaaaaa")
    assert [m["kind"] for m in mine] == ["ack", "question"]
    assert _read_back(client, "tab-bbbbbbbb") == []
    after = _read_back(client, "tab-aaaaaaaa", after=mine[0]["id"])
    assert [m["kind"] for m in after] == ["question"]


@pytest.mark.parametrize(
    ("query", "tab"),
    [("", ""), ("?after=1", ""), ("?after=-1", "tab-x"), ("?after=abc", "tab-x")],
    ids=["nothing", "no-tab", "negative", "not-a-number"],
)
def test_read_back_rejects_bad_queries(client: FlaskClient, query: str, tab: str) -> None:
    response = client.get(f"/simulator/messages{query}", headers={"X-Sawti-Tab": tab})
    assert response.status_code == 400 and "X-Sawti-Tab" in response.json["detail"]


def test_simulator_page_is_arabic_rtl_by_default(client: FlaskClient) -> None:
    page = client.get("/simulator").get_data(as_text=True)
    assert 'dir="rtl"' in page and 'lang="ar"' in page and "محاكي صوتي" in page
    english = client.get("/simulator?lang=en").get_data(as_text=True)
    assert 'dir="ltr"' in english and "Sawti simulator" in english
    remembered = client.get("/simulator").get_data(as_text=True)  # the choice is kept
    assert 'dir="ltr"' in remembered


@pytest.mark.parametrize("settings_overrides", [{"sawti_simulator": False}])
def test_disabled_simulator_is_not_found(client: FlaskClient) -> None:
    assert client.get("/simulator").status_code == 404
    response = client.post("/webhooks/simulator", json=GOOD, headers=HEADERS)
    assert response.status_code == 404


def test_unknown_channel_path_is_not_found(client: FlaskClient) -> None:
    assert client.post("/webhooks/carrier-pigeon", json=GOOD).status_code == 404


def test_a_dialogue_bug_still_answers_the_webhook_and_keeps_the_message(
        simulate: Callable[..., TestResponse], app_context: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_step(turn: object) -> list:
        raise KeyError("a bug")

    monkeypatch.setattr("bot.conversation.step", broken_step)
    response = simulate("لم أستلم السلة الغذائية")
    assert response.status_code == 200 and response.json == {"accepted": [{"duplicate": False}]}
    [message] = db.session.scalars(select(Message)).all()
    assert message.body == "لم أستلم السلة الغذائية" and message.case is not None


@pytest.mark.parametrize(("settings_overrides", "language", "opening"), [
    pytest.param({}, "ckb", "سوپاس بۆ پەیوەندیکردنت بە صوتي.", id="kurdish-on"),
    pytest.param({"sawti_reply_languages": "ar,en"}, "ar", "شكراً لتواصلك مع صوتي.",
                 id="kurdish-off-arabic"),
])
def test_a_sorani_message_read_back_in_its_reply_language(
    simulate: Callable[..., TestResponse], client: FlaskClient, dispatcher: Dispatcher,
    settings_overrides: dict[str, object], language: str, opening: str,
) -> None:
    simulate("سڵاو، من هاوکاریم پێنەگەیشتووە بۆ ئەم مانگە", tab="tab-kurdish1")
    dispatcher.run_once()
    ack, question = _read_back(client, "tab-kurdish1")
    [case] = db.session.scalars(select(Case)).all()
    assert (ack["kind"], question["kind"]) == ("ack", "question")
    assert ack["language"] == question["language"] == case.language == language
    assert ack["body"].startswith(opening) and case.reference in ack["body"]
