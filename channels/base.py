"""The one small interface every channel adapter implements: verify → parse → send → status.

An adapter turns provider traffic into ``Inbound`` values and ``Outbound`` values into provider
calls. It raises ``RetryableSendError`` when trying again later may work (timeouts, 5xx,
rate limits) and ``PermanentSendError`` when it never will (blocked, invalid number).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Self

from flask import Request, Response

from casework.intake import Inbound
from casework.text import fits_a_column

if TYPE_CHECKING:
    from bot.conversation import Handled
    from config.settings import Settings


class SendError(Exception):
    """Sending failed; the message (never the text or address) says why."""


class RetryableSendError(SendError):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    def __init__(self, reason: str, opt_out: bool = False) -> None:
        super().__init__(reason)
        self.opt_out = opt_out  # the person blocked us or replied STOP at the provider


class WindowClosedError(SendError):
    """The channel accepts only an approved template now (WhatsApp's 24-hour window)."""


class BadWebhook(ValueError):
    """A verified request we cannot understand; the reason goes back in a 400."""


MAX_PROVIDER_ID = 64  # the shortest column an id is kept in; Twilio's have 34 characters


def provider_id(form: Mapping[str, str], name: str) -> str:
    """A provider's id from a webhook form, trimmed ('' when absent). One with a control
    character (PostgreSQL refuses a NUL byte in text) or too long for an id is a 400."""
    value = (form.get(name) or "").strip()
    if not fits_a_column(value, MAX_PROVIDER_ID):
        raise BadWebhook(f"'{name}' is not a valid id")
    return value


@dataclass(frozen=True)
class Outbound:
    message_id: int
    channel: str
    address: str
    body: str
    kind: str
    language: str
    reference: str | None


@dataclass(frozen=True)
class SendResult:
    external_id: str | None
    delivered: bool = False  # the channel confirms delivery at once (the simulator)


@dataclass(frozen=True)
class StatusUpdate:
    """A provider's delivery report for a message it accepted earlier."""

    external_id: str
    status: str  # one of casework.models.DeliveryStatus
    error_code: str | None = None
    opted_out: bool = False  # the provider says the person unsubscribed
    window_closed: bool = False  # only a template may be sent now
    retryable: bool = False  # a failure that sending the message again may get past


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str | None


class ChannelAdapter(ABC):
    """One provider. An instance may serve several channels (Twilio: sms and whatsapp)."""

    name: ClassVar[str]
    webhook_path: ClassVar[str | None] = None
    status_path: ClassVar[str | None] = None
    channels: frozenset[str] = frozenset()

    @classmethod
    @abstractmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """The adapter if its settings are present, else None (channel disabled)."""

    @abstractmethod
    def verify(self, request: Request) -> bool:
        """Whether the request really comes from the provider."""

    @abstractmethod
    def parse(self, request: Request) -> list[Inbound]:
        """The messages in a verified request; raises BadWebhook if it makes no sense."""

    @abstractmethod
    def webhook_response(self, handled: Sequence[Handled]) -> Response:
        """What the provider expects back once the messages are stored."""

    @abstractmethod
    def send(self, outbound: Outbound) -> SendResult:
        """Deliver one message; raises a SendError subclass on failure."""

    def parse_status(self, request: Request) -> list[StatusUpdate]:
        """Delivery status callbacks, for channels that have them."""
        return []

    def close(self) -> None:  # noqa: B027 - an optional hook; most adapters hold nothing
        """Release connections and threads; called when a worker stops."""

    def status_response(self) -> Response:
        return Response(status=204)

    def download(self, channel: str, external_id: str, max_bytes: int) -> Download:
        """Fetch an inbound attachment; raises a SendError subclass on failure."""
        raise PermanentSendError(f"{self.name} has no attachments to download")

    def freeform_allowed(self, channel: str, last_inbound_at: datetime | None,
                         now: datetime) -> bool:
        """Whether free text may be sent now, or only an approved template."""
        return True

    def not_before(self, channel: str, kind: str, now: datetime) -> datetime | None:
        """When a message due now may go out at the earliest, if later (calling hours)."""
        return None
