"""Self-tests: the real python-telegram-bot and twilio clients against the fakes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import telegram
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from . import (
    FakeTelegram,
    FakeTwilio,
    audio_update,
    channel_post_update,
    document_update,
    edited_text_update,
    group_text_update,
    location_update,
    messaging_form,
    new_sid,
    photo_update,
    signed_form,
    start_update,
    status_form,
    text_update,
    voice_update,
)

TOKEN = "123456:AAH-test_token"
SID = "AC" + "f" * 32
AUTH_TOKEN = "twilio-test-auth-token"
ARABIC = "شكراً لتواصلكم، سنرد عليكم قريباً"


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


# -- Telegram ----------------------------------------------------------------------------------


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


def run_bot(fake: FakeTelegram, scenario: Callable[[telegram.Bot], Coroutine[Any, Any, Any]],
            *, token: str = TOKEN, read_timeout: float = 5.0) -> Any:
    """Run `scenario(bot)` against the fake; the bot is always shut down afterwards."""
    async def main() -> Any:
        bot = telegram.Bot(token, base_url=f"{fake.url}/bot",
                           base_file_url=f"{fake.url}/file/bot",
                           request=HTTPXRequest(read_timeout=read_timeout))
        try:
            return await scenario(bot)
        finally:
            await bot.shutdown()
    return asyncio.run(main())


def test_get_me(tg: FakeTelegram) -> None:
    me = run_bot(tg, lambda bot: bot.get_me())
    assert (me.id, me.is_bot, me.username, me.first_name) == (1000, True, "sawti_bot", "Sawti")
    assert tg.requests[0].path == f"/bot{TOKEN}/getMe"


def test_send_message_is_form_encoded_with_json_values(tg: FakeTelegram) -> None:
    async def scenario(bot: telegram.Bot) -> list[telegram.Message]:
        markup = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("نعم", callback_data="yes")]])
        return [await bot.send_message(42, ARABIC, reply_markup=markup),
                await bot.send_message(-100123, "second")]

    first, second = run_bot(tg, scenario)
    assert (first.text, first.chat.id, first.from_user.id) == (ARABIC, 42, 1000)
    assert first.message_id == second.message_id == 1  # each chat numbers its own, as Telegram
    assert isinstance(first.date, datetime)
    sent = tg.sent_messages()
    assert [(m["method"], m["chat_id"], m["text"]) for m in sent] == [
        ("sendMessage", 42, ARABIC), ("sendMessage", -100123, "second")]
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    # PTB 22.8: form-urlencoded, strings raw, everything else JSON-dumped.
    recorded = tg.requests_to("sendMessage")[0]
    assert recorded.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert recorded.form["chat_id"] == "42" and recorded.json is None


def test_fake_also_accepts_json_bodies_and_rejects_unknown_methods(tg: FakeTelegram) -> None:
    ok = requests.post(f"{tg.url}/bot{TOKEN}/sendMessage",
                       json={"chat_id": 7, "text": "hi"}, timeout=5)
    assert ok.json()["result"]["chat"] == {"id": 7, "type": "private"}
    missing = requests.post(f"{tg.url}/bot{TOKEN}/sendCarrierPigeon", timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


def test_send_voice_upload_then_get_file_and_download(tg: FakeTelegram) -> None:
    audio = b"OggS\x00\x02" + bytes(range(256))

    async def scenario(bot: telegram.Bot) -> tuple[telegram.Message, bytearray]:
        message = await bot.send_voice(42, voice=audio, duration=3, caption="رد صوتي")
        file = await bot.get_file(message.voice.file_id)
        return message, await file.download_as_bytearray()

    message, downloaded = run_bot(tg, scenario)
    assert bytes(downloaded) == audio
    assert message.voice.file_size == len(audio)
    assert tg.requests_to("sendVoice")[0].headers["Content-Type"].startswith(
        "multipart/form-data")
    assert tg.requests_to("sendVoice")[0].files == {"voice": audio}
    (sent,) = tg.sent_messages()
    assert (sent["method"], sent["chat_id"], sent["voice"], sent["duration"]) == (
        "sendVoice", 42, audio, 3)


def test_registered_file_download(tg: FakeTelegram) -> None:
    tg.add_file("AwACvoice", b"voice-bytes", "voice/file_1.oga")

    async def scenario(bot: telegram.Bot) -> tuple[telegram.File, bytearray]:
        file = await bot.get_file("AwACvoice")
        return file, await file.download_as_bytearray()

    file, content = run_bot(tg, scenario)
    assert file.file_path == f"{tg.url}/file/bot{TOKEN}/voice/file_1.oga"
    assert (file.file_size, bytes(content)) == (11, b"voice-bytes")
    assert requests.get(f"{tg.url}/file/bot{TOKEN}/voice/nope.oga", timeout=5).status_code == 404
    with pytest.raises(BadRequest, match="Invalid file_id"):
        run_bot(tg, lambda bot: bot.get_file("unknown"))


def test_webhook_methods(tg: FakeTelegram) -> None:
    async def scenario(bot: telegram.Bot) -> telegram.WebhookInfo:
        assert await bot.set_webhook("https://sawti.example/telegram/webhook",
                                     secret_token="s3cret",
                                     allowed_updates=["message", "edited_message"])
        return await bot.get_webhook_info()

    info = run_bot(tg, scenario)
    assert tg.webhook == {"url": "https://sawti.example/telegram/webhook",
                          "secret_token": "s3cret",
                          "allowed_updates": ["message", "edited_message"]}
    assert info.url == "https://sawti.example/telegram/webhook"
    assert run_bot(tg, lambda bot: bot.delete_webhook()) is True
    assert tg.webhook == {}


def test_wrong_token_is_invalid_token(tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match="Unauthorized"):
        run_bot(tg, lambda bot: bot.send_message(42, "x"), token="999:wrong")


def test_blocked_bad_request_and_server_error(tg: FakeTelegram) -> None:
    tg.block_next()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        run_bot(tg, lambda bot: bot.send_message(42, "x"))
    tg.error_next(400)
    with pytest.raises(BadRequest, match="Chat not found"):  # PTB strips "Bad Request: "
        run_bot(tg, lambda bot: bot.send_message(42, "x"))
    tg.error_next(500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        run_bot(tg, lambda bot: bot.send_message(42, "x"))
    assert tg.sent_messages() == []
    run_bot(tg, lambda bot: bot.send_message(42, "x"))  # failures are used up
    assert len(tg.sent_messages()) == 1


def test_retry_after_as_timedelta(tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.rate_limit_next()
    with pytest.raises(RetryAfter) as caught:
        run_bot(tg, lambda bot: bot.send_message(42, "x"))
    assert caught.value.retry_after == timedelta(seconds=7)


def test_retry_after_without_ptb_timedelta_warns(tg: FakeTelegram,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Without PTB_TIMEDELTA, RetryAfter.__init__ itself emits PTBDeprecationWarning - under
    # filterwarnings=error that warning, not RetryAfter, is what the caller sees.
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    tg.rate_limit_next(retry_after=3)
    with pytest.warns(PTBDeprecationWarning):
        with pytest.raises(RetryAfter) as caught:
            run_bot(tg, lambda bot: bot.send_message(42, "x"))
        assert caught.value.retry_after == 3


def test_fail_next_match_only_hits_matching_path(tg: FakeTelegram) -> None:
    tg.error_next(500, match="sendVoice")
    run_bot(tg, lambda bot: bot.send_message(42, "fine"))
    with pytest.raises(NetworkError):
        run_bot(tg, lambda bot: bot.send_voice(42, voice=b"OggS"))
    assert [m["method"] for m in tg.sent_messages()] == ["sendMessage"]


def test_telegram_timeout(tg: FakeTelegram) -> None:
    tg.timeout_next(2.0)
    with pytest.raises(TimedOut):
        run_bot(tg, lambda bot: bot.send_message(42, "slow"), read_timeout=0.3)
    assert tg.sent_messages() == []


def test_telegram_timeout_then_deliver(tg: FakeTelegram) -> None:
    tg.timeout_next(0.6, then_deliver=True)
    with pytest.raises(TimedOut):
        run_bot(tg, lambda bot: bot.send_message(42, "late"), read_timeout=0.2)
    wait_until(lambda: len(tg.sent_messages()) == 1)


def test_reset(tg: FakeTelegram) -> None:
    tg.block_next()
    requests.get(f"{tg.url}/bot{TOKEN}/getMe", timeout=5)
    tg.reset()
    assert tg.requests == [] and tg.sent_messages() == []
    run_bot(tg, lambda bot: bot.send_message(42, "x"))  # the 403 was forgotten


@pytest.mark.parametrize("data, check", [
    (text_update(1, 42, "مرحبا"), lambda u: u.message.text == "مرحبا"),
    (start_update(2, 42), lambda u: u.message.text == "/start"
     and u.message.entities[0].type == "bot_command"),
    (start_update(3, 42, "camp7"), lambda u: u.message.text == "/start camp7"),
    (voice_update(4, 42), lambda u: u.message.voice.mime_type == "audio/ogg"),
    (audio_update(5, 42), lambda u: u.message.audio.file_name == "recording.mp3"),
    (photo_update(6, 42, caption="صورة"), lambda u: u.message.photo[-1].width == 1280
     and u.message.caption == "صورة"),
    (document_update(7, 42), lambda u: u.message.document.mime_type == "application/pdf"),
    (location_update(8, 42, 33.51, 36.29), lambda u: u.message.location.latitude == 33.51),
    (edited_text_update(9, 42, "تعديل", message_id=3), lambda u: u.edited_message.edit_date
     is not None and u.edited_message.message_id == 3 and u.message is None),
    (channel_post_update(10, -1001234, "news"), lambda u: u.channel_post.chat.type == "channel"
     and u.channel_post.from_user is None),
    (group_text_update(11, -555, "hi"), lambda u: u.message.chat.type == "group"
     and u.message.from_user.id == 424242),
    (group_text_update(12, -100555, "hi", supergroup=True, user_id=77),
     lambda u: u.message.chat.type == "supergroup" and u.message.from_user.id == 77),
    (text_update(13, 42, "x", first_name="Sara"),
     lambda u: u.effective_user.first_name == "Sara" and u.effective_chat.id == 42),
])
def test_update_builders_parse(data: dict[str, Any],
                               check: Callable[[telegram.Update], bool]) -> None:
    update = telegram.Update.de_json(json.loads(json.dumps(data)), bot=None)
    assert update.update_id == data["update_id"]
    assert check(update)


# -- Twilio ------------------------------------------------------------------------------------


class RedirectingClient(TwilioHttpClient):
    """Sends every request to `base_url`, keeping path and query."""

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url

    def request(self, method: str, url: str, params: dict[str, object] | None = None,
                data: dict[str, object] | None = None, headers: dict[str, str] | None = None,
                auth: tuple[str, str] | None = None, timeout: float | None = None,
                allow_redirects: bool = False) -> TwilioResponse:
        parts = urlsplit(url)
        local = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return super().request(method, local, params, data, headers, auth, timeout,
                               allow_redirects)


@pytest.fixture
def tw() -> Iterator[FakeTwilio]:
    with FakeTwilio(SID, AUTH_TOKEN) as fake:
        yield fake


@contextmanager
def twilio_client(fake: FakeTwilio, token: str = AUTH_TOKEN,
                  timeout: float | None = None) -> Iterator[Client]:
    http = RedirectingClient(fake.url, timeout=timeout)
    try:
        yield Client(SID, token, http_client=http)
    finally:
        assert http.session is not None
        http.session.close()


@pytest.fixture
def client(tw: FakeTwilio) -> Iterator[Client]:
    with twilio_client(tw) as twilio:
        yield twilio


def test_send_sms(tw: FakeTwilio, client: Client) -> None:
    message = client.messages.create(to="+963944000111", from_="+15005550006", body=ARABIC,
                                     status_callback="https://sawti.example/twilio/status")
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert (message.status, message.to, message.from_, message.body) == (
        "queued", "+963944000111", "+15005550006", ARABIC)
    assert (message.num_segments, message.direction, message.error_code) == (
        "1", "outbound-api", None)
    assert isinstance(message.date_created, datetime)
    assert tw.sent_messages() == [{"To": "+963944000111", "From": "+15005550006",
                                   "Body": ARABIC,
                                   "StatusCallback": "https://sawti.example/twilio/status"}]
    assert tw.requests[0].auth == (SID, AUTH_TOKEN)


def test_send_whatsapp_template_and_media(tw: FakeTwilio, client: Client) -> None:
    variables = json.dumps({"1": "Ali"})
    client.messages.create(to="whatsapp:+963944000111", from_="whatsapp:+14155238886",
                           content_sid="HX" + "1" * 32, content_variables=variables)
    with_media = client.messages.create(to="+963944000111", from_="+15005550006",
                                        media_url=["https://a.example/1.jpg",
                                                   "https://a.example/2.jpg"])
    template, media = tw.sent_messages()
    assert template["ContentSid"] == "HX" + "1" * 32
    assert template["ContentVariables"] == variables
    assert media["MediaUrl"] == ["https://a.example/1.jpg", "https://a.example/2.jpg"]
    assert with_media.num_media == "2"


def test_missing_body_is_rejected(client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="+963944000111", from_="+15005550006")
    assert (caught.value.code, caught.value.status) == (21602, 400)


def test_place_call(tw: FakeTwilio, client: Client) -> None:
    call = client.calls.create(to="+963944000111", from_="+15005550006",
                               url="https://sawti.example/twilio/voice",
                               status_callback="https://sawti.example/twilio/call-status",
                               status_callback_event=["initiated", "completed"])
    assert call.sid.startswith("CA") and len(call.sid) == 34
    assert (call.status, call.to, call._from) == ("queued", "+963944000111", "+15005550006")
    (placed,) = tw.placed_calls()
    assert placed["Url"] == "https://sawti.example/twilio/voice"
    assert placed["StatusCallbackEvent"] == ["initiated", "completed"]


@pytest.mark.parametrize("inject, code, status", [
    (lambda f: f.invalid_number_next(), 21211, 400),
    (lambda f: f.unsubscribed_next(), 21610, 400),
    (lambda f: f.outside_window_next(), 63016, 400),
    (lambda f: f.rate_limit_next(), 20429, 429),
    (lambda f: f.error_next(500), 20500, 500),
    (lambda f: f.fail_next(1, 400, {"code": 21614, "message": "not a mobile number",
                                    "status": 400}), 21614, 400),
])
def test_injected_errors(tw: FakeTwilio, client: Client, inject: Callable[[FakeTwilio], None],
                         code: int, status: int) -> None:
    inject(tw)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="+963944000111", from_="+15005550006", body="x")
    assert (caught.value.code, caught.value.status) == (code, status)
    assert tw.sent_messages() == []
    client.messages.create(to="+963944000111", from_="+15005550006", body="x")
    assert len(tw.sent_messages()) == 1


def test_wrong_credentials(tw: FakeTwilio) -> None:
    with twilio_client(tw, token="wrong") as client:
        with pytest.raises(TwilioRestException) as caught:
            client.messages.create(to="+963944000111", from_="+15005550006", body="x")
        assert (caught.value.code, caught.value.status) == (20003, 401)


def test_twilio_timeout(tw: FakeTwilio) -> None:
    tw.timeout_next(2.0, match="/Calls.json")
    with twilio_client(tw, timeout=0.3) as client:
        client.messages.create(to="+963944000111", from_="+15005550006", body="not delayed")
        # twilio does not wrap transport errors: requests' ReadTimeout reaches the caller
        with pytest.raises(requests.exceptions.ReadTimeout):
            client.calls.create(to="+963944000111", from_="+15005550006", twiml="<Response/>")
    assert tw.placed_calls() == []


def test_media_and_recordings_need_basic_auth(tw: FakeTwilio) -> None:
    message_sid, media_sid = new_sid("MM"), new_sid("ME")
    url = tw.add_media(message_sid, media_sid, b"\xff\xd8jpeg", "image/jpeg")
    assert url == (f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/{message_sid}"
                   f"/Media/{media_sid}")
    got = requests.get(tw.local(url), auth=(SID, AUTH_TOKEN), timeout=5)
    assert (got.content, got.headers["Content-Type"]) == (b"\xff\xd8jpeg", "image/jpeg")
    denied = requests.get(tw.local(url), timeout=5)
    assert denied.status_code == 401 and denied.json()["code"] == 20003

    recording = tw.add_recording("RE" + "2" * 32, b"RIFFwav")
    for suffix in ("", ".wav", ".mp3"):
        got = requests.get(tw.local(recording) + suffix, auth=(SID, AUTH_TOKEN), timeout=5)
        assert (got.status_code, got.content) == (200, b"RIFFwav")
    missing = requests.get(tw.local(recording) + "0", auth=(SID, AUTH_TOKEN), timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == 20404


def test_webhook_builders() -> None:
    url = "https://sawti.example/twilio/sms"
    form = messaging_form(Body="عندي شكوى")
    params, signature = signed_form(url, form, AUTH_TOKEN)
    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    assert not RequestValidator("other").validate(url, params, signature)
    assert form["MessageSid"].startswith("SM") and form["SmsStatus"] == "received"
    assert (form["From"], form["NumMedia"], form["Body"]) == ("+963944000111", "0", "عندي شكوى")

    wa = messaging_form(whatsapp=True, media=[("https://api.twilio.com/x", "audio/ogg")],
                        ToCountry=None)
    assert (wa["From"], wa["WaId"], wa["ProfileName"]) == (
        "whatsapp:+963944000111", "963944000111", "Ali")
    assert (wa["NumMedia"], wa["MediaUrl0"], wa["MediaContentType0"], wa["MessageType"]) == (
        "1", "https://api.twilio.com/x", "audio/ogg", "audio")
    assert wa["MessageSid"].startswith("MM") and "ToCountry" not in wa

    status = status_form("SM" + "3" * 32, "undelivered", error_code=30003)
    assert (status["MessageStatus"], status["SmsStatus"], status["ErrorCode"]) == (
        "undelivered", "undelivered", "30003")
    assert "ErrorCode" not in status_form("SM" + "3" * 32, "delivered")
