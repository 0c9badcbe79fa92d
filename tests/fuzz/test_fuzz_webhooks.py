"""Every webhook body, fuzzed: never a 5xx, never an unhandled exception, and a refused request
(4xx) leaves the database exactly as it was; an accepted one leaves nothing half-written."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from casework.models import Direction, Message
from extensions import db
from services import services
from tests.fuzz.fuzz_helpers import (
    FUZZ_SETTINGS,
    answered,
    checked,
    example,
    post_telegram,
    post_twilio,
)
from tests.fuzz.fuzz_strategies import (
    VOICE_STEPS,
    json_values,
    simulator_bodies,
    telegram_updates,
    twilio_messaging_forms,
    twilio_status_forms,
    voice_hotline_forms,
    voice_step_forms,
)


@FUZZ_SETTINGS
@given(update=st.one_of(telegram_updates(), json_values), signed=st.booleans())
def test_telegram_updates(fuzz_client: FlaskClient, update: Any, signed: bool) -> None:
    example()
    response = checked(lambda: post_telegram(fuzz_client, update, signed=signed))
    assert response.status_code in ((200, 400) if signed else (403,))


@FUZZ_SETTINGS
@given(raw=st.one_of(st.binary(max_size=300),
                     st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_telegram_raw_bodies(fuzz_client: FlaskClient, raw: bytes) -> None:
    example()
    response = checked(lambda: post_telegram(fuzz_client, None, raw=raw))
    assert response.status_code in (200, 400)


@FUZZ_SETTINGS
@given(form=twilio_messaging_forms(), signed=st.booleans())
def test_twilio_messaging_forms(fuzz_client: FlaskClient, form: dict[str, str],
                                signed: bool) -> None:
    example()
    response = checked(lambda: post_twilio(fuzz_client, "/webhooks/twilio/messaging", form,
                                           signed=signed))
    assert response.status_code in ((200, 400) if signed else (403,))


def _sent_sids() -> list[str]:
    return list(db.session.scalars(select(Message.external_id).where(
        Message.direction == Direction.OUTBOUND, Message.external_id.is_not(None))))


@FUZZ_SETTINGS
@given(data=st.data(), signed=st.booleans())
def test_twilio_status_callbacks(fuzz_client: FlaskClient, data: st.DataObject,
                                 signed: bool) -> None:
    example()
    _ensure_sent_sms(fuzz_client)
    form = data.draw(twilio_status_forms(_sent_sids()))
    for path in ("/webhooks/twilio/status", "/webhooks/twilio/voice/message-status"):
        response = checked(lambda path=path: post_twilio(fuzz_client, path, form, signed=signed))
        assert response.status_code in ((204, 400) if signed else (403,))


@FUZZ_SETTINGS
@given(form=voice_hotline_forms(), signed=st.booleans())
def test_voice_hotline(fuzz_client: FlaskClient, form: dict[str, str], signed: bool) -> None:
    example()
    response = checked(lambda: post_twilio(fuzz_client, "/webhooks/twilio/voice", form,
                                           signed=signed))
    assert response.status_code in ((200, 400) if signed else (403,))
    if response.status_code == 200:
        assert 'Reject reason="busy"' in response.get_data(as_text=True)


@FUZZ_SETTINGS
@given(step=st.sampled_from(VOICE_STEPS), form=voice_step_forms(),
       tries=st.sampled_from(["", "0", "1", "2", "-1", "99", "x", "%C3%A9"]),
       token_ok=st.booleans())
def test_voice_call_steps(fuzz_client: FlaskClient, step: str, form: dict[str, str],
                          tries: str, token_ok: bool) -> None:
    example()
    token = _callback_token(fuzz_client) if token_ok else "not-a-token"
    path = f"/webhooks/twilio/voice/call/{token}/{step}"
    query = f"tries={tries}" if tries else ""
    response = checked(lambda: post_twilio(fuzz_client, path, form, query=query))
    assert response.status_code in ((200, 204, 400) if token_ok else (404,))


@FUZZ_SETTINGS
@given(body=simulator_bodies())
def test_simulator_json(fuzz_client: FlaskClient, body: Any) -> None:
    example()
    response = checked(lambda: answered(fuzz_client.post(
        "/webhooks/simulator", data=json.dumps(body), content_type="application/json",
        headers={"X-Sawti-Simulator": "1"})))
    assert response.status_code in (200, 400)


def _ensure_sent_sms(client: FlaskClient) -> None:
    """An acknowledged SMS whose reply the provider accepted (so callbacks find it)."""
    if _sent_sids():
        return
    post_twilio(client, "/webhooks/twilio/messaging", {
        "MessageSid": "SM" + "e" * 32, "From": "+963944000333", "To": "+15005550006",
        "Body": "لم أستلم السلة"})
    db.session.rollback()
    for number, message in enumerate(db.session.scalars(select(Message).where(
            Message.direction == Direction.OUTBOUND))):
        message.status, message.external_id = "sent", f"SM{number:032d}"
    db.session.commit()


def _callback_token(client: FlaskClient) -> str:
    """A signed token naming a queued call-back (what the calls' URLs carry)."""
    db.session.rollback()
    callback = db.session.scalars(select(Message).where(Message.kind == "callback")).first()
    if callback is None:
        post_twilio(client, "/webhooks/twilio/voice", {
            "CallSid": "CA" + "f" * 32, "From": "+963944000444", "To": "+15005550007"})
        db.session.rollback()
        callback = db.session.scalars(select(Message).where(Message.kind == "callback")).one()
    return services().adapters["voice"]._calls.dumps(callback.id)  # type: ignore[attr-defined]
