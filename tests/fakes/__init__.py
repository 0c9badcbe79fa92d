"""Fake Telegram Bot API and Twilio REST servers that the real client libraries talk to."""

from ._server import Recorded
from .telegram_api import (
    FakeTelegram,
    audio_update,
    channel_post_update,
    document_update,
    edited_text_update,
    group_text_update,
    location_update,
    photo_update,
    start_update,
    text_update,
    voice_update,
)
from .twilio_api import (
    DEFAULT_ACCOUNT_SID,
    FakeTwilio,
    messaging_form,
    new_sid,
    signed_form,
    status_form,
    twilio_error,
)

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "FakeTelegram",
    "FakeTwilio",
    "Recorded",
    "audio_update",
    "channel_post_update",
    "document_update",
    "edited_text_update",
    "group_text_update",
    "location_update",
    "messaging_form",
    "new_sid",
    "photo_update",
    "signed_form",
    "start_update",
    "status_form",
    "text_update",
    "twilio_error",
    "voice_update",
]
