"""SMS and WhatsApp through Twilio: one adapter registered for both channels.

Sample provider request (inbound WhatsApp message)::

    POST /webhooks/twilio/messaging
    X-Twilio-Signature: 0Yx1...=
    Content-Type: application/x-www-form-urlencoded

    MessageSid=SM0123...&AccountSid=AC...&From=whatsapp%3A%2B963944000111
    &To=whatsapp%3A%2B14155238886&Body=%D9%84%D9%85...&NumMedia=1
    &MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC...%2FMessages%2FMM...%2FMedia%2FME...
    &MediaContentType0=audio%2Fogg&ProfileName=Ali&WaId=963944000111

Replies are created with ``client.messages.create`` from the dispatcher, with a status
callback to ``/webhooks/twilio/status``. WhatsApp accepts free text only within 24 hours of
the person's last message; after that only an approved template (``content_sid``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Self

from flask import Request, Response
from twilio.twiml.messaging_response import MessagingResponse

from casework.intake import Inbound, InboundAttachment
from casework.models import DeliveryStatus, utcnow
from casework.text import fits_a_column
from channels import twilio_http
from channels.base import (
    BadWebhook,
    ChannelAdapter,
    Outbound,
    SendResult,
    StatusUpdate,
    WindowClosedError,
    provider_id,
)

if TYPE_CHECKING:
    from bot.conversation import Handled
    from config.settings import Settings

WHATSAPP_PREFIX = "whatsapp:"
WHATSAPP_WINDOW = timedelta(hours=24)
MAX_MEDIA = 10
MAX_ERROR_CODE = 16  # the shortest column an error code is kept in (voice calls')
# Twilio's message statuses, as Sawti's delivery states.
TWILIO_STATUSES = {
    "accepted": DeliveryStatus.SENT, "scheduled": DeliveryStatus.SENT,
    "queued": DeliveryStatus.SENT, "sending": DeliveryStatus.SENT, "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED, "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED, "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
MEDIA_KINDS = {"audio": "voice", "image": "image", "video": "document"}


class TwilioMessagingAdapter(twilio_http.TwilioAccount, ChannelAdapter):
    name = "twilio_messaging"
    webhook_path = "/webhooks/twilio/messaging"
    status_path = "/webhooks/twilio/status"

    def __init__(self, settings: Settings) -> None:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        self.account_sid = settings.twilio_account_sid
        self.auth_token = settings.twilio_auth_token
        self.public_url = settings.public_url
        self.api_url = settings.twilio_api_url
        self.numbers = {"sms": settings.twilio_sms_number,
                        "whatsapp": settings.twilio_whatsapp_number}
        self.template_sid = settings.twilio_whatsapp_template_sid
        self.channels = frozenset(name for name, number in self.numbers.items() if number)
        self.timeout = settings.sawti_provider_timeout_seconds
        self._client = twilio_http.make_client(self.account_sid, self.auth_token, self.api_url,
                                               self.timeout)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        configured = settings.twilio_account_sid and settings.twilio_auth_token
        numbers = settings.twilio_sms_number or settings.twilio_whatsapp_number
        return cls(settings) if configured and numbers else None

    def verify(self, request: Request) -> bool:
        return twilio_http.signature_is_valid(request, self.auth_token, self.public_url)

    def parse(self, request: Request) -> list[Inbound]:
        form = request.form
        sender, message_sid = form.get("From", ""), provider_id(form, "MessageSid")
        if not sender or not message_sid:
            raise BadWebhook("'From' and 'MessageSid' are required")
        channel = "whatsapp" if sender.startswith(WHATSAPP_PREFIX) else "sms"
        if channel not in self.channels:
            raise BadWebhook(f"the {channel} channel is not configured")
        location = _location(form) if channel == "whatsapp" else None
        return [Inbound(channel=channel, address=sender.removeprefix(WHATSAPP_PREFIX),
                        external_id=message_sid, text=_text(form, location),
                        received_at=utcnow(), attachments=_media(form), location=location)]

    def webhook_response(self, handled: Sequence[Handled]) -> Response:
        return Response(str(MessagingResponse()), mimetype="text/xml")

    def send(self, outbound: Outbound) -> SendResult:
        prefix = WHATSAPP_PREFIX if outbound.channel == "whatsapp" else ""
        options: dict[str, object] = {
            "to": prefix + outbound.address,
            "from_": prefix + (self.numbers[outbound.channel] or ""),
        }
        if self.public_url:
            options["status_callback"] = self.public_url.rstrip("/") + self.status_path
        if outbound.kind == "reply_waiting":
            if not self.template_sid:
                raise WindowClosedError("no approved WhatsApp template is configured")
            options["content_sid"] = self.template_sid
            options["content_variables"] = json.dumps({"1": outbound.reference or ""})
        else:
            options["body"] = outbound.body
        try:
            message = self._client.messages.create(**options)
        except Exception as error:
            raise twilio_http.typed_error(error) from error
        return SendResult(external_id=message.sid)

    def parse_status(self, request: Request) -> list[StatusUpdate]:
        return [parse_message_status(request.form)]

    def freeform_allowed(self, channel: str, last_inbound_at: datetime | None,
                         now: datetime) -> bool:
        if channel != "whatsapp":
            return True
        return last_inbound_at is not None and now - last_inbound_at < WHATSAPP_WINDOW


def parse_message_status(form: Mapping[str, str]) -> StatusUpdate:
    """A Twilio message status callback (also the voice line's SMS of the reference)."""
    sid = provider_id(form, "MessageSid")
    status = TWILIO_STATUSES.get(form.get("MessageStatus") or form.get("SmsStatus") or "")
    if not sid or status is None:
        raise BadWebhook("'MessageSid' and a known 'MessageStatus' are required")
    code = _error_code(form)
    number = int(code) if code else None
    return StatusUpdate(external_id=sid, status=status, error_code=code,
                        opted_out=number in twilio_http.OPT_OUT_CODES,
                        window_closed=number in twilio_http.WINDOW_CLOSED_CODES,
                        retryable=number in twilio_http.RETRYABLE_DELIVERY_CODES)


def _error_code(form: Mapping[str, str]) -> str | None:
    """Twilio's ErrorCode (five digits), which a kept report stores in a short column."""
    code = (form.get("ErrorCode") or "").strip()
    numeric = code.isascii() and code.isdigit()
    if code and not (numeric and fits_a_column(code, MAX_ERROR_CODE)):
        raise BadWebhook("'ErrorCode' must be Twilio's numeric error code")
    return code or None


def _media(form: object) -> tuple[InboundAttachment, ...]:
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)  # type: ignore[attr-defined]
    except ValueError as error:
        raise BadWebhook("'NumMedia' must be a number") from error
    attachments = []
    for index in range(count):
        url = form.get(f"MediaUrl{index}")  # type: ignore[attr-defined]
        content_type = form.get(f"MediaContentType{index}") or ""  # type: ignore[attr-defined]
        if url:
            kind = MEDIA_KINDS.get(content_type.split("/")[0], "document")
            attachments.append(InboundAttachment(kind=kind, content_type=content_type or None,
                                                 external_id=url))
    return tuple(attachments)


def _location(form: Mapping[str, str]) -> tuple[float, float] | None:
    """A WhatsApp location pin (Latitude/Longitude in decimal degrees), if the message is one."""
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if latitude is None and longitude is None:
        return None
    try:
        point = float(latitude or ""), float(longitude or "")
    except ValueError:
        point = (math.nan, math.nan)
    if not all(map(math.isfinite, point)) or abs(point[0]) > 90 or abs(point[1]) > 180:
        raise BadWebhook("a location needs a 'Latitude' and a 'Longitude' in degrees")
    return point


def _text(form: Mapping[str, str], location: tuple[float, float] | None) -> str:
    """The Body; for a named place shared without one, its Label and Address."""
    body = form.get("Body", "")
    if body or location is None:
        return body
    return "\n".join(part for part in (form.get("Label"), form.get("Address")) if part)
