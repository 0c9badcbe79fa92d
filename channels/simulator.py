"""The web simulator: a browser tab plays a beneficiary through the real intake path.

It is a channel like the others: the page posts to the webhook, the message is stored and
answered through the dialogue and the outbox, and the dispatcher "sends" replies by marking
them delivered; the page then reads them back. Each tab is a separate contact.

Sample request (what the page sends)::

    POST /webhooks/simulator
    Content-Type: application/json
    X-Sawti-Simulator: 1

    {"tab": "6f1c2a9e-3b1d-4c55-9a0e-2f6f0f3b9b10", "id": "m-1", "text": "لم أستلم السلة"}
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Self

from flask import Request, Response, jsonify

from casework.intake import Inbound
from casework.models import utcnow
from channels.base import BadWebhook, ChannelAdapter, Outbound, SendResult

if TYPE_CHECKING:
    from bot.conversation import Handled
    from config.settings import Settings

TAB_ID = re.compile(r"[A-Za-z0-9-]{8,64}")
# "tab:id" is the message's external id, a column of 128 characters.
MESSAGE_ID = re.compile(r"[A-Za-z0-9_.:-]{1,63}")


class SimulatorAdapter(ChannelAdapter):
    name = "simulator"
    webhook_path = "/webhooks/simulator"
    # A custom header cannot be sent cross-site without CORS, so other sites cannot post here.
    header = "X-Sawti-Simulator"

    channels = frozenset({"simulator"})

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        return cls() if settings.simulator_enabled else None

    def verify(self, request: Request) -> bool:
        return request.headers.get(self.header) == "1"

    def parse(self, request: Request) -> list[Inbound]:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise BadWebhook("expected a JSON object")
        tab, message_id, text = payload.get("tab"), payload.get("id"), payload.get("text")
        if not isinstance(tab, str) or not TAB_ID.fullmatch(tab):
            raise BadWebhook("'tab' must be 8 to 64 letters, digits or dashes")
        if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
            raise BadWebhook("'id' must be 1 to 63 letters, digits or . _ : -")
        if not isinstance(text, str):
            raise BadWebhook("'text' must be a string")
        return [Inbound(channel=self.name, address=tab, external_id=f"{tab}:{message_id}",
                        text=text, received_at=utcnow(), raw={"id": message_id})]

    def webhook_response(self, handled: Sequence[Handled]) -> Response:
        return jsonify(accepted=[{"duplicate": item.duplicate} for item in handled])

    def send(self, outbound: Outbound) -> SendResult:
        return SendResult(external_id=f"sim-{outbound.message_id}", delivered=True)
