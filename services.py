"""The services one application instance shares: settings, keys, data files, adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from bot.engine import DialogueSettings
from casework.privacy import Vault
from channels import enabled_adapters
from channels.base import ChannelAdapter
from config.data import OrgData, load_org_data
from config.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    vault: Vault
    org_data: OrgData
    dialogue: DialogueSettings
    adapters: dict[str, ChannelAdapter]

    @classmethod
    def build(cls, settings: Settings) -> Services:
        assert settings.sawti_data_key is not None  # filled by Settings.with_local_secrets
        org_data = load_org_data(settings.sawti_config_dir)
        dialogue = DialogueSettings(
            org_name=settings.sawti_org_name,
            org_data=org_data,
            attach_window=timedelta(hours=settings.sawti_case_attach_hours),
            followup_ack_interval=timedelta(minutes=settings.sawti_followup_ack_minutes),
            question_timeout=timedelta(minutes=settings.sawti_dialogue_timeout_minutes),
        )
        return cls(settings, Vault(settings.sawti_data_key), org_data, dialogue,
                   enabled_adapters(settings))


def services() -> Services:
    return current_app.extensions["sawti"]
