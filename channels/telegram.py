"""Telegram through python-telegram-bot.

Sample provider request (a private text message)::

    POST /webhooks/telegram
    X-Telegram-Bot-Api-Secret-Token: <TELEGRAM_WEBHOOK_SECRET>
    Content-Type: application/json

    {"update_id": 901, "message": {"message_id": 12, "date": 1764380000,
     "chat": {"id": 5550001, "type": "private", "first_name": "Ali"},
     "from": {"id": 5550001, "is_bot": false, "first_name": "Ali"},
     "text": "لم أستلم السلة الغذائية"}}

Only private chats are handled (a group or channel post is acknowledged with 200 and
ignored). Voice notes, audio, photos and documents are recorded as attachments and downloaded
by the worker through ``get_file``; a shared location becomes the case's coordinates; an
edited message is kept as a new version of the original, not a new case. Sending uses
``send_message`` on one asyncio loop per process.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import os
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self, TypeVar

from flask import Request, Response, jsonify

from casework.intake import Inbound, InboundAttachment
from casework.models import utcnow
from channels.aio import LoopThread
from channels.base import (
    BadWebhook,
    ChannelAdapter,
    Download,
    Outbound,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
)

# Opt in to python-telegram-bot's future timedelta attributes (retry_after, durations).
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import Bot, Message, Update
from telegram import error as tg_error
from telegram.request import HTTPXRequest

if TYPE_CHECKING:
    from bot.conversation import Handled
    from config.settings import Settings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ("message", "edited_message")
CONNECTIONS = 32  # to Telegram at once: SAWTI_SEND_CONCURRENCY's most, and attachment fetches
T = TypeVar("T")
LATEST_DATE = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last second a datetime holds


class TelegramAdapter(ChannelAdapter):
    name = "telegram"
    webhook_path = "/webhooks/telegram"
    channels = frozenset({"telegram"})

    def __init__(self, settings: Settings) -> None:
        assert settings.telegram_bot_token and settings.telegram_webhook_secret
        self.token = settings.telegram_bot_token
        self.secret = settings.telegram_webhook_secret
        self.api_url = settings.telegram_api_url.rstrip("/")
        self.public_url = settings.public_url
        self.timeout = settings.sawti_provider_timeout_seconds
        self._loop = LoopThread()
        self._bot: Bot | None = None
        self._starting = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        if settings.telegram_bot_token and settings.telegram_webhook_secret:
            return cls(settings)
        return None

    def verify(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret.encode())

    def parse(self, request: Request) -> list[Inbound]:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise BadWebhook("expected a Telegram Update object with an integer update_id")
        _check_dates(payload)
        try:
            update = Update.de_json(payload, bot=None)
            message = update.message or update.edited_message
            if message is None:
                log.info("telegram update ignored: no message", extra={"kind": _kind(payload)})
                return []
            if message.chat is None or not _telegram_id(message.chat.id) \
                    or not _telegram_id(message.message_id) or not _telegram_id(update.update_id):
                raise BadWebhook("a Telegram message needs a chat with an integer id")
            if message.chat.type != "private":
                log.info("telegram update ignored: not a private chat",
                         extra={"chat_type": str(message.chat.type)[:20]})
                return []
            return [_inbound(update.update_id, message,
                             edited=update.edited_message is not None)]
        except BadWebhook:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as error:
            # Fields of the wrong type: python-telegram-bot calls .get() on them, or we
            # compare them (fuzzing found both).
            raise BadWebhook(f"malformed Telegram update: {type(error).__name__}") from error

    def webhook_response(self, handled: Sequence[Handled]) -> Response:
        return jsonify(ok=True)

    def send(self, outbound: Outbound) -> SendResult:
        async def call() -> Message:
            bot = await self._ensure_bot()
            return await bot.send_message(chat_id=int(outbound.address), text=outbound.body)

        message = self._call(call)
        # Telegram numbers each chat's messages from 1, and the chat id may not be stored in
        # clear: the id is qualified by our own outbox row to stay unique.
        return SendResult(external_id=f"{outbound.message_id}:{message.message_id}")

    def download(self, channel: str, external_id: str, max_bytes: int) -> Download:
        async def call() -> bytes:
            bot = await self._ensure_bot()
            file = await bot.get_file(external_id)
            if file.file_size and file.file_size > max_bytes:
                raise PermanentSendError(f"file larger than {max_bytes} bytes")
            return bytes(await file.download_as_bytearray())

        content = self._call(call)
        if len(content) > max_bytes:
            raise PermanentSendError(f"file larger than {max_bytes} bytes")
        return Download(content, None)

    def set_webhook(self) -> bool:
        """Register PUBLIC_URL/webhooks/telegram with the secret token."""
        if not self.public_url:
            raise SendError("PUBLIC_URL is not set")
        url = self.public_url.rstrip("/") + self.webhook_path

        async def call() -> bool:
            bot = await self._ensure_bot()
            return await bot.set_webhook(url=url, secret_token=self.secret,
                                         allowed_updates=list(ALLOWED_UPDATES))

        return self._call(call)

    def close(self) -> None:
        if self._bot is not None:
            self._loop.run(self._bot.shutdown())
            self._bot = None
        self._loop.stop()

    def _call(self, make_call: Callable[[], Coroutine[Any, Any, T]]) -> T:
        try:
            return self._loop.run(make_call(), timeout=self.timeout * 4)
        except tg_error.TelegramError as error:
            raise typed_error(error) from error

    async def _ensure_bot(self) -> Bot:
        async with self._starting:  # sends run side by side: one of them builds the bot
            return await self._start_bot()

    async def _start_bot(self) -> Bot:
        if self._bot is None:
            request = HTTPXRequest(connect_timeout=self.timeout, read_timeout=self.timeout,
                                   write_timeout=self.timeout,
                                   connection_pool_size=CONNECTIONS)
            bot = Bot(self.token, base_url=f"{self.api_url}/bot",
                      base_file_url=f"{self.api_url}/file/bot", request=request,
                      get_updates_request=HTTPXRequest())
            await bot.initialize()
            self._bot = bot
        return self._bot


def typed_error(error: tg_error.TelegramError) -> SendError:
    if isinstance(error, tg_error.Forbidden):
        return PermanentSendError("telegram 403: bot blocked or chat unavailable", opt_out=True)
    if isinstance(error, tg_error.RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return RetryableSendError("telegram 429: flood control", retry_after=seconds)
    if isinstance(error, tg_error.BadRequest):  # a subclass of NetworkError, but final
        return PermanentSendError(f"telegram 400: {error.message[:100]}")
    if isinstance(error, tg_error.TimedOut | tg_error.NetworkError):
        return RetryableSendError(f"telegram network error: {type(error).__name__}")
    if isinstance(error, tg_error.InvalidToken):
        return RetryableSendError("telegram rejected the bot token")
    return PermanentSendError(f"telegram error: {type(error).__name__}")


def _telegram_id(value: object) -> bool:
    """Telegram's ids are signed 64-bit integers; JSON can carry any (they become text in
    columns of 128 characters, and PostgreSQL refuses a longer value)."""
    return isinstance(value, int) and -(2**63) <= value < 2**63


def _check_dates(payload: dict[str, Any]) -> None:
    """A message's dates are Unix times a datetime can hold: python-telegram-bot converts
    them unchecked, and past the platform's clock that raises OverflowError or OSError
    (fuzzing found both)."""
    for kind in ALLOWED_UPDATES:
        message = payload.get(kind)
        if not isinstance(message, dict):
            continue
        for field in ("date", "edit_date"):
            value = message.get(field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 <= value <= LATEST_DATE):
                raise BadWebhook(f"'{kind}.{field}' must be a Unix time")


def _string(value: object, field: str) -> str | None:
    """A text field of the update: python-telegram-bot keeps whatever JSON carried there."""
    if value is None or isinstance(value, str):
        return value
    raise BadWebhook(f"malformed Telegram update: '{field}' must be a string")


def _size(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise BadWebhook("malformed Telegram update: 'file_size' must be an integer")


def _coordinates(message: Message) -> tuple[float, float] | None:
    if not message.location:
        return None
    latitude, longitude = message.location.latitude, message.location.longitude
    numbers = all(isinstance(value, int | float) and not isinstance(value, bool)
                  and math.isfinite(value) for value in (latitude, longitude))
    if not numbers or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadWebhook("malformed Telegram update: a location needs a latitude and longitude")
    return float(latitude), float(longitude)


def _inbound(update_id: int, message: Message, edited: bool) -> Inbound:
    location = _coordinates(message)
    text = _string(message.text, "text") or _string(message.caption, "caption") or ""
    return Inbound(
        channel="telegram", address=str(message.chat.id), external_id=str(update_id),
        text=text, received_at=utcnow(),
        attachments=_attachments(message), location=location,
        provider_ref=str(message.message_id),
        edit_of=str(message.message_id) if edited else None,
    )


def _attachments(message: Message) -> tuple[InboundAttachment, ...]:
    found: list[InboundAttachment] = []
    if message.voice:
        found.append(_attachment("voice", message.voice, "audio/ogg"))
    if message.audio:
        found.append(_attachment("audio", message.audio))
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        found.append(_attachment("image", largest, "image/jpeg"))
    if message.document:
        found.append(_attachment("document", message.document))
    return tuple(found)


def _attachment(kind: str, file: Any, content_type: str | None = None) -> InboundAttachment:
    """A file Telegram announced; the worker fetches it by its id later."""
    return InboundAttachment(
        kind, _string(getattr(file, "mime_type", None), "mime_type") or content_type,
        _string(file.file_id, "file_id"), _size(file.file_size))


def _kind(payload: dict) -> str:
    return next((key for key in payload if key != "update_id"), "unknown")
