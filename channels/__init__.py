"""Channel adapters, one module each, registered in one table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels.base import ChannelAdapter
from channels.simulator import SimulatorAdapter
from channels.telegram import TelegramAdapter
from channels.twilio_messaging import TwilioMessagingAdapter
from channels.twilio_voice import TwilioVoiceAdapter

if TYPE_CHECKING:
    from config.settings import Settings

# Channel name → the adapter class that serves it. One class may serve several channels.
ADAPTERS: dict[str, type[ChannelAdapter]] = {
    "simulator": SimulatorAdapter,
    "telegram": TelegramAdapter,
    "sms": TwilioMessagingAdapter,
    "whatsapp": TwilioMessagingAdapter,
    "voice": TwilioVoiceAdapter,
}


def enabled_adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """The adapters whose settings are present, by channel name."""
    instances = {cls: cls.from_settings(settings) for cls in set(ADAPTERS.values())}
    return {
        name: adapter
        for name, cls in ADAPTERS.items()
        if (adapter := instances[cls]) is not None and name in adapter.channels
    }
