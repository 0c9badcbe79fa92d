"""Channel adapters, one module each, registered in one table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels.base import ChannelAdapter
from channels.simulator import SimulatorAdapter

if TYPE_CHECKING:
    from config.settings import Settings

ADAPTERS: dict[str, type[ChannelAdapter]] = {
    SimulatorAdapter.name: SimulatorAdapter,
}


def enabled_adapters(settings: Settings) -> dict[str, ChannelAdapter]:
    """The adapters whose settings are present, by channel name."""
    adapters = {name: cls.from_settings(settings) for name, cls in ADAPTERS.items()}
    return {name: adapter for name, adapter in adapters.items() if adapter is not None}
